"""Pre-generation (``reader.batch``) in-process: what is synthesised, reused, pinned, replaced.

Edge is the fake server on loopback (its stats count syntheses); espeak is the real offline
engine. Articles are small text files in a temporary folder, read through ``reader.sources``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reader.batch import Batch, BatchOptions, State, Summary
from reader.config import Settings
from reader.fetch import FetchPolicy
from reader.service import Service
from reader.sources import expand
from reader.testing.fake_edge import FakeEdgeServer, Fault, patch_edge_tts
from reader.types import Prosody

ARTICLE_A = ("夜间公交试运行\n\n"
             "市交通运输局介绍，三条夜间线路覆盖火车站和医院。首班车今晚十点发车。\n\n"
             "市民可以扫码查询到站时间。")
ARTICLE_B = ("河谷小城新建图书馆开放\n\n新馆藏书二十万册，周一闭馆。\n\n"
             "读者凭身份证即可办理借阅卡。馆内设有少儿阅览区。")
#: Segments in each: title, then one per sentence.
SEGMENTS_A, SEGMENTS_B = 4, 4


@pytest.fixture
def edge() -> Iterator[FakeEdgeServer]:
    with FakeEdgeServer() as server, patch_edge_tts(server):
        yield server


def make_settings(tmp_path: Path, edge: FakeEdgeServer, **env: str) -> Settings:
    return Settings.from_env({
        "READER_CACHE_DIR": str(tmp_path / "cache"),
        "READER_EDGE_URL": edge.wss_url,
        "READER_EDGE_VOICE_LIST_URL": edge.voice_list_url,
        "READER_EDGE_RETRIES": "0",
        # The batch's own logic; espeak is the quick fallback (kokoro has tests of its own).
        "READER_ENGINES": "edge,espeak",
        **env,
    })


def articles(folder: Path, **texts: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def pregen(settings: Settings, *inputs: str | Path, dry_run: bool = False,
           concurrency: int = 2, primary_wait: float = 600.0
           ) -> tuple[Summary, dict[str, int]]:
    """Run one batch on a fresh service; the summary and the cache's clip/pin counts."""
    async def run() -> tuple[Summary, dict[str, int]]:
        service = Service.load(settings)
        try:
            sources, problems = await expand([str(i) for i in inputs],
                                             FetchPolicy(allow_hosts=frozenset()))
            options = BatchOptions(voice=service.speaker.voices.get(None), prosody=Prosody(),
                                   concurrency=concurrency, dry_run=dry_run,
                                   primary_wait=primary_wait)
            summary = await Batch(service, options).run(sources, problems)
            stats = service.speaker.cache.stats()
            return summary, {"clips": stats.clips, "pinned": stats.pinned,
                             "articles": service.store.count()}
        finally:
            await service.aclose()

    return asyncio.run(run())


def test_a_folder_is_synthesised_once_pinned_and_then_reused(tmp_path: Path,
                                                            edge: FakeEdgeServer) -> None:
    folder = articles(tmp_path / "site", a=ARTICLE_A, b=ARTICLE_B)
    settings = make_settings(tmp_path, edge)

    summary, cache = pregen(settings, folder)

    assert [t.state for t in summary.tallies] == [State.DONE, State.DONE]
    assert summary.failures == 0
    assert summary.total("new") == SEGMENTS_A + SEGMENTS_B == edge.stats.count()
    assert summary.total("reused") == 0 and summary.total("audio_ms") > 5000
    # Every clip and each article's whole MP3 pinned.
    assert cache["clips"] == cache["pinned"] == SEGMENTS_A + SEGMENTS_B + 2

    again, _ = pregen(settings, folder)
    assert again.total("new") == 0 and again.total("reused") == SEGMENTS_A + SEGMENTS_B
    assert edge.stats.count() == SEGMENTS_A + SEGMENTS_B  # nothing synthesised twice


