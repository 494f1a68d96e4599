"""Question analysis: what a factoid question asks about.

A passage can be close to a question's topic and still not answer it: the article on
首开集团's union stations is the nearest thing to "首开集团工会主席叫什么名字", but it names no
chairman. The *focus* is the thing the interrogative asks for: the noun before "是谁 /
叫什么名字 / 在哪里 / 是什么时候" (工会主席, 院长, 九合空间) or the counted noun after "多少个 / 几个"
(工会驿站, 竞赛项目). An answer must contain its focus; "how" and "why" questions, and
"什么 / 哪些 + type word" ones (哪些单位, 什么打算), have no focus here: their type word is
seldom in the answer. For the same reason a where question's kind of place (出生地, 驻点) and a
one-character focus (…的人为谁) hold no passage back, and an author is sought where the work is
named. Each exception was measured on every DRCD question's own paragraph (eval/RESULTS.md, "The
question's focus read on all of DRCD").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Interrogatives whose focus is the noun before them ("X 是谁", "X 在哪里").
_ASKS_BEFORE = {"谁", "哪里", "哪儿", "何处", "何时", "何地", "几时"}
# Interrogatives that count the noun after them ("多少个 X").
_COUNTS = {"多少", "几"}
# Words between the focus and the interrogative.
_LINKS = {"是", "叫", "叫做", "在", "为", "有", "于", "的", "担任", "位于", "是在", "名叫"}
_NAME_TAILS = {"名字", "人", "时候", "时间", "地方", "日子"}
# Words between a thing and its count at the question's end ("工会驿站一共有几个"), and what
# may end the question after it.
_COUNT_LINKS = {"有", "共有", "一共", "一共有", "共", "总共", "总共有"}
_ENDS = {"", "呢", "啊", "呀", "吗", "?", "？", "。"}
_TITLE = re.compile(r"《[^》]+》")
_PLACE_KIND_ENDS = ("地", "点", "址", "地区", "地带")
_PLACE_KINDS = {"位置", "地方", "处", "总部", "方位"}
# Classifiers of time: "西元几年时所组成", "几日内会变成" ask for a date or a span of time, and
# the words after them are no counted thing (of DRCD's 33 such questions, the 11 whose "focus"
# held passages back were all junk: 时所, 内会, 嘉义 of "民国几年嘉义").
_TIME_UNITS = ("年", "月", "日", "天", "周", "时", "点", "分", "秒", "岁", "世纪", "代", "号")
# Classifiers of things and events, whatever jieba tags them: in "多少条国际航线" it tags 条 a noun,
# in "多少所学校" a conjunction, in "多少间教室" a place word. Without the list such a count's focus
# was (条, 国际), and "国际航线" held no passage back. 人, 年 and the like are not here: "多少人"
# asks a quantity, not a thing. A word jieba fused (首歌, 家庭, 台湾) is left whole: its first
# character is as often no classifier at all.
CLASSIFIERS = frozenset("个位名项家条座所件部种只辆架艘颗枚户层台首集章卷册期届场门块张本间处头匹棵株篇封份支把盏"
                         "幅栋幢片粒尊批套段节次")


@dataclass(frozen=True)
class QuestionFocus:
    words: tuple[str, ...]  # the focus, as one or more adjacent words (joined they form the phrase)
    kind: str  # "who", "where", "when", "count", "what"
    # A count asked with its classifier (多少个工会驿站, 几位妻子): the noun is what is counted,
    # not the kind of a quantity (多少时间, 多少比例, 多少钱), which answers seldom repeat.
    classified: bool = False

    @property
    def counts_a_thing(self) -> bool:
        """A count of something an answering passage must name: asked with its classifier,
        and specific (工会驿站, 妻子; not 区 or 人)."""
        return self.kind == "count" and self.classified and len(self.words[-1]) >= 2

    @property
    def phrase(self) -> str:
        return "".join(self.words)

    @property
    def names_something(self) -> bool:
        """Whether a passage that answers must repeat it: not a focus of one character, which
        names nothing specific ("…的人为谁": 人, "这句话是谁说的": 话; of DRCD's 56 who and where
        questions with one, 23 have it nowhere in their own paragraph), nor a where question's
        kind of place (:func:`is_place_kind`)."""
        return len(self.phrase) >= 2 and not (self.kind == "where" and is_place_kind(self.words[-1]))

    def holds_back(self, count_focus: bool = True) -> bool:
        """Whether the composer answers only from passages that name it: who and where
        questions, and with ``count_focus`` a count of a thing (rag/compose.py)."""
        return self.kind in ("who", "where") or count_focus and self.counts_a_thing


def _is_noun(flag: str) -> bool:
    return flag.startswith("n") or flag in ("vn", "nz", "j", "eng")


@lru_cache(maxsize=4096)
def tagged(question: str) -> tuple[tuple[str, str], ...]:
    """jieba's words of the question with their part-of-speech tags, blank ones left out: cut
    once and read by every analysis here (focus, entities, names), which the composer and the
    name check both ask for on the same question."""
    import jieba.posseg as pseg

    return tuple((w.word, w.flag) for w in pseg.cut(question) if w.word.strip())


def _nouns_before(words: tuple[tuple[str, str], ...], i: int, links: set[str], min_chars: int = 1) -> list[str]:
    """The nouns (two at most) that end just before ``words[i]``, the ``links`` between them and
    it skipped: "院长" of "…的院长|是|谁", "工匠学院" of "…的工匠|学院|有|多少"."""
    j = i - 1
    while j >= 0 and words[j][0] in links:
        j -= 1
    nouns: list[str] = []
    while j >= 0 and _is_noun(words[j][1]) and len(words[j][0]) >= min_chars and len(nouns) < 2:
        nouns.insert(0, words[j][0])
        j -= 1
    return nouns


@lru_cache(maxsize=4096)
def question_focus(question: str) -> QuestionFocus | None:
    """The focus of a factoid question, or None when it has none (how, why, type words)."""
    words = tagged(question)
    for i, (w, _) in enumerate(words):
        nxt = words[i + 1][0] if i + 1 < len(words) else ""
        # "X在哪里" asks where X is; "哪里好 / 哪里有" asks something else.
        ends = nxt in ("", "呢", "啊", "呀", "吗", "?", "？", "的")
        before = ((w in _ASKS_BEFORE and (ends or w not in ("哪里", "哪儿")))
                  or (w in ("什么", "哪") and nxt in _NAME_TAILS) or w == "什么时候")
        if before:
            nouns = _nouns_before(words, i, _LINKS)
            if w == "谁" and nouns and len(nouns[-1]) > 1 and nouns[-1].endswith("为"):
                # jieba fuses "的人为谁" into 人为 ("man-made"): 为 is the copula, the focus 人.
                nouns[-1] = nouns[-1][:-1]
            elif w == "谁" and (i == 0 or words[i - 1][0] not in _LINKS):
                # "是在形容谁", "孙权派谁", "为了纪念谁": 谁 is a verb's object (jieba often tags the
                # verb a noun), not "X 是谁"; on DRCD 7 of 9 such "foci" are not in the paragraph.
                nouns = []
            if nouns and nouns[-1] == "作者" and (title := _TITLE.search(question)):
                # "《政府论》的作者是谁": the text says "约翰·洛克在其《政府论》中", seldom 作者
                # (on DRCD 15 of 19 author questions' paragraphs lack it, none lacks the title).
                nouns = [title.group(0)]
            if nouns:
                kind = {"谁": "who", "哪里": "where", "哪儿": "where", "何处": "where", "何地": "where"}.get(
                    w, "when" if w in ("何时", "几时", "什么时候") or nxt in ("时候", "时间", "日子") else
                    "where" if nxt == "地方" else "who")
                return QuestionFocus(tuple(nouns), kind)
        prev = words[i - 1][0] if i else ""
        # 哪几路 asks which, 第多少代 an ordinal: neither counts.
        if prev.endswith(("哪", "第")):
            continue
        if w in _COUNTS or (w[:1] == "几" or w[:2] == "多少") and words[i][1] == "m":
            j = i + 1
            nxt_word = words[j][0] if j < len(words) else ""
            # The classifier (个, 名, 项) follows, or jieba has fused it in: 几个, 多少位.
            classified = w not in _COUNTS or (j < len(words) and (words[j][1] in ("q", "m")
                                                                   or nxt_word in CLASSIFIERS))
            unit = w.removeprefix("多少").removeprefix("几") if w not in _COUNTS else (
                nxt_word if classified else "")
            if unit.startswith(_TIME_UNITS):
                continue
            if w in _COUNTS and classified:
                j += 1
            nouns = []
            while j < len(words) and _is_noun(words[j][1]) and len(nouns) < 2:
                nouns.append(words[j][0])
                j += 1
            if (not nouns and unit and unit in CLASSIFIERS and all(t in _ENDS for t, _ in words[j:])
                    and i and words[i - 1][0] in _COUNT_LINKS):
                # the count of things ends the question, the things before it: "长春市的工匠学院
                # 有多少个" (not a measure, "全长有多少公里", nor "是几本", which asks which tier;
                # nor a one-character noun, "第五季")
                nouns = _nouns_before(words, i, _COUNT_LINKS, min_chars=2)
            if nouns:
                return QuestionFocus(tuple(nouns), "count", classified)
    return _what_focus(words)


def _what_focus(words: tuple[tuple[str, str], ...]) -> QuestionFocus | None:
    """"X的Y是什么": Y, the attribute of X asked for ("首开集团的工作机制是什么": 工作机制), which
    the answering sentence names ("构建…的工作机制"); None for any other what question."""
    tail = [(w, f) for w, f in words if f != "x"]
    if len(tail) < 4 or [w for w, _ in tail[-2:]] != ["是", "什么"]:
        return None
    j, nouns = len(tail) - 3, list[str]()
    while j >= 0 and _is_noun(tail[j][1]) and len(nouns) < 2:
        nouns.insert(0, tail[j][0])
        j -= 1
    while j >= 0 and nouns and tail[j][1] in ("m", "q"):  # "的四个关键环节是什么"
        j -= 1
    return QuestionFocus(tuple(nouns), "what") if nouns and j >= 0 and tail[j][0] == "的" else None


_ENTITY_FLAGS = ("ns", "nt")  # places and organisations; people's names are too often mis-tagged
_ADMIN_SUFFIX = "市省区县镇乡村"


@lru_cache(maxsize=4096)
def question_entities(question: str) -> tuple[str, ...]:
    """Named places and organisations in the question (长春市, 苏家坨)."""
    out = []
    for raw, flag in tagged(question):
        word = raw.strip()
        if len(word) >= 2 and flag in _ENTITY_FLAGS:
            # 长春市 is often just 长春 in the text; 密云区 just 密云.
            out.append(word[:-1] if len(word) > 2 and word[-1] in _ADMIN_SUFFIX else word)
    return tuple(dict.fromkeys(out))


# jieba's tags for people, places, bodies and other proper nouns.
_NAME_FLAGS = ("nr", "nrt", "nrfg", "ns", "nt", "nz")
_HAN = re.compile(r"[\u4e00-\u9fff]{2,}")
_ASKING = re.compile(r"[哪几何谁]|什么|多少|怎|如何")


# Interrogatives a kind of thing follows: "哪些荣誉", "什么海洋", "哪位大儒".
_ASKS_KIND = re.compile(r"什么|何种|哪一?(?:些|个|位|家|种|类|所|条|座|国)?")


def _asked_kind(words: tuple[tuple[str, str], ...], i: int) -> bool:
    """Whether word ``i`` is the kind of thing the question asks for, not a name: it follows a
    "which / what" and ends the noun phrase ("获得了哪些荣誉", "台东市的东边是什么海洋"). jieba's
    dictionary tags some such words as names (荣誉 and 大儒 as people, 海洋 as a place); the
    answer names the honour, not 荣誉. A word that goes on into a noun ("哪位美国总统": 美国)
    is still a name."""
    if i == 0 or not _ASKS_KIND.fullmatch(words[i - 1][0]):
        return False
    return i + 1 == len(words) or not _is_noun(words[i + 1][1])


def jieba_words() -> dict[str, int]:
    """jieba's dictionary, word -> frequency (loaded on first use): what tells a word jieba
    knows from one it guessed, and a common name from a specific one."""
    import jieba

    jieba.initialize()
    return jieba.dt.FREQ


def _may_name(word: str) -> bool:
    """Chinese characters only, and no interrogative (哪里, 什么): a word that can be a name."""
    return bool(_HAN.fullmatch(word)) and not _ASKING.search(word)


@lru_cache(maxsize=4096)
def question_names(question: str) -> tuple[str, ...]:
    """The proper names a question is about (广茂, 白岳峰, 楼曾瑞, 国家自然科学基金): words jieba
    tags as a person, place, body or other proper noun, and words of three characters or more
    its dictionary does not know (names it guessed). Chinese characters only: Latin words are
    model numbers, misspellings and search-box spam ("i77700k", "Sentanta", "xmhhsy") more often
    than names (rag/names.py)."""
    out = []
    words = tagged(question)
    for i, (raw, flag) in enumerate(words):
        word = raw.strip()
        if not _may_name(word) or _asked_kind(words, i):
            continue
        if flag in _NAME_FLAGS or len(word) >= 3 and word not in jieba_words():
            out.append(word)
    out.extend(facility_names(words))
    return tuple(dict.fromkeys(out))


# The kinds of facility a name is given to ("嘉兴南站", "龙烟铁路", "首都机场"): jieba cuts the
# name from its kind, and finds 嘉兴 and 南站 each somewhere, so only the two together tell that
# no article names this station.
FACILITY_HEADS = ("站", "南站", "北站", "东站", "西站", "铁路", "高铁", "机场", "大桥", "隧道", "码头")


def facility_names(words: tuple[tuple[str, str], ...]) -> list[str]:
    """Names of facilities the question asks about: a name (a word jieba tags as one, or one its
    dictionary does not know whole, such as 龙烟) followed by the kind of facility it names
    (:data:`FACILITY_HEADS`): "嘉兴南站", "余杭站", "龙烟铁路"."""
    out = []
    for (word, flag), (head, _) in zip(words, words[1:], strict=False):
        if head in FACILITY_HEADS and _may_name(word) and (flag in _NAME_FLAGS or not jieba_words().get(word)):
            out.append(word + head)
    return out


def names_entities(text: str, entities: tuple[str, ...]) -> bool:
    return all(e in text for e in entities)


def names_focus(text: str, focus: QuestionFocus, entities: tuple[str, ...]) -> bool:
    """Whether a passage may answer a question held to its focus: it names the focus and
    every place and body the question names (:func:`question_entities`)."""
    return mentions(text, focus) and names_entities(text, entities)


def mentions(text: str, focus: QuestionFocus) -> bool:
    """Whether ``text`` names the focus: the whole phrase, or its last word (the head noun)
    when that word is specific (two characters or more: 主席, 驿站, 院长). A focus that names
    nothing specific (:attr:`QuestionFocus.names_something`) holds no passage back."""
    if not focus.names_something or focus.phrase in text:
        return True
    head = focus.words[-1]
    # jieba fuses compounds its dictionary knows (公司总部): their last two characters are the head.
    return len(head) >= 2 and head in text or len(head) >= 4 and head.isalpha() and head[-2:] in text


def is_place_kind(word: str) -> bool:
    """A kind of place, not a place: "出生地是哪里", "县政府驻点在何处", "栖息地在哪里". The answer
    names the place (比利时迪南), seldom the kind; on DRCD 5 of the 10 where questions asking for one
    lack it in their own paragraph."""
    return word.endswith(_PLACE_KIND_ENDS) or word in _PLACE_KINDS


# jieba's dictionary frequency from which a name is too common to hold an answer's article to:
# 中国 129,470, 美国 36,089, 日本 25,307 and 东西 ("thing", tagged a place) 18,877 are above it;
# 台湾 8,683 and 韩国 3,375 are below and held (chosen on DRCD's answerable questions).
COMMON_NAME_FREQ = 10_000


def specific_names(question: str) -> tuple[str, ...]:
    """The question's names less those as common as :data:`COMMON_NAME_FREQ`: a question with
    none of these ("中国最长的河流是哪一条") holds no answer to naming its names."""
    return tuple(n for n in question_names(question) if jieba_words().get(n, 0) < COMMON_NAME_FREQ)


def named_in(name: str, text: str) -> bool:
    """Whether ``text`` (already :func:`~rag.lexical.plain`: spaces and punctuation do not
    separate a name) names ``name``, allowing for jieba's cut: a name of
    three characters or more may carry one character of its neighbour (白岳峰现, 成苏镜宇), and
    a long compound may be named in parts (国家自然科学基金: 国家自然 and 科学基金)."""
    if name in text:
        return True
    if name.endswith(FACILITY_HEADS):  # 嘉兴南站 is not named by 嘉兴 and 南站 apart, nor 余杭站 by 余杭
        return False
    if len(name) >= 3 and (name[:-1] in text or name[1:] in text):
        return True
    half = len(name) // 2
    return len(name) >= 4 and name[:half] in text and name[half:] in text
