"""Settings, read from an environment mapping (``READER_*`` variables).

There is no import-time singleton: the CLI and the app build ``Settings.from_env(os.environ)``,
tests build their own from a dict. Every variable is listed in the README's configuration table
(a test keeps the two in sync).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reader.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """A shipped data folder (``voices``, ``rules``): inside the wheel, or beside the package."""
    bundled = PACKAGE_DIR / "_data" / name
    return bundled if bundled.is_dir() else PACKAGE_DIR.parent / name


def default_cache_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/reader``, or ``~/.cache/reader``."""
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reader"


#: The fallback chain: Microsoft's neural voices, the embedded neural voice, then espeak.
DEFAULT_ENGINES: tuple[str, ...] = ("edge", "kokoro", "espeak")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable. Field comments name the environment variable."""

    cache_dir: Path  # READER_CACHE_DIR: audio cache, jieba's dictionary cache
    rules_files: tuple[Path, ...]  # READER_RULES: chrome rule files, os.pathsep-separated
    lexicon_files: tuple[Path, ...]  # READER_LEXICON: pronunciation lexicons, os.pathsep-separated
    max_sentence_chars: int = 80  # READER_MAX_SENTENCE_CHARS: split longer sentences
    max_input_chars: int = 200_000  # READER_MAX_INPUT_CHARS: refuse longer text
    max_html_bytes: int = 5_000_000  # READER_MAX_HTML_BYTES: refuse larger pages
    read_captions: bool = False  # READER_READ_CAPTIONS: read photo captions aloud
    host: str = "127.0.0.1"  # READER_HOST: address `reader serve` listens on
    port: int = 8000  # READER_PORT: port `reader serve` listens on
    voices_dir: Path = field(default_factory=lambda: data_dir("voices"))  # READER_VOICES_DIR
    default_voice: str = "xiaoxiao"  # READER_DEFAULT_VOICE: preset used when none is asked for
    engines: tuple[str, ...] = DEFAULT_ENGINES  # READER_ENGINES: fallback chain, in order
    cache_max_bytes: int = 2_000_000_000  # READER_CACHE_MAX_BYTES: evict beyond this
    edge_url: str | None = None  # READER_EDGE_URL: Edge WebSocket endpoint (tests, mirrors)
    edge_voice_list_url: str | None = None  # READER_EDGE_VOICE_LIST_URL: its voice list
    edge_proxy: str | None = None  # READER_EDGE_PROXY: HTTP proxy for reaching Edge
    edge_timeout: float = 15.0  # READER_EDGE_TIMEOUT: seconds for one whole request
    edge_first_byte_timeout: float = 3.0  # READER_EDGE_FIRST_BYTE_TIMEOUT: seconds to first audio
    edge_connections: int = 4  # READER_EDGE_CONNECTIONS: concurrent connections to Edge
    edge_retries: int = 2  # READER_EDGE_RETRIES: retries of a transient failure
    edge_breaker_failures: int = 3  # READER_EDGE_BREAKER_FAILURES: failures that open it
    edge_breaker_cooldown: float = 60.0  # READER_EDGE_BREAKER_COOLDOWN: seconds it stays open
    kokoro_threads: int = 0  # READER_KOKORO_THREADS: ONNX Runtime threads (0: one per core)
    warm_segments: int = 3  # READER_WARM_SEGMENTS: segments synthesised at registration
    rate_limit: float = 10.0  # READER_RATE_LIMIT: requests per second per client (sustained)
    rate_burst: int = 60  # READER_RATE_BURST: requests a client may make at once
    daily_chars: int = 100_000  # READER_DAILY_CHARS: characters of new synthesis per client a day
    api_tokens: tuple[str, ...] = ()  # READER_API_TOKENS: tokens for editor/admin endpoints
    cors_origins: tuple[str, ...] = ()  # READER_CORS_ORIGINS: origins allowed by CORS
    trusted_proxies: tuple[str, ...] = ()  # READER_TRUSTED_PROXIES: believe X-Forwarded-For
    fetch_allow: tuple[str, ...] = ()  # READER_FETCH_ALLOW: hosts URL mode may fetch
    fetch_timeout: float = 10.0  # READER_FETCH_TIMEOUT: seconds for one page fetch
    fetch_trusted_networks: tuple[str, ...] = ()  # READER_FETCH_TRUSTED_NETWORKS: CIDRs
    batch_concurrency: int = 2  # READER_BATCH_CONCURRENCY: syntheses at once in pregen and jobs
    max_batch_articles: int = 5000  # READER_MAX_BATCH_ARTICLES: articles in one batch or job
    max_feed_bytes: int = 10_000_000  # READER_MAX_FEED_BYTES: largest sitemap or feed read
    public_url: str | None = None  # READER_PUBLIC_URL: the service's address as readers see it
    podcast_title: str = "reader"  # READER_PODCAST_TITLE: the podcast feed's title
    podcast_description: str = ""  # READER_PODCAST_DESCRIPTION: the feed's description
    podcast_link: str | None = None  # READER_PODCAST_LINK: the site the podcast belongs to
    podcast_author: str | None = None  # READER_PODCAST_AUTHOR: itunes:author
    podcast_image: str | None = None  # READER_PODCAST_IMAGE: square artwork URL
    extra: Mapping[str, str] = field(default_factory=dict)  # unknown READER_* names, for warnings

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from ``env``; a malformed value raises ``ConfigError``."""
        known = {f"READER_{name.upper()}" for name in ENV_NAMES}
        return cls(
            cache_dir=Path(env.get("READER_CACHE_DIR") or default_cache_dir(env)),
            rules_files=_paths(env, "READER_RULES", data_dir("rules") / "chrome.toml"),
            lexicon_files=_paths(env, "READER_LEXICON", data_dir("voices") / "lexicon-zh.tsv"),
            max_sentence_chars=_int(env, "READER_MAX_SENTENCE_CHARS", 80, low=10),
            max_input_chars=_int(env, "READER_MAX_INPUT_CHARS", 200_000, low=1),
            max_html_bytes=_int(env, "READER_MAX_HTML_BYTES", 5_000_000, low=1),
            read_captions=_bool(env, "READER_READ_CAPTIONS", False),
            host=env.get("READER_HOST") or "127.0.0.1",
            port=_int(env, "READER_PORT", 8000, low=1, high=65535),
            voices_dir=Path(env.get("READER_VOICES_DIR") or data_dir("voices")),
            default_voice=env.get("READER_DEFAULT_VOICE") or "xiaoxiao",
            engines=_names(env, "READER_ENGINES", DEFAULT_ENGINES),
            cache_max_bytes=_int(env, "READER_CACHE_MAX_BYTES", 2_000_000_000, low=1_000_000),
            edge_url=env.get("READER_EDGE_URL") or None,
            edge_voice_list_url=env.get("READER_EDGE_VOICE_LIST_URL") or None,
            edge_proxy=env.get("READER_EDGE_PROXY") or None,
            edge_timeout=_float(env, "READER_EDGE_TIMEOUT", 15.0, low=0.1),
            edge_first_byte_timeout=_float(env, "READER_EDGE_FIRST_BYTE_TIMEOUT", 3.0, low=0.1),
            edge_connections=_int(env, "READER_EDGE_CONNECTIONS", 4, low=1, high=64),
            edge_retries=_int(env, "READER_EDGE_RETRIES", 2, low=0, high=10),
            edge_breaker_failures=_int(env, "READER_EDGE_BREAKER_FAILURES", 3, low=1),
            edge_breaker_cooldown=_float(env, "READER_EDGE_BREAKER_COOLDOWN", 60.0, low=0.0),
            kokoro_threads=_int(env, "READER_KOKORO_THREADS", 0, low=0, high=64),
            warm_segments=_int(env, "READER_WARM_SEGMENTS", 3, low=0),
            rate_limit=_float(env, "READER_RATE_LIMIT", 10.0, low=0.001),
            rate_burst=_int(env, "READER_RATE_BURST", 60, low=1),
            daily_chars=_int(env, "READER_DAILY_CHARS", 100_000, low=1),
            api_tokens=_list(env, "READER_API_TOKENS"),
            cors_origins=_list(env, "READER_CORS_ORIGINS"),
            trusted_proxies=_list(env, "READER_TRUSTED_PROXIES"),
            fetch_allow=_list(env, "READER_FETCH_ALLOW"),
            fetch_timeout=_float(env, "READER_FETCH_TIMEOUT", 10.0, low=0.1),
            fetch_trusted_networks=_list(env, "READER_FETCH_TRUSTED_NETWORKS"),
            batch_concurrency=_int(env, "READER_BATCH_CONCURRENCY", 2, low=1, high=16),
            max_batch_articles=_int(env, "READER_MAX_BATCH_ARTICLES", 5000, low=1),
            max_feed_bytes=_int(env, "READER_MAX_FEED_BYTES", 10_000_000, low=1000),
            public_url=_url(env, "READER_PUBLIC_URL"),
            podcast_title=env.get("READER_PODCAST_TITLE") or "reader",
            podcast_description=env.get("READER_PODCAST_DESCRIPTION") or "",
            podcast_link=_url(env, "READER_PODCAST_LINK"),
            podcast_author=env.get("READER_PODCAST_AUTHOR") or None,
            podcast_image=_url(env, "READER_PODCAST_IMAGE"),
            extra={k: v for k, v in env.items() if k.startswith("READER_") and k not in known},
        )


