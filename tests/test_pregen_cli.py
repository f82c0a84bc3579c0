"""``reader pregen``, ``reader lexicon`` and ``reader unpin`` as a user runs them: subprocesses
against the fake Edge server, a local web site for URLs, sitemaps and feeds, and a SIGKILL in
the middle of a run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import html as lxml_html
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from reader.audio import probe_mp3
from reader.cache import DiskCache
from reader.config import Settings
from reader.pipeline import Speaker, TextPipeline
from reader.testing.fake_edge import FakeEdgeServer
from reader.types import Prosody

ARTICLE_A = ("夜间公交试运行\n\n"
             "市交通运输局介绍，三条夜间线路覆盖火车站和医院。首班车今晚10点发车。\n\n"
             "市民可以扫码查询到站时间。")
ARTICLE_B = "河谷小城新建图书馆开放\n\n新馆藏书二十万册，周一闭馆。\n\n读者凭身份证即可办理借阅卡。"


@pytest.fixture
def edge() -> Iterator[FakeEdgeServer]:
    with FakeEdgeServer() as server:
        yield server


def environment(tmp_path: Path, edge: FakeEdgeServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if "proxy" not in k.lower() and not k.startswith("READER_")}
    return {**env, "READER_CACHE_DIR": str(tmp_path / "cache"),
            "READER_EDGE_URL": edge.wss_url, "READER_EDGE_VOICE_LIST_URL": edge.voice_list_url,
            "READER_EDGE_RETRIES": "0", **extra}


def reader(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reader.cli", *args], capture_output=True,
                          text=True, env=env, timeout=300, check=False)


def site_folder(tmp_path: Path, **texts: str) -> Path:
    folder = tmp_path / "site"
    folder.mkdir(exist_ok=True)
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def test_pregen_prints_a_summary_and_exits_zero(tmp_path: Path, edge: FakeEdgeServer) -> None:
    folder = site_folder(tmp_path, a=ARTICLE_A, b=ARTICLE_B)
    env = environment(tmp_path, edge)

    result = reader(["pregen", str(folder)], env)

    assert result.returncode == 0, result.stderr
    table = result.stdout
    assert "夜间公交试运行" in table and "河谷小城新建图书馆开放" in table
    assert "2 articles, 2 done" in table and "took" in table
    # Not a terminal: a line per finished article instead of a bar.
    assert result.stderr.count("done: ") == 2
    again = reader(["pregen", str(folder), "--quiet"], env)
    assert again.returncode == 0 and again.stderr == ""
    total = next(line for line in again.stdout.splitlines() if "2 articles" in line)
    assert total.split()[-4:-1] == ["7", "0", "7"]  # segments, new, reused
    assert edge.stats.count() == 7


def test_dry_run_says_what_would_be_made(tmp_path: Path, edge: FakeEdgeServer) -> None:
    folder = site_folder(tmp_path, a=ARTICLE_A)
    result = reader(["pregen", str(folder), "--dry-run"], environment(tmp_path, edge))
    assert result.returncode == 0, result.stderr
    assert "to make" in result.stdout and "dry run: nothing was synthesised" in result.stdout
    assert edge.stats.count() == 0


def test_bad_inputs_fail_the_run_but_not_the_batch(tmp_path: Path,
                                                   edge: FakeEdgeServer) -> None:
    folder = site_folder(tmp_path, a=ARTICLE_A)
    (tmp_path / "empty").mkdir()
    result = reader(["pregen", str(folder), str(tmp_path / "nope.txt"), str(tmp_path / "empty"),
                     "https://example.org/a.html"], environment(tmp_path, edge))
    assert result.returncode == 1
    assert "1 article, 1 done" in result.stdout
    assert "3 failed:" in result.stdout
    failures = result.stdout.split("3 failed:")[1]
    assert "nope.txt" in failures and "empty" in failures and "example.org" in failures
    assert edge.stats.count() == 4  # the good article was read all the same


@pytest.mark.parametrize(("args", "message"), [
    (["pregen"], "the following arguments are required"),
    (["pregen", "x", "--concurrency", "99"], "--concurrency must be 1..16"),
    (["pregen", "x", "--voice", "nobody"], "unknown voice 'nobody'"),
    (["pregen", "x", "--engine", "nope"], "unknown engine 'nope'"),
    (["pregen", "x", "--base-url", "example.org"], "--base-url must be an absolute"),
    (["lexicon", "add", "行长", ""], "needs a word and how to say it"),
    (["lexicon", "add", "行长", "<b>航长</b>"], "markup"),
    (["lexicon", "remove", "没有这个词"], "is not in"),
    (["unpin", "site/none.txt"], "site/none.txt: no pre-generated article"),
    (["unpin", "0123456789abcdef0123456789abcdef"], "0123456789abcdef0123456789abcdef: no such"),
    (["pregen", "x", "--dry-run", "--out", "o"], "a dry run makes no audio"),
    (["pregen", "x", "--base-url", "https://x.example/a"], "give --out DIR"),
])
def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path, edge: FakeEdgeServer,
                                              args: list[str], message: str) -> None:
    lexicon = tmp_path / "lexicon.tsv"
    lexicon.write_text("# ours\n", encoding="utf-8")
    result = reader(args, environment(tmp_path, edge, READER_LEXICON=str(lexicon)))
    assert result.returncode == 2
    assert message in result.stderr.strip().splitlines()[-1], result.stderr
    assert lexicon.read_text(encoding="utf-8") == "# ours\n"


def test_lexicon_add_then_pregen_remakes_only_affected_sentences(
        tmp_path: Path, edge: FakeEdgeServer) -> None:
    folder = site_folder(tmp_path, a=ARTICLE_A, b=ARTICLE_B)
    lexicon = tmp_path / "lexicon.tsv"
    lexicon.write_text("# ours\n", encoding="utf-8")
    env = environment(tmp_path, edge, READER_LEXICON=str(lexicon))
    assert reader(["pregen", str(folder)], env).returncode == 0
    before = edge.stats.count()

    added = reader(["lexicon", "add", "借阅卡", "借月卡"], env)
    assert added.returncode == 0, added.stderr
    assert "借阅卡 → 借月卡" in added.stdout
    assert lexicon.read_text(encoding="utf-8") == "# ours\n借阅卡\t借月卡\n"
    changed = reader(["lexicon", "add", "借阅卡", "借悦卡"], env)
    assert "(was 借月卡)" in changed.stdout
    assert "借阅卡\t借悦卡" in reader(["lexicon", "list"], env).stdout

    report = tmp_path / "check.html"
    again = reader(["pregen", str(folder), "--report", str(report)], env)
    assert again.returncode == 0, again.stderr
    assert edge.stats.count() - before == 1
    assert edge.stats.count(text="读者凭身份证即可办理借悦卡。") == 1
    # The report shows the sentence with the new entry, and what was spoken for it.
    checked = lxml_html.fromstring(report.read_text(encoding="utf-8")).text_content()
    assert "读者凭身份证即可办理借阅卡。" in checked and "借悦卡" in checked

    removed = reader(["lexicon", "remove", "借阅卡"], env)
    assert removed.returncode == 0 and lexicon.read_text(encoding="utf-8") == "# ours\n"


def test_out_writes_mp3_captions_manifest_and_podcast(tmp_path: Path,
                                                      edge: FakeEdgeServer) -> None:
    folder = site_folder(tmp_path, a=ARTICLE_A, b=ARTICLE_B)
    out = tmp_path / "public"
    result = reader(["pregen", str(folder), "--out", str(out),
                     "--base-url", "https://news.example.gov.cn/audio",
                     "--report", str(tmp_path / "check.html")], environment(tmp_path, edge))
    assert result.returncode == 0, result.stderr

    mp3s = sorted(out.glob("*.mp3"))
    assert len(mp3s) == 2
    for mp3 in mp3s:
        tags = ID3(mp3)
        assert tags["TIT2"].text[0] in {"夜间公交试运行", "河谷小城新建图书馆开放"}
        chapters = tags.getall("CHAP")
        assert len(chapters) == 3  # title, then a chapter per paragraph
        assert MP3(mp3).info.length > 3
        assert (out / f"{mp3.stem}.vtt").read_text(encoding="utf-8").startswith("WEBVTT")
        assert '"segments"' in (out / f"{mp3.stem}.json").read_text(encoding="utf-8")

    feed = feedparser.parse((out / "podcast.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 2
    for entry in feed.entries:
        (enclosure,) = entry.enclosures
        name = enclosure.href.removeprefix("https://news.example.gov.cn/audio/")
        assert int(enclosure.length) == (out / name).stat().st_size
        assert enclosure.type == "audio/mpeg"

    report = lxml_html.fromstring((tmp_path / "check.html").read_text(encoding="utf-8"))
    assert "首班车今晚10点发车。" in report.text_content()
    sources = [a.get("src") for a in report.iter("audio")]
    assert sources and all(s.startswith("data:audio/mpeg;base64,") for s in sources)


def test_unpin_by_source_releases_the_clips(tmp_path: Path, edge: FakeEdgeServer) -> None:
    folder = site_folder(tmp_path, a=ARTICLE_A)
    env = environment(tmp_path, edge)
    assert reader(["pregen", str(folder)], env).returncode == 0
    result = reader(["unpin", str(folder / "a.txt")], env)
    assert result.returncode == 0, result.stderr
    assert "5 clips may now be evicted" in result.stdout  # 4 sentences and the whole MP3
    with DiskCache(tmp_path / "cache" / "audio") as cache:
        assert cache.stats().pinned == 0


# ---------------------------------------------------------------- URLs, sitemaps, feeds


class Site:
    """Articles, a sitemap and an RSS feed on 127.0.0.1."""

    def __init__(self, pages: dict[str, tuple[str, bytes]]) -> None:
        self.pages = pages
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                kind, body = site.pages.get(self.path, ("text/plain", b""))
                self.send_response(200 if self.path in site.pages else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def page(title: str, body: str) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<h1>{title}</h1><div class='content'>{paragraphs}</div></body></html>").encode()


def test_urls_sitemaps_and_feeds_from_a_site(tmp_path: Path, edge: FakeEdgeServer) -> None:
    pages: dict[str, tuple[str, bytes]] = {}
    with Site(pages) as site:
        html = "text/html; charset=utf-8"
        pages["/a.html"] = (html, page("夜间公交试运行", ARTICLE_A.split("\n\n", 1)[1]))
        pages["/b.html"] = (html, page("河谷小城新建图书馆开放", ARTICLE_B.split("\n\n", 1)[1]))
        pages["/sitemap.xml"] = ("application/xml", (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{site.base}/a.html</loc></url><url><loc>{site.base}/b.html</loc></url>"
            "</urlset>").encode())
        pages["/feed.xml"] = ("application/rss+xml", (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            f"<item><title>夜间公交试运行</title><link>{site.base}/a.html</link></item>"
            "</channel></rss>").encode())
        pages["/broken.xml"] = ("application/xml", b"<?xml version='1.0'?><urlset><url>")
        env = environment(tmp_path, edge, READER_FETCH_ALLOW="127.0.0.1",
                          READER_FETCH_TRUSTED_NETWORKS="127.0.0.0/8")

        result = reader(["pregen", f"{site.base}/sitemap.xml", f"{site.base}/feed.xml",
                         f"{site.base}/broken.xml"], env)

    assert result.returncode == 1, result.stderr  # the broken sitemap
    assert "2 articles, 2 done" in result.stdout  # a.html once, though listed twice
    assert "broken.xml" in result.stdout.split("failed:")[1]
    assert edge.stats.count() > 4


# ---------------------------------------------------------------- SIGKILL in the middle


def clip_texts(settings: Settings, folder: Path) -> dict[str, bool]:
    """Every sentence of the folder's articles, and whether its edge clip is stored."""
    text = TextPipeline.load(settings)
    speaker = Speaker.load(settings, text)
    voice = speaker.voices.default
    found: dict[str, bool] = {}
    for path in sorted(folder.glob("*.txt")):
        article = text.from_page_text(path.read_text(encoding="utf-8"))
        for segment in text.segments(article):
            key = speaker.key_for(speaker.engines[0], segment, voice, Prosody())
            found[text.speak_for(segment, "light")[0]] = speaker.cache.get(key) is not None
    speaker.cache.close()
    return found


