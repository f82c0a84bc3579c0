"""The HTTP service under load: cold first byte, memory, cached clips next to nginx.

One run measures, printing numbers (no pass/fail), with traffic only on 127.0.0.1:

1. Time to the first audio byte of a cold article. The fake Edge server (its own process)
   waits 300 ms before its first audio frame and then streams at 20x real time; the service
   runs with ``READER_WARM_SEGMENTS=0`` so nothing is warm. Each of N distinct articles is
   registered, then its first sentence's clip is fetched over a raw socket and timed from the
   request to the first body byte. Our cost is that minus the server's 300 ms (target
   <= 30 ms). A few untimed articles go first (imports, the voice list, each worker).
2. Memory: the service's RSS (VmRSS of each of its processes) before, after 5,000 and after
   10,000 mixed requests (cached clips, manifests, /healthz, a few 404s), and once more after
   the load runs of part 3. Target <= 200 MB and no growth from 5k to 10k. It runs before
   part 3 so that "before" is a service that has not yet seen heavy load.
3. Requests per second for cached 30 KB clips, 50 connections (``wrk -c 50 -t 2``), rotating
   over a few hundred clips: (a) the service alone, (b) nginx serving the same files from
   the same disk as static files, (c) front-proxy mode (docs/front-proxy.md): nginx serves
   hits straight from the cache folder and proxies the rest to the service. Targets:
   service/nginx >= 0.15, front-proxy/nginx >= 0.8. A reference row, the service's
   ``GET /api/v1/voices`` (no file, no cache), shows what the framework alone allows here.
   The runs alternate for several rounds and the medians are compared, because other load
   on a small machine comes and goes. The clips are written with ``DiskCache.put`` into the
   service's cache folder under the keys of registered articles (30 KB of silent MP3 each,
   with a sentence's word boundaries in the record): only hits are measured, and
   synthesising a few hundred clips first would only add minutes. The front proxy's answers
   are checked against the service's (headers, 304, 206, a proxied manifest, a 404).

How it runs (the settings that suit a 2-core box; the run prints them): uvicorn in a
subprocess with ``--workers 2`` (change with ``--workers``), ``--loop uvloop --http httptools``
(both come with ``uvicorn[standard]``), ``--no-access-log``, ``--log-level warning``, the app
built by ``create_app(Settings.from_env(os.environ))`` through a factory module written into
the run's temp folder (workers need an import string). The rate limit and the daily character
budget are raised so that the bench measures speed, not the limits (cache hits are not
limited anyway). nginx: ``worker_processes`` = cores, ``sendfile``, ``pcre_jit``, no access
log, the same settings for (b) and (c) (templates in bench/nginx/). Everything lives in a
temp folder (configs, pid files, logs, the cache), on free ports, and every process started
here is stopped when the run ends, however it ends.

Needs nginx and wrk, which are not Python packages and are not installed by scripts/setup
(this bench is not run in CI). On Debian or Ubuntu, as root::

    apt-get update && apt-get install -y nginx-light wrk     # or: nginx

Without nginx, (b) and (c) are skipped; without wrk, a Python load generator (aiohttp)
stands in and says so: on two cores it measures itself more than the server.

Run: .venv/bin/python bench/serve_load.py [--quick] [--workers N] [--duration SECONDS]
(--quick: fewer cold articles and clips, one 3 s round; the memory part stays at 10,000.)
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is bench/serve_load.py: run as a script, its folder comes first on sys.path, where its
# name would shadow the standard library's ``http`` package for every module imported below.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse  # noqa: E402 (after the sys.path fix above)
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import selectors  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402

import aiohttp  # noqa: E402

from reader.cache import DiskCache  # noqa: E402
from reader.testing.fake_edge import MP3_BYTES_PER_SECOND, silence_source  # noqa: E402
from reader.types import Audio, Boundary  # noqa: E402

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "nginx"
HOST = "127.0.0.1"
API = "/api/v1"
UNKNOWN_CLIP = f"{API}/audio/{'0' * 64}.mp3"  # a well-formed key nobody registered: 404

FIRST_BYTE_MS = 300.0  # the fake Edge server's delay before its first audio frame
SPEED = 20.0  # and how much faster than real time it streams after that
OUR_COST_TARGET_MS = 30.0
CLIP_TEXT = "字" * 23  # 23 syllables, 5.06 s at 48 kbit/s: a 30,384-byte clip
CONNECTIONS = 50
WRK_THREADS = 2
MEMORY_TARGET_MB = 200.0
START_TIMEOUT_S = 90.0  # the service loads jieba's dictionary and the rules at start-up
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Plan:
    """How much of everything one run does."""

    cold_articles: int  # timed cold first bytes
    warmup_articles: int  # untimed ones first (voice list, imports, each worker)
    rps_articles: int  # articles whose clips fill the cache for parts 2 and 3
    sentences: int  # sentences per article
    duration_s: int  # of each wrk run
    rounds: int  # of the wrk runs of part 3, alternating
    memory_requests: int  # in part 2, measured at half and at the end


FULL = Plan(cold_articles=20, warmup_articles=6, rps_articles=25, sentences=12,
            duration_s=10, rounds=3, memory_requests=10_000)
QUICK = Plan(cold_articles=8, warmup_articles=4, rps_articles=10, sentences=10,
             duration_s=3, rounds=1, memory_requests=10_000)


# ---------------------------------------------------------------- processes


class Processes:
    """Every child process this run starts, stopped (by its own pid) when the run ends."""

    def __init__(self) -> None:
        self._children: list[tuple[str, subprocess.Popen[bytes], int]] = []

    def start(self, name: str, argv: Sequence[str], *, env: dict[str, str] | None = None,
              stop_signal: int = signal.SIGTERM, log: Path,
              pipe: bool = False) -> subprocess.Popen[bytes]:
        """Start a child, its output (its stderr only, with ``pipe``) going to ``log``."""
        with open(log, "wb") as out:
            proc = subprocess.Popen(list(argv), env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE if pipe else out,
                                    stderr=out if pipe else subprocess.STDOUT)
        self._children.append((name, proc, stop_signal))
        return proc

    def stop_all(self) -> None:
        while self._children:
            _stop(*self._children.pop())


def _stop(name: str, proc: subprocess.Popen[bytes], stop_signal: int) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(stop_signal)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        print(f"  ({name} did not stop in 15 s; killed)")
        proc.kill()
        proc.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Until something accepts connections on ``port``; raise if ``proc`` dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}:\n{tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s:\n{tail(log)}")


def tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def read_lines(proc: subprocess.Popen[bytes], prefixes: Sequence[str],
               timeout: float) -> dict[str, str]:
    """``PREFIX=value`` lines a child prints on its stdout (a pipe), read within ``timeout``."""
    assert proc.stdout is not None
    found: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while len(found) < len(prefixes):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise RuntimeError(f"{proc.args!r} did not print {prefixes} in {timeout:.0f} s")
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"{proc.args!r} exited before printing {prefixes}")
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                name, _, value = line.decode().partition("=")
                if name in prefixes:
                    found[name] = value.strip()
    return found


def start_fake_edge(procs: Processes, tmp: Path) -> dict[str, str]:
    """The fake Edge server in its own process; its WSS_URL and VOICE_LIST."""
    argv = [sys.executable, "-m", "reader.testing.fake_edge", "--port", str(free_port()),
            "--first-byte-ms", f"{FIRST_BYTE_MS:g}", "--speed", f"{SPEED:g}"]
    proc = procs.start("the fake Edge server", argv, env=child_env(), log=tmp / "fake-edge.log",
                       stop_signal=signal.SIGINT, pipe=True)  # it prints its addresses
    return read_lines(proc, ("WSS_URL", "VOICE_LIST"), timeout=60)


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Our environment without READER_* settings or proxies (all traffic is on loopback)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("READER_") and not k.lower().endswith("_proxy")}
    env.update(extra or {})
    return env


# ---------------------------------------------------------------- the service

FACTORY = '''\
"""Written by bench/serve_load.py: the app for ``uvicorn --factory``."""

import os

from reader.api import create_app
from reader.config import Settings


def app():
    return create_app(Settings.from_env(os.environ))
'''


@dataclass
class ServiceRun:
    proc: subprocess.Popen[bytes]
    port: int
    argv: list[str]
    cache_dir: Path


def uvicorn_argv(port: int, workers: int, app_dir: Path) -> list[str]:
    argv = [sys.executable, "-m", "uvicorn", "--factory", "bench_reader_app:app",
            "--app-dir", str(app_dir), "--host", HOST, "--port", str(port),
            "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    if importlib.util.find_spec("uvloop"):
        argv += ["--loop", "uvloop"]
    if importlib.util.find_spec("httptools"):
        argv += ["--http", "httptools"]
    return argv


def start_service(procs: Processes, tmp: Path, edge: dict[str, str], workers: int) -> ServiceRun:
    cache_dir = tmp / "cache"
    (tmp / "bench_reader_app.py").write_text(FACTORY)
    port = free_port()
    env = child_env({
        "READER_CACHE_DIR": str(cache_dir),
        "READER_WARM_SEGMENTS": "0",  # nothing warm: every first byte is a cold one
        "READER_ENGINES": "edge",
        "READER_EDGE_URL": edge["WSS_URL"],
        "READER_EDGE_VOICE_LIST_URL": edge["VOICE_LIST"],
        "READER_RATE_LIMIT": "1000000",  # measure speed, not the limits
        "READER_RATE_BURST": "1000000",
        "READER_DAILY_CHARS": "1000000000",
        "READER_TRUSTED_PROXIES": HOST,  # front-proxy mode: nginx forwards the client's address
    })
    argv = uvicorn_argv(port, workers, tmp)
    log = tmp / "service.log"
    proc = procs.start("the service", argv, env=env, log=log)
    wait_for_port(port, proc, log, START_TIMEOUT_S)
    asyncio.run(wait_healthy(port, proc, log))
    return ServiceRun(proc, port, argv, cache_dir)


async def wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until /healthz answers 200: with several workers the port is open before they are."""
    deadline = time.monotonic() + START_TIMEOUT_S
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"http://{HOST}:{port}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the service did not become healthy:\n{tail(log)}")


