"""Compose: a short answer from retrieved passages, every sentence cited.

With no generative model available offline, the default composer is extractive: it picks
the sentences of the retrieved passages that best answer the question, keeps them in
reading order, drops near-duplicates (overlapping chunks repeat sentences), and cites
each one. It refuses, plainly, when the passages do not look like they answer the
question: a made-up answer with a real-looking citation is the worst outcome for a
newsroom.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.byline import byline_answer
from rag.chunking import split_sentences
from rag.embedding import Embedder
from rag.lexical import bigram_set, content_words, plain, rarity_weights, term_coverage, weighted_coverage
from rag.mentions import mention_answer
from rag.question import named_in, names_focus, question_entities, question_focus, specific_names
from rag.reader import Accept, Span, SpanReader
from rag.sentences import (
    announces,
    asks_about_plans,
    asks_for_contact,
    has_type,
    is_directive,
    is_question_shaped,
)
from rag.span import (
    CLAUSE_END,
    LIST_MARK,
    answers_the_topic,
    asks_for_explanation,
    asks_for_phone,
    asks_for_reason,
    asks_for_several,
    asks_time_by_tail,
    attribute_as,
    defines,
    fits_kind,
    list_of,
    listed_name,
    named_list,
    names_a_topic,
    question_kind,
    quoted_attribute,
    same_measure,
    several_kind,
    shaped,
    short_answer,
    to_whom,
    with_list,
    with_unit,
)
from rag.types import Answer, Chunk, Citation, Hit, Quote, RefusalReason

# What the learned answerability gate reads, all from the retrieved passages: the best two
# cosines and their gap, how many of the question's content words (and of its long ones)
# the best passage and the top four hold, the best single sentence's share of them, the
# best BM25 score, and the question's length.
PASSAGE_FEATURES = ("cos1", "cos2", "cos_gap", "cov_best", "cov_top", "cov_long_best", "cov_long_top", "cov_sentence",
                 "bm25_top", "n_terms")


def gate_features(question: str, hits: Sequence[Hit], max_passages: int = 4) -> dict[str, float]:
    cos = sorted((h.dense_score for h in hits if h.dense_score is not None), reverse=True) + [0.0, 0.0]
    terms = content_words(question)
    long_terms = [t for t in terms if len(t) >= 3]
    best = max(hits, key=lambda h: h.dense_score or 0.0) if hits else None
    best_text = best.chunk.embedding_text() if best else ""
    top_text = " ".join(h.chunk.embedding_text() for h in hits[:max_passages])
    sentences = [h.chunk.text[a:b] for h in hits[:max_passages] for a, b in split_sentences(h.chunk.text)]
    return {"cos1": cos[0], "cos2": cos[1], "cos_gap": cos[0] - cos[1],
            "cov_best": term_coverage(terms, best_text), "cov_top": term_coverage(terms, top_text),
            "cov_long_best": term_coverage(long_terms, best_text) if long_terms else 1.0,
            "cov_long_top": term_coverage(long_terms, top_text) if long_terms else 1.0,
            # One sentence holding most of the question's words is what an answer looks like.
            "cov_sentence": max((term_coverage(terms, t) for t in sentences), default=0.0),
            "bm25_top": math.log1p(max((h.bm25_score or 0.0 for h in hits), default=0.0)),
            "n_terms": math.log1p(len(terms))}


# What a gate that reads adds: the span reader's margin (its best span in the answer's cited
# sentences over "no answer here", in logits), and whether the answer was read at all (how and
# why questions, and answers whose sentences the reader found nothing in, are not). A
# passage that shares the question's words but holds no answer to it ("首开集团工会主席叫什么
# 名字" over an article on the union's work) looks answerable to the passage features alone.
READ_FEATURES = ("read_margin", "not_read")
GATE_FEATURES = PASSAGE_FEATURES + READ_FEATURES
# Margins beyond this say nothing more (a clear answer is +8, a clear miss -10).
MARGIN_CLIP = 12.0


def read_features(margin: float | None) -> dict[str, float]:
    if margin is None:
        return {"read_margin": 0.0, "not_read": 1.0}
    return {"read_margin": float(np.clip(margin, -MARGIN_CLIP, MARGIN_CLIP)), "not_read": 0.0}


@dataclass(frozen=True)
class AnswerGate:
    """A logistic answerability score over ``features`` (:data:`PASSAGE_FEATURES`, and
    :data:`READ_FEATURES` for a gate that reads), fitted on training data (``zhrag
    gate-fit``); a question whose passages (and answer) score under ``threshold`` is refused."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    features: tuple[str, ...] = PASSAGE_FEATURES

    @property
    def reads(self) -> bool:
        """Whether it judges a composed answer (the reader's margin), not the passages alone."""
        return READ_FEATURES[0] in self.features

    def score_vector(self, x: Sequence[float]) -> float:
        z = (np.asarray(x, np.float64) - np.asarray(self.mean)) / np.asarray(self.std)
        return float(1 / (1 + np.exp(-(z @ np.asarray(self.weights) + self.bias))))

    def score(self, question: str, hits: Sequence[Hit], margin: float | None = None, *, reader: bool = True) -> float:
        """``reader``: whether the answer was given to the span reader at all. Without one
        (``ZHRAG_SHORT_ANSWERS=rules``) the reader's features count as their training mean,
        so the passages alone decide (on held-out DRCD: false refusals 0.048, refusal when
        unanswerable 0.864, against 0.048 / 0.879 with the reader; eval/RESULTS.md)."""
        read = read_features(margin) if reader else \
            {k: m for k, m in zip(self.features, self.mean, strict=True) if k in READ_FEATURES}
        f = gate_features(question, hits) | read
        return self.score_vector([f[k] for k in self.features])

    @staticmethod
    def load(path: Path) -> AnswerGate:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
        features = tuple(d["features"])
        if features not in (PASSAGE_FEATURES, GATE_FEATURES):
            raise ValueError(f"{path} was fitted on other features; fit it again (zhrag gate-fit)")
        return AnswerGate(tuple(d["mean"]), tuple(d["std"]), tuple(d["weights"]), float(d["bias"]),
                          float(d["threshold"]), features)

    def save(self, path: Path, **about: object) -> None:
        Path(path).write_text(json.dumps({"features": list(self.features), "mean": list(self.mean),
                                          "std": list(self.std), "weights": list(self.weights), "bias": self.bias,
                                          "threshold": self.threshold, **about}, indent=1) + "\n", encoding="utf-8")

