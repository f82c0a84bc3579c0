"""The engine registry: built-in engines register here exactly like any other would.

``register(name, factory)`` adds an engine; ``build_chain(settings)`` builds the configured
fallback chain (``READER_ENGINES``, default ``edge,kokoro,espeak``) in order. A factory takes the
settings and returns a ready ``Engine``; it may import its dependencies lazily.
"""

from __future__ import annotations

from collections.abc import Callable

from reader.config import Settings, data_dir
from reader.engines.base import Engine
from reader.errors import UnknownEngine

EngineFactory = Callable[[Settings], Engine]

_FACTORIES: dict[str, EngineFactory] = {}


def register(name: str, factory: EngineFactory) -> None:
    """Make ``name`` available to ``READER_ENGINES`` and ``--engine``."""
    _FACTORIES[name] = factory


def names() -> list[str]:
    """Registered engine names, in registration order."""
    return list(_FACTORIES)


def create(name: str, settings: Settings) -> Engine:
    """A new engine called ``name``; ``UnknownEngine`` lists the choices."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        choices = ", ".join(names())
        raise UnknownEngine(f"unknown engine {name!r}; choose one of: {choices}") from None
    return factory(settings)


def build_chain(settings: Settings) -> list[Engine]:
    """The configured fallback chain, first choice first."""
    return [create(name, settings) for name in settings.engines]


def _edge(settings: Settings) -> Engine:
    from reader.engines.breaker import CircuitBreaker
    from reader.engines.edge import EdgeEngine

    return EdgeEngine(
        url=settings.edge_url,
        voice_list_url=settings.edge_voice_list_url,
        proxy=settings.edge_proxy,
        timeout=settings.edge_timeout,
        first_byte_timeout=settings.edge_first_byte_timeout,
        retries=settings.edge_retries,
        connections=settings.edge_connections,
        breaker=CircuitBreaker(settings.edge_breaker_failures, settings.edge_breaker_cooldown),
    )


def _espeak(settings: Settings) -> Engine:
    from reader.engines.espeak import EspeakEngine

    return EspeakEngine()


def _kokoro(settings: Settings) -> Engine:
    from reader.engines.kokoro import KokoroEngine

    # Presets of one's own (READER_VOICES_DIR) may come without kokoro/: use the shipped voices.
    voices = settings.voices_dir if (settings.voices_dir / "kokoro").is_dir() else None
    return KokoroEngine(voices or data_dir("voices"), threads=settings.kokoro_threads,
                        cache_dir=settings.cache_dir)


register("edge", _edge)
register("kokoro", _kokoro)
register("espeak", _espeak)