def service_pids(root: int) -> list[int]:
    """The service's processes: uvicorn's supervisor and every process under it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return sorted(found)


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found[1]) / 1024 if found else 0.0


def command_name(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(part.decode(errors="replace") for part in raw if part)
    if "multiprocessing" in text and "resource_tracker" in text:
        return "resource tracker"
    if "multiprocessing" in text:
        return "worker"
    return "uvicorn" if "uvicorn" in text else text[:40]


@dataclass(frozen=True)
class Memory:
    total: float  # MB, every process of the service
    per_process: tuple[tuple[str, int, float], ...]  # (role, pid, MB)

    def show(self) -> str:
        parts = ", ".join(f"{role} {mb:.0f}" for role, _, mb in self.per_process)
        return f"{self.total:6.1f} MB  ({parts})"

    def workers(self) -> list[float]:
        return [mb for role, _, mb in self.per_process if role == "worker"]


def memory(service: ServiceRun) -> Memory:
    rows = tuple((command_name(pid), pid, rss_mb(pid)) for pid in service_pids(service.proc.pid))
    return Memory(sum(mb for _, _, mb in rows), rows)


# ---------------------------------------------------------------- articles


DIGITS = "零一二三四五六七八九"
TOPICS = ("城市交通", "公共服务", "社区医疗", "义务教育", "乡村道路", "文化活动", "环境保护",
          "就业培训", "养老服务", "防汛工作", "科技创新", "营商环境")


def chinese_number(n: int) -> str:
    return "".join(DIGITS[int(d)] for d in str(n))


def article_text(tag: str, n: int, sentences: int) -> str:
    """An article of distinct sentences of about 23 syllables, four to a paragraph."""
    lines = [f"{tag}第{chinese_number(n)}篇报道"]
    paragraph: list[str] = []
    for s in range(sentences):
        topic = TOPICS[(n + s) % len(TOPICS)]
        paragraph.append(f"{tag}第{chinese_number(n)}篇第{chinese_number(s)}句谈到本市{topic}的新进展。")
        if len(paragraph) == 4:
            lines.append("".join(paragraph))
            paragraph = []
    if paragraph:
        lines.append("".join(paragraph))
    return "\n".join(lines)


async def register(session: aiohttp.ClientSession, base: str, text: str) -> dict[str, object]:
    body = {"text": text, "plain": True}
    async with session.post(f"{base}{API}/articles", json=body) as response:
        if response.status not in (200, 201):
            raise RuntimeError(f"register: {response.status} {await response.text()}")
        manifest: dict[str, object] = await response.json()
        return manifest


def clip_key(path: str) -> str:
    return path.removeprefix(f"{API}/audio/").removesuffix(".mp3")


def clip_paths(manifest: dict[str, object]) -> list[str]:
    segments = manifest["segments"]
    assert isinstance(segments, list)
    return [str(segment["audio"]) for segment in segments]


# ---------------------------------------------------------------- 1. cold first byte


@dataclass(frozen=True)
class FirstByte:
    seconds: float
    status: int
    engine: str
    body_bytes: int


async def first_byte(port: int, path: str) -> FirstByte:
    """GET ``path`` on a fresh connection: seconds from sending the request to the first body
    byte. The rest of the body is read (bounded) so the next request starts from quiet."""
    async with asyncio.timeout(REQUEST_TIMEOUT_S):
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n"
            started = time.perf_counter()
            writer.write(request.encode())
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            status = int(head.split(" ", 2)[1])
            chunked = re.search(r"(?im)^transfer-encoding:\s*chunked", head) is not None
            if chunked:
                await reader.readuntil(b"\r\n")  # the first chunk's size line
            first = await reader.read(1)
            elapsed = time.perf_counter() - started
            rest = len(first)
            while data := await reader.read(65536):
                rest += len(data)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    engine = re.search(r"(?im)^x-reader-engine:\s*(\S+)", head)
    return FirstByte(elapsed, status, engine[1] if engine else "?", rest)


async def cold_first_bytes(service: ServiceRun, plan: Plan) -> list[FirstByte]:
    base = f"http://{HOST}:{service.port}"
    async with aiohttp.ClientSession() as session:
        total = plan.warmup_articles + plan.cold_articles
        paths = []
        for n in range(total):
            manifest = await register(session, base, article_text("冷启动", n, 3))
            paths.append(clip_paths(manifest)[1])  # [0] is the title; [1] the first sentence
    results = []
    for n, path in enumerate(paths):
        result = await first_byte(service.port, path)
        if n >= plan.warmup_articles:
            results.append(result)
    return results


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * (len(ordered) - 1) + 0.5))]


def report_first_bytes(results: list[FirstByte]) -> None:
    ms = [r.seconds * 1000 for r in results]
    bad = [r for r in results if r.status != 200 or r.engine != "edge"]
    median, p90 = statistics.median(ms), percentile(ms, 0.9)
    print(f"  {len(ms)} cold articles, one at a time, first sentence of each"
          f" (~{statistics.median(r.body_bytes for r in results) / 1000:.0f} KB clips):")
    print(f"  time to first audio byte: median {median:.1f} ms, p90 {p90:.1f} ms,"
          f" min {min(ms):.1f}, max {max(ms):.1f}")
    print(f"  our cost (minus the server's {FIRST_BYTE_MS:.0f} ms): median"
          f" {median - FIRST_BYTE_MS:.1f} ms, p90 {p90 - FIRST_BYTE_MS:.1f} ms"
          f"  (target <= {OUR_COST_TARGET_MS:.0f} ms)")
    if bad:
        print(f"  NOTE: {len(bad)} answers were not 200 from edge:"
              f" {[(r.status, r.engine) for r in bad][:5]}")


# ---------------------------------------------------------------- 2. memory


async def mixed_requests(port: int, count: int, start: int, clips: Sequence[str],
                         articles: Sequence[str]) -> dict[int, int]:
    """``count`` requests, 16 at a time: 70% clips, 15% manifests, 10% health, 5% 404s."""
    statuses: dict[int, int] = {}

    def path(n: int) -> str:
        slot = n % 20
        if slot < 14:
            return clips[(n * 7) % len(clips)]
        if slot < 17:
            return f"{API}/articles/{articles[n % len(articles)]}"
        if slot < 19:
            return "/healthz"
        return UNKNOWN_CLIP if n % 40 == 19 else f"{API}/articles/no-such-article-{n}"

    queue = iter(range(start, start + count))
    connector = aiohttp.TCPConnector(limit=16)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(f"http://{HOST}:{port}", connector=connector,
                                     timeout=timeout) as session:
        async def client() -> None:
            for n in queue:  # a shared iterator: each request is made once, by some client
                async with session.get(path(n)) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1

        await asyncio.gather(*(client() for _ in range(16)))
    return statuses


def report_memory(points: list[tuple[str, Memory]]) -> None:
    for label, mem in points:
        print(f"  {label:<32} {mem.show()}")
    (half_label, at_half), (end_label, at_end) = points[-2], points[-1]
    workers = zip(at_half.workers(), at_end.workers(), strict=False)
    each = ", ".join(f"{b - a:+.1f}" for a, b in workers)
    span = f"{half_label.removeprefix('after ')} to {end_label.removeprefix('after ')}"
    print(f"  growth from {span}: {at_end.total - at_half.total:+.1f} MB"
          + (f" (per worker {each} MB)" if each else "")
          + f"  (target <= {MEMORY_TARGET_MB:.0f} MB, no growth)")


# ---------------------------------------------------------------- 3. cached clips


def fill_cache(cache_dir: Path, keys: list[str]) -> int:
    """Store a 30 KB clip under each key, as the service would have; returns the clip size."""
    data = silence_source(CLIP_TEXT, "zh-CN-XiaoxiaoNeural")
    duration_ms = len(data) / MP3_BYTES_PER_SECOND * 1000
    words = tuple(Boundary("word", "字字", n * 420.0, 400.0) for n in range(12))
    audio = Audio(data, duration_ms, "edge", "zh-CN-XiaoxiaoNeural", words)
    with DiskCache(cache_dir / "audio") as cache:
        for key in keys:
            cache.put(key, audio)
    return len(data)


async def register_rps_articles(service: ServiceRun, plan: Plan) -> tuple[list[str], list[str]]:
    """Article ids and clip paths of the articles used by parts 2 and 3."""
    base = f"http://{HOST}:{service.port}"
    ids, paths = [], []
    async with aiohttp.ClientSession() as session:
        for n in range(plan.rps_articles):
            manifest = await register(session, base, article_text("缓存命中", n, plan.sentences))
            ids.append(str(manifest["id"]))
            paths.extend(clip_paths(manifest))
    return ids, paths


@dataclass(frozen=True)
class Load:
    rps: float
    requests: int
    bad: int  # non-2xx/3xx answers
    errors: str  # socket errors, as wrk words them
    latency: str  # p50 / p99


def write_lua(tmp: Path, name: str, paths: Sequence[str]) -> Path:
    """A wrk script that walks the paths round-robin (each thread from its own offset)."""
    listed = ",\n".join(f'  "{p}"' for p in paths)
    script = tmp / f"{name}.lua"
    script.write_text(
        f"local paths = {{\n{listed}\n}}\n"
        "local i = 0\n"
        "local counter = 0\n"
        "setup = function(thread)\n"
        "  counter = counter + 1\n"
        "  thread:set(\"offset\", counter * 97)\n"
        "end\n"
        "init = function(args)\n"
        "  i = offset or 0\n"
        "end\n"
        "request = function()\n"
        "  i = i + 1\n"
        "  return wrk.format(\"GET\", paths[(i % #paths) + 1])\n"
        "end\n")
    return script


def run_wrk(tmp: Path, name: str, port: int, paths: Sequence[str], duration: int) -> Load:
    script = write_lua(tmp, name, paths)
    argv = ["wrk", "-c", str(CONNECTIONS), "-t", str(WRK_THREADS), "-d", f"{duration}s",
            "--latency", "-s", str(script), f"http://{HOST}:{port}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    out = done.stdout
    (tmp / f"wrk-{name}.txt").write_text(out + done.stderr)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{out}\n{done.stderr}")
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:\s*(.+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    return Load(rps=float(rps[1]), requests=int(total[1]) if total else 0,
                bad=int(bad[1]) if bad else 0, errors=errors[1].strip() if errors else "none",
                latency=f"p50 {p50[1] if p50 else '?'}, p99 {p99[1] if p99 else '?'}")


async def python_load(port: int, paths: Sequence[str], duration: int) -> Load:
    """The stand-in for wrk: 50 keep-alive connections for ``duration`` seconds."""
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    counts = {"ok": 0, "bad": 0, "errors": 0}
    latencies: list[float] = []
    deadline = time.monotonic() + duration
    async with aiohttp.ClientSession(f"http://{HOST}:{port}", connector=connector) as session:
        async def client(offset: int) -> None:
            n = offset
            while time.monotonic() < deadline:
                n += 1
                started = time.perf_counter()
                try:
                    async with session.get(paths[n % len(paths)]) as response:
                        await response.read()
                        counts["ok" if response.status < 400 else "bad"] += 1
                except aiohttp.ClientError:
                    counts["errors"] += 1
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(client(c * 97) for c in range(CONNECTIONS)))
    done = counts["ok"] + counts["bad"]
    p50 = percentile(latencies, 0.5) * 1000 if latencies else 0.0
    p99 = percentile(latencies, 0.99) * 1000 if latencies else 0.0
    return Load(done / duration, done, counts["bad"], f"{counts['errors']} client errors",
                f"p50 {p50:.1f}ms, p99 {p99:.1f}ms")


def measure(tmp: Path, name: str, port: int, paths: Sequence[str], duration: int) -> Load:
    if shutil.which("wrk"):
        return run_wrk(tmp, name, port, paths, duration)
    return asyncio.run(python_load(port, paths, duration))


def render(template: str, **values: str | int) -> str:
    text = (TEMPLATES / template).read_text()
    for name, value in values.items():
        text = text.replace(f"@{name.upper()}@", str(value))
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise ValueError(f"{template}: no value for {sorted(set(left))}")
    return text


def start_nginx(procs: Processes, tmp: Path, name: str, server_template: str,
                **values: str | int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    common = {"tmp": tmp, "name": name, "workers": os.cpu_count() or 1}
    conf = tmp / f"nginx-{name}.conf"
    conf.write_text(render("common.conf.template", **common))
    (tmp / f"nginx-{name}.server.conf").write_text(
        render(server_template, port=port, **values))
    log = tmp / f"nginx-{name}.log"
    # -e: nginx opens its compiled-in error log before reading the config; keep it in tmp too.
    argv = ["nginx", "-p", str(tmp), "-e", str(tmp / f"nginx-{name}.error.log"), "-c", str(conf)]
    proc = procs.start(f"nginx ({name})", argv, log=log, stop_signal=signal.SIGQUIT)
    wait_for_port(port, proc, log, timeout=15)
    return proc, port


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    size: int


async def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> Answer:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://{HOST}:{port}{path}", headers=headers or {}) as response:
            body = await response.read()
            return Answer(response.status, {k.lower(): v for k, v in response.headers.items()},
                          len(body))


SAME_HEADERS = ("content-type", "cache-control", "etag", "accept-ranges")


async def check_front_proxy(service_port: int, proxy_port: int, clip: str,
                            manifest: str) -> list[str]:
    """How front-proxy answers differ from the service's (empty: they agree), and a cold
    clip through the front proxy: streamed by the service, then a hit served by nginx."""
    notes = []
    ours, theirs = await fetch(service_port, clip), await fetch(proxy_port, clip)
    if (ours.status, ours.size) != (theirs.status, theirs.size):
        notes.append(f"clip: service {ours.status}/{ours.size} B,"
                     f" front proxy {theirs.status}/{theirs.size} B")
    for name in SAME_HEADERS:
        if ours.headers.get(name) != theirs.headers.get(name):
            notes.append(f"{name}: service {ours.headers.get(name)!r},"
                         f" front proxy {theirs.headers.get(name)!r}")
    etag, other = ours.headers.get("etag", ""), f'"{"1" * 64}"'
    cases = [{"If-None-Match": etag}, {"If-None-Match": f"W/{etag}"}, {"If-None-Match": "*"},
             {"If-None-Match": f"{other}, {etag}"}, {"If-None-Match": other},
             {"Range": "bytes=0-1023"}, {"Range": "bytes=-144"}]
    for headers in cases:
        a, b = await fetch(service_port, clip, headers), await fetch(proxy_port, clip, headers)
        if (a.status, a.size) != (b.status, b.size):
            notes.append(f"{headers}: service {a.status}/{a.size} B,"
                         f" front proxy {b.status}/{b.size} B")
    for label, path in (("manifest", manifest), ("unknown clip", UNKNOWN_CLIP)):
        a, b = await fetch(service_port, path), await fetch(proxy_port, path)
        if a.status != b.status:
            notes.append(f"{label}: service {a.status}, front proxy {b.status}")
    return notes


async def cold_through_proxy(proxy_port: int) -> tuple[FirstByte, Answer]:
    """Register an article through the front proxy and fetch its first clip twice."""
    async with aiohttp.ClientSession() as session:
        manifest = await register(session, f"http://{HOST}:{proxy_port}",
                                  article_text("前置代理", 0, 2))
    path = clip_paths(manifest)[1]
    return await first_byte(proxy_port, path), await fetch(proxy_port, path)


def cached_clips(plan: Plan, tmp: Path, procs: Processes, service: ServiceRun,
                 clips: list[str], articles: list[str], size: int) -> None:
    """Part 3: the service, nginx and the front proxy, in alternating rounds (other load on
    a small machine comes and goes; alternating spreads it over all three)."""
    print(f"\n3. cached clips ({len(clips)} clips of {size:,} bytes, round-robin),"
          f" {CONNECTIONS} connections, {WRK_THREADS} threads, {plan.rounds} round(s) of"
          f" {plan.duration_s} s each, alternating; median of the rounds")
    if not shutil.which("wrk"):
        print("  (wrk not found: a Python load generator stands in; it competes with the"
              " server for the same cores)")
    targets = [("(a) the service", "service", service.port, clips),
               ("(ref) the service, GET /api/v1/voices", "voices", service.port,
                [f"{API}/voices"])]
    if shutil.which("nginx"):
        audio_root = service.cache_dir / "audio"
        os.chmod(tmp, 0o755)  # nginx's workers run as nobody when started by root
        _, static_port = start_nginx(procs, tmp, "static", "static.server.conf.template",
                                     audio_root=audio_root)
        _, proxy_port = start_nginx(procs, tmp, "front-proxy",
                                    "front-proxy.server.conf.template", audio_root=audio_root,
                                    upstream_port=service.port)
        keys = [clip_key(path) for path in clips]
        targets += [
            ("(b) nginx, static files", "static", static_port,
             [f"/clips/{k[:2]}/{k[2:4]}/{k}.mp3" for k in keys]),
            ("(c) front proxy (nginx + service)", "front-proxy", proxy_port, clips)]
        notes = asyncio.run(check_front_proxy(service.port, proxy_port, clips[0],
                                              f"{API}/articles/{articles[0]}"))
        cold, again = asyncio.run(cold_through_proxy(proxy_port))
    else:
        print("  (nginx not found: install it to compare; see this file's docstring)")
    runs: dict[str, list[Load]] = {name: [] for _, name, _, _ in targets}
    for _ in range(plan.rounds):
        for _, name, port, paths in targets:
            runs[name].append(measure(tmp, name, port, paths, plan.duration_s))
    median = {name: statistics.median(load.rps for load in loads) for name, loads in runs.items()}
    for label, name, _, _ in targets:
        report_load(label, runs[name])
    if "static" not in runs:
        return
    for name, label, target in (("service", "service / nginx:    ", 0.15),
                                ("front-proxy", "front proxy / nginx:", 0.8)):
        rounds = [a.rps / b.rps for a, b in zip(runs[name], runs["static"], strict=True)]
        spread = (f"  (rounds: {', '.join(f'{r:.2f}' for r in rounds)})"
                  if len(rounds) > 1 else "")
        print(f"  {label} {median[name] / median['static']:.2f}{spread}  (target >= {target})")
    print("  front proxy answers like the service (status, size, Content-Type, Cache-Control,"
          " ETag, Accept-Ranges; If-None-Match, Range, a manifest, an unknown clip): "
          + ("yes" if not notes else "NO:\n    " + "\n    ".join(notes)))
    by = "nginx" if "x-reader-engine" not in again.headers else "the service (NOT nginx)"
    print(f"  a cold clip through the front proxy: {cold.status} from {cold.engine}, first byte"
          f" in {cold.seconds * 1000:.1f} ms (streamed, not buffered); fetched again:"
          f" {again.status} from {by}")


def report_load(label: str, loads: list[Load]) -> None:
    ordered = sorted(loads, key=lambda load: load.rps)
    middle = ordered[len(ordered) // 2]
    spread = f" [{ordered[0].rps:.0f}-{ordered[-1].rps:.0f}]" if len(loads) > 1 else ""
    bad = sum(load.bad for load in loads)
    extra = f", {bad} non-2xx/3xx" if bad else ""
    errors = "" if middle.errors == "none" else f", socket errors: {middle.errors}"
    print(f"  {label:<38} {middle.rps:7.0f} req/s{spread}  (latency {middle.latency}"
          f"{extra}{errors})")


# ---------------------------------------------------------------- the run


def versions() -> str:
    found = []
    if shutil.which("nginx"):
        done = subprocess.run(["nginx", "-v"], capture_output=True, text=True, timeout=10)
        found.append(done.stderr.strip().removeprefix("nginx version: "))
    if shutil.which("wrk"):
        done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=10)
        found.append((done.stdout or done.stderr).split("[")[0].strip())
    import uvicorn

    found.append(f"uvicorn/{uvicorn.__version__}")
    return ", ".join(found)


def run(plan: Plan, workers: int, tmp: Path, procs: Processes) -> None:
    print(f"{os.cpu_count()} cores; {versions()}; temp folder {tmp}")
    edge = start_fake_edge(procs, tmp)
    service = start_service(procs, tmp, edge, workers)
    print("service: python " + " ".join(service.argv[1:]).replace(str(tmp), "$TMP"))

    print(f"\n1. time to first audio byte, cold article (fake Edge: {FIRST_BYTE_MS:.0f} ms to"
          f" first byte, {SPEED:g}x real time; READER_WARM_SEGMENTS=0)")
    report_first_bytes(asyncio.run(cold_first_bytes(service, plan)))

    articles, clips = asyncio.run(register_rps_articles(service, plan))
    size = fill_cache(service.cache_dir, [clip_key(path) for path in clips])

    print(f"\n2. memory of the service (VmRSS), {plan.memory_requests:,} mixed requests"
          f" (70% cached clips, 15% manifests, 10% /healthz, 5% 404s), 16 at a time")
    points = [("before (after part 1)", memory(service))]
    half = plan.memory_requests // 2
    statuses: dict[int, int] = {}
    for n in (0, half):
        for status, count in asyncio.run(
                mixed_requests(service.port, half, n, clips, articles)).items():
            statuses[status] = statuses.get(status, 0) + count
        points.append((f"after {n + half:,} requests", memory(service)))
    report_memory(points)
    print(f"  statuses: {dict(sorted(statuses.items()))}")

    cached_clips(plan, tmp, procs, service, clips, articles, size)
    print(f"\n   memory after the load runs of part 3: {memory(service).show()}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/serve_load.py", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer cold articles and clips, 3 s load runs")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    parser.add_argument("--duration", type=int, help="seconds of each load run")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.duration:
        plan = replace(plan, duration_s=args.duration)
    # SIGTERM would end the run without its finally: turn it into SystemExit so cleanup runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    procs = Processes()
    tmp = Path(tempfile.mkdtemp(prefix="reader-bench-http-"))
    try:
        run(plan, args.workers, tmp, procs)
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
