import json

import pytest

from rag.cli import main


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHRAG_EMBED_MODEL", "hashing")
    monkeypatch.setenv("ZHRAG_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("ZHRAG_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def test_ask_builds_the_default_index_and_answers(env, capsys):
    assert main(["ask", "长春市总工会设置了多少个竞赛项目", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"answer", "citations", "refused"}
    assert (env / "idx" / "zhrag.db").is_file()


def test_empty_question_is_an_error_not_a_traceback(env, capsys):
    assert main(["ask", "   "]) == 1
    assert "question is empty" in capsys.readouterr().err


@pytest.mark.parametrize(("command", "says"), [
    (["ask", "\udced\udca0\udc80"], "lone surrogate"),  # what Python makes of invalid UTF-8 in argv
    (["search", "a\x01b"], "control character U+0001"),
])
def test_unreadable_text_in_a_question_is_an_error_not_a_traceback(env, capsys, command, says):
    assert main(command) == 1
    assert says in capsys.readouterr().err


def test_build_add_delete(env, capsys):
    assert main(["build"]) == 0
    assert main(["build"]) == 1  # refuses to overwrite without --rebuild
    assert "--rebuild" in capsys.readouterr().err
    doc = env / "new.jsonl"
    doc.write_text(json.dumps({"doc_id": "x1", "title": "新", "text": "朝阳区工会举办篮球赛。"}, ensure_ascii=False),
                   encoding="utf-8")
    assert main(["add", str(doc)]) == 0
    assert "added 1" in capsys.readouterr().out
    assert main(["delete", "x1"]) == 0
    assert main(["delete", "x1"]) == 1


def test_usage_error_exit_code(env):
    assert main(["ask"]) == 2


def test_invalid_settings_are_named(env, monkeypatch, capsys):
    monkeypatch.setenv("ZHRAG_TOP_K", "many")
    assert main(["ask", "密云"]) == 1
    assert "ZHRAG_TOP_K" in capsys.readouterr().err


@pytest.mark.slow
def test_ask_with_the_real_model_prints_cited_sources(tmp_path, monkeypatch, capsys, e5):
    monkeypatch.setenv("ZHRAG_INDEX_DIR", str(tmp_path / "idx"))
    assert main(["ask", "长春市总工会设置了多少个竞赛项目"]) == 0
    out = capsys.readouterr().out
    answer, _, sources = out.partition("\n\n来源：\n")
    assert "145个" in answer and answer.rstrip().endswith("[1]")
    assert "[1] 《长春市总工会建立全链条技能人才培养工作体系》（栏目：他山之石 · 来源：中工网）" in sources
    assert "该市总工会设置竞赛项目145个。" in sources