def test_editing_one_sentence_makes_exactly_one_new_clip(tmp_path: Path,
                                                       edge: FakeEdgeServer) -> None:
    folder = articles(tmp_path / "site", a=ARTICLE_A)
    settings = make_settings(tmp_path, edge)
    first, cache = pregen(settings, folder)
    before = edge.stats.count()

    articles(folder, a=ARTICLE_A.replace("今晚十点", "今晚九点"))
    second, cache_after = pregen(settings, folder)

    (tally,) = second.tallies
    assert edge.stats.count() - before == 1
    assert (tally.new, tally.reused) == (1, SEGMENTS_A - 1)
    assert tally.replaces == first.tallies[0].article != tally.article
    assert edge.stats.count(text="首班车今晚九点发车。") == 1
    # The old reading is unpinned; the sentences it shares with the new one stay pinned.
    assert cache_after["pinned"] == SEGMENTS_A + 1  # the new reading's clips and its MP3
    assert cache_after["clips"] == cache["clips"] + 2  # the new sentence and the new MP3


def test_a_lexicon_entry_remakes_only_the_sentences_it_changes(tmp_path: Path,
                                                             edge: FakeEdgeServer) -> None:
    folder = articles(tmp_path / "site", a=ARTICLE_A, b=ARTICLE_B)
    lexicon = tmp_path / "lexicon.tsv"
    lexicon.write_text("# ours\n", encoding="utf-8")
    settings = make_settings(tmp_path, edge, READER_LEXICON=str(lexicon))
    pregen(settings, folder)
    before = edge.stats.count()

    lexicon.write_text("# ours\n阅览区\t阅览曲\n", encoding="utf-8")
    summary, _ = pregen(settings, folder)

    assert edge.stats.count() - before == 1 == summary.total("new")
    assert edge.stats.count(text="馆内设有少儿阅览曲。") == 1
    assert summary.total("reused") == SEGMENTS_A + SEGMENTS_B - 1


def test_a_dry_run_estimates_and_changes_nothing(tmp_path: Path, edge: FakeEdgeServer) -> None:
    folder = articles(tmp_path / "site", a=ARTICLE_A, b=ARTICLE_B)
    settings = make_settings(tmp_path, edge)

    summary, cache = pregen(settings, folder, dry_run=True)

    assert summary.dry_run and summary.failures == 0
    assert summary.total("new") == SEGMENTS_A + SEGMENTS_B
    assert 5_000 < summary.total("audio_ms") < 60_000  # estimated from the text
    assert edge.stats.count() == 0
    assert cache == {"clips": 0, "pinned": 0, "articles": 0}

    pregen(settings, folder / "a.txt")
    partly, _ = pregen(settings, folder, dry_run=True)
    assert [(t.new, t.reused) for t in partly.tallies] == [(0, SEGMENTS_A), (SEGMENTS_B, 0)]


def test_bad_inputs_are_reported_and_the_rest_carries_on(tmp_path: Path,
                                                        edge: FakeEdgeServer) -> None:
    folder = articles(tmp_path / "site", a=ARTICLE_A, empty="。。！\n")
    settings = make_settings(tmp_path, edge)

    summary, cache = pregen(settings, folder, tmp_path / "missing.txt")

    states = {t.label.rsplit("/", 1)[-1]: t for t in summary.tallies}
    assert states["a.txt"].state is State.DONE
    assert states["empty.txt"].state is State.FAILED
    assert "nothing to read" in (states["empty.txt"].error or "")
    assert [p.label for p in summary.problems] == [str(tmp_path / "missing.txt")]
    assert summary.failures == 2
    assert cache["clips"] == SEGMENTS_A + 1


def test_when_edge_fails_the_fallback_speaks_and_the_article_is_partial(
        tmp_path: Path, edge: FakeEdgeServer) -> None:
    folder = articles(tmp_path / "site", a=ARTICLE_A)
    settings = make_settings(tmp_path, edge, READER_EDGE_BREAKER_FAILURES="100")
    edge.faults.always(Fault.HTTP_503)

    summary, cache = pregen(settings, folder)

    (tally,) = summary.tallies
    assert tally.state is State.PARTIAL and tally.fallback == SEGMENTS_A
    assert summary.failures == 1 and "run again" in (tally.error or "")
    edge.faults.clear()
    again, _ = pregen(settings, folder)
    assert again.tallies[0].state is State.DONE and again.tallies[0].new == SEGMENTS_A


