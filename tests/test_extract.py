"""Tests for reader.extract: decoding, title choice, body boundaries, metadata, the corpus.

Fixtures in tests/fixtures/html are small pages written for these tests (made-up news in
the layouts of real portals). Corpus tests read ../shared/corpus/html beside the repository
and are skipped where it is missing; the magic-html pages (../shared/corpus/magic) are read
end to end, HTML to what is spoken, and judged by bench/magic.py, whose KNOWN_DEVIATIONS
are strict expected failures here.
"""

from __future__ import annotations

import codecs
import gzip
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reader.errors import EmptyInput, InputError, NoArticleFound, UndecodableInput
from reader.extract import ExtractedPage, decode_html, decode_text, extract_html
from reader.pipeline import TextPipeline

FIXTURES = Path(__file__).parent / "fixtures" / "html"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "html"

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the HTML corpus is not at {CORPUS}")

#: A small page in simplified Chinese, with a placeholder for its meta charset.
SIMPLIFIED = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    "<title>河谷小城试行夜间公交_示例新闻网</title></head><body>"
    "<h1>河谷小城试行夜间公交</h1>"
    "<p>本报讯 9月5日晚，河谷市首批三条夜间公交线路正式试运行，运营时间为每晚21时至次日凌晨"
    "1时，票价与日间线路相同。</p>"
    "<p>据市交通运输局介绍，三条线路覆盖火车站、市人民医院和大学城等夜间出行需求较集中的区域。"
    "</p></body></html>"
)

#: The same in traditional Chinese, with a character only Big5-HKSCS has (𨋢, "lift").
TRADITIONAL = (
    '<html><head><meta charset="{charset}"><title>臺北試辦夜間公車</title></head><body>'
    "<p>臺北市政府今天宣佈，將於下個月開始試辦夜間公車，路線涵蓋火車站、醫院與大學城等地區，"
    "票價與日間路線相同。</p><p>市民表示歡迎，有住在大廈的市民說，晚上搭𨋢回家也不怕了。</p>"
    "</body></html>"
)


def fixture(name: str) -> ExtractedPage:
    return extract_html(decode_html((FIXTURES / name).read_bytes()))


def corpus_page(name: str) -> ExtractedPage:
    return extract_html(decode_html((CORPUS / f"{name}.html").read_bytes()))


def article(title: str, body: str = "", head: str = "") -> str:
    """A page with ``<title>`` ``title`` and one paragraph of prose after ``body``."""
    return (
        f"<html><head><title>{title}</title>{head}</head><body>{body}"
        "<div><p>市交通运输局表示，试运行期间将根据客流情况调整线路和班次，"
        "试运行结束后再决定是否长期开通。</p></div></body></html>"
    )


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


class TestDecodeUnicode:
    def test_utf8(self) -> None:
        page = SIMPLIFIED.format(charset="utf-8")
        assert decode_html(page.encode("utf-8")) == page

    def test_utf8_with_bom(self) -> None:
        page = SIMPLIFIED.format(charset="utf-8")
        assert decode_html(codecs.BOM_UTF8 + page.encode("utf-8")) == page

    @pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
    def test_utf16_and_utf32_with_bom(self, encoding: str) -> None:
        page = SIMPLIFIED.format(charset="utf-16")
        data = "\ufeff".encode(encoding) + page.encode(encoding)
        assert decode_html(data) == page

    @pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
    def test_utf16_without_bom_is_recognised_by_its_markup(self, encoding: str) -> None:
        page = SIMPLIFIED.format(charset="utf-16")
        assert decode_html(page.encode(encoding)) == page

    @given(st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=200))
    def test_any_text_round_trips_through_utf8_and_utf16(self, text: str) -> None:
        page = f"<html><body><p>{text}</p></body></html>"
        assert decode_html(page.encode("utf-8")) == page
        assert decode_html(codecs.BOM_UTF16_LE + page.encode("utf-16-le")) == page


class TestDecodeChineseEncodings:
    @pytest.mark.parametrize("label", ["gb2312", "GBK", "gb18030", "x-gbk", "cp936"])
    def test_gb_family_is_decoded_as_gb18030(self, label: str) -> None:
        # 镕 is in GBK but not GB 2312, 𠀀 only in GB 18030: pages labelled gb2312 hold both.
        page = SIMPLIFIED.format(charset=label).replace("本报讯", "本报讯 镕𠀀")
        assert decode_html(page.encode("gb18030")) == page

    @pytest.mark.parametrize("label", ["big5", "Big5-HKSCS", "cp950"])
    def test_big5_is_decoded_as_big5hkscs(self, label: str) -> None:
        page = TRADITIONAL.format(charset=label)
        assert decode_html(page.encode("big5hkscs")) == page

    def test_xml_declaration_names_the_encoding(self) -> None:
        page = '<?xml version="1.0" encoding="gbk"?>' + SIMPLIFIED.format(charset="")
        assert decode_html(page.encode("gbk")) == page

    def test_http_header_charset_is_used_when_the_page_has_none(self) -> None:
        page = SIMPLIFIED.replace(
            '<meta http-equiv="Content-Type" content="text/html; charset={charset}">', ""
        )
        assert decode_html(page.encode("gbk"), declared="GBK") == page

    def test_latin1_http_header_yields_to_the_page_meta_charset(self) -> None:
        # Servers send ISO-8859-1 by default; read as Latin-1 a GBK page would be mojibake.
        page = SIMPLIFIED.format(charset="gbk")
        assert decode_html(page.encode("gbk"), declared="ISO-8859-1") == page

    @pytest.mark.parametrize(
        ("template", "encoding"), [(SIMPLIFIED, "gbk"), (TRADITIONAL, "big5hkscs")]
    )
    def test_undeclared_encoding_is_detected(self, template: str, encoding: str) -> None:
        page = template.replace("{charset}", "")
        assert decode_html(page.encode(encoding)) == page


