"""The command line: `reader segment` output, and one-line errors with non-zero exits."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from reader.audio import probe_mp3
from reader.testing.fake_edge import FakeEdgeServer
from tests.conftest import SEED_TEXT


def run(
    args: list[str], cache: Path, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "READER_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "reader.cli", *args], input=stdin,
                          capture_output=True, env=env, timeout=120, check=False)


def test_segment_json_lines(session_cache: Path) -> None:
    result = run(["segment", str(SEED_TEXT), "--json"], session_cache)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert {"index", "kind", "text", "speak", "paragraph", "start", "end"} <= set(records[0])
    assert records[0]["kind"] == "title"
    assert [r["index"] for r in records] == list(range(len(records)))
    text = SEED_TEXT.read_text(encoding="utf-8")
    assert all(text[r["start"] : r["end"]] == r["text"] for r in records)
    assert any("二〇二五年" in r["speak"] for r in records)


def test_segment_reads_stdin_and_detects_html(session_cache: Path) -> None:
    html = ("<html><head><title>重要会议召开_新闻网</title></head><body><h1>重要会议召开</h1>"
            "<p>这是正文的第一段，它讲了一件很重要的事情，大家都很关心。</p>"
            "<p>这是正文的第二段，它补充了更多的细节和背景信息。</p></body></html>")
    result = run(["segment", "-", "--json"], session_cache, stdin=html.encode("gb18030"))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert records[0]["kind"] == "title" and records[0]["text"] == "重要会议召开"
    assert records[1]["text"].startswith("这是正文的第一段")


def test_plain_listing(session_cache: Path) -> None:
    result = run(["segment", "-", "--format", "plain"], session_cache,
                 stdin="标题\n增长3.5%。".encode())
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "title" in out and "百分之三点五" in out


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["segment", "/no/such/file.txt"], None, "no such file"),
        (["segment", "/"], None, "is a folder"),
        (["segment", "-"], b"   \n\t ", "empty"),
        (["segment", "-"], b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary"),
        (["segment", "-", "--max-chars", "3"], b"text", "--max-chars"),
        (["segment", "-"], "<speak></speak>\n</voice>。".encode(), "nothing to read"),
        (["segment", "-"], "😀😀😀\n😀".encode(), "nothing to read"),
        (["segment", "-"], "当前位置: 首页>新闻\n版权所有 © 2025".encode(), "no article text"),
    ],
)
def test_bad_input_is_one_line_on_stderr(
    session_cache: Path, args: list[str], stdin: bytes | None, message: str
) -> None:
    result = run(args, session_cache, stdin=stdin)
    assert result.returncode == 2
    assert result.stdout == b""
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reader: ") and message in lines[0], lines


def test_bad_configuration_exits_1(session_cache: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rule]\n", encoding="utf-8")
    env = {**os.environ, "READER_CACHE_DIR": str(session_cache), "READER_RULES": str(bad)}
    result = subprocess.run([sys.executable, "-m", "reader.cli", "segment", str(SEED_TEXT)],
                            capture_output=True, env=env, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.decode().count("\n") == 1 and "not valid TOML" in result.stderr.decode()


def _records(result: subprocess.CompletedProcess[bytes]) -> list[dict[str, object]]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def test_level_light_keeps_what_neural_voices_read_well(session_cache: Path) -> None:
    text = "标题\n2025年9月5日增长3.5%，请拨打023-63851234。".encode()
    full = _records(run(["segment", "-", "--json"], session_cache, stdin=text))[1]["speak"]
    light = _records(run(["segment", "-", "--json", "--level", "light"], session_cache,
                         stdin=text))[1]["speak"]
    assert "二〇二五年" in str(full) and "2025年" in str(light)
    assert "零二三" in str(light)  # phone numbers are read digit by digit at both levels


def test_captions_option_and_setting(session_cache: Path, tmp_path: Path) -> None:
    caption = "市委书记袁家军宣读习近平主席贺信并致辞。"
    plain = _records(run(["segment", str(SEED_TEXT), "--json"], session_cache))
    assert caption not in [r["text"] for r in plain]
    option = _records(run(["segment", str(SEED_TEXT), "--json", "--captions"], session_cache))
    assert [r["kind"] for r in option if r["text"] == caption] == ["caption"]
    env = {**os.environ, "READER_CACHE_DIR": str(session_cache), "READER_READ_CAPTIONS": "1"}
    result = subprocess.run([sys.executable, "-m", "reader.cli", "segment", str(SEED_TEXT),
                             "--json"], capture_output=True, env=env, timeout=120, check=False)
    assert caption in [r["text"] for r in _records(result)]


def test_title_option_for_text_and_html(session_cache: Path) -> None:
    text = _records(run(["segment", "-", "--json", "--title", "外部标题"], session_cache,
                        stdin="正文第一句。第二句！".encode()))
    assert (text[0]["kind"], text[0]["text"]) == ("title", "外部标题")
    html = _records(run(["segment", "-", "--json", "--title", "给定标题"], session_cache,
                        stdin=("<div><h1>页面标题</h1><p>这是正文的第一段，它讲了一件很重要的事情。</p>"
                               "</div>").encode()))
    assert (html[0]["kind"], html[0]["text"]) == ("title", "给定标题")
    assert all("<" not in str(r["text"]) for r in html)


def test_unknown_setting_is_warned_about(session_cache: Path) -> None:
    env = {**os.environ, "READER_CACHE_DIR": str(session_cache), "READER_MAX_CHAR": "50"}
    result = subprocess.run([sys.executable, "-m", "reader.cli", "segment", str(SEED_TEXT)],
                            capture_output=True, env=env, timeout=120, check=False)
    assert result.returncode == 0
    assert "unknown setting READER_MAX_CHAR is ignored" in result.stderr.decode()


# ---------------------------------------------------------------- say and voices


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _say_env(cache: Path, wss: str, voice_list: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return {**env, "READER_CACHE_DIR": str(cache), "READER_EDGE_URL": wss,
            "READER_EDGE_VOICE_LIST_URL": voice_list}


def _say(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "reader.cli", "say", *args],
                          capture_output=True, env=env, timeout=120, check=False)


def test_say_offline_speaks_with_the_embedded_neural_voice(tmp_path: Path) -> None:
    port = _closed_port()  # nothing listens: edge is unreachable, as with no network
    env = _say_env(tmp_path / "cache", f"ws://127.0.0.1:{port}/edge?TrustedClientToken=x",
                   f"http://127.0.0.1:{port}/voices")
    out = tmp_path / "x.mp3"
    result = _say(["重庆欢迎您。", "-o", str(out)], env)
    assert result.returncode == 0, result.stderr
    assert "spoken by kokoro (zf_xiaoxiao)" in result.stderr.decode()
    info = probe_mp3(out.read_bytes())
    assert (info.sample_rate, info.channels) == (24000, 1) and info.duration_ms > 500


def test_say_offline_in_a_dialect_falls_back_to_espeak(tmp_path: Path) -> None:
    port = _closed_port()
    env = _say_env(tmp_path / "cache", f"ws://127.0.0.1:{port}/edge?TrustedClientToken=x",
                   f"http://127.0.0.1:{port}/voices")
    out = tmp_path / "x.mp3"
    result = _say(["重庆欢迎您。", "-o", str(out), "--voice", "sichuan"], env)
    assert result.returncode == 0, result.stderr
    assert "spoken by espeak (cmn)" in result.stderr.decode()  # no neural Sichuanese offline
    assert probe_mp3(out.read_bytes()).duration_ms > 500


def test_say_through_the_fake_edge_server(tmp_path: Path) -> None:
    with FakeEdgeServer() as server:
        env = _say_env(tmp_path / "cache", server.wss_url, server.voice_list_url)
        out = tmp_path / "x.mp3"
        result = _say(["重庆欢迎您。", "-o", str(out), "--voice", "sichuan", "--rate", "10"], env)
        assert result.returncode == 0, result.stderr
        assert "spoken by edge (zh-CN-sichuan-YunxiNeural)" in result.stderr.decode()
        (request,) = server.stats.requests
        assert request.rate == "+10%" and request.text == "重庆欢迎您。"
        assert out.read_bytes() and probe_mp3(out.read_bytes()).duration_ms > 500
        again = _say(["重庆欢迎您。", "-o", str(tmp_path / "y.mp3"), "--voice", "sichuan",
                      "--rate", "10"], env)
        assert again.returncode == 0 and server.stats.count() == 1  # from the cache


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["你好。", "-o", "{out}", "--voice", "nobody"], "unknown voice 'nobody'; choose one of"),
        (["你好。", "-o", "{out}", "--engine", "nope"], "unknown engine 'nope'; choose one of"),
        (["你好。", "-o", "{out}", "--rate", "300"], "rate must be between"),
        (["。。！", "-o", "{out}"], "nothing to read"),
        (["你好。", "-o", "/no/such/folder/x.mp3", "--engine", "espeak"], "cannot write it"),
    ],
)
def test_say_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    out = str(tmp_path / "x.mp3")
    env = {**os.environ, "READER_CACHE_DIR": str(tmp_path / "cache"), "READER_ENGINES": "espeak"}
    result = _say([a.replace("{out}", out) for a in args], env)
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert not Path(out).exists()


def test_voices_lists_the_presets(session_cache: Path) -> None:
    result = run(["voices", "--json"], session_cache)
    voices = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert voices[0]["id"] == "xiaoxiao" and voices[0]["default"] is True
    assert {"sichuan", "hiumaan", "hsiaochen", "aria", "yunyang"} <= {v["id"] for v in voices}


@pytest.mark.parametrize("broken", ["cache-is-a-file", "audio-is-a-file"])
def test_say_speaks_even_when_the_cache_folder_is_unusable(tmp_path: Path, broken: str) -> None:
    cache = tmp_path / "cache"
    if broken == "cache-is-a-file":
        cache.write_text("not a folder")
    else:
        cache.mkdir()
        (cache / "audio").write_text("not a folder")
    env = {**os.environ, "READER_CACHE_DIR": str(cache), "READER_ENGINES": "espeak"}
    out = tmp_path / "x.mp3"
    result = _say(["重庆欢迎您。", "-o", str(out)], env)
    assert result.returncode == 0, result.stderr
    assert probe_mp3(out.read_bytes()).duration_ms > 500
    assert "unusable" in result.stderr.decode()
