"""Engines register by name; built-ins like any other."""

from __future__ import annotations

import pytest

from reader.config import Settings
from reader.engines import registry
from reader.engines.base import Engine
from reader.engines.edge import EdgeEngine
from reader.engines.function import FunctionEngine
from reader.errors import UnknownEngine
from reader.types import Audio, Prosody, Voice


def test_builtins_are_registered() -> None:
    assert registry.names()[:3] == ["edge", "kokoro", "espeak"]


def test_the_default_chain_is_edge_then_kokoro_then_espeak() -> None:
    chain = registry.build_chain(Settings.from_env({}))
    assert [engine.name for engine in chain] == ["edge", "kokoro", "espeak"]


def test_chain_follows_the_setting() -> None:
    settings = Settings.from_env({"READER_ENGINES": "edge"})
    (engine,) = registry.build_chain(settings)
    assert isinstance(engine, EdgeEngine) and engine.name == "edge"


def test_unknown_engine_lists_the_choices() -> None:
    choices = "edge, kokoro, espeak"
    with pytest.raises(UnknownEngine, match=f"unknown engine 'nope'; choose one of: {choices}"):
        registry.create("nope", Settings.from_env({}))


def test_a_new_engine_registers_like_the_builtins() -> None:
    def speak(text: str, voice: Voice, prosody: Prosody) -> Audio:
        return Audio(b"", 0.0, "mine", voice.id)

    registry.register("mine", lambda settings: FunctionEngine(speak, name="mine"))
    try:
        engine: Engine = registry.create("mine", Settings.from_env({}))
        assert engine.name == "mine"
        assert [e.name for e in registry.build_chain(Settings.from_env(
            {"READER_ENGINES": "mine,edge"}))] == ["mine", "edge"]
    finally:
        registry._FACTORIES.pop("mine")
