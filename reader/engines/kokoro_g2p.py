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

The sentence is cut into ``Piece``s at clause punctuation, so the first clause can be spoken
(and heard) before the rest is made: the first piece is one clause, or its first few words
when the clause is long, and each later piece may hold up to twice the phonemes spoken so far
(a piece never takes longer to make than the audio before it lasts to play, at 2x real time or
better), never more than the model's 510 tokens.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reader.errors import EngineRejected, EngineUnavailable

#: Phoneme tokens the model reads at once (its 512 positions less the two pad tokens).
MAX_TOKENS = 510
#: The first piece is made alone so the listener hears it early: at most this many Han
#: characters (under two seconds of speech), cut at a word boundary.
FIRST_PIECE_MAX_SYLLABLES = 6
#: A later piece holds up to this many times the phonemes already made.
GROWTH = 2

#: Han characters pypinyin reads: CJK Unified Ideographs, Extension A, compatibility forms.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: Characters that end a clause (Chinese and ASCII), where a piece may end.
CLAUSE_END = "，。！？；：、,.!?;:…"
#: Characters that end a sentence: a longer pause follows.
SENTENCE_END = "。！？.!?"
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

_WORD = re.compile(rf"[{HAN}\u3007]+|[A-Za-z]+|[0-9]+|\s+|.", re.DOTALL)
#: Tokens of a run of words: how long the model's input is.
Measure = Callable[[tuple["Word", ...]], int]



@dataclass(frozen=True, slots=True)
class Word:
    """One word of the sentence and its phonemes."""

    text: str  # as the engine was given it
    phonemes: str  # in the model's symbols ('' for spaces)
    syllables: int  # Han characters (for the first piece's length)


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of words the model speaks at once."""

    words: tuple[Word, ...]

    @property
    def phonemes(self) -> str:
        """The model's input: words separated by spaces, as misaki writes them."""
        return " ".join(w.phonemes for w in self.words if w.phonemes).replace(" ,", ",")

    @property
    def ending(self) -> str:
        """How the piece ends: "sentence" (。！？), "clause" (，；：...) or "words" (cut
        between two words of a long clause)."""
        last = self.words[-1].text[-1:] if self.words else ""
        if last in SENTENCE_END:
            return "sentence"
        return "clause" if last in CLAUSE_END else "words"


class Frontend:
    """Text -> phoneme pieces, with the data (vocabulary, English lexicon) loaded."""

    def __init__(self, vocabulary: Mapping[str, int],
                 segment: Callable[[str], list[str]]) -> None:
        self.vocabulary = vocabulary
        self._segment = segment

    def tokens(self, phonemes: str) -> list[int]:
        """The model's token ids for ``phonemes`` (symbols outside the vocabulary dropped)."""
        return [self.vocabulary[ch] for ch in phonemes if ch in self.vocabulary]

    def words(self, text: str) -> list[Word]:
        """Every word of ``text`` with its phonemes; ``EngineRejected`` if none is speakable."""
        found = [word for chunk in _WORD.findall(text) for word in self._chunk(chunk)]
        if not any(self.tokens(w.phonemes) and w.syllables + _letters(w.text) for w in found):
            raise EngineRejected(f"kokoro found nothing to speak in {text!r}", "kokoro")
        return found

    def pieces(self, text: str) -> list[Piece]:
        """``text`` cut into pieces to speak in turn (see the module docstring)."""
        return _schedule(self.words(text), self._token_count)

    def _token_count(self, words: tuple[Word, ...]) -> int:
        return len(self.tokens(Piece(words).phonemes))

    def _chunk(self, chunk: str) -> list[Word]:
        if chunk[0] == "\u3007" or re.match(f"[{HAN}]", chunk):
            return [Word(w, mandarin_phonemes(w), len(w))
                    for w in self._segment(chunk.replace("\u3007", "零"))]
        if chunk.isascii() and chunk.isalpha():
            return [Word(chunk, english_phonemes(chunk), 0)]
        if chunk.isdigit():
            said = "".join(DIGITS.get(d, "") for d in chunk)
            return [Word(chunk, mandarin_phonemes(said), len(said))]
        if chunk.isspace():
            return []
        return [Word(chunk, PUNCTUATION.get(chunk, ""), 0)]


def _letters(text: str) -> int:
    return sum(ch.isascii() and ch.isalnum() for ch in text)


def _schedule(words: list[Word], measure: Measure) -> list[Piece]:
    """Group ``words`` into pieces: a short first piece, then pieces that grow."""
    units = [part for clause in _clauses(words) for part in _fit(clause, measure)]
    head, rest = _first_words(units[0])
    pieces = [Piece(head)]
    made = measure(head)
    current = list(rest)
    for unit in units[1:]:
        budget = min(MAX_TOKENS, GROWTH * made)
        if current and measure((*current, *unit)) > budget:
            pieces.append(Piece(tuple(current)))
            made += measure(tuple(current))
            current = []
        current.extend(unit)
    if current:
        pieces.append(Piece(tuple(current)))
    return pieces


def _clauses(words: list[Word]) -> list[tuple[Word, ...]]:
    """``words`` cut after each clause-ending punctuation mark."""
    clauses: list[tuple[Word, ...]] = []
    current: list[Word] = []
    for word in words:
        current.append(word)
        if word.text[-1:] in CLAUSE_END:
            clauses.append(tuple(current))
            current = []
    if current:
        clauses.append(tuple(current))
    return clauses


def _fit(words: tuple[Word, ...], measure: Measure) -> list[tuple[Word, ...]]:
    """``words`` in runs of at most ``MAX_TOKENS`` tokens, cut at word boundaries."""
    runs: list[tuple[Word, ...]] = []
    current: tuple[Word, ...] = ()
    for word in words:
        if current and measure((*current, word)) > MAX_TOKENS:
            runs.append(current)
            current = ()
        current = (*current, word)
    return [*runs, current] if current else runs


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
    """A Latin word in Kokoro's English phonemes: a single letter by its name, a word as
    espeak-ng says it in American English (``iPhone``, ``Chrome``; it spells what it cannot
    read, like ``GDP``). Without espeak-ng, a word is spelled letter by letter."""
    if len(word) == 1:
        return LETTERS.get(word.upper(), "")
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
