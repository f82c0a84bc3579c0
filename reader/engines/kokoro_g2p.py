"""Kokoro's front end: a normalised Chinese sentence -> phoneme pieces the model can say.

Kokoro-82M v1.0 reads phonemes, not characters: Mandarin as IPA with tone arrows, English in
misaki's American phoneme set, punctuation as ASCII marks. The Mandarin is what misaki's "v1.0"
Chinese front end (the one the model was trained with) gives: jieba words separated by spaces,
pypinyin syllables through pinyin-to-ipa's table (misaki carries an adapted copy; the two agree
on all 1,845 syllables pypinyin knows once affricates are written as one letter). It is rebuilt
here without misaki, which does not install on Python 3.13. The model drops every symbol
outside its 114-symbol vocabulary without a word, so this module makes sure nothing speakable
reaches it in a form it would drop:

* ``〇`` (our normaliser's year digit, U+3007) is outside every Han block a front end checks:
  it becomes 零, which reads the same.
* Latin letters and words (``G D P``, ``5G``, ``iPhone``) are read in English: a letter by
  its name, a word as espeak-ng (already installed for the espeak engine) says it, in
  Kokoro's phoneme set. misaki's Chinese front end silently drops them all.
* Digits left over (normalisation turns numbers into words; this is a safety net) are read
  one by one.

The sentence is cut into ``Piece``s at clause punctuation. When a listener waits (``eager``),
the first clause can be spoken (and heard) before the rest is made: the first piece is one
clause, or its first few words when the clause is long, and each later piece may hold up to
twice the phonemes spoken so far (a piece never takes longer to make than the audio before it
lasts to play, at 2x real time or better) or ``MIN_BUDGET`` tokens. When nobody waits (a
batch), pieces are as long as whole clauses allow: the model pads every piece with about a
second of silence that is made and cut away, so fewer pieces are made faster. Never more than
``MAX_PIECE_TOKENS`` (memory; the model itself reads up to 510).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reader.errors import ConfigError, EngineRejected, EngineUnavailable

#: Phoneme tokens the model reads at once (its 512 positions less the two pad tokens).
MAX_TOKENS = 510
#: The most a piece holds. ONNX Runtime needs memory for the largest input while it runs
#: (about 170 MB more at 120 tokens, 370 MB at 300; given back after each piece), and most
#: news sentences fit in 250 (one piece each when made ahead: 4 % faster than at 160).
MAX_PIECE_TOKENS = 250
#: The first piece is made alone so the listener hears it early: at most this many Han
#: characters (under two seconds of speech), cut at a word boundary.
FIRST_PIECE_MAX_SYLLABLES = 6
#: A later piece holds up to this many times the phonemes already made (it is made while they
#: play: at 2.5x real time or better, it is ready before they end)...
GROWTH = 2
#: ... or this many, whichever is more: a short clause (他说：) would otherwise force the next
#: one to be cut between words, and a pause at a comma is heard less than a break mid-phrase.
MIN_BUDGET = 64

#: Han characters pypinyin reads: CJK Unified Ideographs, Extension A, compatibility forms,
#: and Extensions B-H (rare characters in names and places: 𫓧, 𬭊).
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
#: Characters that end a clause (Chinese and ASCII), where a piece may end.
CLAUSE_END = "，。！？；：、,.!?;:…"
#: Characters that end a sentence: a longer pause follows.
SENTENCE_END = "。！？.!?"
#: Marks that open what follows them: they never join the clause before.
OPENING = "“‘「『《（【(\""
#: Model symbols that only mark the text (quotes, brackets): nothing to say at a piece's end.
SILENT_MARKS = "“”\"()"
#: Chinese punctuation -> what the model knows (misaki's ``map_punctuation``); quotes and
#: brackets become its curly quotes and parentheses, the rest is dropped.
PUNCTUATION = {
    "，": ",", "、": ",", "。": ".", "．": ".", "！": "!", "？": "?", "：": ":", "；": ";",
    ",": ",", ".": ".", "!": "!", "?": "?", ":": ":", ";": ";", "…": "…", "—": "—",
    "《": "“", "》": "”", "「": "“", "」": "”", "『": "“", "』": "”", "【": "“", "】": "”",
    "“": "“", "”": "”", "\"": "\"", "（": "(", "）": ")", "(": "(", ")": ")",
}
#: Digits that normalisation left as digits, read one by one.
DIGITS = dict(zip("0123456789", "零一二三四五六七八九", strict=True))

#: misaki writes these marks against the word before them ("..., ..."), never after a space.
GLUED_MARKS = ",.!?:;…"

_WORD = re.compile(rf"[{HAN}\u3007]+|[A-Za-z]+|[0-9]+|\s+|.", re.DOTALL)
#: Tokens of a run of words: how long the model's input is.
Measure = Callable[[tuple["Word", ...]], int]


@dataclass(frozen=True, slots=True)
class Word:
    """One word of the sentence and its phonemes."""

    text: str  # as the engine was given it
    phonemes: str  # in the model's symbols ('' for spaces)
    syllables: int  # Han characters (for the first piece's length)

    @property
    def spoken(self) -> bool:
        """Whether it is a word (Han, Latin, digits), not a mark."""
        return bool(self.syllables or _letters(self.text))


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of words the model speaks at once."""

    words: tuple[Word, ...]

    @property
    def phonemes(self) -> str:
        """The model's input: words separated by spaces, marks against the word before them
        (as misaki writes them), no quote or bracket at the end (the model would voice it)."""
        return self.layout()[0]

    def layout(self) -> tuple[str, list[tuple[int, int]]]:
        """``phonemes``, and where each word's phonemes are in it (start, end)."""
        text, spans = "", []
        for word in self.words:
            if word.phonemes and text and word.phonemes[0] not in GLUED_MARKS:
                text += " "
            spans.append((len(text), len(text) + len(word.phonemes)))
            text += word.phonemes
        kept = text.rstrip(SILENT_MARKS + " ")
        return kept, [(min(start, len(kept)), min(end, len(kept))) for start, end in spans]

    @property
    def ending(self) -> str:
        """How the piece ends: "sentence" (。！？), "clause" (，；：...) or "words" (cut
        between two words of a long clause); closing quotes and brackets do not count."""
        for word in reversed(self.words):
            if word.spoken:
                break
            if word.text[-1:] in SENTENCE_END:
                return "sentence"
            if word.text[-1:] in CLAUSE_END:
                return "clause"
        return "words"


