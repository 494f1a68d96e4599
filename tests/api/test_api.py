import json

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.conftest import hashing_settings


@pytest.fixture()
def client(tmp_path):
    with TestClient(create_app(hashing_settings(tmp_path, api_key="s3cret"))) as c:
        yield c


def test_health_reports_the_index(client):
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["articles"] == 6 and body["chunks"] > 6
    assert body["model"].startswith("hashing")


def test_ask_returns_a_cited_answer(client):
    r = client.post("/ask", json={"question": "长春市总工会设置了多少个竞赛项目", "top_k": 5})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"answer", "refused", "refusal_reason", "short_answer", "citations"}
    if not body["refused"]:
        assert body["citations"]
        for c in body["citations"]:
            assert f"[{c['n']}]" in body["answer"]
            assert {"n", "doc_id", "title", "text", "char_start", "char_end", "score"} <= set(c)
            assert c["char_end"] - c["char_start"] == len(c["text"])


def test_search_returns_ranked_passages(client):
    r = client.get("/search", params={"q": "苏家坨镇 慰问", "k": 3})
    assert r.status_code == 200
    hits = r.json()["hits"]
    assert len(hits) == 3 and [h["rank"] for h in hits] == [1, 2, 3]
    assert hits[0]["title"] == "海淀区苏家坨镇总工会开展情暖职工慰问活动"


@pytest.mark.parametrize("payload", [
    {"question": ""},
    {"question": "   \n "},
    {"question": "问" * 2001},
    {"question": "问" * 600},  # over ZHRAG_MAX_QUESTION_CHARS (500)
    {"question": 123},
    {"question": "密云", "top_k": 0},
    {"question": "密云", "top_k": 51},
    {"question": "密云", "top_k": "many"},
    {},
    {"question": "密云", "unexpected": 1},
])
def test_bad_questions_get_a_clear_422(client, payload):
    r = client.post("/ask", json=payload)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail[0]["msg"]


@pytest.mark.parametrize("params", [{"q": ""}, {"q": "密云", "k": 0}, {"q": "密云", "k": 1000},
                                    {"k": 3}, {"q": "密云", "mode": "magic"}])
def test_bad_search_gets_422(client, params):
    assert client.get("/search", params=params).status_code == 422