class TestDecodeWrongCharset:
    def test_utf8_page_declaring_gb2312_is_utf8(self) -> None:
        page = SIMPLIFIED.format(charset="gb2312")
        assert decode_html(page.encode("utf-8")) == page

    def test_utf8_page_with_wrong_http_header_is_utf8(self) -> None:
        page = SIMPLIFIED.format(charset="utf-8")
        assert decode_html(page.encode("utf-8"), declared="gbk") == page

    @pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
    def test_gb_page_cut_inside_a_character(self, encoding: str) -> None:
        page = SIMPLIFIED.format(charset=encoding)
        data = page.encode(encoding)
        cut = data.index("相同".encode(encoding)) + 1
        assert decode_html(data[:cut]) == page[: page.index("相同")]

    def test_utf8_cut_inside_a_character_is_still_utf8(self) -> None:
        page = SIMPLIFIED.format(charset="gb2312")
        data = page.encode("utf-8")
        cut = data.index("相同".encode()) + 1  # inside the three bytes of 相
        assert decode_html(data[:cut]) == page[: page.index("相同")]

    @needs_corpus
    def test_corpus_page_declaring_gb2312_is_utf8(self) -> None:
        text = decode_html((CORPUS / "people-1.html").read_bytes())
        assert "女儿出嫁，郑板桥画了几笔兰花当嫁妆" in text


class TestDecodeRejects:
    @pytest.mark.parametrize(
        "data",
        [
            b"",
            b" \r\n\t ",
            codecs.BOM_UTF8 + b"  \n",
            codecs.BOM_UTF16_LE + " \n".encode("utf-16-le"),
        ],
        ids=["nothing", "whitespace", "utf8-bom", "utf16-bom"],
    )
    def test_empty_input(self, data: bytes) -> None:
        with pytest.raises(EmptyInput):
            decode_html(data)

    @pytest.mark.parametrize(
        ("data", "kind"),
        [
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "PNG image"),
            (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64), "JPEG image"),
            (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF document"),
            (b"PK\x03\x04\x14\x00\x06\x00" + bytes(64), "zip archive"),
            (gzip.compress("<html>网页</html>".encode()), "gzip-compressed"),
            (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "WebP image"),
        ],
        ids=["png", "jpeg", "pdf", "zip", "gzip", "webp"],
    )
    def test_binary_data_is_named(self, data: bytes, kind: str) -> None:
        with pytest.raises(UndecodableInput, match=f"binary data \\((?:an? )?{kind}"):
            decode_html(data)

    @pytest.mark.parametrize(
        "data",
        [
            b"<html>\x00\x01\x02\x03 not text\x00",
            bytes(range(1, 32)) * 20,
            b"<html>" + b"\x01\x02\x03\x04\x05\x06" * 10 + "正文".encode() * 10,
        ],
        ids=["nul", "c0", "mixed"],
    )
    def test_control_characters_mean_binary_data(self, data: bytes) -> None:
        with pytest.raises(UndecodableInput, match="binary data"):
            decode_html(data)

    def test_bytes_in_no_known_encoding(self) -> None:
        with pytest.raises(UndecodableInput, match="save it as UTF-8"):
            decode_html(b"<html>" + bytes(range(0x80, 0x100)) * 4)

    def test_errors_are_input_errors(self) -> None:
        with pytest.raises(InputError):
            decode_html(b"\x89PNG\r\n\x1a\n")


#: Short Chinese texts, a headline or a sentence long: too little for a statistical detector,
#: which reads the first two in GBK as Korean.
SHORT_SIMPLIFIED = [
    "今天天气很好。",
    "标题\n会议召开。",
    "会议召开",
    "你好",
    "河谷市首批夜间公交线路试运行",
    "“人工智能+”行动，2025年9月5日。",
]
SHORT_TRADITIONAL = [
    "今天天氣很好。",
    "臺北市政府今天宣佈",
    "謝謝你們的幫助",
    "颱風過境後，全臺各地陸續恢復上班。",
    "你好",
]
SHORT_CHINESE = [(text, "gbk") for text in SHORT_SIMPLIFIED] + [
    (text, "big5hkscs") for text in SHORT_TRADITIONAL
]


class TestDecodeShortChinese:
    @pytest.mark.parametrize(("text", "encoding"), SHORT_CHINESE)
    def test_short_text(self, text: str, encoding: str) -> None:
        assert decode_text(text.encode(encoding)) == text

    @pytest.mark.parametrize(("text", "encoding"), SHORT_CHINESE)
    def test_short_page(self, text: str, encoding: str) -> None:
        page = f"<html><body><p>{text}</p></body></html>"
        assert decode_html(page.encode(encoding)) == page

    @pytest.mark.parametrize(("text", "encoding"), SHORT_CHINESE)
    def test_declared_charset_still_comes_first(self, text: str, encoding: str) -> None:
        # Declared GBK, the bytes are read as GBK even when Big5 would also decode them.
        data = text.encode(encoding)
        assert decode_html(data, declared=encoding) == text

    @pytest.mark.parametrize(
        ("text", "encoding"),
        [
            ("こんにちは、世界。今日はいい天気ですね。", "shift_jis"),
            ("Привет, мир! Как у тебя дела сегодня? Всё хорошо.", "cp1251"),
        ],
    )
    def test_other_languages_are_left_to_detection(self, text: str, encoding: str) -> None:
        assert decode_text(text.encode(encoding)) == text


