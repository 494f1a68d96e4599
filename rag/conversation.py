"""Multi-turn: turn a follow-up ("那它的导师有哪些人？") into a question retrieval can use.

Retrieval sees one string. A follow-up that leans on the conversation (a pronoun, "那",
or almost no content words of its own) is searched together with the earlier question
it follows, which carries the subject (密云区工匠学院). A question that names its own
subject starts afresh, so an unrelated new question is not polluted by old context.

"X呢" asks the earlier question again about X ("首开集团建了多少个工会驿站" → "密云区呢？"):
it becomes that question with X in place of its body or place, or of what its question
word asks for ("那市级职工之家呢" → "首开集团建了多少个市级职工之家"), so the reader is not
handed two questions at once; where neither fits, the two are searched together as above.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.lexical import content_words

# Words that point back at something said before.
_ANAPHORA = re.compile(
    r"^(?:那么?|那个|这个|还有|另外|此外|然后|并且|以及|其中|其他|其余)|"
    r"[它他她]们?|其[中他余]?(?=的|有|是|在|[\u4e00-\u9fff])|该(?:单位|机构|学院|公司|集团|工会|项目|活动|组织)|"
    r"这些|那些|这里|那里|上述|前者|后者|此事|这件事|那件事"
)


# "密云区呢？", "那市级职工之家呢": the earlier question, asked about X.
_ELLIPSIS = re.compile(r"^(?:那么?|还有)?(?P<x>[^，。？?！!、\s]{2,12}?)呢[？?]?$")
# A named body or place, as news questions lead with one ("首开集团", "长春市", "东城区总工会").
_BODY = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]{1,10}?(?:区|市|县|省|镇|乡|村|街道|集团|公司|总工会|工会|学院|大学|医院|银行|协会)")
_ASKED = re.compile(r"(?:多少|几)[个位名家项次条座所场人元]?|哪些|什么")


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "assistant" | "system"
    content: str


def is_followup(question: str) -> bool:
    """Whether the question depends on what came before it."""
    q = question.strip()
    if _ANAPHORA.search(q) or _ELLIPSIS.match(q):
        return True
    return len(content_words(q)) <= 1 and len(q) <= 12


def standalone_question(history: Sequence[Turn], question: str, *, max_chars: int = 400) -> str:
    """The question to retrieve with: "X呢" as the earlier question asked about X, or the
    follow-up prefixed by the question it follows.

    Walks back through earlier user turns while they are themselves follow-ups, so a chain
    of three questions still carries the first one's subject.
    """
    if not is_followup(question):
        return question
    users = [i for i, t in enumerate(history) if t.role == "user" and t.content.strip()]
    if (m := _ELLIPSIS.match(question.strip())) and users and not _ANAPHORA.search(m["x"]) \
            and not _ASKED.search(m["x"]):
        i = users[-1]
        earlier = standalone_question(history[:i], history[i].content.strip(), max_chars=max_chars)
        if (again := _ask_again(earlier, m["x"])) is not None:
            return again[-max_chars:]
    context: list[str] = []
    for i in reversed(users):
        context.insert(0, history[i].content.strip())
        if not is_followup(history[i].content):
            break
    if not context:
        return question
    combined = " ".join([*context, question.strip()])
    return combined[-max_chars:]


def _ask_again(earlier: str, x: str) -> str | None:
    """``earlier`` about ``x``: x in place of its first body or place when x names one, else
    in place of what its question word asks for; None when neither is there."""
    if _BODY.fullmatch(x):
        m = _BODY.search(earlier)
        return earlier[:m.start()] + x + earlier[m.end():] if m else None
    m = _ASKED.search(earlier)
    if m is None:
        return None
    tail = earlier[m.end():]
    stop = re.search(r"[，。？?！!\s]", tail)
    end = m.end() + (stop.start() if stop else len(tail))
    return earlier[:m.end()] + x + earlier[end:] if end > m.end() else None
