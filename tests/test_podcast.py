"""reader.podcast: the RSS 2.0 feed with iTunes tags, read back with lxml and feedparser."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser  # type: ignore[import-untyped]  # no stubs
import pytest
from lxml import etree

from reader.podcast import CHINA_TIME, Channel, Episode, podcast_rss, publication_time

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
ATOM = "{http://www.w3.org/2005/Atom}"

# ---------------------------------------------------------------- helpers


def channel(**changes: Any) -> Channel:
    fields: dict[str, Any] = {
        "title": "重庆市人民政府 · 听新闻",
        "link": "https://www.cq.gov.cn/",
        "description": "重庆市政府网站的新闻，由机器朗读。",
        "language": "zh-CN",
        "feed_url": "https://www.cq.gov.cn/listen/feed.xml",
        "author": "重庆市人民政府",
        "image": "https://www.cq.gov.cn/listen/cover.png",
    }
    fields.update(changes)
    return Channel(**fields)


def episode(guid: str = "a1", **changes: Any) -> Episode:
    fields: dict[str, Any] = {
        "guid": guid,
        "title": f"第{guid}篇：世界智能产业博览会开幕",
        "audio_url": f"https://www.cq.gov.cn/listen/{guid}.mp3",
        "audio_bytes": 123_456,
        "duration_ms": 61_500,
        "published": "2025-05-20T10:30:00+08:00",
        "link": f"https://www.cq.gov.cn/news/{guid}.html",
        "description": "2025世界智能产业博览会今天在重庆开幕。",
    }
    fields.update(changes)
    return Episode(**fields)


def parse(feed: bytes) -> etree._Element:
    return etree.fromstring(feed)


def one(parent: etree._Element, path: str) -> etree._Element:
    found = parent.find(path)
    assert found is not None, path
    return found


def items(feed: bytes) -> list[etree._Element]:
    return parse(feed).findall("channel/item")


def read(feed: bytes) -> Any:
    parsed = feedparser.parse(feed)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


# ---------------------------------------------------------------- document and channel


def test_the_feed_is_utf8_xml_with_a_declaration() -> None:
    feed = podcast_rss(channel(), [episode()])
    assert feed.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "世界智能产业博览会".encode() in feed  # raw UTF-8, not character references


def test_the_root_is_rss_2_with_one_channel() -> None:
    root = parse(podcast_rss(channel(), [episode()]))
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    assert root.nsmap == {"itunes": ITUNES[1:-1], "atom": ATOM[1:-1]}
    assert [child.tag for child in root] == ["channel"]


def test_the_channel_has_the_required_and_itunes_elements() -> None:
    chan = parse(podcast_rss(channel(), [episode()])).find("channel")
    assert chan is not None
    assert chan.findtext("title") == "重庆市人民政府 · 听新闻"
    assert chan.findtext("link") == "https://www.cq.gov.cn/"
    assert chan.findtext("description") == "重庆市政府网站的新闻，由机器朗读。"
    assert chan.findtext("language") == "zh-CN"
    assert chan.findtext("generator") == "reader"
    self_link = chan.find(f"{ATOM}link")
    assert self_link is not None
    assert dict(self_link.attrib) == {"href": "https://www.cq.gov.cn/listen/feed.xml",
                                      "rel": "self", "type": "application/rss+xml"}
    assert chan.findtext(f"{ITUNES}author") == "重庆市人民政府"
    assert chan.findtext(f"{ITUNES}summary") == "重庆市政府网站的新闻，由机器朗读。"
    assert one(chan, f"{ITUNES}image").get("href") == "https://www.cq.gov.cn/listen/cover.png"
    assert one(chan, f"{ITUNES}category").get("text") == "News"
    assert chan.findtext(f"{ITUNES}explicit") == "false"


def test_rss_image_repeats_the_channel_title_and_link() -> None:
    image = parse(podcast_rss(channel(), [])).find("channel/image")
    assert image is not None
    assert [child.tag for child in image] == ["url", "title", "link"]
    assert image.findtext("url") == "https://www.cq.gov.cn/listen/cover.png"
    assert image.findtext("title") == "重庆市人民政府 · 听新闻"
    assert image.findtext("link") == "https://www.cq.gov.cn/"


def test_optional_channel_parts_are_left_out_or_set() -> None:
    chan = parse(podcast_rss(channel(author=None, image=None, category="Government",
                                     explicit=True), [])).find("channel")
    assert chan is not None
    assert chan.find(f"{ITUNES}author") is None
    assert chan.find(f"{ITUNES}image") is None
    assert chan.find("image") is None
    assert one(chan, f"{ITUNES}category").get("text") == "Government"
    assert chan.findtext(f"{ITUNES}explicit") == "true"


# ---------------------------------------------------------------- items


def test_an_item_has_every_element() -> None:
    (item,) = items(podcast_rss(channel(), [episode()]))
    assert [child.tag for child in item] == [
        "title", "link", "description", "guid", "pubDate", "enclosure",
        f"{ITUNES}duration", f"{ITUNES}summary"]
    assert item.findtext("title") == "第a1篇：世界智能产业博览会开幕"
    assert item.findtext("link") == "https://www.cq.gov.cn/news/a1.html"
    assert item.findtext("description") == "2025世界智能产业博览会今天在重庆开幕。"
    assert item.findtext("guid") == "a1"
    assert one(item, "guid").get("isPermaLink") == "false"
    assert item.findtext("pubDate") == "Tue, 20 May 2025 10:30:00 +0800"
    assert dict(one(item, "enclosure").attrib) == {
        "url": "https://www.cq.gov.cn/listen/a1.mp3", "length": "123456", "type": "audio/mpeg"}
    assert item.findtext(f"{ITUNES}duration") == "00:01:02"
    assert item.findtext(f"{ITUNES}summary") == "2025世界智能产业博览会今天在重庆开幕。"


def test_an_item_without_optional_parts() -> None:
    (item,) = items(podcast_rss(channel(), [episode(published=None, link=None,
                                                    description=None)]))
    assert [child.tag for child in item] == ["title", "guid", "enclosure", f"{ITUNES}duration"]


@pytest.mark.parametrize(("ms", "duration"), [
    (0, "00:00:00"),
    (499, "00:00:00"),
    (500, "00:00:01"),  # half a second rounds up
    (61_500, "00:01:02"),
    (3_599_400, "00:59:59"),
    (3_600_000, "01:00:00"),
    (36_061_000, "10:01:01"),
])
def test_itunes_duration_is_hh_mm_ss(ms: int, duration: str) -> None:
    (item,) = items(podcast_rss(channel(), [episode(duration_ms=ms)]))
    assert item.findtext(f"{ITUNES}duration") == duration


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(("published", "moment"), [
    ("2025-05-20T10:30:00+08:00", datetime(2025, 5, 20, 10, 30, tzinfo=CHINA_TIME)),
    ("2025-05-20T02:30:00Z", datetime(2025, 5, 20, 2, 30, tzinfo=UTC)),
    # No zone: Beijing time, as Chinese sites publish.
    ("2025-09-05T20:18", datetime(2025, 9, 5, 20, 18, tzinfo=CHINA_TIME)),
    ("2025-09-05 20:18:30", datetime(2025, 9, 5, 20, 18, 30, tzinfo=CHINA_TIME)),
    # A date alone: midnight, Beijing time.
    ("2025-05-20", datetime(2025, 5, 20, tzinfo=CHINA_TIME)),
])
def test_pub_date_is_rfc_822_and_round_trips(published: str, moment: datetime) -> None:
    assert publication_time(published) == moment
    (item,) = items(podcast_rss(channel(), [episode(published=published)]))
    written = item.findtext("pubDate")
    assert written is not None
    back = parsedate_to_datetime(written)
    assert back == moment
    assert back.utcoffset() == moment.utcoffset()  # the zone is kept, not turned into UTC


def test_last_build_date_is_the_newest_episode() -> None:
    feed = podcast_rss(channel(), [episode("a", published="2025-05-01"),
                                   episode("b", published="2025-05-20T10:30:00+08:00"),
                                   episode("c", published=None)])
    written = parse(feed).findtext("channel/lastBuildDate")
    assert written is not None
    assert parsedate_to_datetime(written) == datetime(2025, 5, 20, 10, 30, tzinfo=CHINA_TIME)


def test_last_build_date_can_be_given_and_naive_means_beijing() -> None:
    feed = podcast_rss(channel(), [episode()], built=datetime(2025, 6, 1, 8, 0))
    assert parse(feed).findtext("channel/lastBuildDate") == "Sun, 01 Jun 2025 08:00:00 +0800"


def test_no_dated_episode_means_no_last_build_date() -> None:
    feed = podcast_rss(channel(), [episode(published=None)])
    assert parse(feed).find("channel/lastBuildDate") is None


def test_the_same_input_gives_the_same_bytes() -> None:
    episodes = [episode("a"), episode("b", published="2025-05-21")]
    assert podcast_rss(channel(), episodes) == podcast_rss(channel(), list(episodes))


# ---------------------------------------------------------------- ordering


def test_items_are_newest_first_and_undated_last_in_given_order() -> None:
    episodes = [
        episode("undated-1", published=None),
        episode("old", published="2025-05-01"),
        episode("new", published="2025-05-20T10:30:00+08:00"),
        episode("undated-2", published=None),
        # 02:31 UTC is 10:31 in Beijing: newer than "new", though its clock reads earlier.
        episode("utc", published="2025-05-20T02:31:00+00:00"),
        episode("tie", published="2025-05-20T10:30:00+08:00"),
    ]
    guids = [item.findtext("guid") for item in items(podcast_rss(channel(), episodes))]
    assert guids == ["utc", "new", "tie", "old", "undated-1", "undated-2"]


# ---------------------------------------------------------------- escaping and hostile text


def test_markup_characters_in_text_are_escaped_and_read_back() -> None:
    title = "<script>alert(1)</script> A&B 比较：3<5 & 5>3"
    feed = podcast_rss(channel(title="新闻 & <评论>"),
                       [episode(title=title, description="a < b && c > d")])
    assert b"<script>" not in feed
    (item,) = items(feed)
    assert item.findtext("title") == title
    parsed = read(feed)
    assert parsed.feed.title == "新闻 & <评论>"
    assert parsed.entries[0].title == title


def test_control_characters_are_stripped() -> None:
    feed = podcast_rss(channel(description="听\x00新闻\x0b"),
                       [episode(title="标题\x01\x1f里有控制符\ufffe", description="正文\x08。")])
    chan = parse(feed).find("channel")
    assert chan is not None
    assert chan.findtext("description") == "听新闻"
    assert chan.findtext("item/title") == "标题里有控制符"
    assert chan.findtext("item/description") == "正文。"
    read(feed)


def test_a_title_is_written_on_one_line() -> None:
    (item,) = items(podcast_rss(channel(), [episode(title="  第一行\n  第二行\t ")]))
    assert item.findtext("title") == "第一行 第二行"


# ---------------------------------------------------------------- feedparser reads it


def test_feedparser_reads_the_feed() -> None:
    feed = podcast_rss(channel(), [episode("a1"), episode("a2", published="2025-05-21",
                                                          duration_ms=3_725_000)])
    parsed = read(feed)
    assert parsed.version == "rss20"
    assert parsed.feed.title == "重庆市人民政府 · 听新闻"
    assert parsed.feed.link == "https://www.cq.gov.cn/"
    assert parsed.feed.language == "zh-CN"
    assert parsed.feed.author == "重庆市人民政府"
    assert parsed.feed.image.href == "https://www.cq.gov.cn/listen/cover.png"
    assert [tag.term for tag in parsed.feed.tags] == ["News"]
    assert [entry.id for entry in parsed.entries] == ["a2", "a1"]
    first = parsed.entries[0]
    assert first.title == "第a2篇：世界智能产业博览会开幕"
    assert first.guidislink is False
    assert first.itunes_duration == "01:02:05"
    assert first.enclosures == [{"href": "https://www.cq.gov.cn/listen/a2.mp3",
                                 "length": "123456", "type": "audio/mpeg"}]
    # Midnight in Beijing is 16:00 UTC the day before; feedparser keeps UTC.
    assert tuple(first.published_parsed[:4]) == (2025, 5, 20, 16)
    assert parsed.entries[1].summary == "2025世界智能产业博览会今天在重庆开幕。"


def test_a_feed_with_no_episodes_is_valid() -> None:
    feed = podcast_rss(channel(), [])
    chan = parse(feed).find("channel")
    assert chan is not None
    assert chan.findall("item") == []
    assert chan.findtext("title") == "重庆市人民政府 · 听新闻"
    parsed = read(feed)
    assert parsed.entries == []
    assert parsed.feed.title == "重庆市人民政府 · 听新闻"


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(("field", "url"), [
    ("audio_url", "/listen/a1.mp3"),
    ("audio_url", "listen/a1.mp3"),
    ("audio_url", "//www.cq.gov.cn/a1.mp3"),
    ("audio_url", "ftp://www.cq.gov.cn/a1.mp3"),
    ("link", "news/a1.html"),
])
def test_episode_urls_must_be_absolute(field: str, url: str) -> None:
    with pytest.raises(ValueError, match=f"{field} must be an absolute http"):
        episode(**{field: url})


@pytest.mark.parametrize(("field", "url"), [
    ("link", "/"), ("feed_url", "feed.xml"), ("image", "cover.png")])
def test_channel_urls_must_be_absolute(field: str, url: str) -> None:
    with pytest.raises(ValueError, match=f"channel {field} must be an absolute http"):
        channel(**{field: url})


@pytest.mark.parametrize(("field", "value", "message"), [
    ("audio_bytes", -1, "audio_bytes must not be negative"),
    ("duration_ms", -1, "duration_ms must not be negative"),
    ("published", "20 May 2025", "published must be an ISO 8601"),
    ("title", " \n", "title must not be empty"),
    ("guid", "", "guid must not be empty"),
])
def test_bad_episodes_are_refused(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        episode(**{field: value})


@pytest.mark.parametrize("field", ["title", "description", "language"])
def test_channel_text_is_required(field: str) -> None:
    with pytest.raises(ValueError, match=f"channel {field} must not be empty"):
        channel(**{field: "\x00 "})


def test_repeated_guids_are_refused() -> None:
    with pytest.raises(ValueError, match="two episodes share the guid 'a1'"):
        podcast_rss(channel(), [episode("a1"), episode("a1", published="2025-05-21")])


def test_zero_bytes_and_zero_duration_are_allowed() -> None:
    (item,) = items(podcast_rss(channel(), [episode(audio_bytes=0, duration_ms=0)]))
    assert one(item, "enclosure").get("length") == "0"