# --------------------------------------------------------------------------------------------
# Decoding plain text
# --------------------------------------------------------------------------------------------

#: A paragraph of plain text, in the style of ``reader segment file.txt`` input.
PLAIN = (
    "河谷小城试行夜间公交\n\n"
    "本报讯 9月5日晚，河谷市首批三条夜间公交线路正式试运行，票价与日间线路相同。\n"
)


class TestDecodeText:
    @pytest.mark.parametrize(
        "data",
        [
            PLAIN.encode("utf-8"),
            codecs.BOM_UTF8 + PLAIN.encode("utf-8"),
            codecs.BOM_UTF16_LE + PLAIN.encode("utf-16-le"),
            codecs.BOM_UTF16_BE + PLAIN.encode("utf-16-be"),
            PLAIN.encode("gbk"),
            PLAIN.encode("gb18030"),
        ],
        ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "gbk", "gb18030"],
    )
    def test_encodings(self, data: bytes) -> None:
        assert decode_text(data) == PLAIN

    def test_big5(self) -> None:
        text = "臺北試辦夜間公車\n市民表示歡迎，晚上搭𨋢回家也不怕了。\n"
        assert decode_text(text.encode("big5hkscs")) == text

    def test_markup_is_just_text(self) -> None:
        # A meta charset in a text file is text: the bytes decide (UTF-8 here).
        text = '<meta charset="big5">' + PLAIN
        assert decode_text(text.encode("utf-8")) == text

    def test_a_few_control_characters_are_left_for_cleaning(self) -> None:
        # Text pasted from a terminal or a word processor: escape codes, a stray BEL, a VT.
        text = "\x1b[1m" + PLAIN + "\x07" + PLAIN + "\x0b\x1b[0m"
        assert decode_text(text.encode("utf-8")) == text
        with pytest.raises(UndecodableInput, match="binary data"):
            decode_html(text.encode("utf-8"))

    @pytest.mark.parametrize(
        "data",
        [
            bytes(range(1, 32)) * 20,
            PLAIN.encode("utf-8") + b"\x01\x02\x03\x04\x05\x06" * 10,
            b"text\x00with a NUL byte",
            codecs.BOM_UTF16_LE + "text\x00".encode("utf-16-le"),
        ],
        ids=["c0", "mostly-controls", "nul", "utf16-nul"],
    )
    def test_binary_data_is_refused(self, data: bytes) -> None:
        with pytest.raises(UndecodableInput, match="binary data, not text"):
            decode_text(data)

    @pytest.mark.parametrize(
        ("data", "kind"),
        [
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "a PNG image"),
            (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
            (gzip.compress(PLAIN.encode()), "gzip-compressed data"),
        ],
        ids=["png", "pdf", "gzip"],
    )
    def test_binary_data_is_named(self, data: bytes, kind: str) -> None:
        with pytest.raises(UndecodableInput, match=rf"binary data \({kind}\?\), not text"):
            decode_text(data)

    @pytest.mark.parametrize(
        ("data", "error"),
        [
            (b" \r\n\t ", EmptyInput),
            (codecs.BOM_UTF8 + b"\n", EmptyInput),
            (b"\x89PNG\r\n\x1a\n", UndecodableInput),
            (b"text\x00", UndecodableInput),
            (bytes(range(0x80, 0x100)) * 4, UndecodableInput),
            (codecs.BOM_UTF32_LE + b"\xff\xff\xff\xff" * 2, UndecodableInput),
        ],
        ids=["empty", "empty-bom", "png", "nul", "no-encoding", "bad-bom"],
    )
    def test_messages_speak_of_text(self, data: bytes, error: type[InputError]) -> None:
        with pytest.raises(error) as caught:
            decode_text(data)
        message = str(caught.value)
        assert "text" in message
        assert "page" not in message and "HTML" not in message and "HTTP" not in message

    def test_bytes_in_no_known_encoding(self) -> None:
        with pytest.raises(UndecodableInput, match="save it as UTF-8$"):
            decode_text(bytes(range(0x80, 0x100)) * 4)

    @given(st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=200))
    def test_any_text_round_trips_through_utf8(self, text: str) -> None:
        text = "正文" + text
        assert decode_text(text.encode("utf-8")) == text


# --------------------------------------------------------------------------------------------
# Title
# --------------------------------------------------------------------------------------------

