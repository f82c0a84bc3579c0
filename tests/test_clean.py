"""Cleaning: chrome rules (data), duplicates, captions, titles, metadata, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from reader.clean import (
    clean_extracted,
    clean_plain,
    clean_text,
    load_rules,
    parse_rules,
    sanitize,
)
from reader.config import data_dir
from reader.errors import ConfigError, EmptyInput, InputTooLarge, NoArticleFound
from reader.extract import ExtractedPage, iso_datetime
from reader.types import Kind

RULES = load_rules([data_dir("rules") / "chrome.toml"])
BODY = "这是正文的第一段，它讲了一件很重要的事情。"

# (line, kind it must get) — one or more rows per shipped rule, from real pages.
CHROME_LINES = [
    ("(欢迎您)注销", Kind.LOGIN),
    ("登录 | 注册", Kind.LOGIN),
    ("当前位置: 首页>要闻动态>今日重庆", Kind.NAV),
    ("您现在的位置：首页 > 新闻中心", Kind.NAV),
    ("首页 > 政务公开 > 通知公告", Kind.NAV),
    ("字号: [小] [大] 【打印正文】", Kind.CONTROL),
    ("【字体：大 中 小】", Kind.CONTROL),
    ("【打印本页】 【关闭窗口】", Kind.CONTROL),
    ("分享到:", Kind.CONTROL),
    ("扫一扫在手机打开当前页", Kind.CONTROL),
    ("我是“渝快小宝”", Kind.ASSISTANT),
    ("点击我,为您语音播报", Kind.ASSISTANT),
    ("您即将离开“重庆市人民政府网站”", Kind.NOTICE),
    ("版权所有：重庆市人民政府办公厅 渝ICP备05003300号", Kind.FOOTER),
    ("网站标识码：5000000095", Kind.FOOTER),
    ("网站地图 | 联系我们", Kind.FOOTER),
    ("责任编辑：张三", Kind.FOOTER),
    ("相关阅读", Kind.FOOTER),
    ("发布时间:2025-09-05 20:18", Kind.META),
    ("来源：新华社", Kind.META),
    ("记者 刘力 摄/视觉重庆", Kind.CREDIT),
    ("扬子晚报记者 张楠", Kind.CREDIT),
    ("图为山西品牌丝路行（南美站）启动仪式。", Kind.CAPTION),
    ("▲搜救现场", Kind.CAPTION),
    ("原标题：视界丨这个中国人习以为常的地方", Kind.NOTICE),
    ("安装新浪财经客户端第一时间接收最全面的市场资讯→【下载地址】", Kind.CONTROL),
    ("扫描下方二维码关注我们", Kind.CONTROL),
    ("我要跟帖", Kind.CONTROL),
    ("/10", Kind.CONTROL),
    ("为您推荐", Kind.FOOTER),
    ("关键词 >> 共享充电宝", Kind.FOOTER),
    ("未经授权禁止转载", Kind.FOOTER),
    ("2019-09-07 15:14:21 来源：观察者网", Kind.META),
    ("（实习生王金茹对此文亦有贡献）", Kind.CREDIT),
    ("图片来源：视觉中国", Kind.CREDIT),
    ("采写：南都见习记者 林子沛", Kind.CREDIT),
    ("图片来源：每经记者 张三 摄", Kind.CREDIT),
    ("▲广州日报全媒体图片记者黎旭阳、李妍摄", Kind.CREDIT),
    # Chrome closing articles (issue 11), in the forms real pages use.
    ("编辑 刘明 校对 李华", Kind.FOOTER),
    ("（编辑：文静）", Kind.FOOTER),
    ("编辑/倪家宁", Kind.FOOTER),
    ("[责编：张倩]", Kind.FOOTER),
    ("审核：", Kind.FOOTER),
    ("监 制：高明勇", Kind.FOOTER),
    ("编辑 周褶褶 ｜ 排版 魏蔚", Kind.FOOTER),
    ("文/栗思", Kind.CREDIT),
    ("作者 王之言 高孜然", Kind.CREDIT),
    ("中青报·中青网记者 魏其濛 来源：中国青年报", Kind.CREDIT),
    ("文中林影为化名", Kind.CREDIT),
    ("感谢郭张隽、孙书傲为本文提供的帮助", Kind.CREDIT),
    ("《光明日报》（2024年05月11日 09版）", Kind.FOOTER),
    ("（完）", Kind.FOOTER),
    ("（本文来源：经济日报 作者：徐占忱）", Kind.FOOTER),
    ("本文来自澎湃新闻，更多原创资讯请下载“澎湃新闻”APP", Kind.FOOTER),
    ("更多“投诉举报”的相关经验资讯请关注www.example.com", Kind.FOOTER),
    ("打开APP阅读全文", Kind.FOOTER),
    ("本作品为“科普中国-科学原理一点通”原创，转载时务请注明出处。", Kind.FOOTER),
    ("关键字：", Kind.FOOTER),
    ("点击进入专题", Kind.NAV),
    ("进入【新浪财经股吧】讨论", Kind.NAV),
    ("返回搜狐，查看更多", Kind.NAV),
    ("下一篇：我市召开安全生产工作会议", Kind.NAV),
    ("知道了", Kind.CONTROL),
    ("展开全文", Kind.CONTROL),
    ("打开APP", Kind.CONTROL),
    ("分享让更多人看到", Kind.CONTROL),
    ("×", Kind.CONTROL),
    ("教程交流： xhd825", Kind.CONTROL),
    ("微信号 zhangshangSD", Kind.CONTROL),
    ("长按识别二维码关注我们", Kind.CONTROL),
    ("扫码下载客户端", Kind.CONTROL),
    ("初审：张三 复审：李四 终审：王五", Kind.FOOTER),
    ("摄影：张三 李四", Kind.CREDIT),
    ("稿件来源：重庆日报", Kind.META),
    ("【相关链接】", Kind.FOOTER),
    ("返回首页", Kind.CONTROL),
    ("我要纠错", Kind.CONTROL),
]


@pytest.mark.parametrize(("line", "kind"), CHROME_LINES)
def test_chrome_lines(line: str, kind: Kind) -> None:
    article = clean_text(f"标题在这里\n{line}\n{BODY}", RULES)
    assert article.paragraphs[1].kind is kind, article.paragraphs[1]


# Body text that merely contains chrome-like words must stay body.
BODY_LINES = [
    "我是一名普通的社区工作者，每天都在为居民服务，这份工作让我感到非常充实和快乐。",
    "他们进行拍摄时遇到了大雨，但整个团队坚持完成了任务，作品最终获得了好评。",
    "记者说他很好，身体已经完全康复，下周就能回到工作岗位，继续为大家服务。",
    "分享经验是一种美德，许多老师都愿意把自己的教学方法分享给年轻同事。",
    "版权保护越来越受到重视，今年全国共查处侵权盗版案件三千余起，涉案金额巨大。" * 5,
    # Paragraphs that mention an editor, a source or an app (issue 11).
    "记者：您认为这次改革的重点是什么？",
    "主编张华说，这本书编辑了整整三年，校对了五遍，审核也很严格。",
    "编辑部的同事们连夜赶稿，第二天一早报纸就送到了读者手中。",
    "下载“渝快办”APP后，市民可以在线查询社保缴费记录，还能办理医保转移等业务。",
    "打开“重庆市政府”APP，在首页点击“办事”，就能查看更多办事指南。",
    "更多信息请关注市人力社保局官网。",
    "本文来自一位读者的投稿，他在信中讲述了自己十年来照顾母亲的经历。" * 2,
    "文化自信",
    "扫码支付已经成为很多老人的日常，社区志愿者正在教他们用手机扫描二维码。",
    "（作者系中国人民大学教授）",
]


@pytest.mark.parametrize("line", BODY_LINES)
def test_body_lines_that_look_like_chrome_stay_body(line: str) -> None:
    article = clean_text(f"标题在这里\n{line}", RULES)
    assert article.paragraphs[1].kind is Kind.BODY


@pytest.mark.parametrize("line", BODY_LINES)
def test_a_last_paragraph_that_looks_like_chrome_is_read(line: str) -> None:
    article = clean_text(f"标题在这里\n{BODY}\n{line}", RULES)
    assert article.paragraphs[-1].kind is Kind.BODY


# ---------------------------------------------------------------- the closing block

ENDINGS = Path(__file__).parent / "fixtures" / "endings"

#: (fixture, start of the article's last paragraph): real endings (see endings/SOURCES.md);
#: nothing after that paragraph is read.
LAST_PARAGRAPHS = [
    pytest.param("在建立协商机制的同时", id="163-1"),  # 文/  编辑/
    pytest.param("许多人未曾料到的另一件事情是", id="1905-1"),  # edition line
    pytest.param("北京商报讯（记者 岳品瑜", id="caijing-2"),  # (编辑：) 关键字： and a tag
    pytest.param("这就需要我们平时刻意的去引导它", id="csdn-1"),  # a contact handle
    pytest.param("征文：你的中秋有什么故事呢", id="douban-1"),  # a lead-in to a missing image
    pytest.param("活动现场，科学家将斑马鱼样品", id="gmw-2"),  # edition line
    pytest.param("红海危机产生的动荡", id="ifeng-1"),  # pseudonyms, thanks, author, editor
    pytest.param("在当前这个非常时期", id="ifeng-2"),  # 总监制：  监 制：  审 读：
    pytest.param("但是，这只是假设理想情况下", id="kepuchina-1"),  # reprint notice
    pytest.param("孙守刚表示", id="people-1"),  # edition line, a share prompt
    pytest.param("经本公司内部调整确认", id="sina-1"),  # the signing board and its date
    pytest.param("据中间价计算", id="sina-2"),  # a forum link
    pytest.param("中国将以高水平开放推进深层次改革", id="sohu-1"),  # （本文来源：… 作者：…）
    pytest.param("在报告写作和发布过程中", id="theorychina-1"),  # references; 总编辑 above
    pytest.param("以上就是关于疫情一刀切政策", id="tqxz-1"),  # 关注 in it; promotion below
    pytest.param("在罗娟看来", id="youth-1"),  # byline and source
]


@pytest.mark.parametrize("last", LAST_PARAGRAPHS)
def test_nothing_after_the_last_paragraph_is_read(request: pytest.FixtureRequest,
                                                  last: str) -> None:
    text = (ENDINGS / f"{request.node.callspec.id}.txt").read_text(encoding="utf-8")
    article = clean_text(text, RULES)
    read = article.readable()
    assert read[-1].text.startswith(last)
    assert read[-1].kind is Kind.BODY


def closing(*lines: str) -> list[Kind]:
    """Kinds of ``lines`` put after a title and a paragraph."""
    article = clean_text("\n".join(["标题在这里", BODY, *lines]), RULES)
    return [p.kind for p in article.paragraphs[2:]]


def test_a_related_list_after_the_article_is_not_read() -> None:
    items = ["多地楼市活跃度渐升", "高校生源竞争日益激烈", "普京向伊朗领导层传话"]
    assert closing(*items) == [Kind.FOOTER] * 3
    assert closing("相关新闻", items[0]) == [Kind.FOOTER, Kind.FOOTER]


def test_two_short_lines_after_a_sentence_are_read() -> None:
    assert closing("多地楼市活跃度渐升", "高校生源竞争日益激烈") == [Kind.BODY, Kind.BODY]


def test_a_poem_closing_an_article_is_read() -> None:
    poem = ["他即兴写下一首小诗：", "月光照进窗子", "洒在酒案上", "一杯美酒空对月"]
    assert closing(*poem) == [Kind.BODY] * 4


def test_references_are_chrome_only_after_the_article() -> None:
    note = "[1] 《习近平在庆祝中国共产党成立100周年大会上的讲话》，新华社，2021年7月1日。"
    assert closing(note, note.replace("[1]", "[2]")) == [Kind.FOOTER, Kind.FOOTER]
    assert closing(note, BODY + "又一段。") == [Kind.BODY, Kind.BODY]


def test_a_notice_signature_is_not_read() -> None:
    assert closing("天津创业环保股份有限公司董事会", "2005年8月25日") == [Kind.FOOTER] * 2
    assert closing("天津创业环保股份有限公司董事会", BODY + "又一段。")[0] is Kind.BODY


def test_a_source_line_after_the_article_is_not_read_but_kept() -> None:
    article = clean_text(f"标题在这里\n{BODY}\n来源：新华社", RULES)
    assert article.paragraphs[-1].kind is Kind.FOOTER
    assert article.source == "新华社"
    assert clean_text(f"标题在这里\n来源：新华社\n{BODY}", RULES).paragraphs[1].kind is Kind.META


def test_a_last_line_ending_in_a_colon_is_not_read() -> None:
    assert closing("最后放一则我特别喜欢的小漫画：") == [Kind.FOOTER]
    assert closing("请看下图：", BODY + "又一段。") == [Kind.BODY, Kind.BODY]


def test_the_first_paragraph_is_read_whatever_it_looks_like() -> None:
    article = clean_text("标题在这里\n详见附件：", RULES)
    assert article.paragraphs[1].kind is Kind.BODY


def test_end_rules_are_data(tmp_path: Path) -> None:
    rules_file = tmp_path / "end.toml"
    rules_file.write_text(
        '[[rule]]\nname = "sign-off"\nkind = "footer"\nend = true\npattern = \'^谢谢收看$\'\n',
        encoding="utf-8",
    )
    rules = load_rules([rules_file])
    end = clean_text(f"标题在这里\n{BODY}\n谢谢收看", rules)
    middle = clean_text(f"标题在这里\n谢谢收看\n{BODY}", rules)
    assert (end.paragraphs[-1].kind, end.paragraphs[-1].rule) == (Kind.FOOTER, "sign-off")
    assert middle.paragraphs[1].kind is Kind.BODY


def test_photo_credit_at_the_end_of_a_caption_is_cut_off() -> None:
    text = f"标题在这里\n{BODY}\n开幕式现场。记者 刘力 摄/视觉重庆\n{BODY}再来一段。"
    caption = clean_text(text, RULES).paragraphs[2]
    assert caption.kind is Kind.CAPTION
    assert caption.text == "开幕式现场。"
    assert text[caption.start : caption.end] == caption.text


def test_caption_repeating_body_text_is_a_duplicate() -> None:
    text = f"标题在这里\n{BODY[:12]}。（刘通摄）\n{BODY}"
    assert clean_text(text, RULES).paragraphs[1].kind is Kind.DUPLICATE


def test_repeated_lines_are_read_once() -> None:
    text = f"标题在这里\n{BODY}\n  {BODY}  \n另一段。"
    kinds = [p.kind for p in clean_text(text, RULES).paragraphs]
    assert kinds == [Kind.TITLE, Kind.BODY, Kind.DUPLICATE, Kind.BODY]


def test_title_is_the_first_line_that_is_not_chrome() -> None:
    article = clean_text(f"当前位置: 首页>新闻\n\n重要会议召开\n{BODY}", RULES)
    assert article.title == "重要会议召开"
    assert article.paragraphs[1].kind is Kind.TITLE


@pytest.mark.parametrize(
    "headline",
    ["多地项目连环爆雷 狂奔的龙湖集团暗伤曝露？", "奖金711万元！", "Galaxy S20 launched",
     "U.S. talks"],
)
def test_headlines_may_end_in_question_or_exclamation_marks(headline: str) -> None:
    article = clean_text(f"{headline}\n{BODY}", RULES)
    assert article.title == headline


@pytest.mark.parametrize(
    "first", ["Mr. Smith went to Washington. He arrived at noon", "他来了。我们走吧", "他来了。"]
)
def test_first_lines_holding_sentences_are_body(first: str) -> None:
    article = clean_text(f"{first}\n{BODY}", RULES)
    assert article.title is None and article.paragraphs[0].kind is Kind.BODY


def test_given_title_missing_from_the_text_is_put_in_front() -> None:
    article = clean_text(BODY, RULES, title="外部标题")
    assert article.text == f"外部标题\n\n{BODY}"
    assert [(p.kind, p.text) for p in article.paragraphs] == [
        (Kind.TITLE, "外部标题"), (Kind.BODY, BODY)]
    plain = clean_plain(BODY, title="外部标题")
    assert plain.paragraphs[0].kind is Kind.TITLE and plain.title == "外部标题"


def test_a_first_line_that_is_a_sentence_is_not_a_title() -> None:
    article = clean_text(f"{BODY}\n{BODY}再来。", RULES)
    assert article.title is None
    assert {p.kind for p in article.paragraphs} == {Kind.BODY}


def test_given_title_marks_its_line() -> None:
    article = clean_text(f"网站名\n重要会议召开\n{BODY}", RULES, title="重要会议召开")
    assert [p.kind for p in article.paragraphs][:2] == [Kind.BODY, Kind.TITLE]


def test_offsets_point_into_the_input() -> None:
    text = f"  重要会议召开 \r\n\r\n\t{BODY}\r\n"
    article = clean_text(text, RULES)
    for paragraph in article.paragraphs:
        assert text[paragraph.start : paragraph.end] == paragraph.text


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2025-09-05 20:18", "2025-09-05T20:18"),
        ("2025年9月5日 20时18分", "2025-09-05T20:18"),
        ("2025/9/5", "2025-09-05"),
        ("2025-13-05", None),
        ("2025-02-31", None),
    ],
)
def test_iso_datetime(raw: str, iso: str | None) -> None:
    assert iso_datetime(raw) == iso


def test_metadata_from_meta_lines() -> None:
    text = f"重要会议召开\n发布时间：2025-09-05 20:18\n来源：重庆日报\n{BODY}"
    article = clean_text(text, RULES)
    assert (article.published, article.source) == ("2025-09-05T20:18", "重庆日报")


def test_plain_text_keeps_everything() -> None:
    article = clean_plain(f"分享到:\n{BODY}")
    assert [p.kind for p in article.paragraphs] == [Kind.TITLE, Kind.BODY]
    assert article.origin == "plain"


def test_extracted_page_gets_its_title_line() -> None:
    page = ExtractedPage(title="重要会议召开", published="2025-09-05", source="新华社",
                         paragraphs=(BODY, "分享到:"))
    article = clean_extracted(page, RULES)
    assert article.text.startswith("重要会议召开\n\n")
    assert [p.kind for p in article.paragraphs] == [Kind.TITLE, Kind.BODY, Kind.CONTROL]
    assert (article.published, article.source, article.origin) == ("2025-09-05", "新华社", "html")


def test_sanitize_keeps_length_and_drops_controls() -> None:
    text = "正文\x00有\x07控制\r\n字符\u200b。"
    clean = sanitize(text)
    assert len(clean) == len(text)
    assert "\x00" not in clean and "\x07" not in clean and "\r" not in clean
    assert "\n" in clean


@pytest.mark.parametrize("text", ["", "   \n\t  ", "\u3000\u3000"])
def test_empty_input(text: str) -> None:
    with pytest.raises(EmptyInput, match="empty"):
        clean_text(text, RULES)


def test_input_over_the_limit() -> None:
    with pytest.raises(InputTooLarge, match="the limit is 100"):
        clean_text("字" * 101, RULES, max_chars=100)


@pytest.mark.parametrize(
    "text",
    [
        "当前位置: 首页>新闻\n分享到:\n版权所有 © 2025",
        "当前位置: 首页>新闻\n重要会议召开\n发布时间:2025-09-05 20:18\n版权所有 © 2025",
        "首页 新闻 政务 服务 互动",
    ],
)
def test_page_without_body_text(text: str) -> None:
    with pytest.raises(NoArticleFound, match="no article text found"):
        clean_text(text, RULES)


def test_rules_are_data(tmp_path: Path) -> None:
    extra = tmp_path / "site.toml"
    extra.write_text(
        '[[rule]]\nname = "weather"\nkind = "nav"\npattern = "^今日天气"\nmax_chars = 30\n',
        encoding="utf-8",
    )
    rules = load_rules([data_dir("rules") / "chrome.toml", extra])
    article = clean_text(f"重要会议召开\n今日天气：晴\n{BODY}", rules)
    assert article.paragraphs[1].kind is Kind.NAV and article.paragraphs[1].rule == "weather"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[[rule]\n", "not valid TOML"),
        ('[[rule]]\nname = "x"\nkind = "nav"\n', "missing field 'pattern'"),
        ('[[rule]]\nname = "x"\nkind = "nav"\npattern = "("\n', "rule 'x'"),
        ('[[rule]]\nname = "x"\nkind = "body"\npattern = "a"\n', "kind must be one of"),
        ('[[rule]]\nname = "x"\nkind = "weird"\npattern = "a"\n', "rule 'x'"),
        ('[[rule]]\nname = "x"\nkind = "nav"\npattern = "a"\nmax_chars = "9"\n', "max_chars"),
    ],
)
def test_bad_rules_file(toml: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_rules(toml, "site.toml")
