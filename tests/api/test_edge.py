"""Every input class is refused with a 4xx naming the problem, or stored and read back intact."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.main import create_app
from rag.settings import MAX_QUESTION_CHARS
from tests.conftest import hashing_settings


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(create_app(hashing_settings(tmp_path_factory.mktemp("edge"), max_body_bytes=200_000))) as c:
        yield c


def raw_post(client, path: str, body: bytes, content_type: str = "application/json"):
    return client.post(path, content=body, headers={"content-type": content_type})


LONE = '"\\ud800"'  # valid JSON, but not encodable text


@pytest.mark.parametrize("path,template", [
    ("/ask", '{"question": %s}'),
    ("/documents", '{"documents": [{"title": %s, "text": "正文。"}]}'),
    ("/documents", '{"documents": [{"title": "题", "text": %s}]}'),
    ("/documents", '{"documents": [{"title": "题", "text": "正文。", "reporter": %s}]}'),
    ("/documents", '{"documents": [{"title": "题", "text": "正文。", "doc_id": %s}]}'),
    ("/v1/chat/completions", '{"messages": [{"role": "user", "content": %s}]}'),
    ("/ask", '{"question": "工会", "filters": {"collections": [%s]}}'),
])
@pytest.mark.parametrize("bad", [LONE, '"工会\\u0000驿站"', '"工会\\u001b驿站"'])
def test_unencodable_and_control_characters_get_a_422_naming_the_field(client, path, template, bad):
    r = raw_post(client, path, (template % bad).encode())
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail and all("input" not in d for d in detail)
    assert any(w in d["msg"] for w in ("surrogate", "unicode", "control character", "pattern")
               for d in detail), detail


@pytest.mark.parametrize("body,content_type,code", [
    (b'{"question": "\xff\xfe"}', "application/json", 400),  # invalid UTF-8
    (b'{"question": ', "application/json", 422),  # truncated JSON
    (b"question=hi", "application/x-www-form-urlencoded", 422),  # wrong content type
    (b"[" * 50_000 + b"]" * 50_000, "application/json", 400),  # nested too deep
    (b'{"question": "' + "工".encode() * 100_000 + b'"}', "application/json", 413),  # over the body limit
    (b'{"question": "hi", "top_k": true}', "application/json", 422),  # a boolean is not a number
    (b'{"question": "hi", "top_k": "5"}', "application/json", 422),
    (b'{"question": "hi", "unknown": 1}', "application/json", 422),
], ids=["invalid-utf8", "truncated", "form", "deep", "huge", "bool-top-k", "string-top-k", "unknown-key"])
def test_malformed_bodies_get_a_4xx(client, body, content_type, code):
    r = raw_post(client, "/ask", body, content_type)
    assert r.status_code == code, r.text[:300]
    assert len(r.content) < 5000  # the error never echoes the input


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
def test_a_body_in_any_encoding_json_allows_is_stored_and_read_back_intact(client, encoding):
    """JSON may be UTF-8, UTF-16 or UTF-32 (RFC 8259 readers detect which); GBK is not JSON (400)."""
    doc = {"doc_id": f"enc-{encoding}", "title": "首开集团", "text": "首开集团建设了167个工会驿站。"}
    body = json.dumps({"documents": [doc]}, ensure_ascii=False)
    assert raw_post(client, "/documents", body.encode(encoding)).status_code == 201
    assert client.get(f"/documents/{doc['doc_id']}").json() == {**doc, "meta": {}}
    assert raw_post(client, "/documents", body.encode("gbk")).status_code == 400


def test_question_limit_is_what_the_schema_says(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]["AskRequest"]
    assert schema["properties"]["question"]["maxLength"] == MAX_QUESTION_CHARS
    assert client.post("/ask", json={"question": "工" * MAX_QUESTION_CHARS}).status_code == 200
    assert client.post("/ask", json={"question": "工" * (MAX_QUESTION_CHARS + 1)}).status_code == 422


@pytest.mark.parametrize("doc", [
    {"title": "题", "text": "正文。", "doc_id": ".."},
    {"title": "题", "text": "正文。", "doc_id": "a/b"},
    {"title": "题", "text": "正文。", "extra": {"nested": 1}},
    {"title": "题", "text": "正文。", "extra": "x" * 3000},
    {"title": "题", "text": "正文。", **{f"k{i}": i for i in range(25)}},
    {"title": "题", "text": "正文。", "date": "2025-02-40"},
    {"title": "   ", "text": "正文。"},
])
def test_bad_documents_are_refused_and_nothing_is_added(client, doc):
    before = client.get("/health").json()["articles"]
    assert client.post("/documents", json={"documents": [{"title": "好", "text": "好文章。"}, doc]}).status_code == 422
    assert client.get("/health").json()["articles"] == before


def test_made_up_methods_do_not_grow_the_metrics(client):
    for i in range(50):
        client.request(f"X{i}", "/ask")
    lines = client.get("/metrics").text.splitlines()
    assert not any('method="X' in line for line in lines)
    assert any('method="OTHER"' in line for line in lines)


text_st = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029"),
                  min_size=1, max_size=300).filter(lambda s: s.strip())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=text_st, text=text_st, note=text_st)
def test_any_accepted_text_is_stored_read_back_and_deleted(client, title, text, note):
    r = client.post("/documents", json={"documents": [{"title": title, "text": text, "note": note}]})
    if r.status_code == 422:  # nothing left after cleaning (only furniture, say): refused, not half-stored
        assert "no article text" in r.text
        return
    assert r.status_code == 201, r.text
    (doc_id,) = r.json()["doc_ids"]
    got = client.get(f"/documents/{doc_id}").json()
    import unicodedata

    assert got["meta"]["note"] == unicodedata.normalize("NFC", note)
    assert got["text"].replace("\n", "") and all(ch in unicodedata.normalize("NFC", text) + "\n" for ch in got["text"])
    assert client.delete(f"/documents/{doc_id}").status_code == 204
    assert client.get(f"/documents/{doc_id}").status_code == 404


def test_openapi_lists_error_codes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "404" in paths["/documents/{doc_id}"]["delete"]["responses"]
    assert "422" in paths["/ask"]["post"]["responses"]
    json.dumps(paths)


def test_keys_in_query_strings_never_reach_the_access_log(client, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="uvicorn.access")
    rec = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                            ("127.0.0.1:5", "GET", "/chat?key=s3cret&x=1", "1.1", 200), None)
    for f in logging.getLogger("uvicorn.access").filters:
        f.filter(rec)
    assert "s3cret" not in rec.getMessage() and "key=[redacted]&x=1" in rec.getMessage()