#: ``<title>`` as sites write it, and the headline in it.
SITE_SUFFIXES = [
    pytest.param(
        "夜间公交来了！河谷小城试行三条夜班线路_网易新闻",
        "夜间公交来了！河谷小城试行三条夜班线路",
        id="163",
    ),
    pytest.param(
        "法国全国大罢工再次严重影响交通-新华网",
        "法国全国大罢工再次严重影响交通",
        id="xinhuanet",
    ),
    pytest.param(
        "共享充电宝涨价告别1元时代 | 澎湃新闻",
        "共享充电宝涨价告别1元时代",
        id="thepaper",
    ),
    pytest.param(
        "女儿出嫁，郑板桥画了几笔兰花当嫁妆--文化--人民网",
        "女儿出嫁，郑板桥画了几笔兰花当嫁妆",
        id="people",
    ),
    pytest.param(
        "中国人习以为常的地方 为何老外却说“了不得”？|公园_新浪新闻",
        "中国人习以为常的地方 为何老外却说“了不得”？",
        id="sina",
    ),
    pytest.param(
        "共享充电宝涨价告别1元时代_10%公司_澎湃新闻-The Paper",
        "共享充电宝涨价告别1元时代",
        id="thepaper-en",
    ),
    pytest.param(
        "山西品牌丝路行（南美站）正式启动 - 山西省人民政府门户网站",
        "山西品牌丝路行（南美站）正式启动",
        id="gov",
    ),
    pytest.param(
        "逆水寒再按照这个速度研发下去 应该马上就要收到律师函了！|游民星空",
        "逆水寒再按照这个速度研发下去 应该马上就要收到律师函了！",
        id="gamersky",
    ),
    pytest.param(
        "他放弃百万年薪来到这里 唯一的要求竟是……_凤凰网资讯_凤凰网",
        "他放弃百万年薪来到这里 唯一的要求竟是……",
        id="ifeng",
    ),
    # Dashes inside headlines stay.
    pytest.param("中国-东盟博览会开幕", "中国-东盟博览会开幕", id="dash-short-head"),
    pytest.param(
        "2019中国-东盟博览会在南宁开幕",
        "2019中国-东盟博览会在南宁开幕",
        id="dash-no-site",
    ),
    pytest.param(
        "视界丨这个中国人习以为常的地方",
        "视界丨这个中国人习以为常的地方",
        id="column-mark",
    ),
]


class TestTitle:
    @pytest.mark.parametrize(("page_title", "headline"), SITE_SUFFIXES)
    def test_site_name_is_stripped_from_title(self, page_title: str, headline: str) -> None:
        assert extract_html(article(page_title)).title == headline

    def test_heading_that_starts_title_wins(self) -> None:
        page = article(
            '多地项目连环爆雷 狂奔的龙湖集团"暗伤"曝露？_网易财经',
            body='<h1>多地项目连环爆雷 狂奔的龙湖集团"暗伤"曝露？</h1>',
            head='<meta property="og:title" content="多地项目连环爆雷 狂奔的龙湖集团">',
        )
        assert extract_html(page).title == '多地项目连环爆雷 狂奔的龙湖集团"暗伤"曝露？'

    def test_site_name_heading_loses_to_headline_heading(self) -> None:
        page = article(
            "山西品牌丝路行（南美站）正式启动 - 某某网站",
            body="<h1>山西省人民政府网站</h1><h2>山西品牌丝路行（南美站）正式启动</h2>",
        )
        assert extract_html(page).title == "山西品牌丝路行（南美站）正式启动"

    def test_heading_completes_a_shortened_title(self) -> None:
        page = article(
            "定了！广州南沙邮轮母港即将开通",
            body="<h1>定了！广州南沙邮轮母港即将开通！地铁直达+无敌免税城</h1>",
        )
        assert extract_html(page).title == "定了！广州南沙邮轮母港即将开通！地铁直达+无敌免税城"

    def test_title_inside_a_heading_with_a_label(self) -> None:
        page = article(
            "最不愁吃肉的国家：顿顿有肉吃",
            body="<h2><span>原创</span>最不愁吃肉的国家：顿顿有肉吃</h2>",
        )
        assert extract_html(page).title == "最不愁吃肉的国家：顿顿有肉吃"

    def test_heading_when_there_is_no_title(self) -> None:
        page = article("", body="<h1>河谷小城试行夜间公交</h1>")
        assert extract_html(page).title == "河谷小城试行夜间公交"

    def test_no_title_at_all(self) -> None:
        assert extract_html(article("")).title is None

    @pytest.mark.parametrize(
        ("page_title", "headline"),
        [
            ("《蓝羽会客厅》之《北京影人》5月20日起播出_华语_电影网_1905.com",
             "《蓝羽会客厅》之《北京影人》5月20日起播出"),
            ("中法经贸合作广度深度不断拓展_中国_法国_全球", "中法经贸合作广度深度不断拓展"),
        ],
    )
    def test_og_title_equal_to_title_does_not_hide_the_heading(
        self, page_title: str, headline: str
    ) -> None:
        page = article(page_title, body=f"<h1>{headline}</h1>",
                       head=f'<meta property="og:title" content="{page_title}">')
        assert extract_html(page).title == headline

    def test_heading_with_a_long_dash_written_short_in_title(self) -> None:
        headline = "积极因素不断增多 动能增强——前4个月我国外贸向好态势进一步巩固"
        page = article(
            "积极因素不断增多 动能增强-前4个月我国外贸向好态势进一步巩固-今日头条",
            body=f"<h1>{headline}</h1>",
        )
        assert extract_html(page).title == headline

    def test_title_holding_only_the_site_name(self) -> None:
        page = article("-铜雀历史网", body="<h1>疫情一刀切政策怎么投诉举报</h1>")
        assert extract_html(page).title == "疫情一刀切政策怎么投诉举报"


# --------------------------------------------------------------------------------------------
# Body, metadata and refusals, on the fixtures
# --------------------------------------------------------------------------------------------


