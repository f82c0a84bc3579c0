"""Kokoro's front end: normalised text -> the model's phonemes, and the pieces a sentence is
spoken in. No model here: only the vocabulary, jieba, pypinyin and misaki's tables.

Golden phonemes were checked by hand against the pinyin in each row's comment: misaki's
pinyin-to-IPA table writes zh/ch as ``ꭧ``/``ꭧʰ`` (one symbol in Kokoro's vocabulary), tones as
arrows after the vowel (1 →, 2 ↗, 3 ↓, 4 ↘, neutral nothing), and no tone sandhi (misaki's v1.0
front end, the one the model was trained on, writes the dictionary tones).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reader.config import data_dir
from reader.engines.kokoro import READINGS_FILE
from reader.engines.kokoro_g2p import (
    FIRST_PIECE_MAX_SYLLABLES,
    GROWTH,
    LETTERS,
    MAX_TOKENS,
    MIN_BUDGET,
    PUNCTUATION,
    Frontend,
    Piece,
    Word,
    load_readings,
)
from reader.engines.kokoro_model import VoiceFolder
from reader.errors import EngineRejected
from reader.pipeline import TextPipeline
from reader.words import load_words


@pytest.fixture(scope="module")
def frontend(session_cache: Path) -> Frontend:
    # The engine's own splitter (jieba with its shipped dictionary, no lexicon words) and its
    # readings table, as KokoroEngine loads them.
    folder = VoiceFolder(data_dir("voices") / "kokoro")
    words = load_words(session_cache, extra_words=load_readings(folder.path / READINGS_FILE))
    return Frontend(folder.vocabulary(), lambda text: [token.word for token in words.tokens(text)])


def said(frontend: Frontend, text: str) -> list[tuple[str, str]]:
    return [(word.text, word.phonemes) for word in frontend.words(text)]


def joined(frontend: Frontend, text: str) -> str:
    return "".join(word.phonemes for word in frontend.words(text))


def tokens(frontend: Frontend, piece: Piece) -> int:
    return len(frontend.tokens(piece.phonemes))


def syllables(words: tuple[Word, ...]) -> int:
    return sum(word.syllables for word in words)


# ---------------------------------------------------------------- Mandarin


@pytest.mark.parametrize(("text", "phonemes"), [
    ("中文", "ꭧʊ→ŋwə↗n"),  # zhong1 wen2
    ("增长", "ʦə→ŋꭧa↓ŋ"),  # zeng1 zhang3
    ("世界", "ʂɨ↘ʨje↘"),  # shi4 jie4: the syllabic r after sh is the vowel ɨ
    ("四", "sɨ↘"),  # si4: and after s
    ("我们", "wo↓mən"),  # wo3 men5: a neutral tone has no arrow
    ("你好", "ni↓xau↓"),  # ni3 hao3: no third-tone sandhi (misaki v1.0)
    ("音乐", "i→nɥe↘"),  # yin1 yue4: ü is ɥ before e
    ("绿色", "ly↘sɤ↘"),  # lv4 se4
    ("进行", "ʨi↘nɕi↗ŋ"),  # jin4 xing2
])
def test_han_words_give_tone_arrow_ipa(frontend: Frontend, text: str, phonemes: str) -> None:
    assert said(frontend, text) == [(text, phonemes)]


@pytest.mark.parametrize(("text", "phonemes"), [
    ("银行", "i↗nxa↗ŋ"),  # yin2 hang2
    ("进行", "ʨi↘nɕi↗ŋ"),  # jin4 xing2: the same 行, another word
    ("行长", "xa↗ŋꭧa↓ŋ"),  # hang2 zhang3
    ("长江", "ꭧʰa↗ŋʨja→ŋ"),  # chang2 jiang1
    ("市长", "ʂɨ↘ꭧa↓ŋ"),  # shi4 zhang3
    ("重庆", "ꭧʰʊ↗ŋʨʰi↘ŋ"),  # chong2 qing4
    ("重要", "ꭧʊ↘ŋjau↘"),  # zhong4 yao4
    ("重新", "ꭧʰʊ↗ŋɕi→n"),  # chong2 xin1
    ("快乐", "kʰwai↘lɤ↘"),  # kuai4 le4
    ("调查", "tjau↘ꭧʰa↗"),  # diao4 cha2
    ("调整", "tʰjau↗ꭧə↓ŋ"),  # tiao2 zheng3
    ("西藏", "ɕi→ʦa↘ŋ"),  # xi1 zang4
    ("银行行长", "i↗nxa↗ŋxa↗ŋꭧa↓ŋ"),  # yin2 hang2 hang2 zhang3
])
def test_a_polyphone_is_read_from_its_word(frontend: Frontend, text: str, phonemes: str) -> None:
    assert joined(frontend, text) == phonemes


#: Phrases of news copy whose polyphone pypinyin's phrase dictionary reads wrongly in the word
#: jieba cuts. Most of these words are "settled" in voices/polyphones-zh.tsv, so the audio
#: check report never lists a sentence holding them for an editor to hear.
SETTLED_POLYPHONES = {
    "按时还款": "a↘nʂɨ↗xwa↗nkʰwa↓n",  # huan2 kuan3, not hai2
    "长效机制": "ꭧʰa↗ŋɕjau↘ʨi→ꭧɨ↘",  # chang2 xiao4, not zhang3
    "长三角一体化": "ꭧʰa↗ŋsa→nʨjau↓i→tʰi↓xwa↘",  # chang2 san1 jiao3, not zhang3
    "藏区群众": "ʦa↘ŋʨʰy→ʨʰy↗nꭧʊ↘ŋ",  # zang4 qu1, not cang2
    "温差较大": "wə→nꭧʰa→ʨjau↘ta↘",  # wen1 cha1, not cha4
    "处在关键期": "ꭧʰu↓ʦai↘kwa→nʨjɛ↘nʨʰi→",  # chu3 zai4, not chu4
    "被评为": "pei↘pʰi↗ŋwei↗",  # ping2 wei2, not wei4
    "尤为突出": "jou↗wei↗tʰu→ꭧʰu→",  # you2 wei2, not wei4
    "接种疫苗": "ʨje→ꭧʊ↘ŋi↘mjau↗",  # jie1 zhong4, not zhong3
    "千行百业": "ʨʰjɛ→nxa↗ŋpai↓je↘",  # qian1 hang2, not xing2
}


def test_settled_polyphones_are_read_right(frontend: Frontend) -> None:
    found = {text: joined(frontend, text) for text in SETTLED_POLYPHONES}
    assert found == SETTLED_POLYPHONES


#: Traditional-character words (pages the zh-TW preset, kokoro voice zf_xiaoni, reads) and
#: their simplified forms: the same words, read the same.
TRADITIONAL = {
    "銀行": "银行",  # yin2 hang2
    "行長": "行长",  # hang2 zhang3
    "重慶": "重庆",  # chong2 qing4
    "長江": "长江",  # chang2 jiang1
    "音樂": "音乐",  # yin1 yue4
    "乾淨": "干净",  # gan1 jing4
    "增長": "增长",  # zeng1 zhang3
}


def test_traditional_characters_read_as_their_simplified_words(frontend: Frontend) -> None:
    found = {text: joined(frontend, text) for text in TRADITIONAL}
    assert found == {text: joined(frontend, simple) for text, simple in TRADITIONAL.items()}


def test_the_year_digit_zero_is_read_as_ling(frontend: Frontend) -> None:
    # 〇 (U+3007) is how our normaliser writes the zero of a year; it is in no Han block.
    year = frontend.words("二〇二五年")
    assert joined(frontend, "二〇二五年") == joined(frontend, "二零二五年")
    assert "".join(w.phonemes for w in year) == "ɚ↘li↗ŋɚ↘u↓njɛ↗n"  # er4 ling2 er4 wu3 nian2
    assert sum(w.syllables for w in year) == 5
    assert joined(frontend, "〇") == "li↗ŋ"


def test_han_characters_beyond_the_basic_blocks_are_read(frontend: Frontend) -> None:
    # The 通用规范汉字表 (2013) has characters outside the BMP that pypinyin reads, element
    # names among them; the front end must not drop them without a word.
    expected = {
        "元素𫓧": "ɥɛ↗nsu↘fu→",  # yuan2 su4 fu1: U+2B4E7, Extension C
        "元素𬭊": "ɥɛ↗nsu↘tu↘",  # du4: U+2CB4A, Extension E
    }
    assert {text: joined(frontend, text) for text in expected} == expected


# ---------------------------------------------------------------- Latin letters and digits


@pytest.mark.parametrize(("text", "words"), [
    # The normaliser spells acronyms as capitals with spaces: each is a letter name.
    ("G D P", [("G", "ʤˈi"), ("D", "dˈi"), ("P", "pˈi")]),
    ("五G", [("五", "u↓"), ("G", "ʤˈi")]),  # "5G" as the normaliser leaves it
    ("iPhone", [("iPhone", "ˈI fˈOn")]),  # split at the case change: i + Phone
    ("MacBook", [("MacBook", "mˈæk bˈʊk")]),
    ("NASA", [("NASA", "nˈæsə")]),  # all capitals, said as a word
    ("chrome", [("chrome", "kɹˈOm")]),
    ("Chrome", [("Chrome", "kɹˈOm")]),
])
def test_latin_letters_and_words_are_read(frontend: Frontend, text: str,
                                          words: list[tuple[str, str]]) -> None:
    assert said(frontend, text) == words


def bare(phonemes: str) -> str:
    """Phonemes without stress marks and spaces: spelled letters compare equal however
    they are stressed."""
    return re.sub("[ˈˌ ]", "", phonemes)


@pytest.mark.parametrize("word", ["GDP", "CEO", "XYZQ"])
def test_an_all_capital_word_that_is_no_word_is_spelled(frontend: Frontend, word: str) -> None:
    # The normaliser spells two to six capitals at "full"; longer ones, and the engine's
    # own contract ("it spells what it cannot read, like GDP"), rest on the front end.
    assert bare(joined(frontend, word)) == bare("".join(LETTERS[c] for c in word))


def test_letters_inside_a_chinese_sentence_are_kept(frontend: Frontend) -> None:
    assert said(frontend, "全市G D P增长") == [
        ("全市", "ʨʰɥɛ↗nʂɨ↘"), ("G", "ʤˈi"), ("D", "dˈi"), ("P", "pˈi"),
        ("增长", "ʦə→ŋꭧa↓ŋ")]


@pytest.mark.parametrize(("text", "phonemes"), [
    ("12", "i→ɚ↘"),  # yi1 er4: one by one, not 十二
    ("2025", "ɚ↘li↗ŋɚ↘u↓"),
    ("0", "li↗ŋ"),
])
def test_leftover_digits_are_read_one_by_one(frontend: Frontend, text: str,
                                             phonemes: str) -> None:
    assert said(frontend, text) == [(text, phonemes)]


# ---------------------------------------------------------------- punctuation


@pytest.mark.parametrize(("mark", "symbol"), [
    ("，", ","), ("、", ","), ("。", "."), ("！", "!"), ("？", "?"), ("：", ":"), ("；", ";"),
    ("《", "“"), ("》", "”"), ("“", "“"), ("”", "”"), ("（", "("), ("）", ")"),
    ("…", "…"), ("—", "—"), (",", ","), (".", "."),
    ("·", ""),  # no symbol for it, and nothing to say: dropped
])
def test_punctuation_is_mapped(frontend: Frontend, mark: str, symbol: str) -> None:
    assert said(frontend, "好" + mark)[-1] == (mark, symbol)


def test_a_mark_follows_its_word_without_a_space(frontend: Frontend) -> None:
    # misaki's v1.0 front end (what the model was trained on) writes "ʂɨ↘ʨje↘." and
    # "ʂɨ↘ʨje↘, ..." : the mark right after the word, a space after it.
    marks = "，、。！？：；"
    found = {mark: Piece(tuple(frontend.words("世界" + mark))).phonemes for mark in marks}
    assert found == {mark: "ʂɨ↘ʨje↘" + PUNCTUATION[mark] for mark in marks}


@pytest.mark.parametrize("text", ["", "   ", "\u3000\n", "。，！？", "……", "《》", "——", "·"])
def test_nothing_speakable_is_rejected(frontend: Frontend, text: str) -> None:
    with pytest.raises(EngineRejected, match="nothing to speak") as caught:
        frontend.pieces(text)
    assert caught.value.engine == "kokoro"


# ---------------------------------------------------------------- every symbol is the model's

#: News sentences with what the normaliser leaves for the front end: Latin words and acronyms,
#: mixed case, hyphens, brackets, quotes, digits it spells, years (〇).
VARIED = """\
2025年9月5日上午，2025世界智能产业博览会在重庆开幕。
今年前三季度，全市GDP同比增长5.3%，CPI上涨0.4%。
华为发布了新款Mate 70手机，支持5G和Wi-Fi 7。
苹果公司的iPhone 16在国内售价5999元起。
会议由市长（兼党组书记）主持，强调要“稳中求进”。
咨询热线023-63851234，24小时有人值守。
NASA和ESA联合发射了一颗探测器。
气温在-5℃到3℃之间，PM2.5浓度为35微克/立方米。
OpenAI发布了ChatGPT，DeepSeek也推出了新模型。
第1季度营收同比增长12.5%，达到3.6亿美元。
COVID-19疫情期间，U盘和PDF文件都很常用。
《重庆日报》记者从市教委获悉：全市共有1.2万名考生参加考试！
你知道吗？C919大飞机已经投入商业运营……
"""


def spoken_sentences(pipeline: TextPipeline, seed_text: str) -> Iterator[str]:
    """The engine's input for every sentence of the seed article and of ``VARIED``."""
    for article in (pipeline.from_page_text(seed_text), pipeline.from_plain_text(VARIED)):
        for segment in pipeline.segments(article, "full"):
            yield segment.speak


