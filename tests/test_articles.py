"""The article store: registration, clip owners, pins per article, editions of a source."""

from __future__ import annotations

from pathlib import Path

import pytest

from reader.articles import ArticleStore, UnknownArticle
from reader.types import Article, Kind, Paragraph, Prosody, Segment


def article(text: str) -> tuple[Article, list[Segment]]:
    paragraph = Paragraph(index=0, kind=Kind.BODY, text=text, start=0, end=len(text))
    segment = Segment(index=0, kind=Kind.BODY, text=text, speak=text, paragraph=0, start=0,
                      end=len(text))
    return Article(text=text, title=None, published=None, source=None,
                   paragraphs=(paragraph,), origin="plain"), [segment]


@pytest.fixture
def store(tmp_path: Path) -> ArticleStore:
    return ArticleStore(tmp_path / "articles.sqlite")


def add(store: ArticleStore, text: str) -> str:
    stored, _ = store.add(*article(text), voice="xiaoxiao", prosody=Prosody())
    return stored.id


def test_the_same_article_and_voice_is_found_again(store: ArticleStore) -> None:
    first, created = store.add(*article("一句话。"), voice="xiaoxiao", prosody=Prosody())
    again, created_again = store.add(*article("一句话。"), voice="xiaoxiao", prosody=Prosody())
    other, _ = store.add(*article("一句话。"), voice="yunyang", prosody=Prosody())
    assert created and not created_again and again.id == first.id != other.id
    assert store.get(first.id).segments == first.segments
    with pytest.raises(UnknownArticle, match="register it"):
        store.get("nope")


def test_pins_are_held_per_article_and_released_when_nobody_holds_them(
        store: ArticleStore) -> None:
    a, b = add(store, "甲。"), add(store, "乙。")
    assert store.pin(a, ["k1", "k2", "shared"]) == []
    assert store.pin(b, ["k3", "shared"]) == []
    assert store.is_pinned(a) and store.is_pinned(b)
    # A new set of keys for a (a lexicon change): the keys it dropped are released.
    assert store.pin(a, ["k1", "k1b", "shared"]) == ["k2"]
    assert store.unpin(a) == ["k1", "k1b"]  # "shared" is still b's
    assert not store.is_pinned(a)
    assert store.unpin(b) == ["k3", "shared"]
    with pytest.raises(UnknownArticle):
        store.unpin("nope")


def test_the_podcast_lists_pinned_articles_with_their_audio(store: ArticleStore) -> None:
    a, b = add(store, "甲。"), add(store, "乙。")
    store.pin(a, ["k1"])
    store.pin(b, ["k2"])
    assert store.published() == []  # no whole-article MP3 yet
    store.set_audio(a, "mp3-a", 1234, 5000.0)
    (published,) = store.published()
    assert (published.article.id, published.key, published.size) == (a, "mp3-a", 1234)
    assert store.audio_key(a) == "mp3-a" and store.audio_key(b) is None
    store.unpin(a)
    assert store.published() == []


def test_an_edited_source_reports_the_article_it_read_as_before(store: ArticleStore) -> None:
    old, new = add(store, "旧的一句。"), add(store, "新的一句。")
    voice, prosody = "xiaoxiao", Prosody()
    assert store.new_edition("file:/site/a.txt", old, voice, prosody) is None
    assert store.new_edition("file:/site/a.txt", old, voice, prosody) is None  # unchanged
    assert store.editions_of(old) == 1
    assert store.new_edition("file:/site/a.txt", new, voice, prosody) == old
    assert store.editions_of(old) == 0 and store.article_for("file:/site/a.txt") == [new]
    # Another voice is another edition of the same source.
    assert store.new_edition("file:/site/a.txt", old, "yunyang", prosody) is None
    assert sorted(store.article_for("file:/site/a.txt")) == sorted([new, old])