class Frontend:
    """Text -> phoneme pieces, with the data (vocabulary, English lexicon) loaded."""

    def __init__(self, vocabulary: Mapping[str, int],
                 segment: Callable[[str], list[str]]) -> None:
        self.vocabulary = vocabulary
        self._segment = segment

    def tokens(self, phonemes: str) -> list[int]:
        """The model's token ids for ``phonemes`` (symbols outside the vocabulary dropped)."""
        return [self.vocabulary[ch] for ch in phonemes if ch in self.vocabulary]

    def encoded(self, piece: Piece) -> tuple[list[int], list[tuple[Word, int, int]]]:
        """``piece``'s token ids, and each of its words with where its tokens are among them
        (start, end): the model's durations are per token."""
        text, spans = piece.layout()
        tokens, before = [], [0]
        for ch in text:
            if (token := self.vocabulary.get(ch)) is not None:
                tokens.append(token)
            before.append(len(tokens))
        words = [(word, before[start], before[end])
                 for word, (start, end) in zip(piece.words, spans, strict=True)]
        return tokens, words

    def words(self, text: str) -> list[Word]:
        """Every word of ``text`` with its phonemes; ``EngineRejected`` if none is speakable."""
        found = [word for chunk in _WORD.findall(text) for word in self._chunk(chunk)]
        if not any(w.spoken and self.tokens(w.phonemes) for w in found):
            raise EngineRejected(f"kokoro found nothing to speak in {text!r}", "kokoro")
        return found

    def pieces(self, text: str, eager: bool = True) -> list[Piece]:
        """``text`` cut into pieces to speak in turn (see the module docstring); ``eager``
        when a listener waits for the first of them."""
        return _schedule(self.words(text), self._token_count, eager)

    def _token_count(self, words: tuple[Word, ...]) -> int:
        return len(self.tokens(Piece(words).phonemes))

    def _chunk(self, chunk: str) -> list[Word]:
        if chunk[0] == "\u3007" or re.match(f"[{HAN}]", chunk):
            return self._han_words(chunk)
        if chunk.isascii() and chunk.isalpha():
            return [Word(chunk, english_phonemes(chunk), 0)]
        if chunk.isdigit():
            said = "".join(DIGITS.get(d, "") for d in chunk)
            return [Word(chunk, mandarin_phonemes(said), len(said))]
        if chunk.isspace():
            return []
        return [Word(chunk, PUNCTUATION.get(chunk, ""), 0)]

    def _han_words(self, chunk: str) -> list[Word]:
        """Words of a Han run, keeping its text, read as its simplified form (pypinyin's
        phrases are simplified: 銀行 would be yin2 xing2) with 〇 as 零 (the same digit)."""
        said = simplified(chunk.replace("\u3007", "零"))
        words, start = [], 0
        for word in self._segment(said):
            words.append(Word(chunk[start:start + len(word)], mandarin_phonemes(word),
                              len(word)))
            start += len(word)
        return words