class TestPortalPage:
    """A portal page: navigation, recommendations, comments and footer around the article."""

    def test_title_is_the_headline(self) -> None:
        assert fixture("portal.html").title == "河谷小城试行夜间公交 市民出行多了新选择"

    def test_body_starts_after_original_title_and_caption(self) -> None:
        assert fixture("portal.html").paragraphs[0].startswith("本报讯（记者 李四）9月5日晚")

    def test_body_ends_before_editor_and_recommendations(self) -> None:
        assert fixture("portal.html").paragraphs[-1].startswith("市交通运输局表示")

    def test_only_article_text(self) -> None:
        text = "\n".join(fixture("portal.html").paragraphs)
        for chrome in ("首页", "原标题", "责任编辑", "为您推荐", "夜班车", "Copyright", "分享到"):
            assert chrome not in text

    def test_full_width_indent_is_stripped(self) -> None:
        assert not any(p[0].isspace() for p in fixture("portal.html").paragraphs)

    def test_published_and_source(self) -> None:
        page = fixture("portal.html")
        assert (page.published, page.source) == ("2025-09-05T20:18", "示例日报")


class TestListLayoutPage:
    """An article laid out inside a list item, as guancha.cn does."""

    def test_paragraphs(self) -> None:
        assert fixture("list-layout.html").paragraphs == (
            "三月的一个上午，远在山区的一所中学里，初二学生第一次通过大屏幕和城里的同学一起做了"
            "化学实验。",
            "实验室搬上“云端”",
            "这所学校没有专门的化学实验室。过去，老师只能在黑板上画出实验装置，学生很难想象试剂"
            "反应时的样子。",
            "今年起，当地教育部门联合城区学校开设远程实验课，城区老师在实验室操作，山区学生通过"
            "直播观看，并可以随时提问。",
        )

    def test_metadata(self) -> None:
        page = fixture("list-layout.html")
        assert (page.title, page.published, page.source) == (
            "山区学校用上了远程实验课",
            "2025-03-12T09:30",
            "示例科技报",
        )


class TestWeChatPage:
    def test_spans_of_a_section_make_one_paragraph(self) -> None:
        assert fixture("wechat.html").paragraphs == (
            "经过两年建设，位于城市东郊的湿地公园本周六起正式向市民开放，公园面积约一百二十公顷，"
            "免费入园。",
            "园内设有观鸟台、木栈道和科普馆，春秋两季可以看到上百种候鸟在此停留。",
            "公园管理处提醒，园内禁止烧烤和放风筝，请游客文明游园。",
        )

    def test_relative_date_is_not_a_publication_time(self) -> None:
        page = fixture("wechat.html")
        assert (page.title, page.published, page.source) == (
            "周末去哪儿？城郊湿地公园开放了",
            None,
            None,
        )


class TestGovernmentPage:
    """A table layout with the text in one cell, lines broken by <br>."""

    def test_paragraphs(self) -> None:
        assert fixture("government-br.html").paragraphs == (
            "11月20日，示例省召开今冬明春供暖保障工作会议，对全省供暖保障工作作出部署。",
            "会议要求，各地要提前做好煤炭、天然气等能源储备，确保居民供暖按时、足额、稳定。",
            "会议强调，要加强供暖设施巡查检修，畅通群众投诉渠道，及时解决群众反映的问题。",
        )

    def test_metadata(self) -> None:
        page = fixture("government-br.html")
        assert (page.title, page.published, page.source) == (
            "示例省部署今冬明春供暖保障工作",
            "2024-11-20T16:05",
            "示例省政府办公厅",
        )

    def test_gbk_encoded_page(self) -> None:
        html = (FIXTURES / "government-br.html").read_text(encoding="utf-8")
        data = html.replace('charset="utf-8"', 'charset="gb2312"').encode("gb18030")
        assert extract_html(decode_html(data)) == fixture("government-br.html")


class TestWhitespace:
    def test_whitespace_inside_a_paragraph_is_one_space(self) -> None:
        page = (
            "<html><body><div><p>\u3000\u3000市民\u00a0表示\u3000欢迎，  夜班车\n 方便了"
            "\u200b下晚班的人，也方便了夜间就医的人。</p></div></body></html>"
        )
        assert extract_html(page).paragraphs == (
            "市民 表示 欢迎， 夜班车 方便了下晚班的人，也方便了夜间就医的人。",
        )