def test_every_phoneme_is_in_the_vocabulary_and_no_word_is_dropped(
        frontend: Frontend, pipeline: TextPipeline, seed_text: str) -> None:
    vocabulary = set(frontend.vocabulary)
    assert len(vocabulary) == 114
    checked = 0
    for text in spoken_sentences(pipeline, seed_text):
        for piece in frontend.pieces(text):
            assert set(piece.phonemes) <= vocabulary, (text, piece.phonemes)
            for word in piece.words:
                speakable = any(ch.isalnum() for ch in word.text)
                assert word.phonemes or not speakable, (text, word)
        checked += 1
    assert checked >= 50


# ---------------------------------------------------------------- pieces


def han_only(text: str) -> str:
    return "".join(re.findall("[\u4e00-\u9fff]", text))


@pytest.fixture(scope="module")
def long_text(seed_text: str) -> str:
    """600 characters of news copy with every mark and space taken out."""
    text = han_only(seed_text)[:600]
    assert len(text) == 600
    return text


def test_pieces_cover_every_word_once_in_order(frontend: Frontend, pipeline: TextPipeline,
                                               seed_text: str, long_text: str) -> None:
    for text in [long_text, *spoken_sentences(pipeline, seed_text)]:
        pieces = frontend.pieces(text)
        assert [w for piece in pieces for w in piece.words] == frontend.words(text)
        assert all(piece.words for piece in pieces)