log = logging.getLogger(__name__)

REFUSAL = "抱歉，现有文章中没有找到能够回答这个问题的内容。"
# When the question names something no article names (rag/names.py), the refusal says what.
NAME_UNKNOWN = "抱歉，现有文章中没有提到{names}，无法回答这个问题。"
# When some article names it, but none of those close to the question does (rag/names.py).
NAME_MISSING = "抱歉，与这个问题相关的文章都没有提到{names}，无法回答这个问题。"
# When the articles close to the question do not give the kind of thing it asks for (a who,
# where, when or how-many question's answer): the staff member learns the topic is covered.
FOCUS_MISSING = "抱歉，现有文章谈到了相关内容，但没有说明{what}。"
_WHAT_IS_MISSING = {"who": "是谁", "where": "地点", "when": "时间", "date": "时间", "count": "具体数量"}
CONFLICT_NOTE = "（注意：各来源说法不一："


def refusal(hits: Sequence[Hit], reason: RefusalReason, text: str = REFUSAL) -> Answer:
    return Answer(text=text, citations=(), refused=True, hits=tuple(hits), refusal_reason=reason)


def focus_refusal(hits: Sequence[Hit], kind: str) -> Answer:
    """The refusal that says which kind of thing the close articles do not give ("时间" for a
    when question, "具体数量" for a count); the plain one for any other kind."""
    what = _WHAT_IS_MISSING.get(kind)
    return refusal(hits, "focus_missing", FOCUS_MISSING.format(what=what) if what else REFUSAL)


class AnswerGenerator(Protocol):
    """Turns a question and retrieved passages into a cited answer."""

    def compose(self, question: str, hits: Sequence[Hit]) -> Answer: ...