class TestLayouts:
    PARAGRAPHS = (
        "第一段：河谷市首批三条夜间公交线路正式试运行，运营时间为每晚21时至次日凌晨1时。",
        "第二段：市交通运输局表示，试运行期间将根据客流情况调整线路和班次。",
    )

    def test_fragment_without_html_and_body(self) -> None:
        html = "".join(f"<p>{p}</p>" for p in self.PARAGRAPHS)
        assert extract_html(html).paragraphs == self.PARAGRAPHS

    def test_paragraphs_straight_in_body(self) -> None:
        html = "<html><body>" + "".join(f"<p>{p}</p>" for p in self.PARAGRAPHS) + "</body></html>"
        assert extract_html(html).paragraphs == self.PARAGRAPHS

    def test_divs_as_paragraphs(self) -> None:
        divs = "".join(f"<div>{p}</div>" for p in self.PARAGRAPHS)
        nav = "<div class='nav'><a href='/'>首页</a></div>"
        html = f"<html><body>{nav}<div>{divs}</div></body></html>"
        assert extract_html(html).paragraphs == self.PARAGRAPHS

    def test_longer_comment_thread_does_not_win(self) -> None:
        comment = "网友：这个政策真不错，我每天晚上下班都要坐车回家，以前打车太贵了，现在方便多了。"
        comments = "".join(f"<div class='item'><p>{comment * 2}</p></div>" for _ in range(5))
        html = (
            f"<html><body><div class='art'><p>{self.PARAGRAPHS[0]}</p></div>"
            f"<div class='comment-list'>{comments}</div></body></html>"
        )
        assert extract_html(html).paragraphs == self.PARAGRAPHS[:1]

    def test_article_in_a_block_named_like_chrome(self) -> None:
        paragraphs = "".join(f"<p>{p}</p>" for p in self.PARAGRAPHS)
        html = f"<html><body><div class='share-article'>{paragraphs}</div></body></html>"
        assert extract_html(html).paragraphs == self.PARAGRAPHS

    def test_search_suggestions_and_story_streams_do_not_win(self) -> None:
        hot = "".join(f"<div class='item'>热搜话题第{i}条新闻标题</div>" for i in range(30))
        teaser = "财经新闻·8 小时前 重置城寨 不如搞港版环球影城，最新港产片热播，好评如潮。" * 3
        stream = "".join(f"<li><div class='item'>{teaser}</div></li>" for _ in range(5))
        html = (
            f"<html><body><div class='search-box'><div class='wrap'>{hot}</div></div>"
            f"<div class='body'><p>{self.PARAGRAPHS[0]}</p><p>{self.PARAGRAPHS[1]}</p></div>"
            f"<div id='stream-wrapper'><ul>{stream}</ul></div></body></html>"
        )
        assert extract_html(html).paragraphs == self.PARAGRAPHS

    def test_wechat_sections_under_visibility_hidden(self) -> None:
        sections = "".join(f"<section style='text-indent: 2em;'>{p}</section>"
                           for p in self.PARAGRAPHS)
        profile = ("与您一起关注绥德，分享社会新闻、经济民生、美食特产，以及陕北传统文化，"
                   "传递正能量，欢迎关注我们的公众号，每天早晚各推送一次。")
        html = (
            f"<html><body><div class='profile'><p>{profile}</p></div>"
            "<div id='js_content' style='visibility: hidden; opacity: 0;'>"
            f"<h1><strong>绥德县举行</strong></h1>{sections}</div></body></html>"
        )
        assert extract_html(html).paragraphs[-2:] == self.PARAGRAPHS

    def test_counters_inside_paragraphs_are_dropped(self) -> None:
        html = "<html><body><main>" + "".join(
            f"<p><span class='content-text'>{p}</span><span class='review'>"
            f"<span class='review-count'>37</span></span></p>"
            for p in self.PARAGRAPHS
        ) + "</main></body></html>"
        assert extract_html(html).paragraphs == self.PARAGRAPHS

    def test_spans_named_like_counters_only_by_chance_stay(self) -> None:
        html = ("<html><body><div><p>今年前4个月，<span class='country'>中国</span>货物贸易"
                "进出口总值13.81万亿元，同比增长5.7%，对<span class='country-name'>法国</span>"
                "出口增长。</p>"
                f"<p>{self.PARAGRAPHS[0]}</p></div></body></html>")
        assert extract_html(html).paragraphs == (
            "今年前4个月，中国货物贸易进出口总值13.81万亿元，同比增长5.7%，对法国出口增长。",
            self.PARAGRAPHS[0],
        )

    def test_a_research_article_is_not_a_search_box(self) -> None:
        paragraphs = "".join(f"<p>{p}</p>" for p in self.PARAGRAPHS)
        html = (f"<html><body><div class='research-article'>{paragraphs}</div>"
                f"<div class='note'><p>{self.PARAGRAPHS[1][:20]}</p></div></body></html>")
        assert extract_html(html).paragraphs == self.PARAGRAPHS

    def test_sponsored_links_between_paragraphs_are_dropped(self) -> None:
        ad = ("<a class='article__content__yyconfig' href='/ad'><i>广告</i>"
              "<div class='title isAd'><span>小姨以身设局陷害，致使外甥女婿净身出户</span></div>"
              "<div class='del'>×</div></a>")
        html = (f"<html><body><div class='article'>{self.PARAGRAPHS[0]}<br>{ad}<br>"
                f"{self.PARAGRAPHS[1]}<br></div></body></html>")
        assert extract_html(html).paragraphs == self.PARAGRAPHS

    def test_back_link_glued_to_the_last_line_is_cut(self) -> None:
        html = (
            f"<html><body><article><p>{self.PARAGRAPHS[0]}</p><p>{self.PARAGRAPHS[1]}"
            "<a href='//www.sohu.com/'>返回搜狐，查看更多</a></p></article></body></html>"
        )
        assert extract_html(html).paragraphs == self.PARAGRAPHS


class TestRefusals:
    @pytest.mark.parametrize("html", ["", "   \n\t"])
    def test_empty_page(self, html: str) -> None:
        with pytest.raises(EmptyInput):
            extract_html(html)

    @pytest.mark.parametrize(
        "html",
        [
            "<html><body></body></html>",
            "<html><head><title>标题</title></head></html>",
            "<html><body><p>首页</p><p>新闻</p></body></html>",
        ],
    )
    def test_page_without_text(self, html: str) -> None:
        with pytest.raises(NoArticleFound):
            extract_html(html)

    @pytest.mark.parametrize("name", ["navigation-only.html", "empty-body.html"])
    def test_pages_without_article(self, name: str) -> None:
        with pytest.raises(NoArticleFound, match="no article text"):
            fixture(name)


# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------

