"""OpenAPI-driven fuzzing (schemathesis): nothing a client sends gets a 5xx."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from reader.api import create_app
from reader.config import Settings
from reader.engines.espeak import EspeakEngine

_CACHE = Path(tempfile.mkdtemp(prefix="reader-fuzz-"))
APP = create_app(
    Settings.from_env({
        "READER_CACHE_DIR": str(_CACHE),
        "READER_WARM_SEGMENTS": "0",  # no background work outliving a request
        "READER_MAX_INPUT_CHARS": "2000",
        "READER_API_TOKENS": "fuzz-token",
        "READER_RATE_BURST": "100000",
        "READER_FETCH_ALLOW": "news.example",
    }),
    engines=[EspeakEngine()],
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_no_input_gets_a_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400 and case.method != "HEAD":  # HEAD answers carry no body
        problem = response.json()
        assert response.headers["content-type"][0].startswith("application/problem+json")
        assert problem["status"] == response.status_code and problem["detail"]
