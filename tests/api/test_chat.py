"""The OpenAI-compatible chat endpoint, driven by the official openai client over real HTTP."""

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.conftest import hashing_settings

openai = pytest.importorskip("openai")


def _client(server) -> "openai.OpenAI":
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)


def test_openai_client_without_streaming(live_server):
    resp = _client(live_server).chat.completions.create(
        model="zhrag", messages=[{"role": "user", "content": "长春市总工会设置了多少个竞赛项目"}])
    content = resp.choices[0].message.content
    assert resp.choices[0].finish_reason == "stop"
    extra = resp.model_extra
    assert "citations" in extra and "refused" in extra
    if not extra["refused"]:
        for c in extra["citations"]:
            assert f"[{c['n']}]" in content


def test_openai_client_streaming_matches_the_plain_answer(live_server):
    client = _client(live_server)
    messages = [{"role": "user", "content": "首开集团工会建设了多少个工会驿站"}]
    plain = client.chat.completions.create(model="zhrag", messages=messages)
    pieces, last, first = [], None, None
    for event in client.chat.completions.create(model="zhrag", messages=messages, stream=True):
        assert event.object == "chat.completion.chunk"
        first = first or event
        pieces.append(event.choices[0].delta.content or "")
        last = event
    # The first event carries the retrieved sources, before any answer text.
    assert first is not None and first.choices[0].delta.content == ""
    sources = {s["chunk_id"] for s in first.model_extra["sources"]}
    assert sources and {c["chunk_id"] for c in last.model_extra["citations"]} <= sources
    assert len(pieces) > 2
    assert "".join(pieces) == plain.choices[0].message.content
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"] == plain.model_extra["citations"]


def test_follow_up_is_resolved_against_the_conversation(live_server):
    r = httpx.post(live_server.url + "/v1/chat/completions", json={"messages": [
        {"role": "user", "content": "密云区工匠学院怎么运作"},
        {"role": "assistant", "content": "密云区总工会牵头成立密云区工匠学院……[1]"},
        {"role": "user", "content": "那它的导师有哪些人？"},
    ]}, timeout=30)
    assert r.status_code == 200
    assert r.json()["retrieval_query"] == "密云区工匠学院的导师有哪些人？"


@pytest.mark.parametrize("body", [
    {"messages": []},
    {"messages": [{"role": "assistant", "content": "hi"}]},
    {"messages": [{"role": "user", "content": "  "}]},
    {"messages": [{"role": "user", "content": "问" * 3000}]},
    {"messages": [{"role": "wizard", "content": "hi"}]},
    {"messages": "密云"},
    {},
])
def test_bad_chat_requests_get_422(tmp_path, body):
    with TestClient(create_app(hashing_settings(tmp_path))) as c:
        r = c.post("/v1/chat/completions", json=body)
        assert r.status_code == 422, r.text


def test_chat_key_is_required_only_when_configured(tmp_path):
    msg = {"messages": [{"role": "user", "content": "密云区工匠学院"}]}
    with TestClient(create_app(hashing_settings(tmp_path, api_key="k"))) as c:
        assert c.post("/v1/chat/completions", json=msg).status_code == 200
    with TestClient(create_app(hashing_settings(tmp_path, api_key="k", chat_requires_key=True))) as c:
        assert c.post("/v1/chat/completions", json=msg).status_code == 401
        assert c.post("/ask", json={"question": "密云"}).status_code == 401
        assert c.post("/v1/chat/completions", json=msg, headers={"Authorization": "Bearer k"}).status_code == 200


def test_cors_is_configurable(tmp_path):
    headers = {"Origin": "http://intranet.example", "Access-Control-Request-Method": "POST"}
    with TestClient(create_app(hashing_settings(tmp_path))) as c:
        assert "access-control-allow-origin" not in c.options("/v1/chat/completions", headers=headers).headers
    settings = hashing_settings(tmp_path, cors_origins=["http://intranet.example"])
    with TestClient(create_app(settings)) as c:
        r = c.options("/v1/chat/completions", headers=headers)
        assert r.headers["access-control-allow-origin"] == "http://intranet.example"