@pytest.mark.parametrize("concurrency", [1, 3])
def test_concurrency_is_bounded(tmp_path: Path, edge: FakeEdgeServer, concurrency: int) -> None:
    folder = articles(tmp_path / "site", a=ARTICLE_A, b=ARTICLE_B)
    settings = make_settings(tmp_path, edge)
    edge.first_byte_delay = 0.05  # long enough for syntheses to overlap when allowed to
    pregen(settings, folder, concurrency=concurrency)
    assert edge.stats.count() == SEGMENTS_A + SEGMENTS_B
    assert edge.stats.peak_concurrency <= concurrency
    if concurrency > 1:  # and the slots were used: 8 sentences waiting 50 ms each overlap
        assert edge.stats.peak_concurrency > 1


def test_a_clip_two_pinned_articles_share_stays_pinned_when_one_is_unpinned(
        tmp_path: Path, edge: FakeEdgeServer) -> None:
    shared = "市民可以扫码查询到站时间。"
    other = ARTICLE_B + "\n\n" + shared  # B and one sentence of A
    folder = articles(tmp_path / "site", a=ARTICLE_A, b=other)
    settings = make_settings(tmp_path, edge)
    summary, cache = pregen(settings, folder)
    clips = SEGMENTS_A + SEGMENTS_B  # the shared sentence once
    assert cache["pinned"] == clips + 2 and edge.stats.count() == clips

    async def unpin_a() -> tuple[int, int]:
        service = Service.load(settings)
        try:
            released = service.unpin(summary.tallies[0].article or "")
            return released, service.speaker.cache.stats().pinned
        finally:
            await service.aclose()

    released, pinned = asyncio.run(unpin_a())
    assert released == SEGMENTS_A - 1 + 1  # A's own sentences and its MP3, not the shared one
    assert pinned == SEGMENTS_B + 1 + 1  # all of B's clips, the shared one included, its MP3


def test_a_batch_waits_out_an_edge_outage_instead_of_reading_on_offline(
        tmp_path: Path, edge: FakeEdgeServer) -> None:
    folder = articles(tmp_path / "site", a=ARTICLE_A, b=ARTICLE_B)
    settings = make_settings(tmp_path, edge, READER_EDGE_BREAKER_FAILURES="1",
                             READER_EDGE_BREAKER_COOLDOWN="0.3")
    edge.faults.push(Fault.HTTP_503)  # the first request fails: the breaker opens for 0.3 s

    summary, _ = pregen(settings, folder, concurrency=1)

    # The sentence that tripped the breaker was read offline; every other one waited for the
    # breaker's trial call and was read by edge.
    assert summary.total("fallback") == 1
    assert summary.total("new") == SEGMENTS_A + SEGMENTS_B - 1
    assert edge.stats.refused == 1 and edge.stats.count() == SEGMENTS_A + SEGMENTS_B - 1


def test_the_wait_for_edge_is_one_deadline_for_the_whole_batch(
        tmp_path: Path, edge: FakeEdgeServer) -> None:
    folder = articles(tmp_path / "site", a=ARTICLE_A, b=ARTICLE_B)
    settings = make_settings(tmp_path, edge, READER_EDGE_BREAKER_FAILURES="1",
                             READER_EDGE_BREAKER_COOLDOWN="60")
    edge.faults.push(Fault.HTTP_503)  # the breaker opens for a minute

    started = time.monotonic()
    summary, _ = pregen(settings, folder, concurrency=4, primary_wait=0.5)

    # The sentences waiting at once share the half second, waited in full, then the offline
    # voice reads on (the three that were already on their way to edge were read by it).
    assert 0.5 <= time.monotonic() - started < 10
    assert summary.total("fallback") >= SEGMENTS_A + SEGMENTS_B - 3
    assert summary.total("fallback") + summary.total("new") == SEGMENTS_A + SEGMENTS_B


def test_a_dry_run_counts_a_sentence_said_twice_once(tmp_path: Path,
                                                     edge: FakeEdgeServer) -> None:
    # A new line (a repeated line would be dropped as chrome) with a sentence said before.
    repeated = ARTICLE_A + "\n\n另据介绍，线路还将延长。首班车今晚十点发车。"
    folder = articles(tmp_path / "site", a=repeated)
    settings = make_settings(tmp_path, edge)
    planned, _ = pregen(settings, folder, dry_run=True)
    made, _ = pregen(settings, folder)
    assert (planned.total("new"), planned.total("reused")) == (SEGMENTS_A + 1, 1)
    assert (made.total("new"), made.total("reused")) == (SEGMENTS_A + 1, 1)