def test_a_killed_run_resumes_without_synthesising_anything_twice(
        tmp_path: Path, edge: FakeEdgeServer) -> None:
    texts = {f"n{i}": ARTICLE_A.replace("三条", f"{i + 3}条").replace("夜间公交", f"第{i}路夜班车")
             for i in range(4)}
    folder = site_folder(tmp_path, **texts)
    env = environment(tmp_path, edge)
    edge.first_byte_delay = 0.1
    edge.speed = 20.0
    process = subprocess.Popen([sys.executable, "-m", "reader.cli", "pregen", str(folder),
                                "--concurrency", "2"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while sum(edge.stats.completed.values()) < 5:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()

    settings = Settings.from_env(env)
    stored = clip_texts(settings, folder)
    kept = {t for t, ok in stored.items() if ok}
    assert 0 < len(kept) < len(stored)
    # No corrupt clip: every clip file reads back (checked against its record) and decodes.
    files = list((tmp_path / "cache" / "audio").rglob("*.mp3"))
    assert len(files) >= len(kept)
    with DiskCache(tmp_path / "cache" / "audio") as cache:
        for file in files:
            clip = cache.get(file.stem)
            assert clip is not None, file
            assert probe_mp3(clip.audio.data).duration_ms > 0
    requests_before = len(edge.stats.requests)

    edge.first_byte_delay, edge.speed = 0.0, float("inf")
    result = reader(["pregen", str(folder)], env)

    assert result.returncode == 0, result.stderr
    asked_again = {r.text for r in edge.stats.requests[requests_before:]}
    assert not asked_again & kept  # what was stored before the kill was reused
    assert asked_again == set(stored) - kept
    assert all(clip_texts(settings, folder).values())
