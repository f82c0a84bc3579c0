"""Shared fixtures: settings in a temporary cache folder, and one loaded pipeline per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from reader.config import Settings
from reader.pipeline import TextPipeline
from reader.words import Words

ROOT = Path(__file__).resolve().parent.parent
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_TEXT = FIXTURES / "cq-gov-wiie-2025.txt"


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def settings(session_cache: Path) -> Settings:
    return Settings.from_env({"READER_CACHE_DIR": str(session_cache)})


@pytest.fixture(scope="session")
def pipeline(settings: Settings) -> TextPipeline:
    return TextPipeline.load(settings)


@pytest.fixture(scope="session")
def words(pipeline: TextPipeline) -> Words:
    return pipeline.words


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED_TEXT.read_text(encoding="utf-8")