@dataclass(frozen=True)
class ComposeParams:
    max_sentences: int = 4
    max_passages: int = 4
    # A passage joins the evidence when its cosine is within this of the best one.
    passage_margin: float = 0.05
    # A sentence joins the answer when its score is within this of the best sentence.
    sentence_margin: float = 0.05
    # A sentence from another article than the best sentence's must come closer than that:
    # a passage that merely resembles the question should not be cited beside the answer.
    other_article_margin: float = 0.015
    min_sentence_chars: int = 8
    # Relevance gate on the best passage's cosine. On e5-small's scale unrelated Chinese
    # news scores 0.78-0.86 against a question (same register, same city), a passage that
    # answers 0.85-0.95: cosine alone cannot separate them, so between the two bounds the
    # passages must also contain at least half of the question's content words.
    refuse_below: float = 0.80
    confident_above: float = 0.90
    min_term_coverage: float = 0.5
    # A learned gate (rag/gate_model.json, ZHRAG_ANSWER_GATE=learned) replaces the two
    # rules above (the cosine floor stays). The shipped one reads the composed answer too
    # (AnswerGate.reads): a question is composed, then refused when the gate scores it low.
    gate: AnswerGate | None = None
    duplicate_jaccard: float = 0.6
    # Sentence preferences: one holding what the question asks for (a number for 多少, a
    # date for 何时...) over one that only repeats its words; a report over an announcement.
    type_bonus: float = 0.03
    plan_penalty: float = 0.02
    # A count of a thing (多少项难题, 多少个工会驿站): a sentence naming the counted thing
    # beside a figure gets this much more. Asked "长春市总工会解决了多少项难题", the sentences
    # that repeat 长春市总工会 outscored "…解决技术和种养殖难题80余项" by 0.08, which was not
    # cited, and "设置竞赛项目145个" was read for the answer. 0.05 chosen on DRCD (training):
    # on its 63 counts of things (dev and test) citation precision 0.917 -> 0.926 and no
    # short answer lost once the span's shaping was mended; 0.1 lost one more (eval/RESULTS.md,
    # "Sentences that name what is asked about").
    focus_bonus: float = 0.05
    # "X的Y是什么" (rag/question.py _what_focus): a sentence naming Y gets this much more.
    # Asked "首开集团的工作机制是什么", eight sentences repeating 首开集团 outscored "构建“党委领导、
    # 行政支持、工会搭台”的工作机制". Off: on DRCD's 16 such questions 0.05 and 0.1 only
    # answered one from the wrong article ("「独派」的主张是什么": 宋教仁's 主张), citation
    # precision 0.926 -> 0.913 (same section).
    what_focus_bonus: float = 0.0
    # Sentences of the article retrieval ranked first (fused dense + BM25) get this much:
    # the fused ranking knows the question's names and numbers, sentence similarity alone
    # let a look-alike article lead too often. 0.02 chosen on DRCD-dev among 0-0.1
    # (citation precision 0.919 -> 0.942, answers unchanged; eval/RESULTS.md).
    first_article_bonus: float = 0.02
    # When the fused ranking's first article leads every other by this much or more (in fused
    # score, z units of the two lists), only its passages are evidence. Sentence similarity
    # knows nothing of the question's names and numbers, and the fused ranking does: asked
    # "oppor11什么时候上市", the page on the R11 led at 5.0 against 2.8 and 0.95, and the
    # answer was "2017年3月10日" from the 0.95 page on 华为P10, whose sentence "华为P10什么时候上市
    # …" resembles the question more. 3 chosen on held-out DRCD + the distractors (training):
    # at 2 one right answer is lost (the leader was not its page), at 2.5 and 3 none, and one
    # citation is mended (the larger of the two, for the margin); at 4 nothing changes. DRCD-dev's
    # 300 do not change at any gap from 1 to 4 (eval/RESULTS.md, "A leading article's passages
    # alone"). None: off.
    lead_gap: float | None = 3.0
    # The span reader's margin (its best span over "no answer here", in logits) a span
    # needs to be put first as the short answer. On held-out DRCD sentences that hold the
    # answer, short-answer F1 is 0.817 at any threshold up to -3 and falls above it (0.808
    # at 0, 0.793 at 2): -3 is the strictest that loses nothing there (eval/RESULTS.md).
    short_answer_margin: float = -3.0
    # With a short answer found, cite only its article's sentences (and other articles'
    # sentences that hold the same words), unless the articles' figures conflict: the
    # reader has said which article answers. On DRCD-dev (300 answers, training data)
    # citation precision 0.928 -> 0.954 with EM, F1 and answer-contains-gold unchanged
    # (eval/RESULTS.md, "Citing the short answer's article").
    short_answer_article_only: bool = True
    # ... except when the reader's article is not the one the fused ranking put first: then
    # every article stays. Off: on DRCD it did not beat the plain rule (eval/RESULTS.md).
    keep_other_answers: bool = False
    # On: a sentence of another article than the leading one is cited only when it holds
    # one of the question's content words of two or more characters (one that shares none
    # resembles the question only in the embedder's eyes: "造影多少钱" answered beside the
    # clinic's price with a film's box office). Off: no effect on DRCD-dev (training), and on
    # DuReader it drops the gold page's sentence as often as a look-alike's when the wrong
    # article leads (eval/RESULTS.md, "Other articles' sentences that share no word").
    other_article_shares_word: bool = False
    # On: when the question names something specific (rag/question.py specific_names: 阿凡达,
    # 波比跳, not 中国), a sentence of another article than the leading one is cited only when
    # it, or its article's title, names it too (_names_one). Asked "阿凡达票房", the composer
    # cited a page on 《金刚：骷髅岛》 beside the 阿凡达 page, and its short answer was 金刚's box
    # office (eval/RESULTS.md, "Other articles' sentences that do not name the question's names").
    other_article_names: bool = True
    # A count's or a date's short answer is supported only by sentences that hold a number
    # (a date) of their own, or the short answer's words: the others only repeat the
    # question's words ("…积极开展工会驿站建设" after "167个"). On since the twelfth session:
    # on DRCD (training; 777 answers) EM, F1, answer-contains-gold and citation precision are
    # unchanged, 12 answers lose such a sentence (eval/RESULTS.md, "Sentences that hold the
    # kind of answer asked").
    typed_support: bool = True
    # A how-many question asked with a classifier, whose counted noun is specific (多少个
    # 工会驿站, 几位妻子; not 几个区, 多少时间 or 多少钱) is answered only from passages that name
    # it, like who/where ones: "长春市总工会建了多少个工会驿站" is not answered with the article's
    # 145 competition projects. On DRCD (training; 777 answers) no answer changes; the first
    # version, which also held 多少时间 and 多少比例 to it, refused four answerable questions
    # (eval/RESULTS.md, "Lists, quantities and counts of things").
    count_focus: bool = True
    # On: a date question, or a count of a thing (as for count_focus: 多少名职工, not 多少钱),
    # that the reader finds no short answer for is refused ("focus_missing"): the passages are
    # about its subject but do not say when or how many. Asked "密云区工匠学院什么时候成立的"
    # or "苏家坨镇慰问了多少名职工", the service quoted the article's sentences on the subject.
    # Only with a reader: without one the rules alone find fewer spans. On DRCD (training;
    # 777 answers, 675 unanswerable) it refuses 2 more unanswerable questions and 1 answerable
    # one whose answer was wrong (F1 0); on the shared sets 1-2 answerable ones each, all wrong
    # answers (eval/RESULTS.md, "Questions the article is near but does not answer"). A
    # search-box query ending in 时间 is not held to it: "鬼王CD时间" asks how long.
    typed_missing: bool = True
    # Before such a refusal the reader reads the rest of the leading passage: the date or the
    # figure often stands in the sentence before the one that names the event ("1954年10月13日，
    # …。…第一支驱逐舰部队由此诞生。"). On DRCD (training) it answers two refused questions
    # rightly (held-out false refusals 0.052 -> 0.048) and no unanswerable one; on the shared
    # sets one each on CMRC and DuReader, right (eval/RESULTS.md, "The year a sentence before
    # the event").
    read_passage: bool = True
    # A chosen sentence that opens with 其中 ("其中设置城市密码咖啡、大家书房…") is cited with the
    # sentence before it in its passage, which says what it is among ("…打造成对公众开放的首开书
    # 院。"): asked "城市密码咖啡在哪里", the reader then reads where, and a reader of the answer
    # knows what 其中 means.
    antecedents: bool = True
    # A why question's short answer is the reason the reader finds ("伤病困扰[1]。…"), before
    # the sentences that give it; off, why questions are answered by the sentences alone, as
    # how questions are. On DRCD (training; 58 why questions among 777 answers) their F1 rose
    # from 0.33 to 0.64 (eval/RESULTS.md, "Why questions: the reason first").
    reason_spans: bool = True
    # The reader's best span that can answer as the kind asked (span.fits_kind), even when a
    # span that cannot scores higher: asked "水痘多久能好" it likes "六岁的" best and "一周多时间"
    # next. Not for who and where questions (_fitting). Off, a best span that does not fit
    # gives no short answer (a count falls back to the rules' figure). The answer gate still
    # reads the best span's margin.
    fitting_spans: bool = True
    # With a reader, the articles' figures are said to conflict only when the reader, reading
    # each figure's sentence alone, answers from it (with_conflict_note): asked "动力煤价格",
    # a page on boiling water priced per cubic metre of gas gives a price, not coal's. Off,
    # any figure the rules could answer with counts, as without a reader.
    conflicts_read: bool = True
    # On: questions of every kind, not only who/where ones, are answered only from passages
    # that name one of the places and bodies they name (rag/question.py: question_entities).
    # Off: on DRCD (training; 777 answers, 675 unanswerable) it refused 12 more unanswerable
    # questions for 4 more false refusals, the same trade as raising the gate's threshold
    # from 0.36 to 0.40 (eval/RESULTS.md, "DuReader's unanswerable questions, read").
    entity_check: bool = False
    # Sentences embedded per answer. Embedding them is nearly all of an answer's time (0.8 s
    # for ~40 sentences on one thread); a cheap lexical score picks the ones worth embedding.
    max_embedded: int = 10
    # Characters of each sentence the embedder sees (p50 of news sentences is 54, p90 125).
    # Its cost grows with the longest sentence in the batch: 80 cuts a cold answer's
    # embedding time by 37% for -0.003 citation precision on XQuAD (eval/RESULTS.md).
    sentence_embed_chars: int = 80


