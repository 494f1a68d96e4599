import pytest

from rag.chunking import ChunkParams, chunk_article, chunk_text, split_sentences
from rag.types import Article


def test_sentences_keep_their_closing_quotes():
    text = "“驿站怎么建，职工说了算。”该负责人介绍。真的吗？是的！"
    spans = [text[s:e] for s, e in split_sentences(text)]
    assert spans == ["“驿站怎么建，职工说了算。”", "该负责人介绍。", "真的吗？", "是的！"]


@pytest.mark.parametrize("size,overlap", [(300, 60), (120, 30), (50, 0), (80, 79)])
def test_chunks_rebuild_the_article_from_offsets(seed_articles, size, overlap):
    params = ChunkParams(size, overlap)
    for art in seed_articles:
        chunks = chunk_article(art, params)
        assert chunks
        covered = [False] * len(art.text)
        for c in chunks:
            assert art.text[c.char_start:c.char_end] == c.text
            assert len(c.text) <= size
            assert c.title == art.title and c.doc_id == art.doc_id
            for i in range(c.char_start, c.char_end):
                covered[i] = True
        # Every non-space character of the article is in some chunk, and chunks advance.
        assert all(covered[i] for i, ch in enumerate(art.text) if not ch.isspace())
        starts = [c.char_start for c in chunks]
        assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_chunks_overlap_by_whole_sentences():
    text = "".join(f"第{i}句话在这里结束。" for i in range(30))
    spans = chunk_text(text, ChunkParams(60, 20))
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))
    for _s, e in spans:
        assert text[e - 1] == "。"


def test_overlong_sentence_is_cut_into_windows():
    text = "长" * 250 + "。"
    spans = chunk_text(text, ChunkParams(100, 10))
    assert all(e - s <= 100 for s, e in spans)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)


@pytest.mark.parametrize("size,overlap", [(100, 100), (100, 150), (100, -1), (5, 0)])
def test_invalid_parameters_are_rejected(size, overlap):
    with pytest.raises(ValueError):
        ChunkParams(size, overlap)


def test_chunk_ids_are_stable():
    art = Article.make("标题", "第一句。第二句。", source_path="a.txt")
    assert [c.id for c in chunk_article(art)] == [c.id for c in chunk_article(art)]