def _letters(text: str) -> int:
    return sum(ch.isascii() and ch.isalnum() for ch in text)


def _schedule(words: list[Word], measure: Measure, eager: bool) -> list[Piece]:
    """Group ``words`` into pieces of whole clauses (a clause longer than the budget is cut at
    word boundaries), never more than ``MAX_PIECE_TOKENS``. ``eager``: a short first piece,
    and each later one within ``_budget`` of the tokens made before it."""
    clauses = _clauses(words)
    runs: list[tuple[Word, ...]] = []
    made, todo = 0, clauses
    if eager:
        head, rest = _first_words(clauses[0])
        runs, made = [head], measure(head)
        todo = [rest, *clauses[1:]] if rest else clauses[1:]
    budget = _budget if eager else _whole_budget
    current: tuple[Word, ...] = ()
    for clause in todo:
        if current and measure((*current, *clause)) > budget(made):
            runs, made, current = _cut(runs, made, current, measure)
        if measure((*current, *clause)) <= budget(made):
            current = (*current, *clause)
            continue
        for word in clause:  # a clause longer than the budget: cut it between words
            if current and measure((*current, word)) > budget(made):
                runs, made, current = _cut(runs, made, current, measure)
            current = (*current, word)
    if current:
        runs, made, current = _cut(runs, made, current, measure)
    return [Piece(run) for run in runs]


def _budget(made: int) -> int:
    return min(MAX_PIECE_TOKENS, max(GROWTH * made, MIN_BUDGET))


def _whole_budget(made: int) -> int:
    return MAX_PIECE_TOKENS


def _cut(runs: list[tuple[Word, ...]], made: int, current: tuple[Word, ...],
         measure: Measure) -> tuple[list[tuple[Word, ...]], int, tuple[Word, ...]]:
    """``current`` ends a piece; marks with no word (a closing quote) join the piece before."""
    if any(word.spoken for word in current) or not runs:
        return [*runs, current], made + measure(current), ()
    return [*runs[:-1], (*runs[-1], *current)], made, ()


def _clauses(words: list[Word]) -> list[tuple[Word, ...]]:
    """``words`` cut after each clause-ending mark; marks right after one (a closing quote,
    a symbol, but not an opening quote) stay with the clause they follow."""
    clauses: list[tuple[Word, ...]] = []
    current: list[Word] = []
    for word in words:
        if clauses and not current and not word.spoken and word.text not in OPENING:
            clauses[-1] = (*clauses[-1], word)
            continue
        current.append(word)
        if word.text[-1:] in CLAUSE_END:
            clauses.append(tuple(current))
            current = []
    if current:
        clauses.append(tuple(current))
    return clauses


def _spelled_on(words: tuple[Word, ...], index: int) -> bool:
    """Whether ``words[index]`` continues a spelled acronym (``G D P``): not a place to cut."""
    return all(len(w.text) == 1 and w.text.isascii() and w.text.isalpha()
               for w in words[index - 1:index + 1])


def _first_words(words: tuple[Word, ...]) -> tuple[tuple[Word, ...], tuple[Word, ...]]:
    """The first clause's head (at most ``FIRST_PIECE_MAX_SYLLABLES``) and the rest."""
    total = 0
    for index, word in enumerate(words):
        total += word.syllables + (_letters(word.text) + 1) // 2
        if total > FIRST_PIECE_MAX_SYLLABLES and index > 0 and not _spelled_on(words, index):
            rest = words[index:]
            if sum(w.syllables for w in rest) >= 3:  # never leave a lone word behind
                return words[:index], rest
            break
    return words, ()


# ---------------------------------------------------------------- Mandarin


def simplified(text: str) -> str:
    """``text`` in simplified characters, character for character (OpenCC's t2s); as it is
    when the conversion would change its length (a word written differently)."""
    converted = _t2s().convert(text)
    return converted if len(converted) == len(text) else text


@functools.cache
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def load_readings(path: Path) -> dict[str, str]:
    """A readings table (word, tab, tone-number pinyin; see ``voices/kokoro/readings-zh.tsv``)
    loaded into pypinyin's phrase dictionary; the table, for the cache revision."""
    from pypinyin import load_phrases_dict
    from pypinyin.contrib.tone_convert import to_tone

    readings: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        word, _, pinyin = line.partition("\t")
        syllables = pinyin.split()
        if len(syllables) != len(word):
            raise ConfigError(f"{path}:{number}: {word!r} has {len(word)} characters but"
                              f" {len(syllables)} syllables")
        readings[word] = pinyin
        load_phrases_dict({word: [[to_tone(s)] for s in syllables]})
    return readings