def _near_duplicate(a: str, b: str, threshold: float) -> bool:
    x, y = bigram_set(a), bigram_set(b)
    return len(x & y) / max(1, min(len(x), len(y))) >= threshold


def is_answerable(question: str, hits: Sequence[Hit], p: ComposeParams, read: Answer | None = None, *,
                  reader: bool = True) -> bool:
    """Whether the best passage is close enough to the question to answer from.

    Shared by every generator: a model handed unrelated passages invents an answer. A gate
    that reads judges the composed answer ``read`` (its reader's margin); asked before there
    is one, only the cosine floor applies, and the caller asks again with the answer. With no
    span reader (``reader`` false) there is nothing to wait for: the passages decide at once.
    """
    if not hits:
        return False
    best = max(hits, key=lambda h: h.dense_score if h.dense_score is not None else -1.0)
    cos = best.dense_score if best.dense_score is not None else 0.0
    if cos < p.refuse_below:
        return False
    if p.gate is not None:
        if p.gate.reads and reader and read is None:
            return True
        margin = read.span_margin if read is not None else None
        return p.gate.score(question, hits, margin, reader=reader) >= p.gate.threshold
    if cos >= p.confident_above:
        return True
    text = " ".join(h.chunk.embedding_text() for h in hits[: p.max_passages])
    return term_coverage(content_words(question), text) >= p.min_term_coverage


@dataclass(frozen=True)
class _Candidate:
    hit_rank: int
    hit: Hit
    quote: Quote
    score: float