def test_no_piece_is_longer_than_the_model_reads(frontend: Frontend, pipeline: TextPipeline,
                                                 seed_text: str, long_text: str) -> None:
    pieces = frontend.pieces(long_text)
    assert len(pieces) >= 5  # 600 syllables are well over 510 tokens
    assert max(tokens(frontend, piece) for piece in pieces) <= MAX_TOKENS
    for text in spoken_sentences(pipeline, seed_text):
        assert max(tokens(frontend, piece) for piece in frontend.pieces(text)) <= MAX_TOKENS


@pytest.mark.parametrize(("text", "first"), [
    ("重庆欢迎您，智能产业博览会今天开幕。", ["重庆", "欢迎您", "，"]),  # a short clause
    ("国家主席习近平向大会致贺信。", ["国家", "主席"]),  # with 习近平 it would be 7
    ("中国人民银行行长潘功胜表示", ["中国人民银行"]),  # six exactly
    ("中华人民共和国成立七十五周年", ["中华人民共和国"]),  # one word longer than six
    ("今天上午我们开会。", ["今天上午", "我们", "开会", "。"]),  # 开会 would be left alone
    ("G D P增长百分之五", ["G", "D", "P", "增长"]),  # a letter counts half a syllable
    ("今年全市G D P增长百分之五", ["今年", "全市", "G", "D", "P"]),  # no cut inside G D P
])
def test_the_first_piece_is_short(frontend: Frontend, text: str, first: list[str]) -> None:
    assert [w.text for w in frontend.pieces(text)[0].words] == first