#: (title, first paragraph starts, last paragraph starts) of pages extracted right, by page.
GOLDEN = [
    pytest.param(
        '多地项目连环爆雷 狂奔的龙湖集团"暗伤"曝露？',
        "2019年，龙湖集团即将迎来赴港",
        "经过三年狂奔的龙湖，在众多项目爆",
        id="163-1",
    ),
    pytest.param(
        "姚明对周琦说了啥？周琦上下半场判若两人",
        "新京报讯2019年篮球世界杯17",
        "比赛第三节还剩8分多钟，姚明在周",
        id="163-2",
    ),
    pytest.param(
        '奖金711万元！"中国诺贝尔奖"首位获奖女性啥来头?',
        "今天(9月7日)下午，有着“中国",
        "时至今日，王小云也为自己的选择而",
        id="163-3",
    ),
    pytest.param(
        "英国美女在殡仪馆工作太痛苦，转行当美人鱼！每小时收入近千元",
        "英国汉普郡贝辛斯托克的一位女士放",
        '她开玩笑地说："他们就像海盗一样',
        id="baijiahao-1",
    ),
    pytest.param(
        "日本最后一家传呼机公司停止服务，殡仪馆为BB机送终",
        "IT之家9月30日消息 据外媒报",
        "对于传呼机退出舞台的消息，有些日",
        id="baijiahao-2",
    ),
    pytest.param(
        "第三届知道安全论坛鸟巢举办 知道创宇发布新版ZoomEye",
        "2014年8月22日，由北京知道",
        "在发布现场，知道创宇副总裁余弦信",
        id="csdn-1",
    ),
    pytest.param(
        "逆水寒再按照这个速度研发下去 应该马上就要收到律师函了！",
        "《逆水寒》每周的版本更新都安排在",
        "逆水寒在追热点方面不仅追的巧，还",
        id="gamersky-gamersky",
    ),
    pytest.param(
        "我国集成电路进口突破3000亿美元！魏少军：产业结构扭曲，没将产品作为中心",
        "9月3日，在第二届全球IC企业家",
        "魏少军表示，因为中国产业结构和国",
        id="guancha-2",
    ),
    pytest.param(
        "补壹刀：别笑！18人的“新八国联军”今天成立了",
        "西方世界的一些反华分子正试图串联",
        "刀哥想说，都9020年了，自信一",
        id="huanqiu-1",
    ),
    pytest.param(
        "女童眼睛被塞几十片纸，“无法用科学解释”",
        "7岁小花（化名）“眼睛被塞纸”事",
        "（实习生王金茹对此文亦有贡献）",
        id="ifeng-1",
    ),
    pytest.param(
        "他放弃百万年薪来到这里 唯一的要求竟是……",
        "杭州市学军中学校长陈立群要退休了",
        "教人无问贵贱，育人不分优劣，让我",
        id="ifeng-2",
    ),
    pytest.param(
        "女儿出嫁，郑板桥画了几笔兰花当嫁妆",
        "父亲的教诲像一盏灯，为我们照亮前",
        "虽然，东方朔为人洒脱不羁，但，在",
        id="people-1",
    ),
    pytest.param(
        "儿歌一分钱被改成一元钱 原作者女儿：改成这样不觉得拗口吗？",
        "近日，一张截图在朋友圈流传，那首",
        "扬子晚报记者 张楠",
        id="qq-qq",
    ),
    pytest.param(
        "山西品牌丝路行（南美站）正式启动",
        "跨越千山万水，行程近两万公里，山",
        "山西品牌丝路行主题为“走丝绸之路",
        id="shanxi-1",
    ),
    pytest.param(
        "中国人习以为常的地方 为何老外却说“了不得”？",
        "“你们将开始明白为什么我这么喜欢",
        "BBC称，不只是温哥华，伦敦、柏",
        id="sina-1",
    ),
    pytest.param(
        '60万"12306账号"外泄? 中铁总辟谣称消息不实',
        "新京报快讯（记者 裴剑飞）今日（",
        "铁路部门提醒广大旅客，请通过铁路",
        id="sina-2",
    ),
    pytest.param(
        "债券市场是否存在泡沫？世界知名首席投资官们这么说",
        "随着低增长、低利率、低通胀成为新",
        "我们预计英国央行将在11月降息2",
        id="sina-3",
    ),
    pytest.param(
        "共享充电宝涨价告别1元时代：是“收割韭菜”还是回归理性",
        "“以前花一两元就能充满电，前几天",
        "刘颖对共享充电宝行业的发展比较有",
        id="thepaper-1",
    ),
    pytest.param(
        "定了！广州南沙邮轮母港即将开通！地铁直达+无敌免...",
        "搭地铁去坐邮轮玩转东南亚！",
        "开始搓搓手了！！！",
        id="thepaper-2",
    ),
    pytest.param(
        "海螺沟寻子一个月：儿子消失在眼前十几米，搜寻无果母亲不舍离去",
        "8岁儿子在四川海螺沟景区失联的第",
        "采写：南都见习记者 林子沛",
        id="toutiao-3",
    ),
    pytest.param(
        "三星 Galaxy S20 系列手机正式发布",
        "今天凌晨，三星在美国旧金山举行发",
        "除 Galaxy S20 系列手机外",
        id="wechat-1",
    ),
    pytest.param(
        "法国全国大罢工再次严重影响交通",
        "新华社巴黎12月9日电（记者唐霁",
        "法国总统马克龙此前提出对全国退休",
        id="xinhuanet-1",
    ),
]