class ExtractiveComposer:
    """Selects and cites sentences from the passages; needs the embedder to score sentences."""

    def __init__(self, embedder: Embedder, params: ComposeParams = ComposeParams(),
                 cache_size: int = 20_000, *, reader: SpanReader | None = None) -> None:
        self.embedder = embedder
        self.params = params
        self.reader = reader  # short answers: the trained reader, or the rules when None
        # Sentence vectors by text, most recently used last: the same passages answer many
        # questions, and embedding their sentences is most of an answer's time. Bounded:
        # 20,000 sentences of 384 float32 are 30 MB.
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def _sentence_vectors(self, texts: list[str]) -> np.ndarray:
        uniq = list(dict.fromkeys(texts))
        with self._lock:
            have = {t: self._vectors[t] for t in uniq if t in self._vectors}
            for t in have:
                self._vectors.move_to_end(t)
        missing = [t for t in uniq if t not in have]
        if missing:  # embedded outside the lock: other requests go on meanwhile
            cut = self.params.sentence_embed_chars
            have.update(zip(missing, self.embedder.embed_documents([t[:cut] for t in missing]), strict=True))
            with self._lock:
                for t in missing:
                    self._vectors[t] = have[t]
                while len(self._vectors) > self._cache_size:
                    self._vectors.popitem(last=False)
        return np.stack([have[t] for t in texts])

    def _evidence(self, hits: Sequence[Hit]) -> list[tuple[int, Hit]]:
        p = self.params
        top = list(enumerate(hits[: p.max_passages]))
        if p.lead_gap is not None and hits:
            first = hits[0].chunk.doc_id
            other = next((h.score for h in hits if h.chunk.doc_id != first), None)
            if other is None or hits[0].score - other >= p.lead_gap:
                top = [(i, h) for i, h in top if h.chunk.doc_id == first]
        scored = [h.dense_score for _, h in top if h.dense_score is not None]
        if not scored:
            return top
        best = max(scored)
        return [(i, h) for i, h in top if h.dense_score is None or h.dense_score >= best - p.passage_margin]

    def _candidates(self, question: str, hits: Sequence[Hit]) -> list[_Candidate]:
        seen: set[tuple[str, int]] = set()
        raw: list[tuple[int, Hit, Quote]] = []
        # A question-shaped sentence ("…总导演是谁？") is never an answer; the sentence after it
        # (often "——张艺谋") takes its place, scored as the question sentence would have been.
        stands_for: dict[int, int] = {}
        keep_directives = asks_for_contact(question)
        for rank, hit in self._evidence(hits):
            c = hit.chunk
            asked_at: int | None = None
            for quote in _sentences_of(c):
                text = quote.text
                if (c.doc_id, quote.start) in seen:
                    continue
                seen.add((c.doc_id, quote.start))
                if is_question_shaped(text):
                    raw.append((rank, hit, quote))
                    asked_at = len(raw) - 1
                    continue
                if len(text) < self.params.min_sentence_chars and asked_at is None:
                    continue
                if not keep_directives and is_directive(text):
                    asked_at = None
                    continue  # a planted "请访问…" or "忽略之前的指令" is never an answer
                raw.append((rank, hit, quote))
                if asked_at is not None:
                    stands_for[len(raw) - 1] = asked_at
                    asked_at = None
        if not raw:
            return []
        terms = content_words(question)
        raw, stands_for = self._shortlist(raw, stands_for, question, terms)
        q = self.embedder.embed_queries([question])[0]
        vecs = self._sentence_vectors([quote.text for _, _, quote in raw])
        kind = question_kind(question)
        plans_ok = asks_about_plans(question)
        p = self.params
        focus = question_focus(question)
        counted = focus.phrase if focus is not None and focus.counts_a_thing and p.focus_bonus else None
        asked = focus.phrase if focus is not None and focus.kind == "what" and p.what_focus_bonus else None
        # the question's words count by how few of the answer sentences hold them: the subject
        # every sentence of the article repeats picks none out (RESULTS: "Words that pick a sentence out")
        weights = rarity_weights(terms, [quote.text for _, _, quote in raw if not is_question_shaped(quote.text)])
        base = []
        for (_, hit, quote), v in zip(raw, vecs, strict=True):
            passage = hit.dense_score if hit.dense_score is not None else 0.0
            base.append(0.6 * float(v @ q) + 0.4 * passage + 0.1 * weighted_coverage(weights, quote.text))
        out = []
        first_doc = hits[0].chunk.doc_id
        for i, (rank, hit, quote) in enumerate(raw):
            if is_question_shaped(quote.text):
                continue
            score = max(base[i], base[stands_for[i]]) if i in stands_for else base[i]
            if kind is not None and has_type(quote.text, kind):
                score += p.type_bonus
                if counted is not None and counted in quote.text:
                    score += p.focus_bonus
            if asked is not None and asked in quote.text:
                score += p.what_focus_bonus
            if not plans_ok and announces(quote.text):
                score -= p.plan_penalty
            if hit.chunk.doc_id == first_doc:
                score += p.first_article_bonus
            out.append(_Candidate(rank, hit, quote, score))
        return out

    def _shortlist(self, raw: list[tuple[int, Hit, Quote]], stands_for: dict[int, int], question: str,
                   terms: list[str]) -> tuple[list[tuple[int, Hit, Quote]], dict[int, int]]:
        """The ``max_embedded`` sentences with the best lexical score (term coverage, shared
        bigrams, passage cosine), plus the question sentences the kept ones stand for."""
        if len(raw) <= self.params.max_embedded:
            return raw, stands_for
        qgrams = bigram_set(question)

        def cheap(i: int) -> float:
            _, hit, quote = raw[i]
            grams = bigram_set(quote.text)
            return (term_coverage(terms, quote.text) + len(qgrams & grams) / max(1, len(qgrams))
                    + (hit.dense_score or 0.0))

        answers = [i for i in range(len(raw)) if not is_question_shaped(raw[i][2].text)]
        keep = sorted(sorted(answers, key=cheap, reverse=True)[: self.params.max_embedded])
        keep_set = set(keep) | {stands_for[i] for i in keep if i in stands_for}
        order = sorted(keep_set)
        new_index = {old: new for new, old in enumerate(order)}
        return ([raw[i] for i in order],
                {new_index[i]: new_index[j] for i, j in stands_for.items() if i in keep_set and j in keep_set})

    def compose(self, question: str, hits: Sequence[Hit]) -> Answer:
        if not hits:
            return refusal(hits, "no_passages")
        if (own := about_articles(question, hits)) is not None:
            return own
        reads = self.reader is not None
        if not is_answerable(question, hits, self.params, reader=reads):
            return refusal(hits, "not_relevant")
        ans = self._compose(question, hits)
        gate = self.params.gate
        if gate is not None and gate.reads and reads and not ans.refused \
                and not is_answerable(question, hits, self.params, ans):
            return replace(refusal(hits, "not_relevant"), span_margin=ans.span_margin)
        return ans

    def _compose(self, question: str, hits: Sequence[Hit]) -> Answer:
        cands = sorted(self._candidates(question, hits), key=lambda c: -c.score)
        if not cands:
            return refusal(hits, "no_passages")
        # A who/where question (and a count of things) is answered only from passages that
        # name what it asks about and its places and bodies: an article on 首开集团's union that
        # names no 工会主席 does not say who the chairman is, and the 负责人 of 东城区总工会 is no
        # answer about 长春. (Dates, and counts of a quantity's kind, are not held to this:
        # their answers often leave the noun out, "价格238元", "花费两小时"; eval/RESULTS.md.)
        focus = question_focus(question)
        if focus is not None and focus.holds_back(self.params.count_focus):
            entities = question_entities(question)
            cands = [c for c in cands if names_focus(c.hit.chunk.embedding_text(), focus, entities)]
            if not cands:
                return focus_refusal(hits, focus.kind)
        elif self.params.entity_check and (entities := question_entities(question)):
            # Any other question only from passages that name one of its places and bodies:
            # "长沙常住人口" not from a page on how towns are counted, nor "南京志高空调售后维修
            # 电话" with 海口's number. (One, not all: "地中海至印度的海上航线" is answered by
            # a passage on the 印度洋 that never says 地中海.)
            cands = [c for c in cands if any(e in c.hit.chunk.embedding_text() for e in entities)]
            if not cands:
                return refusal(hits, "entity_missing")
        # The leading article is the one with the best two sentences, not the best one: an
        # article with a single lucky sentence (a planted notice, a headline-like line) must
        # not lead and shut out the article that answers.
        by_doc: dict[str, list[float]] = {}
        for c in cands:
            by_doc.setdefault(c.hit.chunk.doc_id, []).append(c.score)
        top_doc = max(by_doc, key=lambda d: by_doc[d][0] + 0.5 * (by_doc[d][1] if len(by_doc[d]) > 1 else 0.0))
        top = by_doc[top_doc][0]
        words = [w for w in content_words(question) if len(w) >= 2] if self.params.other_article_shares_word else []
        names = specific_names(question) if self.params.other_article_names else ()
        chosen: list[_Candidate] = []
        for c in cands:
            if len(chosen) >= self.params.max_sentences or c.score < top - self.params.sentence_margin:
                break
            if c.hit.chunk.doc_id != top_doc:
                if c.score < top - self.params.other_article_margin:
                    continue
                if words and not any(w in c.quote.text.lower() for w in words):
                    continue
                if names and not _names_one(names, c.hit.chunk, c.quote):
                    continue
            if any(_near_duplicate(c.quote.text, d.quote.text, self.params.duplicate_jaccard) for d in chosen):
                continue
            chosen.append(c)
        used = [(c.hit, c.quote) for c in chosen]
        if self.params.antecedents:
            used = _with_antecedents(used)
        rank = {id(c.hit): c.hit_rank for c in chosen}
        ans = self._finish(question, used, hits, rank)
        read_beside = False
        if ans.short_answer is None:
            # a date, or a count of a named thing, the reader found none of (typed_missing)
            counted = focus.words[-1] if focus is not None and focus.counts_a_thing else None
            phone = asks_for_phone(question)
            if self.params.typed_missing and self.reader is not None \
                    and (counted is not None or question_kind(question) == "date" or phone):
                # the things listed rather than counted ("走访慰问了A、B和C等单位" for "慰问了几家
                # 单位") answer as far as the article does; else it does not say
                listed = None if counted is None else next(
                    ((hit, quote, *at) for hit, quote in used if (at := list_of(counted, quote.text, owned=False))), None)
                if listed is not None:
                    return with_span(ans, *listed)
                found = self._read_passage(question, used, hits, rank, counted) if self.params.read_passage else None
                if found is None and counted is None and (asks_time_by_tail(question) or phone):
                    # "鬼王CD时间" may ask how long, and a service's page may not give its number:
                    # the sentences stand
                    return ans
                if found is None:
                    return replace(focus_refusal(hits, "date" if counted is None else "count"),
                                   span_margin=ans.span_margin)
                # cited to its article as any short answer is, below; the sentences it was read
                # beside stay though they hold no figure: they say what it is of ("…由此正式成军")
                ans, used = found
                read_beside = True
            else:
                return ans
        assert ans.short_answer is not None
        span, n = ans.short_answer
        if self.params.short_answer_article_only and CONFLICT_NOTE not in ans.text \
                and not (self.params.keep_other_answers and _cited(ans, n).doc_id != hits[0].chunk.doc_id):
            # The short answer says which article answers: sentences of other articles
            # that do not hold the same words only resembled the question. (With
            # keep_other_answers, every article stays when the reader and the fused
            # ranking disagree on the article.)
            doc = _cited(ans, n).doc_id
            ans, used = self._narrow(question, ans, used, hits, rank,
                                     lambda h, q: h.chunk.doc_id == doc or span.text in q.text)
        kind = question_kind(question)
        if self.params.typed_support and kind in ("count", "date") and not read_beside:
            # A count or a date found: a sentence that holds no number (no date) beside it
            # only repeats the question's words ("…积极开展工会驿站建设" after "167个").
            # has_type is the same test that gives such sentences their type_bonus.
            ans, used = self._narrow(question, ans, used, hits, rank,
                                     lambda h, q: span.text in q.text or has_type(q.text, kind or ""))
        return ans

    def _read_passage(self, question: str, used: list[tuple[Hit, Quote]], hits: Sequence[Hit],
                      rank: dict[int, int], counted: str | None) -> tuple[Answer, list[tuple[Hit, Quote]]] | None:
        """The answer with the sentence of the leading passage that says when (how many, which
        number to call), when the chosen sentences do not, and the sentences it is made of: the
        date often stands a sentence before the event ("1954年10月13日，…。…第一支驱逐舰部队由此诞
        生。"), or a clause before it ("自2013年起，…；增设一项「评审团大奖」"), and a service's number
        a line after its name ("南京志高空调售后)……" then "24小时报修热线1)400-167-6796"). A count's
        sentence names the thing counted: "目前正在推进81个班次的培训" does not say how many 工匠学院
        there are. None when the reader finds it nowhere."""
        assert self.reader is not None
        hit = used[0][0]
        c = hit.chunk
        have = {q.start for h, q in used if h.chunk.id == c.id}
        others = [q for q in _sentences_of(c) if q.start not in have and not is_question_shaped(q.text)
                  and (counted is None or counted in q.text)]
        if not others:
            return None
        texts = [q.text for q in others]
        got = self.reader.read(question, texts, _fitting(question, texts) if self.params.fitting_spans else None)
        if got is None or got.margin < self.params.short_answer_margin:
            return None
        quote = others[got.sentence]
        end = with_unit(question, quote.text, got.start, got.end)
        if not fits_kind(question, quote.text, got.start, end):
            return None
        more = [*used, (hit, quote)]
        ans = self._finish(question, more, hits, rank, read=Span(len(used), got.start, got.end, got.margin))
        return (ans, more) if ans.short_answer is not None else None

    def _narrow(self, question: str, ans: Answer, used: list[tuple[Hit, Quote]], hits: Sequence[Hit],
                rank: dict[int, int], keep: Callable[[Hit, Quote], bool]) -> tuple[Answer, list[tuple[Hit, Quote]]]:
        """The answer again from the sentences ``keep`` accepts (the short answer's own always
        does), its short answer where it now stands: the sentences are not read again."""
        kept = [(h, q) for h, q in used if keep(h, q)]
        if len(kept) == len(used):
            return ans, used
        assert ans.short_answer is not None
        span, n = ans.short_answer
        cited = _cited(ans, n)
        read = None
        if self.reader is not None and ans.span_margin is not None:
            k = next(i for i, (h, q) in enumerate(kept)
                     if h.chunk.id == cited.id and q.start <= span.start and span.end <= q.end)
            start = kept[k][1].start
            read = Span(k, span.start - start, span.end - start, ans.span_margin)
        return self._finish(question, kept, hits, rank, read), kept

    def _finish(self, question: str, used: Sequence[tuple[Hit, Quote]], hits: Sequence[Hit],
                rank: dict[int, int], read: Span | None = None) -> Answer:
        """Number and cite the chosen sentences, put the short answer first, note conflicting figures."""
        ans = build_answer(used, hits, order_by_rank=rank)
        ans = with_short_answer(question, replace(ans, short=used[0][1].text), used, self.reader,
                                self.params.short_answer_margin, read=read, reasons=self.params.reason_spans,
                                fitting=self.params.fitting_spans)
        return with_conflict_note(question, ans, used, self.reader if self.params.conflicts_read else None,
                                  self.params.short_answer_margin)


