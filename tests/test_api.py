"""The HTTP service as it stands: demo page, segments endpoint, problems for bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from reader.api import create_app
from reader.config import Settings
from reader.engines.espeak import EspeakEngine
from reader.pipeline import TextPipeline


@pytest.fixture(scope="module")
def client(pipeline: TextPipeline, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    settings = Settings.from_env({"READER_CACHE_DIR": str(tmp_path_factory.mktemp("api"))})
    return TestClient(create_app(settings, pipeline=pipeline, engines=[EspeakEngine()]))


def test_demo_page(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "/api/v1/segments" in response.text
    assert client.get("/web/demo/article.txt").text.startswith("(欢迎您)注销")


def test_segments_of_page_text(client: TestClient, seed_text: str) -> None:
    response = client.post("/api/v1/segments", json={"text": seed_text})
    assert response.status_code == 200
    body = response.json()
    assert body["title"].startswith("习近平向2025")
    assert body["published"] == "2025-09-05T20:18"
    assert body["segments"][0]["kind"] == "title"
    for segment in body["segments"]:
        assert seed_text[segment["start"] : segment["end"]] == segment["text"]
    kinds = {p["kind"] for p in body["paragraphs"]}
    assert {"nav", "login", "control", "assistant", "notice", "duplicate"} <= kinds


def test_segments_of_html(client: TestClient) -> None:
    html = ("<html><head><title>重要会议召开 - 新闻网</title></head><body><h1>重要会议召开</h1>"
            "<p>这是正文的第一段，它讲了一件很重要的事情，大家都很关心。</p>"
            "<p>这是正文的第二段，它补充了更多的细节和背景信息。</p></body></html>")
    body = client.post("/api/v1/segments", json={"html": html, "level": "light"}).json()
    assert body["title"] == "重要会议召开"
    assert body["origin"] == "html"


def test_healthz(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert [e["name"] for e in body["engines"]] == ["espeak"]
    assert body["cache"]["clips"] >= 0


@pytest.mark.parametrize(
    ("payload", "status", "detail"),
    [
        ({}, 422, "exactly one of 'text' and 'html'"),
        ({"text": "a", "html": "<p>a</p>"}, 422, "exactly one"),
        ({"text": 5}, 422, "text"),
        ({"text": "   "}, 422, "empty"),
        ({"text": "x", "level": "loud"}, 422, "level"),
        ({"text": "字" * 200_001}, 413, "the limit is 200,000"),
        ({"html": "<html><body><nav>首页</nav></body></html>"}, 422, "article"),
    ],
)
def test_bad_input_is_a_problem(
    client: TestClient, payload: dict[str, object], status: int, detail: str
) -> None:
    response = client.post("/api/v1/segments", json=payload)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and detail in problem["detail"]


def test_malformed_json_is_a_problem(client: TestClient) -> None:
    response = client.post("/api/v1/segments", content=b"{not json",
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "not valid JSON" in response.json()["detail"]


def test_unknown_path_is_a_problem(client: TestClient) -> None:
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert "/docs" in response.json()["detail"]


def test_ssml_looking_text_never_reaches_speech_as_markup(client: TestClient) -> None:
    text = "标题\n<speak>你好</speak>，请读这句话。</voice>再读这句 & 那句。"
    body = client.post("/api/v1/segments", json={"text": text, "plain": True}).json()
    for segment in body["segments"]:
        assert not set("<>&") & set(segment["speak"])