#: Setting names as they appear after ``READER_`` (lower case), in README order.
ENV_NAMES: tuple[str, ...] = (
    "cache_dir",
    "rules",
    "lexicon",
    "max_sentence_chars",
    "max_input_chars",
    "max_html_bytes",
    "read_captions",
    "host",
    "port",
    "voices_dir",
    "default_voice",
    "engines",
    "cache_max_bytes",
    "edge_url",
    "edge_voice_list_url",
    "edge_proxy",
    "edge_timeout",
    "edge_first_byte_timeout",
    "edge_connections",
    "edge_retries",
    "edge_breaker_failures",
    "edge_breaker_cooldown",
    "kokoro_threads",
    "warm_segments",
    "rate_limit",
    "rate_burst",
    "daily_chars",
    "api_tokens",
    "cors_origins",
    "trusted_proxies",
    "fetch_allow",
    "fetch_timeout",
    "fetch_trusted_networks",
    "batch_concurrency",
    "max_batch_articles",
    "max_feed_bytes",
    "public_url",
    "podcast_title",
    "podcast_description",
    "podcast_link",
    "podcast_author",
    "podcast_image",
)


def _paths(env: Mapping[str, str], name: str, default: Path) -> tuple[Path, ...]:
    raw = env.get(name)
    if not raw:
        return (default,)
    return tuple(Path(part) for part in raw.split(os.pathsep) if part)


def _url(env: Mapping[str, str], name: str) -> str | None:
    """An absolute http(s) URL (feeds need absolute addresses), without a trailing slash."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    if not re.match(r"https?://[^/\s]+", raw):
        raise ConfigError(f"{name} must be an absolute http(s) URL, not {raw!r}")
    return raw.rstrip("/")


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list; empty when unset."""
    return tuple(part.strip() for part in (env.get(name) or "").split(",") if part.strip())


def _names(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if not raw:
        return default
    names = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not names:
        raise ConfigError(f"{name} must name at least one engine, e.g. edge,espeak")
    return names


def _float(env: Mapping[str, str], name: str, default: float, low: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if not value >= low:  # also refuses NaN
        raise ConfigError(f"{name} must be at least {low}, not {value}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{name} must be {bounds}, not {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")
