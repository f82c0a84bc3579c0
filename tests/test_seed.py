"""The seed page (the article this project was created from) reads right, end to end."""

from __future__ import annotations

import re

import pytest

from reader.pipeline import TextPipeline
from reader.types import Kind, Segment

#: Chrome lines of the seed page; not one character of them may be read.
CHROME = [
    "(欢迎您)注销",
    "当前位置",
    "首页>要闻动态",
    "字号",
    "打印正文",
    "分享到",
    "记者 刘力 摄",
    "视觉重庆",
    "记者 苏思 摄",
    "渝快小宝",
    "点击我",
    "为您语音播报",
    "您即将离开",
]


@pytest.fixture(scope="module")
def segments(pipeline: TextPipeline, seed_text: str) -> list[Segment]:
    return pipeline.segments(pipeline.from_page_text(seed_text))


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。；;！？])", text) if s.strip()]


def test_title_comes_first_and_alone(segments: list[Segment]) -> None:
    titles = [s for s in segments if s.kind is Kind.TITLE]
    assert segments[0].kind is Kind.TITLE
    assert "".join(s.text for s in titles).startswith("习近平向2025世界智能产业博览会致贺信")
    assert titles[-1].text.endswith("苗圩程丽华出席")
    assert [s.index for s in titles] == list(range(len(titles)))


def test_title_is_read_with_pauses_between_sub_headlines(segments: list[Segment]) -> None:
    first = segments[0]
    assert " " in first.text
    assert "致贺信。促进" in first.speak.replace(" ", "")
    # A lexicon word right after a pause keeps the pause: 主持 苗圩 -> 主持。苗围
    assert "胡衡华主持。苗围程丽华出席" in "".join(s.speak for s in segments[:2])


def test_publication_time_is_read_once(segments: list[Segment]) -> None:
    meta = [s for s in segments if s.kind is Kind.META]
    assert len(meta) == 1
    assert meta[0].text == "发布时间:2025-09-05 20:18"
    assert segments[len([s for s in segments if s.kind is Kind.TITLE])] == meta[0]


def test_no_chrome_is_read(segments: list[Segment]) -> None:
    spoken = "".join(s.text for s in segments)
    for chrome in CHROME:
        assert chrome not in spoken, chrome


#: The seed page's lines that are not article text, listed by hand (not by the cleaner).
NOT_ARTICLE = {
    "(欢迎您)注销",
    "当前位置: 首页>要闻动态>今日重庆",
    "发布时间:2025-09-05 20:18",
    "字号: [小] [大] 【打印正文】",
    "分享到:",
    "9月5日上午,2025世界智能产业博览会在重庆开幕。记者 刘力 摄/视觉重庆",
    "市委书记袁家军宣读习近平主席贺信并致辞。记者 苏思 摄/视觉重庆",
    "我是“渝快小宝”",
    "点击我,为您语音播报",
    "您即将离开“重庆市人民政府网站”",
}


def test_every_body_sentence_is_read_exactly_once(segments: list[Segment], seed_text: str) -> None:
    lines = [line.strip() for line in seed_text.splitlines() if line.strip()]
    body = [line for line in lines[3:] if line not in NOT_ARTICLE]  # after the title line
    assert lines[2].startswith("习近平向2025") and len(body) == 14
    spoken = "".join(s.text for s in segments if s.kind is Kind.BODY)
    sentences = [s for line in body for s in _sentences(line)]
    for sentence in sentences:
        assert spoken.count(sentence) == 1, sentence
    assert len(spoken) == sum(len(line) for line in body)


def test_captions_are_kept_but_not_read(pipeline: TextPipeline, seed_text: str) -> None:
    article = pipeline.from_page_text(seed_text)
    captions = [p for p in article.paragraphs if p.kind is Kind.CAPTION]
    assert [p.text for p in captions] == ["市委书记袁家军宣读习近平主席贺信并致辞。"]
    with_captions = pipeline.segments(article, captions=True)
    assert "市委书记袁家军宣读习近平主席贺信并致辞。" in [s.text for s in with_captions]
    # The first caption repeats the body word for word: never read twice, even with captions.
    opening = "9月5日上午,2025世界智能产业博览会在重庆开幕。"
    assert [s.text for s in with_captions].count(opening) == 1


def test_segments_follow_the_page_in_order(segments: list[Segment], seed_text: str) -> None:
    assert all(a.end <= b.start for a, b in zip(segments, segments[1:], strict=False))
    for segment in segments:
        assert seed_text[segment.start : segment.end] == segment.text


def test_metadata(pipeline: TextPipeline, seed_text: str) -> None:
    article = pipeline.from_page_text(seed_text)
    assert article.published == "2025-09-05T20:18"
    assert article.title is not None and article.title.startswith("习近平向2025")
