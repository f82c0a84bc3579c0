"""reader.report: which sentences are risky for speech, and the editor's HTML check report."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from lxml import html as lxml_html

from reader.errors import ConfigError
from reader.report import (
    RISK_KINDS,
    RISK_LABELS,
    CheckedArticle,
    CheckRow,
    Polyphone,
    Risk,
    check_report,
    data_uri,
    entry_word,
    lexicon_command,
    load_polyphones,
    parse_polyphones,
    risks_of,
    shipped_polyphones,
)
from reader.types import Kind, Segment

# ---------------------------------------------------------------- helpers


def seg(text: str, lexicon: tuple[tuple[str, str], ...] = (), index: int = 0,
        speak: str | None = None) -> Segment:
    return Segment(index, Kind.BODY, text, text if speak is None else speak, 0, 0, len(text),
                   lexicon)


def found(text: str, lexicon: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, str]]:
    return [(risk.kind, risk.detail) for risk in risks_of(seg(text, lexicon))]


ZHONG = "重 (zhòng / chóng)"
HUAN = "还 (hái / huán)"
WEI = "为 (wéi / wèi)"

# ---------------------------------------------------------------- risks_of: golden tables

# (display text, lexicon entries used, expected risks in order)
RISKS: list[tuple[str, tuple[tuple[str, str], ...], list[tuple[str, str]]]] = [
    # Plain sentences: nothing to hear.
    ("今天天气很好，我们去公园散步。", (), []),
    ("我们看着的书已经读完了。", (), []),  # 的 了 着 are not flagged
    # Traditional characters from Big5's common set are not rare.
    ("這是臺灣經濟發展的關鍵時期。", (), []),
    # Settled words: 重 in 重庆 and 重视, 长 in 增长, 行 in 银行 and 进行 are read right.
    ("重庆市重视教育，银行进行改革。", (), []),
    ("全市经济持续增长。", (), []),
    # number: ASCII and full-width digit runs; a decimal is one number; each distinct once.
    ("2025年增长了5.3%，2025年的目标已完成。", (), [("number", "2025"), ("number", "5.3")]),
    ("第１２号台风。", (), [("number", "１２")]),
    ("总数达100,000人。", (), [("number", "100,000")]),
    # latin: runs of Latin letters, in text order.
    ("GDP和CPI都上升了。", (), [("latin", "GDP"), ("latin", "CPI")]),
    ("全市GDP增长5.3%。", (), [("latin", "GDP"), ("number", "5.3")]),
    ("ＡＩ产业", (), [("latin", "ＡＩ")]),
    # document: issuer, bracketed year, number; its digits are not numbers again; lead-in words
    # (根据, 贯彻落实) are not part of the issuer.
    ("根据渝府发〔2025〕12号文件执行。", (), [("document", "渝府发〔2025〕12号")]),
    ("贯彻落实国发[2024]3号精神。", (), [("document", "国发[2024]3号")]),
    ("详见渝府办发〔2023〕第5号。", (), [("document", "渝府办发〔2023〕第5号")]),
    ("（〔2025〕8号）", (), [("document", "〔2025〕8号")]),
    # rare: outside GB 2312 level 1 and Big5's common set.
    ("青铜罍是古代酒器。", (), [("rare", "罍")]),
    ("犇犇向前。", (), [("rare", "犇")]),
    ("单霁翔出席。", (), [("polyphone", "单 (dān / shàn / chán)"), ("rare", "霁")]),
    # polyphone: outside settled words, each character once.
    ("他们重回赛场。", (), [("polyphone", ZHONG)]),
    ("还是要还钱，还要还清。", (), [("polyphone", HUAN)]),
    ("为人民服务，以人民为中心。", (), [("polyphone", WEI)]),
    ("朝阳区", (), [("polyphone", "朝 (cháo / zhāo)")]),  # 朝阳 is read two ways
    # lexicon: every entry used; triggers inside a lexicon word are not reported again.
    ("行长说，要抓落实。", (("行长", "航长"),), [("lexicon", "行长 → 航长")]),
    ("CMG发布2025年报告。", (("CMG", "C M G"),), [("number", "2025"), ("lexicon", "CMG → C M G")]),
    ("苗圩出席。苗圩讲话。", (("苗圩", "苗围"),), [("lexicon", "苗圩 → 苗围")]),
    # Kinds come in RISK_KINDS order, whatever the text order.
    ("2025年GDP重回罍", (("年", "念"),), [
        ("polyphone", ZHONG), ("rare", "罍"), ("latin", "GDP"), ("number", "2025"),
        ("lexicon", "年 → 念")]),
]


@pytest.mark.parametrize(("text", "lexicon", "expected"), RISKS)
def test_risks_of(text: str, lexicon: tuple[tuple[str, str], ...],
                  expected: list[tuple[str, str]]) -> None:
    assert found(text, lexicon) == expected


def test_risk_kinds_are_all_labelled_in_display_order() -> None:
    assert RISK_KINDS == ("polyphone", "rare", "latin", "document", "number", "lexicon")
    assert set(RISK_LABELS) == set(RISK_KINDS)
    assert all(zh and en for zh, en in RISK_LABELS.values())


def test_an_unknown_risk_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown risk kind 'tone'"):
        Risk("tone", "x")


@pytest.mark.parametrize(("risk", "word", "say"), [
    (Risk("number", "2025"), "2025", "2025"),
    (Risk("polyphone", ZHONG), "重", "重"),
    (Risk("lexicon", "行长 → 航长"), "行长", "航长"),
    (Risk("document", "渝府发〔2025〕12号"), "渝府发〔2025〕12号", "渝府发〔2025〕12号"),
])
def test_a_risk_names_its_word(risk: Risk, word: str, say: str) -> None:
    assert (risk.word, risk.say) == (word, say)


def test_a_polyphone_table_can_be_passed_in() -> None:
    table = parse_polyphones("好\thǎo / hào\t好人 hǎo；爱好 hào\t好的 很好\n")
    assert [(r.kind, r.detail) for r in risks_of(seg("他的爱好很好。"), table)] == [
        ("polyphone", "好 (hǎo / hào)")]
    assert risks_of(seg("好的，很好。"), table) == ()
    assert risks_of(seg("他们重回赛场。"), {}) == ()


# ---------------------------------------------------------------- the polyphone file


def test_the_shipped_polyphones_are_curated() -> None:
    table = shipped_polyphones()
    assert 30 <= len(table) <= 40
    assert not {"的", "了", "着", "地", "得"} & set(table)
    assert set("重行长还调乐藏降传差朝处几假间觉累量率难便强少省数为相应种转") <= set(table)
    assert all(entry.readings and entry.char == char for char, entry in table.items())
    assert shipped_polyphones() is table  # read once


def test_polyphone_lines_are_parsed() -> None:
    text = "# a comment\n\n重\tzhòng / chóng\t重要\t重庆 重要\n乐\tlè / yuè\n"
    assert parse_polyphones(text) == {
        "重": Polyphone("重", "zhòng / chóng", "重要", ("重庆", "重要")),
        "乐": Polyphone("乐", "lè / yuè"),
    }


@pytest.mark.parametrize(("line", "message"), [
    ("重庆\tchóng", "one character first"),
    ("重", "one character first"),
    ("重\t", "one character first"),
    ("重\tzhòng\t\t银行 重要", "settled words must contain '重': 银行"),
])
def test_bad_polyphone_lines_name_the_line(line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_polyphones(f"# header\n{line}\n", "p.tsv")
    assert "p.tsv:2:" in str(info.value)


def test_load_polyphones(tmp_path: Path) -> None:
    path = tmp_path / "p.tsv"
    path.write_text("降\tjiàng / xiáng\n", encoding="utf-8")
    assert load_polyphones(path) == {"降": Polyphone("降", "jiàng / xiáng")}
    with pytest.raises(ConfigError, match="cannot read polyphones"):
        load_polyphones(tmp_path / "missing.tsv")


# ---------------------------------------------------------------- small helpers


def test_data_uri() -> None:
    uri = data_uri(b"\xff\xf3ID3")
    assert uri.startswith("data:audio/mpeg;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == b"\xff\xf3ID3"


@pytest.mark.parametrize(("risk", "command"), [
    (Risk("rare", "罍"), "reader lexicon add 罍 罍"),
    (Risk("lexicon", "行长 → 航长"), "reader lexicon add 行长 航长"),
    (Risk("latin", "AT"), "reader lexicon add AT AT"),
    (Risk("lexicon", "AT&T → A T and T"), "reader lexicon add 'AT&T' 'A T and T'"),
])
def test_lexicon_command(risk: Risk, command: str) -> None:
    assert lexicon_command(risk) == command


# ---------------------------------------------------------------- the report

MP3_URI = data_uri(b"\xff\xf3fake mp3")


def row(text: str, index: int, *, lexicon: tuple[tuple[str, str], ...] = (),
        audio: str | None = MP3_URI, speak: str | None = None) -> CheckRow:
    segment = seg(text, lexicon, index=index, speak=speak)
    return CheckRow(segment, segment.speak, risks_of(segment), audio, "edge" if audio else None,
                    2400 if audio else None)


def articles() -> list[CheckedArticle]:
    first = CheckedArticle(
        title="2025世界智能产业博览会开幕",
        label="https://www.cq.gov.cn/ywdt/jrcq/202509/t20250905.html",
        segments=12,
        rows=(row("青铜罍与GDP。", 3, speak="青铜罍与G D P。"),
              row("行长说<script>alert(1)</script>要重回正轨。", 7, lexicon=(("行长", "航长"),),
                  audio=None),
              row("根据渝府发〔2025〕12号文件。", 9, audio="/clips/ab/cd/abcd.mp3")),
    )
    clean = CheckedArticle(title="今天天气很好", label="texts/weather.txt", segments=4, rows=())
    return [first, clean]


def report() -> lxml_html.HtmlElement:
    page = check_report(articles(), generated="2025-09-05T20:18:00+08:00",
                        lexicon_files=["voices/lexicon-zh.tsv", "/srv/site/lexicon.tsv"])
    return lxml_html.document_fromstring(page)


def text_of(element: lxml_html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def test_the_page_is_a_self_contained_html5_document() -> None:
    page = check_report(articles(), generated="now", lexicon_files=[])
    assert page.startswith("<!doctype html>\n<html lang=\"zh-CN\">")
    doc = lxml_html.document_fromstring(page)
    assert doc.get("lang") == "zh-CN"
    assert doc.xpath("//meta/@charset") == ["utf-8"]
    assert doc.xpath("//link") == []  # no stylesheet to fetch
    assert doc.xpath("//script/@src") == []  # no script to fetch
    sources = doc.xpath("//@src")
    assert sources == [MP3_URI, "/clips/ab/cd/abcd.mp3"]  # only the clips given


def test_the_header_counts_articles_sentences_and_risky_ones() -> None:
    doc = report()
    assert text_of(doc.get_element_by_id("count-articles")) == "2"
    assert text_of(doc.get_element_by_id("count-sentences")) == "16"
    assert text_of(doc.get_element_by_id("count-risky")) == "3"
    assert text_of(doc.get_element_by_id("count-generated")) == "2025-09-05T20:18:00+08:00"
    files = doc.get_element_by_id("lexicon-files").xpath(".//code/text()")
    assert files == ["voices/lexicon-zh.tsv", "/srv/site/lexicon.tsv"]
    assert [text_of(h) for h in doc.xpath("//h1")] == ["朗读检查报告 Audio check report"]


def test_each_article_has_a_section_with_its_title_and_source() -> None:
    sections = report().xpath("//section[@class='article']")
    assert [text_of(s.xpath("h2")[0]) for s in sections] == [
        "2025世界智能产业博览会开幕", "今天天气很好"]
    assert "https://www.cq.gov.cn/ywdt/jrcq/202509/t20250905.html" in text_of(
        sections[0].xpath("p[@class='source']")[0])
    assert sections[0].get("aria-labelledby") == "article-1-title"


def test_several_articles_get_a_table_of_contents() -> None:
    assert report().xpath("//nav//a/@href") == ["#article-1", "#article-2"]
    one = check_report(articles()[:1], generated="now", lexicon_files=[])
    assert lxml_html.document_fromstring(one).xpath("//nav") == []


def test_an_article_without_risky_sentences_says_so() -> None:
    clean = report().xpath("//section[@class='article']")[1]
    assert clean.xpath(".//table") == []
    assert "No risky sentences" in text_of(clean.xpath("p[@class='clean']")[0])


def test_the_table_has_a_caption_and_headers() -> None:
    table = report().xpath("//section[@class='article']")[0].xpath(".//table")[0]
    assert "Sentences to check" in text_of(table.xpath("caption")[0])
    assert len(table.xpath("thead/tr/th[@scope='col']")) == 7
    assert [text_of(th) for th in table.xpath("tbody/tr/th[@scope='row']")] == ["3", "7", "9"]


def test_rows_show_marked_text_speech_risks_audio_and_command() -> None:
    rows = report().xpath("//tbody/tr")
    assert [r.get("id") for r in rows] == ["article-1-s3", "article-1-s7", "article-1-s9"]
    first = rows[0]
    assert first.get("data-risks") == "rare latin"
    assert first.xpath(".//td[@class='text']/mark/text()") == ["罍", "GDP"]
    assert text_of(first.xpath(".//td[@class='speak']")[0]) == "青铜罍与G D P。"
    assert [text_of(b) for b in first.xpath(".//li[contains(@class, 'badge')]")] == [
        "生僻字 rare character 罍", "外文字母 Latin letters GDP"]
    (audio,) = first.xpath(".//audio")
    assert audio.get("src") == MP3_URI
    assert audio.get("preload") == "none"
    assert audio.get("controls") is not None
    assert "edge" in text_of(first) and "2.4 秒" in text_of(first)
    assert first.xpath(".//code[@class='command']/text()") == ["reader lexicon add 罍 罍"]


def test_a_row_without_audio_says_so() -> None:
    second = report().xpath("//tbody/tr")[1]
    assert second.xpath(".//audio") == []
    assert "no audio" in text_of(second)
    assert second.xpath(".//code[@class='command']/text()") == ["reader lexicon add 重 重"]
    assert second.xpath(".//td[@class='text']/mark/text()") == [
        "行长", "script", "alert", "1", "script", "重"]


def test_a_document_number_is_marked_whole() -> None:
    third = report().xpath("//tbody/tr")[2]
    assert third.xpath(".//td[@class='text']/mark/text()") == ["渝府发〔2025〕12号"]
    assert third.xpath(".//audio/@src") == ["/clips/ab/cd/abcd.mp3"]


def test_text_is_escaped() -> None:
    page = check_report(articles(), generated="<b>now</b>", lexicon_files=["<i>x</i>"])
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    doc = lxml_html.document_fromstring(page)
    assert len(doc.xpath("//script")) == 1  # the page's own filter script only
    assert doc.xpath("//b") == [] and doc.xpath("//i") == []
    assert "<script>alert(1)</script>" in text_of(doc.xpath("//tbody/tr")[1])


def test_titles_labels_and_audio_urls_are_escaped() -> None:
    hostile = CheckedArticle(
        title="<img src=x onerror=alert(1)>", label='a" onmouseover="x', segments=1,
        rows=(CheckRow(seg("GDP"), "G D P", (Risk("latin", "GDP"),), 'x" onplay="alert(1)',
                       "edge", 100),))
    doc = lxml_html.document_fromstring(check_report([hostile], generated="", lexicon_files=[]))
    assert doc.xpath("//img") == []
    assert doc.xpath("//@onmouseover | //@onplay | //@onerror") == []
    assert doc.xpath("//audio/@src") == ['x" onplay="alert(1)']


def test_filters_are_hidden_until_the_script_shows_them() -> None:
    doc = report()
    (fieldset,) = doc.xpath("//fieldset[@id='filters']")
    assert fieldset.get("hidden") is not None  # without JS, no dead controls; every row shows
    boxes = fieldset.xpath(".//label/input[@type='checkbox']")
    assert [b.get("value") for b in boxes] == list(RISK_KINDS)
    assert all(b.get("checked") is not None for b in boxes)
    assert "(1)" in text_of(boxes[0].getparent())  # one sentence with a polyphone
    assert doc.xpath("//tr[@hidden]") == []


def test_the_report_explains_how_to_fix() -> None:
    how = report().get_element_by_id("how-to-fix")
    words = text_of(how)
    assert "reader pregen" in words
    assert "lexicon" in words


def test_an_empty_report() -> None:
    doc = lxml_html.document_fromstring(check_report([], generated="now", lexicon_files=[]))
    assert text_of(doc.get_element_by_id("count-articles")) == "0"
    assert text_of(doc.get_element_by_id("lexicon-files")) == "无 none"


@pytest.mark.parametrize(("text", "risk", "tokens", "word"), [
    # A character inside a word: the word, so the entry fires where it matters.
    ("期末成绩单发下来了", Risk("polyphone", "单 (dān / shàn)"),
     [("期末", 0, 2), ("成绩单", 2, 5), ("发", 5, 6), ("下来", 6, 8), ("了", 8, 9)], "成绩单"),
    # Standing alone: joined with the next Han word, never the bare character.
    ("利润为六十亿", Risk("polyphone", "为 (wéi / wèi)"),
     [("利润", 0, 2), ("为", 2, 3), ("六十亿", 3, 6)], "为六十亿"),
    # Alone before digits: the word before it instead.
    ("净利润为63.1亿元", Risk("polyphone", "为 (wéi / wèi)"),
     [("净利润", 0, 3), ("为", 3, 4), ("63.1", 4, 8), ("亿元", 8, 10)], "净利润为"),
    ("跻身前列", Risk("rare", "跻"), [("跻身", 0, 2), ("前列", 2, 4)], "跻身"),
    # Numbers and Latin letters are replaced as they stand: no word to find.
    ("GDP增长", Risk("latin", "GDP"), [("GDP", 0, 3), ("增长", 3, 5)], None),
])
def test_entry_word_names_the_whole_word_around_a_character(
        text: str, risk: Risk, tokens: list[tuple[str, int, int]], word: str | None) -> None:
    assert entry_word(text, risk, tokens) == word
    if word is not None:
        assert lexicon_command(risk, word) == f"reader lexicon add {word} {word}"