def _sentences_of(chunk: Chunk) -> list[Quote]:
    """The chunk's sentences, each with its offsets in the article."""
    return [Quote(chunk.text[s:e], chunk.char_start + s, chunk.char_start + e) for s, e in split_sentences(chunk.text)]


# A sentence that says nothing alone: what it is among stands in the sentence before.
_ANAPHOR = re.compile(r"^其中")


def _with_antecedents(used: list[tuple[Hit, Quote]]) -> list[tuple[Hit, Quote]]:
    """``used`` with the sentence before each one that opens with 其中, from its passage, after
    it (ComposeParams.antecedents). The answer is written in reading order anyway, and the
    first sentence stays the best one, which evaluation scores when there is no short answer."""
    out: list[tuple[Hit, Quote]] = []
    for hit, quote in used:
        out.append((hit, quote))
        if _ANAPHOR.match(quote.text):
            before = [q for q in _sentences_of(hit.chunk) if q.end <= quote.start]
            if before and all(q.start != before[-1].start for h, q in used + out if h.chunk.id == hit.chunk.id):
                out.append((hit, before[-1]))
    return out


def _names_one(names: Sequence[str], chunk: Chunk, quote: Quote) -> bool:
    """Whether the sentence, or its article's title, names one of ``names``: the sentence alone
    would lose "进校、电大、职教中心、特教中心各1所" of the article 涿州市; the whole passage would keep
    a page on 《金刚：骷髅岛》 that mentions 阿凡达 once."""
    return any(named_in(n, plain(quote.text)) or named_in(n, plain(chunk.title)) for n in names)