def mandarin_phonemes(word: str) -> str:
    """Kokoro v1.0's IPA for a run of Han characters: pypinyin's readings (its phrase
    dictionary picks the reading of a polyphonic character from the word around it), each
    syllable through pinyin-to-ipa's table, tones as arrows."""
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True,
                            errors="ignore")
    return "".join(_syllable_ipa(s) for s in syllables)


@functools.lru_cache(maxsize=4096)
def _syllable_ipa(syllable: str) -> str:
    from pinyin_to_ipa import pinyin_to_ipa

    try:
        variants = pinyin_to_ipa(syllable)
    except ValueError:  # pypinyin's erhua "r5" and the like: no syllable of their own
        return ""
    return _kokoro_symbols("".join(variants[0])).replace(chr(815), "")


def _kokoro_symbols(ipa: str) -> str:
    """pinyin-to-ipa's IPA in the symbols Kokoro was trained on (misaki's v1.0 front end:
    its adapted copy of pinyin-to-ipa, then ``ZHG2P.retone``): affricates as one letter,
    Chao tone letters as arrows, syllabic ɻ/ɹ (zhi, si) as ɨ."""
    for old, new in (("ʈʂ", "ꭧ"), ("tɕ", "ʨ"), ("ts", "ʦ"), ("˧˩˧", "↓"), ("˧˥", "↗"),
                     ("˥˩", "↘"), ("˥", "→"), ("ɻ\u0329", "ɨ"), ("ɹ\u0329", "ɨ")):
        ipa = ipa.replace(old, new)
    return ipa


# ---------------------------------------------------------------- English

#: Letter names in Kokoro's American phoneme set (misaki's lexicon): acronyms are spelled.
LETTERS = {
    "A": "ˈA", "B": "bˈi", "C": "sˈi", "D": "dˈi", "E": "ˈi", "F": "ˈɛf", "G": "ʤˈi",
    "H": "ˈAʧ", "I": "ˈI", "J": "ʤˈA", "K": "kˈA", "L": "ˈɛl", "M": "ˈɛm", "N": "ˈɛn",
    "O": "ˈO", "P": "pˈi", "Q": "kjˈu", "R": "ˈɑɹ", "S": "ˈɛs", "T": "tˈi", "U": "jˈu",
    "V": "vˈi", "W": "dˈʌbᵊlju", "X": "ˈɛks", "Y": "wˈI", "Z": "zˈi",
}
#: espeak-ng's American IPA -> Kokoro's symbols (misaki's ``EspeakFallback`` table, Apache-2.0):
#: tied diphthongs and affricates become Kokoro's one-letter forms; longest first.
ESPEAK_TO_KOKORO = (
    ("ʔˌn\u0329", "ʔn"), ("ʔn\u0329", "ʔn"), ("a^ɪ", "I"), ("a^ʊ", "W"), ("d^ʒ", "ʤ"),
    ("e^ɪ", "A"), ("t^ʃ", "ʧ"), ("ɔ^ɪ", "Y"), ("ə^l", "ᵊl"), ("o^ʊ", "O"), ("ʲo", "jo"),
    ("ʲə", "jə"), ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɪə", "iə"), ("e", "A"), ("ʲ", ""),
    ("ɚ", "əɹ"), ("r", "ɹ"), ("x", "k"), ("ç", "k"), ("ɐ", "ə"), ("ɬ", "l"), ("\u0303", ""),
    ("ː", ""), ("o", "ɔ"), ("ɾ", "T"), ("ʔ", "t"), ("^", ""),
)
_SYLLABIC = re.compile("(\\S)\u0329")


def english_phonemes(word: str) -> str:
    """A Latin word in Kokoro's English phonemes: a single letter, or capitals with no vowel,
    by the letters' names; a word as espeak-ng says it in American English (``iPhone``,
    ``Chrome``; it spells what it cannot read, like ``CEO``). Without espeak-ng, a word is
    spelled letter by letter."""
    if len(word) == 1 or (word.isupper() and not set(word) & set("AEIOU")):
        # A letter, or capitals with no vowel (XYZQ): no word to read, spell it.
        return " ".join(LETTERS.get(c.upper(), "") for c in word)
    try:
        ipa = _espeak_english(word)
    except EngineUnavailable:
        ipa = ""
    return kokoro_from_espeak(ipa) if ipa else " ".join(LETTERS.get(c.upper(), "") for c in word)


def kokoro_from_espeak(ipa: str) -> str:
    """espeak-ng's tied IPA in Kokoro's symbols."""
    for old, new in ESPEAK_TO_KOKORO:
        ipa = ipa.replace(old, new)
    return _SYLLABIC.sub(r"ᵊ\1", ipa).replace(chr(809), "")


@functools.lru_cache(maxsize=4096)
def _espeak_english(word: str) -> str:
    from reader.engines.espeak import english_phonemes as espeak_ipa

    return espeak_ipa(word)