#: Pages still extracted wrong, with what a right extraction would give.
KNOWN_DEVIATIONS = [
    # A picture gallery: its ten captions are in a script (BASE_DATA.galleryInfo), the HTML
    # shows only the first one, behind the "1/10" counter.
    pytest.param(
        "最不愁吃肉的国家：顿顿有肉吃，却要靠中国运输蔬菜水果",
        "当全世界绝大部分国家都在为能够吸引",
        "尽管中国对这个邻居表达了很多的善意",
        id="toutiao-2",
        marks=pytest.mark.xfail(strict=True, reason="gallery captions in script JSON"),
    ),
]


@needs_corpus
@pytest.mark.parametrize(("title", "first", "last"), [*GOLDEN, *KNOWN_DEVIATIONS])
def test_corpus_page(request: pytest.FixtureRequest, title: str, first: str, last: str) -> None:
    page = corpus_page(request.node.callspec.id)
    assert page.title == title
    assert page.paragraphs[0].startswith(first)
    assert page.paragraphs[-1].startswith(last)


#: (publication time, source) as the pages state them, by page.
GOLDEN_METADATA = [
    pytest.param("2019-09-07T13:43", "证券市场红周刊", id="163-1"),
    pytest.param("2019-09-07T09:59", "新京报", id="163-2"),
    pytest.param("2019-09-08T00:20", "每日经济新闻", id="163-3"),
    pytest.param("2014-08-24T21:30", "CSDN", id="csdn-1"),
    pytest.param("2019-09-07T15:10", "EETOP", id="guancha-2"),
    pytest.param("2020-06-05T20:35", None, id="huanqiu-1"),
    pytest.param("2019-11-25T16:04", "澎湃新闻网", id="ifeng-1"),
    pytest.param("2019-09-09T18:13", "新华网", id="ifeng-2"),
    pytest.param("2019-06-15T08:18", "人民网-文化频道", id="people-1"),
    pytest.param("2019-09-18T06:23", "山西日报", id="shanxi-1"),
    pytest.param("2019-11-25T18:57", "参考消息", id="sina-1"),
    pytest.param("2018-12-28T19:56", "新京报", id="sina-2"),
    pytest.param("2019-08-13T14:07", "澎湃新闻·澎湃号·政务", id="thepaper-2"),
    pytest.param("2019-12-10T07:57", "新华网", id="xinhuanet-1"),
]

KNOWN_METADATA_DEVIATIONS = [
    # The page shows "昨天" ("yesterday"); the time is only in a script (var ct = 1581517074).
    pytest.param(
        "2020-02-12T22:17",
        None,
        id="wechat-1",
        marks=pytest.mark.xfail(strict=True, reason="publication time in a script"),
    ),
    # The source stands unlabelled beside the author: "石佳/中国青年报", "原创 南方都市报".
    pytest.param(
        "2019-09-24T09:10",
        "中国青年报",
        id="thepaper-1",
        marks=pytest.mark.xfail(strict=True, reason="unlabelled source"),
    ),
    pytest.param(
        "2019-09-09T16:01",
        "南方都市报",
        id="toutiao-3",
        marks=pytest.mark.xfail(strict=True, reason="unlabelled source"),
    ),
]


@needs_corpus
@pytest.mark.parametrize(("published", "source"), [*GOLDEN_METADATA, *KNOWN_METADATA_DEVIATIONS])
def test_corpus_metadata(
    request: pytest.FixtureRequest, published: str | None, source: str | None
) -> None:
    page = corpus_page(request.node.callspec.id)
    assert (page.published, page.source) == (published, source)


#: Lines that must never open or close a body.
OPENING_CHROME = ("原标题", "（原标题", "安装新浪财经客户端", "澎湃新闻记者", "执笔/", "原创：")
CLOSING_CHROME = (
    "责任编辑",
    "相关热门文章",
    "相关推荐",
    "本文为CSDN原创文章",
    "免责声明",
    "Copyright",
    "热评论",
    "看都看完了",
    "图片均来自网络",
    "信息来源于网络",
)


@needs_corpus
@pytest.mark.parametrize("name", [row.id for row in GOLDEN])
def test_corpus_body_has_no_chrome_at_its_ends(name: str) -> None:
    page = corpus_page(name)
    assert not page.paragraphs[0].startswith(OPENING_CHROME)
    assert not any(chrome in page.paragraphs[-1] for chrome in CLOSING_CHROME)
    assert page.paragraphs[0] != page.title
    assert all(p and p == p.strip() for p in page.paragraphs)


# --------------------------------------------------------------------------------------------
# The magic-html pages, read end to end (bench/magic.py judges them; see its docstring)
# --------------------------------------------------------------------------------------------


def _load_bench(name: str) -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


MAGIC = _load_bench("magic")
MAGIC_CORPUS: Path = MAGIC.DEFAULT_CORPUS
MAGIC_PAGES = sorted(p.stem for p in (MAGIC_CORPUS / "expected").glob("*.json"))


@pytest.mark.skipif(not MAGIC_PAGES, reason=f"the magic corpus is not at {MAGIC_CORPUS}")
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason))
        if (reason := MAGIC.KNOWN_DEVIATIONS.get(name)) else name
        for name in MAGIC_PAGES
    ] or ["none"],
)
def test_magic_page_reads_right(pipeline: TextPipeline, name: str) -> None:
    expected = MAGIC.load_expected(MAGIC_CORPUS / "expected" / f"{name}.json")
    verdict = MAGIC.run_page(pipeline, MAGIC_CORPUS / "html" / f"{name}.html", expected)
    assert not isinstance(verdict, str), verdict
    assert (verdict.title, verdict.first, verdict.last, verdict.clean) == (True,) * 4, (
        verdict.extraneous
    )