def _cited(ans: Answer, n: int) -> Chunk:
    return next(c.chunk for c in ans.citations if c.n == n)


def with_conflict_note(question: str, ans: Answer, used: Sequence[tuple[Hit, Quote]],
                       reader: SpanReader | None = None, margin: float = ComposeParams.short_answer_margin) -> Answer:
    """Say so when the cited articles give different figures for a count or a date ("167个"
    in one, "160个" in another), instead of letting the reader take the first for the fact.
    With ``reader``, only figures of sentences it answers from, read alone (``margin``, as for a
    short answer): asked "动力煤价格", a page on boiling water's "以1.10元/立方米的价格来算" gives
    a price, but not coal's, and does not contradict "546元一吨". The short answer, when there is
    one, is its article's figure, and only figures that measure what it does (span.same_measure)
    contradict it: asked "端午节国家规定放几天", another page's "2017年" says nothing against "共3天"."""
    if question_kind(question) not in ("count", "date") or asks_for_phone(question):
        return ans  # two service centres' telephone numbers do not contradict each other
    number_of = {c.chunk.id: c.n for c in ans.citations}
    # a figure that could not answer the question contradicts no answer ("203号" of an
    # address beside a price): the test a short answer itself passes (_rules_span)
    figures = [(hit.chunk.doc_id, quote.text[got[0]:got[1]], number_of[hit.chunk.id], quote.text)
               for hit, quote in used if (got := _rules_span(question, quote.text)) is not None]
    values: dict[str, tuple[str, int]] = {}  # article -> (value, citation)
    if ans.short_answer is not None:
        span, n = ans.short_answer
        values[_cited(ans, n).doc_id] = (span.text, n)
    if len({_digits(v) for _, v, _, _ in figures} | {_digits(v) for v, _ in values.values()}) < 2:
        return ans
    for doc, value, n, text in figures:
        if doc in values or values and not same_measure(question, next(iter(values.values()))[0], value):
            continue
        if reader is None or _answers_from(reader, question, text, margin):
            values[doc] = (value, n)
    if len({_digits(v) for v, _ in values.values()}) < 2:
        return ans
    parts = "，".join(f"[{n}]为“{v}”" for v, n in sorted(values.values(), key=lambda x: x[1]))
    return replace(ans, text=f"{ans.text}{CONFLICT_NOTE}{parts}。）")


def with_short_answer(question: str, ans: Answer, used: Sequence[tuple[Hit, Quote]],
                      reader: SpanReader | None = None,
                      margin: float = ComposeParams.short_answer_margin, *, read: Span | None = None,
                      reasons: bool = ComposeParams.reason_spans,
                      fitting: bool = ComposeParams.fitting_spans) -> Answer:
    """Put the exact answering words first ("167个[1]。…"), cited to the sentence they come
    from. The reader (rag/reader.py) looks in every cited sentence and may find none; the
    rules (rag/span.py) look in the best one, for count/date/who/where questions. "How"
    questions keep the sentences alone, and so do "why" ones unless ``reasons`` lets the
    reader put the reason first. ``read``: the reader's span in ``used``, when it has
    already read these sentences. ``fitting``: the reader's best span that fits the kind asked
    (ComposeParams.fitting_spans)."""
    if not used or asks_for_explanation(question) and not (reasons and reader is not None
                                                            and asks_for_reason(question)):
        return ans
    found: tuple[Hit, Quote, int, int] | None = None
    if reader is not None:
        texts = [q.text for _, q in used]
        got = read if read is not None else reader.read(question, texts, _fitting(question, texts) if fitting else None)
        if got is not None:
            ans = replace(ans, span_margin=got.best_margin)
        if got is not None and got.best_margin >= margin:
            (hit, quote), s = used[got.sentence], got.start
            e = with_unit(question, quote.text, s, got.end)
            top_hit, top_quote = used[got.top.sentence]
            if got.margin >= margin and fits_kind(question, quote.text, s, e):
                found = hit, quote, s, e
            elif question_kind(question) == "count" and (rule := _rules_span(question, top_quote.text)) is not None:
                # The reader took words for a count ("简易计税依5%征收率…" for "劳务派遣税率") and
                # found no figure it likes nearly as well: the rules' number in the sentence of
                # its best span, if it holds one ("经费支出多少" is not answered "加大经费支持力度").
                # A person or a place it got wrong is not looked for by the rules, which read
                # jieba's tags alone ("北京市工会重点").
                found = top_hit, top_quote, rule[0], with_unit(question, top_quote.text, *rule)
    elif (rule := _rules_span(question, used[0][1].text)) is not None:
        found = *used[0], *rule
    # the quoted name a cited sentence gives the attribute asked for ("…的工作机制是什么":
    # "构建“党委领导、行政支持、工会搭台”的工作机制"), or whom it names the verb asked about is
    # for ("为谁提供服务": "为项目管理人员、一线施工人员提供…"), stands over the reader's pick
    named = next(((hit, quote, *at) for hit, quote in used
                  if (at := quoted_attribute(question, quote.text) or to_whom(question, quote.text)
                        or listed_name(question, quote.text) or attribute_as(question, quote.text))), None)
    found = named or found
    if found is not None and not defines(question, found[1].text, found[2], found[3]):
        found = None  # "业工融合是什么意思" is not answered "工会": the sentences say what it is
    told = next((q for _, q in used if names_a_topic(question, q.text)), None)
    if told is not None and not (found is not None and found[1] is told
                                 and answers_the_topic(question, told.text, found[2], found[3])):
        # "首开书院": a subject to be told about. Only words right after it in the best sentence
        # that writes it out answer ("网易股价为238.03美元"); the reader's pick elsewhere does not.
        return ans
    if found is not None:
        hit, quote, s, e = found
        found = hit, quote, *shaped(question, quote.text, s, e)
    if asks_for_several(question):
        found = _listed(question, used, found)
    return ans if found is None else with_span(ans, *found)


def _digits(value: str) -> str:
    """A figure as compared for a conflict: its digits ("167个" and "167" agree)."""
    return re.sub(r"\D", "", value) or value