def test_malformed_json_is_422_not_500(client):
    r = client.post("/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_documents_need_the_key_and_are_searchable_then_deletable(client, tmp_path):
    doc = {"documents": [{"title": "朝阳区职工篮球赛", "text": "朝阳区总工会举办职工篮球赛，三十支队伍参赛。",
                          "doc_id": "chaoyang-1", "date": "2024-03-01"}]}
    assert client.post("/documents", json=doc).status_code == 401
    assert client.post("/documents", json=doc, headers={"X-API-Key": "wrong"}).status_code == 401
    r = client.post("/documents", json=doc, headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 201 and r.json()["doc_ids"] == ["chaoyang-1"]
    hits = client.get("/search", params={"q": "朝阳区 篮球赛", "k": 1}).json()["hits"]
    assert hits[0]["doc_id"] == "chaoyang-1" and hits[0]["meta"]["date"] == "2024-03-01"
    assert any(d["doc_id"] == "chaoyang-1" for d in client.get("/documents").json())
    assert client.get("/health").json()["articles"] == 7
    assert client.delete("/documents/chaoyang-1").status_code == 401
    assert client.delete("/documents/chaoyang-1", headers={"X-API-Key": "s3cret"}).status_code == 204
    assert client.delete("/documents/chaoyang-1", headers={"X-API-Key": "s3cret"}).status_code == 404
    assert client.get("/health").json()["articles"] == 6


def test_added_documents_survive_a_restart(tmp_path):
    settings = hashing_settings(tmp_path)
    with TestClient(create_app(settings)) as c:
        r = c.post("/documents", json={"documents": [{"title": "通州", "text": "通州区工会开展培训。"}]})
        assert r.status_code == 201
    with TestClient(create_app(settings)) as c:
        assert c.get("/health").json()["articles"] == 7


def test_bad_documents_get_422(client):
    h = {"X-API-Key": "s3cret"}
    assert client.post("/documents", json={"documents": []}, headers=h).status_code == 422
    assert client.post("/documents", json={"documents": [{"title": "a", "text": "  "}]}, headers=h).status_code == 422
    assert client.post("/documents", json={"documents": [{"title": "a"}]}, headers=h).status_code == 422


def test_metrics_count_requests(client):
    client.post("/ask", json={"question": "密云区工匠学院"})
    text = client.get("/metrics").text
    assert 'zhrag_requests_total{method="POST",route="/ask",status="200"} 1' in text
    assert "zhrag_index_chunks" in text


def test_api_docs_need_no_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    scripts = [s.split('"')[0] for s in page.text.split('src="')[1:]]
    assert scripts and all(s.startswith("/") for s in scripts)
    for s in scripts:
        assert client.get(s).status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "zhrag"


def test_cli_and_server_on_one_index_see_each_others_writes(live_server, tmp_path):
    """`zhrag add` beside a running server: the server answers from it at once, and the
    server's own additions are kept (3 of 3 were lost before the store was a database)."""
    import os
    import subprocess
    import sys

    import httpx

    from tests.conftest import ROOT

    env = {**os.environ, "ZHRAG_EMBED_MODEL": "hashing", "ZHRAG_INDEX_DIR": str(tmp_path / "index"),
           "ZHRAG_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        assert http.get("/health").json()["articles"] == 6
        r = http.post("/documents", json={"documents": [{"doc_id": "srv1", "title": "服务器添加",
                                                         "text": "海淀区工会举办读书会，二百名职工参加。"}]})
        assert r.status_code == 201
        for i in range(3):
            doc = tmp_path / f"cli{i}.jsonl"
            doc.write_text(json.dumps({"doc_id": f"cli{i}", "title": "命令行添加",
                                       "text": f"朝阳区工会举办第{i}届篮球赛，三十支队伍参赛。"}, ensure_ascii=False),
                           encoding="utf-8")
            out = subprocess.run([sys.executable, "-m", "rag.cli", "add", str(doc)], env=env, cwd=ROOT,
                                 capture_output=True, text=True, timeout=120)
            assert out.returncode == 0, out.stderr
            hits = http.get("/search", params={"q": f"第{i}届篮球赛", "k": 3, "mode": "bm25"}).json()["hits"]
            assert hits[0]["doc_id"] == f"cli{i}"
        assert http.get("/health").json()["articles"] == 10
        listed = subprocess.run([sys.executable, "-m", "rag.cli", "search", "海淀区读书会", "--mode", "bm25"],
                                env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert "服务器添加" in listed.stdout


def test_filters_and_collections_over_http(client):
    r = client.post("/documents", headers={"X-API-Key": "s3cret"}, json={"collection": "archive-2024", "documents": [
        {"doc_id": "old1", "title": "旧闻", "text": "首开集团工会建设了工会驿站十个。", "date": "2024-03-01",
         "column": "北京经验"}]})
    assert r.status_code == 201
    hits = client.get("/search", params={"q": "首开集团工会驿站", "collection": "archive-2024"}).json()["hits"]
    assert [h["doc_id"] for h in hits] == ["old1"]
    hits = client.get("/search", params={"q": "首开集团工会驿站", "date_to": "2024-12-31"}).json()["hits"]
    assert [h["doc_id"] for h in hits] == ["old1"]
    r = client.post("/ask", json={"question": "首开集团建了多少个工会驿站", "filters": {"collections": ["default"]}})
    assert all(c["doc_id"] != "old1" for c in r.json()["citations"])
    listed = client.get("/documents", params={"collection": "archive-2024"}).json()
    assert [d["doc_id"] for d in listed] == ["old1"] and listed[0]["collection"] == "archive-2024"
    assert client.get("/documents/old1").json()["text"] == "首开集团工会建设了工会驿站十个。"
    assert client.get("/health").json()["collections"] == {"default": 6, "archive-2024": 1}
    assert client.get("/search", params={"q": "工会", "date_from": "2024-13-99"}).status_code == 422


def test_upload_a_pdf_page_and_a_word_file(client, tmp_path):
    """A laid-out file goes in as its articles; the same name again replaces, not duplicates."""
    pytest.importorskip("reportlab")
    from tests.rag.make_docs import seed_docx, seed_page_pdf

    key = {"X-API-Key": "s3cret"}
    pdf = seed_page_pdf(tmp_path / "page3.pdf").read_bytes()
    r = client.post("/documents/upload", files={"file": ("第3版.pdf", pdf, "application/pdf")},
                    data={"collection": "pdf"}, headers=key)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["added"] == 6 and len(body["doc_ids"]) == 6
    listed = client.get("/documents", params={"collection": "pdf"}).json()
    assert sorted(d["title"] for d in listed) == sorted(["首开集团工会高标准打造职工服务阵地", "密云区总工会多措并举培育高技能人才队伍",
                                                         "长春市总工会建立全链条技能人才培养工作体系",
                                                         "东城区总工会面向中心工作和重大领域加大经费支持",
                                                         "海淀区苏家坨镇总工会开展情暖职工慰问活动", "“业工融合”助力企业发展"])
    assert all(d["meta"]["page"] == "3" and d["meta"]["date"] == "2025-03-12" for d in listed)
    again = client.post("/documents/upload", files={"file": ("第3版.pdf", pdf)}, data={"collection": "pdf"},
                        headers=key).json()
    assert again["added"] == 0 and again["unchanged"] == 6
    docx = seed_docx(tmp_path / "p.docx").read_bytes()
    assert client.post("/documents/upload", files={"file": ("p.docx", docx)}, headers=key).status_code == 201


@pytest.mark.parametrize(("name", "content", "status", "says"), [
    ("x.pdf", b"%PDF-1.4 broken", 422, "not a readable PDF"),
    ("x.docx", b"PK not a zip", 422, "not a readable Word file"),
    ("x.exe", b"MZ", 415, "cannot be read"),
    ("noext", b"text", 415, "cannot be read"),
    ("x.txt", b"   ", 422, "no article text"),
    ("x.txt", b"\xff\xfe\x00bad", 422, "file:"),
])
def test_a_bad_upload_is_refused_and_nothing_is_added(client, name, content, status, says):
    before = client.get("/health").json()["articles"]
    r = client.post("/documents/upload", files={"file": (name, content)}, headers={"X-API-Key": "s3cret"})
    assert r.status_code == status and says in r.json()["detail"]
    assert client.get("/health").json()["articles"] == before


def test_upload_needs_the_write_key_and_a_file(client):
    r = client.post("/documents/upload", files={"file": ("a.txt", "## 标题\n\n正文内容，工会活动。".encode())})
    assert r.status_code == 401
    assert client.post("/documents/upload", headers={"X-API-Key": "s3cret"}).status_code == 422


def test_documents_are_listed_by_the_people_their_bylines_name(client):
    listed = client.get("/documents", params={"person": "宗晓畅"}).json()
    assert sorted(d["title"] for d in listed) == ["“业工融合”助力企业发展", "海淀区苏家坨镇总工会开展情暖职工慰问活动"]
    assert all("宗晓畅" in d["meta"]["reporters"] for d in listed)
    assert client.get("/documents", params={"person": "张三"}).json() == []
    assert client.get("/documents", params={"person": "宗" * 51}).status_code == 422
    body = client.post("/ask", json={"question": "宗晓畅写了哪些报道"}).json()
    assert not body["refused"] and body["answer"].startswith("宗晓畅署名的文章：《")