def test_the_first_piece_is_short_in_every_sentence(frontend: Frontend, pipeline: TextPipeline,
                                                    seed_text: str, long_text: str) -> None:
    for text in [long_text, *spoken_sentences(pipeline, seed_text)]:
        first = frontend.pieces(text)[0].words
        longest = max(w.syllables for w in first)
        # At most six syllables, or one longer word; a clause is not cut to leave fewer than
        # three syllables behind, so a whole clause may have two more.
        assert syllables(first) <= max(FIRST_PIECE_MAX_SYLLABLES, longest) + 2, (text, first)


def test_later_pieces_grow_with_what_was_made(frontend: Frontend, long_text: str) -> None:
    # kokoro_g2p: "each later piece may hold up to twice the phonemes spoken so far" (or
    # MIN_BUDGET): made at 2x real time or better, it is ready before the audio before it ends.
    pieces = frontend.pieces(long_text)
    sizes = [tokens(frontend, piece) for piece in pieces]
    allowed = [min(MAX_TOKENS, max(GROWTH * sum(sizes[:k]), MIN_BUDGET))
               for k in range(1, len(sizes))]
    assert [size <= limit for size, limit in zip(sizes[1:], allowed, strict=True)] == [
        True] * (len(sizes) - 1), (sizes, allowed)


@pytest.mark.parametrize(("text", "endings"), [
    ("重庆欢迎您，智能产业博览会今天开幕。", ["clause", "sentence"]),
    ("你好！世界？", ["sentence", "sentence"]),
    ("第一；第二：第三、", ["clause", "clause"]),  # short clauses after the first go together
    ("中国人民银行行长潘功胜表示", ["words", "words"]),  # cut between words, no mark
    ("Hello, world.", ["clause", "sentence"]),
])
def test_a_piece_says_how_it_ends(frontend: Frontend, text: str, endings: list[str]) -> None:
    assert [piece.ending for piece in frontend.pieces(text)] == endings


def test_a_closing_quote_stays_with_its_sentence(frontend: Frontend) -> None:
    # News quotes end in 。” : the quote closes the sentence, it is no piece of its own (the
    # model says a lone ” as a short loud sound) and the sentence still ends as a sentence.
    pieces = frontend.pieces("他说：“我们要坚持高质量发展。”")
    assert [[w.text for w in piece.words] for piece in pieces] == [
        ["他", "说", "："], ["“", "我们", "要", "坚持", "高质量", "发展", "。", "”"]]
    assert [piece.ending for piece in pieces] == ["clause", "sentence"]