def _answers_from(reader: SpanReader, question: str, sentence: str, margin: float) -> bool:
    """Whether the reader, reading ``sentence`` alone, finds a span of the kind asked in it by
    ``margin`` or more."""
    got = reader.read(question, [sentence], _fitting(question, [sentence]))
    return got is not None and got.margin >= margin and _fits(question, sentence, got.start, got.end)


def _fits(question: str, text: str, start: int, end: int) -> bool:
    """Whether the reader's span ``text[start:end]`` can answer as the kind asked, with the unit
    the question names written after it (what the composer checks of the span it is given)."""
    return fits_kind(question, text, start, with_unit(question, text, start, end))


def _fitting(question: str, texts: Sequence[str]) -> Accept | None:
    """Which of the reader's spans in ``texts`` can answer as the kind asked (:func:`_fits`).
    None for who and where: a person or a place the reader does not like best is another one than asked
    ("首开书院在什么位置" answered with the floors of the 职工之家 beside it), where a figure it
    likes less is still the figure ("水痘多久能好": 一周多时间 after the age 六岁的)."""
    if question_kind(question) in ("person", "place"):
        return None
    return lambda k, s, e: _fits(question, texts[k], s, e)


def with_span(ans: Answer, hit: Hit, quote: Quote, start: int, end: int) -> Answer:
    """The answer led by the words ``quote.text[start:end]`` of a cited sentence, cited to it."""
    n = next(c.n for c in ans.citations if c.chunk.id == hit.chunk.id)
    span = Quote(quote.text[start:end], quote.start + start, quote.start + end)
    return replace(ans, text=f"{span.text}[{n}]。{ans.text}", short=span.text, short_answer=(span, n))


def _rules_span(question: str, sentence: str) -> tuple[int, int] | None:
    """The rules' short answer in ``sentence`` (rag/span.py: short_answer), when it can answer
    as the kind of thing asked (fits_kind): the same test the reader's span passes."""
    rule = short_answer(question, sentence)
    return rule if rule is not None and fits_kind(question, sentence, *rule) else None


def _listed(question: str, used: Sequence[tuple[Hit, Quote]],
            found: tuple[Hit, Quote, int, int] | None) -> tuple[Hit, Quote, int, int] | None:
    """A list question's short answer: the span found when it is a list of its own (named as
    the kind asked, when the question names one: "健全哪些平台" is not answered with the people of
    "组织全区劳模工匠、高技能人才疗休养"); otherwise the list a cited sentence names as the kind
    asked for ("…和北京金地丰源科技有限公司等单位" for "慰问了哪些单位"), the found span's sentence
    looked at first; otherwise the found item with the rest of its list in another cited
    sentence. The reader, trained on Wikipedia paragraphs that seldom list, often takes one item,
    a quoted name beside the list, or the clause before it; or finds nothing it is sure of."""
    kind = several_kind(question)
    if found is not None:
        _, quote, s, e = found
        if LIST_MARK in quote.text[s:e] and not CLAUSE_END.search(quote.text[s:e]) \
                and (kind is None or kind in quote.text[s:e + len(kind) + _KIND_AFTER_LIST]):
            return found
    first = found[1] if found is not None else None
    ordered = sorted(used, key=lambda u: u[1] is not first)
    for hit, quote in ordered:
        if (listed := named_list(question, quote.text)) is not None:
            return hit, quote, *listed
    if found is not None and LIST_MARK not in (item := found[1].text[found[2]:found[3]]):
        # one item, where another cited sentence lists it with the rest ("围绕全区中心工作…" and
        # "面向全区中心工作和重大领域倾斜" for "经费支出面向哪些领域")
        for hit, quote in ordered:
            at = quote.text.find(item)
            if at >= 0 and (end := with_list(question, quote.text, at, at + len(item))) > at + len(item):
                return hit, quote, at, end
    return found


# How far after a list its kind may be named for the list to be one of that kind: "工匠学院、
# 技能学历“双助推”等职工学习成长平台" is a list of 平台.
_KIND_AFTER_LIST = 8


def build_answer(used: Sequence[tuple[Hit, Quote]], hits: Sequence[Hit], *,
                 order_by_rank: dict[int, int] | None = None, texts: Sequence[str] | None = None,
                 keep_order: bool = False) -> Answer:
    """Number the passages in order of use and write each sentence with its marker.

    By default sentences are grouped by passage (best-ranked first) and kept in reading
    order within a passage, so the answer reads like the article rather than like a score
    list; ``keep_order`` keeps the given order (a generated answer's own). ``texts`` are the
    sentences to write when they differ from the quotes (a generated paraphrase).
    """
    rank = order_by_rank or {}
    items = list(zip(used, texts if texts is not None else [q.text for _, q in used], strict=True))
    if not keep_order:
        items.sort(key=lambda it: (rank.get(id(it[0][0]), 0), it[0][1].start))
    numbers: dict[str, int] = {}
    quotes: dict[str, list[Quote]] = {}
    hit_of: dict[str, Hit] = {}
    parts: list[str] = []
    for (hit, quote), text in items:
        cid = hit.chunk.id
        if cid not in numbers:
            numbers[cid] = len(numbers) + 1
            hit_of[cid] = hit
        if quote not in quotes.setdefault(cid, []):
            quotes[cid].append(quote)
        parts.append(f"{text}[{numbers[cid]}]")
    citations = tuple(
        Citation(n=n, chunk=hit_of[cid].chunk, score=hit_of[cid].score, quotes=tuple(quotes[cid]))
        for cid, n in numbers.items()
    )
    return Answer(text="".join(parts), citations=citations, refused=False, hits=tuple(hits))


def about_articles(question: str, hits: Sequence[Hit]) -> Answer | None:
    """The answer to a question about the articles themselves, not a fact in them: who wrote
    one ("…那篇报道的记者是谁", rag/byline.py: its dateline's names) or which say something
    ("哪篇文章提到了工匠学院", rag/mentions.py: their titles). The gate judges whether sentences
    answer, so it is not asked; each answer has its own test (a title naming the subject, an
    article naming it). None for any other question."""
    return byline_answer(question, hits) or mention_answer(question, hits)
