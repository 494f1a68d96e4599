"""Roles and keys, the audit log, disabling, feedback and its export as an evaluation set."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.conftest import hashing_settings

ADMIN = "adm-" + "x" * 30
MIYUN = "密云区工匠学院怎么运作"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture()
def settings(tmp_path):
    return hashing_settings(tmp_path, admin_key=ADMIN)


@pytest.fixture()
def client(settings):
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture()
def e5_settings(tmp_path, e5):
    """The real model: the hashing embedder refuses every question, and these tests need answers."""
    return hashing_settings(tmp_path, admin_key=ADMIN, embed_model="e5-small")


@pytest.fixture()
def e5_client(e5_settings):
    with TestClient(create_app(e5_settings)) as c:
        yield c


def make_key(client, role: str, name: str = "someone") -> str:
    r = client.post("/admin/keys", json={"name": name, "role": role}, headers=bearer(ADMIN))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["role"] == role and body["key"].startswith(body["prefix"])
    assert (body["embed_snippet"] is not None) == (role == "reader")
    return body["key"]


DOC = {"documents": [{"title": "测试文章", "text": "朝阳区总工会为快递员建了二十个暖心驿站，冬天可以取暖喝水。",
                      "doc_id": "t-1"}]}


def test_each_role_does_what_it_may_and_nothing_more(client):
    reader, editor = make_key(client, "reader", "intranet chat page"), make_key(client, "editor", "desk")
    # reader: ask and search, never write or administer
    assert client.post("/ask", json={"question": MIYUN}, headers=bearer(reader)).status_code == 200
    assert client.get("/search", params={"q": "密云"}, headers=bearer(reader)).status_code == 200
    r = client.post("/documents", json=DOC, headers=bearer(reader))
    assert r.status_code == 403 and "reader key" in r.json()["detail"] and "editor" in r.json()["detail"]
    assert client.delete("/documents/t-1", headers=bearer(reader)).status_code == 403
    assert client.get("/admin/keys", headers=bearer(reader)).status_code == 403
    # editor: writes, but no keys or audit
    assert client.post("/documents", json=DOC, headers=bearer(editor)).status_code == 201
    assert client.get("/admin/audit", headers=bearer(editor)).status_code == 403
    assert client.post("/admin/keys", json={"name": "x", "role": "admin"}, headers=bearer(editor)).status_code == 403
    # no key: questions open (ZHRAG_CHAT_REQUIRES_KEY is off), writes closed once keys exist
    assert client.post("/ask", json={"question": MIYUN}).status_code == 200
    assert client.post("/documents", json=DOC).status_code == 401
    # a wrong key is refused, not treated as anonymous
    r = client.post("/ask", json={"question": MIYUN}, headers=bearer("zr-rnot-a-real-key"))
    assert r.status_code == 401 and "unknown or has been revoked" in r.json()["detail"]
    assert client.get("/auth/whoami", headers=bearer(reader)).json()["role"] == "reader"


def test_keys_are_listed_revoked_without_restart_and_stored_hashed(client, settings):
    reader = make_key(client, "reader")
    listed = client.get("/admin/keys", headers=bearer(ADMIN)).json()
    assert len(listed) == 1 and "key" not in listed[0] and listed[0]["revoked"] is None
    assert client.get("/auth/whoami", headers=bearer(reader)).status_code == 200
    r = client.delete(f"/admin/keys/{listed[0]['id']}", headers=bearer(ADMIN))
    assert r.status_code == 200 and r.json()["revoked"] is not None
    assert client.get("/auth/whoami", headers=bearer(reader)).status_code == 401
    assert client.delete("/admin/keys/999", headers=bearer(ADMIN)).status_code == 404
    raw = b"".join(p.read_bytes() for p in settings.staff_path().parent.glob(settings.staff_path().name + "*"))
    assert reader.encode() not in raw, "the key itself is never written to disk"
    view = client.get("/admin/settings", headers=bearer(ADMIN)).json()
    assert view["admin_key"] == "***" and ADMIN not in json.dumps(view)


def test_chat_can_require_a_reader_key(tmp_path):
    with TestClient(create_app(hashing_settings(tmp_path, admin_key=ADMIN, chat_requires_key=True))) as c:
        reader = make_key(c, "reader")
        assert c.post("/ask", json={"question": MIYUN}).status_code == 401
        assert c.post("/ask", json={"question": MIYUN}, headers=bearer(reader)).status_code == 200
        assert c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": MIYUN}]},
                      headers=bearer(reader)).status_code == 200


def test_without_any_key_writes_are_open_and_the_admin_api_is_closed(tmp_path):
    with TestClient(create_app(hashing_settings(tmp_path))) as c:
        assert c.post("/documents", json=DOC).status_code == 201
        assert c.get("/admin/keys").status_code == 401
        # The chat page asks this before trusting a key it carries: here any key is harmless.
        assert c.get("/auth/whoami", headers=bearer("whatever")).json()["keys_configured"] is False
        assert c.post("/ask", json={"question": MIYUN}, headers=bearer("whatever-an-openai-client-sends")
                      ).status_code == 200


def test_every_write_is_in_the_audit_log(client):
    editor = make_key(client, "editor", "desk")
    client.post("/documents", json=DOC, headers=bearer(editor))
    client.put("/documents/t-1/disabled", json={"disabled": True}, headers=bearer(editor))
    client.delete("/documents/t-1", headers=bearer(editor))
    log = client.get("/admin/audit", headers=bearer(ADMIN)).json()
    actions = [(e["action"], e["target"]) for e in log]
    assert actions[:4] == [("documents.delete", "article t-1"), ("article.disable", "article t-1"),
                           ("documents.add", "api"), ("key.create", "key 1")]
    assert log[0]["actor"] == "key 1 (desk)" and log[0]["role"] == "editor"
    assert log[2]["detail"]["doc_ids"] == ["t-1"] and log[2]["detail"]["added"] == 1
    assert log[3]["actor"] == "ZHRAG_ADMIN_KEY" and log[3]["detail"]["role"] == "editor"


def test_a_disabled_article_or_chunk_is_never_retrieved(client):
    editor = make_key(client, "editor")
    first = client.get("/search", params={"q": "密云区工匠学院", "k": 5}).json()["hits"][0]
    doc_id, chunk_id = first["doc_id"], first["chunk_id"]
    view = client.get(f"/documents/{doc_id}/view", headers=bearer(editor)).json()
    assert chunk_id in [c["chunk_id"] for c in view["chunks"]] and not view["disabled"]

    r = client.put(f"/documents/{doc_id}/chunks/{chunk_id}/disabled", json={"disabled": True}, headers=bearer(editor))
    assert r.status_code == 204
    hits = client.get("/search", params={"q": "密云区工匠学院", "k": 20}).json()["hits"]
    assert chunk_id not in [h["chunk_id"] for h in hits] and doc_id in [h["doc_id"] for h in hits]
    view = client.get(f"/documents/{doc_id}/view", headers=bearer(editor)).json()
    assert [c["disabled"] for c in view["chunks"] if c["chunk_id"] == chunk_id] == [True]

    assert client.put(f"/documents/{doc_id}/disabled", json={"disabled": True}, headers=bearer(editor)).status_code == 204
    hits = client.get("/search", params={"q": "密云区工匠学院", "k": 20}).json()["hits"]
    assert doc_id not in [h["doc_id"] for h in hits]
    ans = client.post("/ask", json={"question": MIYUN}).json()
    assert doc_id not in [c["doc_id"] for c in ans["citations"]]
    listed = {d["doc_id"]: d["disabled"] for d in client.get("/documents").json()}
    assert listed[doc_id] is True

    client.put(f"/documents/{doc_id}/disabled", json={"disabled": False}, headers=bearer(editor))
    client.put(f"/documents/{doc_id}/chunks/{chunk_id}/disabled", json={"disabled": False}, headers=bearer(editor))
    assert client.get("/search", params={"q": "密云区工匠学院", "k": 5}).json()["hits"][0]["chunk_id"] == chunk_id
    assert client.put(f"/documents/{doc_id}/chunks/nope/disabled", json={"disabled": True},
                      headers=bearer(editor)).status_code == 404
    assert client.put("/documents/nope/disabled", json={"disabled": True}, headers=bearer(editor)).status_code == 404


@pytest.mark.slow
def test_the_article_view_shows_the_sentences_answers_cited(e5_client):
    client = e5_client
    editor = make_key(client, "editor")
    ans = client.post("/ask", json={"question": MIYUN}).json()
    assert not ans["refused"] and ans["citations"]
    c = ans["citations"][0]
    view = client.get(f"/documents/{c['doc_id']}/view", headers=bearer(editor)).json()
    spans = {(s["char_start"], s["char_end"]) for s in view["cited"]}
    assert {(q["char_start"], q["char_end"]) for q in c["quotes"]} <= spans
    for s in view["cited"]:
        assert s["times"] >= 1 and view["text"][s["char_start"]:s["char_end"]]


@pytest.mark.slow
def test_retrieval_test_shows_scores_use_and_refusal(e5_client):
    client = e5_client
    r = client.post("/retrieval-test", json={"question": MIYUN, "top_k": 5})
    assert r.status_code == 200
    body = r.json()
    assert not body["refused"] and len(body["hits"]) == 5
    assert [h["rank"] for h in body["hits"]] == [1, 2, 3, 4, 5]
    used = [h for h in body["hits"] if h["used"]]
    assert used and all(f"[{h['cited_as']}]" in body["answer"] for h in used)
    assert all(h["dense_score"] is not None for h in body["hits"])
    assert any(h["bm25_score"] is not None for h in body["hits"])
    refused = client.post("/retrieval-test", json={"question": "首开集团工会主席叫什么名字"}).json()
    assert refused["refused"] and refused["refusal_reason"] in ("not_relevant", "focus_missing")
    assert refused["hits"] and not any(h["used"] for h in refused["hits"])


@pytest.mark.parametrize("payload", [
    {"rating": 0, "question": "q", "answer": "a"},
    {"rating": 1, "question": "", "answer": "a"},
    {"rating": 1, "question": "q", "answer": "a", "comment": "长" * 2001},
    {"rating": 1, "question": "q", "answer": "a", "citations": [{"n": 1}]},
    {"rating": 1, "question": "q", "answer": "a", "conversation": [{"role": "system", "content": "x"}]},
    {"rating": 1, "question": "q\ud800", "answer": "a"},
    {"rating": 1, "question": "q", "answer": "a", "extra": 1},
])
def test_bad_feedback_is_a_422(client, payload):
    r = client.post("/feedback", content=json.dumps(payload), headers={"Content-Type": "application/json"})
    assert r.status_code == 422


@pytest.mark.slow
def test_feedback_becomes_an_evaluation_set(e5_client, e5_settings, tmp_path, monkeypatch, capsys):
    """Rate answers on the chat API, review them, export, and score the export with zhrag eval."""
    client, settings = e5_client, e5_settings
    from eval.data import load_queries
    from eval.run import EvalConfig, run_eval
    from rag.cli import main

    reader, editor = make_key(client, "reader"), make_key(client, "editor")
    good = client.post("/ask", json={"question": MIYUN}).json()
    assert not good["refused"]
    comment = "回答准确，引用正确；附：🙂"
    fb1 = client.post("/feedback", headers=bearer(reader), json={
        "rating": 1, "question": MIYUN, "answer": good["answer"], "citations": good["citations"],
        "comment": comment, "corrected": "实行“双导师”制"}).json()
    assert fb1["status"] == "new" and "e5-small" in fb1["index_version"] and fb1["comment"] == comment
    no = client.post("/ask", json={"question": "首开集团工会主席叫什么名字"}).json()
    assert no["refused"]
    fb2 = client.post("/feedback", headers=bearer(reader), json={
        "rating": 1, "question": "首开集团工会主席叫什么名字", "answer": no["answer"], "refused": True}).json()
    follow = client.post("/feedback", headers=bearer(reader), json={
        "rating": -1, "question": "那它的导师有哪些人？", "answer": "…", "conversation": [
            {"role": "user", "content": MIYUN}, {"role": "assistant", "content": good["answer"]}]}).json()
    assert client.get("/feedback", headers=bearer(reader)).status_code == 403
    listed = client.get("/feedback", headers=bearer(editor)).json()
    assert [f["id"] for f in listed] == [follow["id"], fb2["id"], fb1["id"]]
    assert listed[2]["citations"][0]["doc_id"] == good["citations"][0]["doc_id"]

    gold = good["citations"][0]["doc_id"]
    assert client.post(f"/feedback/{fb1['id']}/review", headers=bearer(editor),
                       json={"status": "confirmed", "confirmed_doc_ids": [gold]}).status_code == 200
    assert client.post(f"/feedback/{fb2['id']}/review", headers=bearer(editor),
                       json={"status": "confirmed"}).status_code == 200
    r = client.post(f"/feedback/{follow['id']}/review", headers=bearer(editor), json={"status": "rejected"})
    assert r.json()["status"] == "rejected" and r.json()["reviewer"].endswith("(someone)")
    assert client.post("/feedback/999/review", headers=bearer(editor), json={"status": "rejected"}).status_code == 404
    assert client.get("/feedback", params={"status": "confirmed"}, headers=bearer(editor)).json()[0]["id"] == fb2["id"]

    monkeypatch.setenv("ZHRAG_EMBED_MODEL", "e5-small")
    monkeypatch.setenv("ZHRAG_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("ZHRAG_CACHE_DIR", str(settings.cache_dir))
    out = tmp_path / "feedback-set"
    assert main(["feedback", "export", str(out)]) == 0
    assert "wrote 2 questions (1 unanswerable) and 6 articles" in capsys.readouterr().out
    queries = load_queries(out)
    assert {q.question: (q.gold, q.answers) for q in queries} == {
        MIYUN: (frozenset({gold}), ("实行“双导师”制",)), "首开集团工会主席叫什么名字": (frozenset(), ())}

    result = run_eval(EvalConfig(out, modes=("hybrid",), answers=5), settings, use_cache=False)
    assert result["counts"]["queries"] == 1 and result["retrieval"]["hybrid"]["hit@1"] == 1.0
    assert result["answers"]["citation_precision"] > 0 and result["answers"]["refused"] == 0.0
    assert result["unanswerable_in_set"] == {"n": 1, "refusal_rate": 1.0}


@pytest.mark.parametrize(("method", "path", "payload"), [
    ("post", "/admin/keys", {"name": "x", "role": "owner"}),
    ("post", "/admin/keys", {"name": "", "role": "reader"}),
    ("post", "/admin/keys", {"name": "a\u0000b", "role": "reader"}),
    ("post", "/admin/keys", {"name": "x" * 101, "role": "reader"}),
    ("post", "/feedback/1/review", {"status": "maybe"}),
    ("post", "/feedback/1/review", {"status": "confirmed", "confirmed_doc_ids": ["../etc"]}),
    ("put", "/documents/x/disabled", {"disabled": "yes"}),
    ("put", "/documents/x/disabled", {}),
    ("post", "/retrieval-test", {"question": "密云", "mode": "magic"}),
])
def test_bad_staff_input_is_a_422_naming_the_field(client, method, path, payload):
    r = getattr(client, method)(path, content=json.dumps(payload), headers={**bearer(ADMIN),
                                                                            "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][0] == "body"


def test_a_key_name_is_stored_and_read_back_intact(client):
    name = "工会内网 · 第3版（试用）🙂"
    made = client.post("/admin/keys", json={"name": name, "role": "reader"}, headers=bearer(ADMIN)).json()
    assert made["name"] == name
    assert [k["name"] for k in client.get("/admin/keys", headers=bearer(ADMIN)).json()] == [name]
