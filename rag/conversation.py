"""Multi-turn: turn a follow-up ("那它的导师有哪些人？") into a question retrieval can use.

Retrieval sees one string. A follow-up that leans on the conversation (a pronoun, "那",
or almost no content words of its own) is searched together with the earlier question
it follows, which carries the subject (密云区工匠学院). A question that names its own
subject starts afresh, so an unrelated new question is not polluted by old context.

A pronoun that stands for the earlier question's subject is replaced by it ("刘欣欣是哪家报社的
记者" → "她写了哪些报道" → "刘欣欣写了哪些报道"; "首开书院在哪里" → "它面向谁开放"), and a question
with no subject of its own is asked about it ("苏家坨镇总工会慰问了哪些单位" → "送了什么"): the
composer reads one question, not two, and the people and byline answers see their own phrasing.
"他/她" stand only for a person the earlier question leads with, "它/其/该…" only for a body or
place; anything else is searched together with the earlier question as before.

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

# "该学院", "该镇": the body or place named before.
_THAT_BODY = r"该(?:单位|机构|学院|书院|中心|公司|集团|工会|项目|活动|组织|镇|区|市|县)"
# Words that point back at something said before.
_ANAPHORA = re.compile(
    r"^(?:那么?|那个|这个|还有|另外|此外|然后|并且|以及|其中|其他|其余)|"
    r"[它他她]们?|其[中他余]?(?=的|有|是|在|[\u4e00-\u9fff])|" + _THAT_BODY + "|"
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
    if users:
        # the earlier question as it was itself resolved: worked out once here, so a chain of
        # follow-ups walks back once per turn
        i = users[-1]
        earlier = standalone_question(history[:i], history[i].content.strip(), max_chars=max_chars)
        if (m := _ELLIPSIS.match(question.strip())) and not _ANAPHORA.search(m["x"]) and not _ASKED.search(m["x"]) \
                and (again := _ask_again(earlier, m["x"])) is not None:
            return again[-max_chars:]
        if (resolved := _resolved(earlier, question.strip())) is not None:
            return resolved[-max_chars:]
    context: list[str] = []
    for i in reversed(users):
        context.insert(0, history[i].content.strip())
        if not is_followup(history[i].content):
            break
    if not context:
        return question
    combined = " ".join([*context, question.strip()])
    return combined[-max_chars:]


# The subject an earlier question leads with: a named body or place, the longest one before
# its verb ("密云区工匠学院" of "密云区工匠学院的院长是谁", "长春市总工会" of "…解决了多少项难题"),
# or a person's name after a common surname ("刘欣欣" of "刘欣欣是哪家报社的记者").
_LEAD_BODY = re.compile(r"^[^的了是在有把被将和与及、，。？?！!\s]{1,12}(?:区|市|县|省|镇|乡|村|街道|集团|公司|总工会|工会|学院"
                        r"|大学|医院|银行|协会|书院|中心|院)")
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
             "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤宗边")
_LEAD_PERSON = re.compile(f"^[{_SURNAMES}]" + r"[\u4e00-\u9fff]{1,2}?(?=是|写|拍|采写|担任|的|在|还)")
# A pronoun for a person; for a body or place ("其中", "其他" are no pronoun of it).
_HE = re.compile(r"[他她](?!们)")
_IT = re.compile(r"它(?!们)|其(?![中他余实])(?=[\u4e00-\u9fff])|" + _THAT_BODY)
_ASKS = re.compile(r"什么|谁|哪|多少|几|怎么|怎样|如何|为什么|吗")


def _resolved(earlier: str, question: str) -> str | None:
    """``question`` with the earlier question's subject in place of its pronoun, or before it
    when it has no subject of its own; None when neither fits (see the module's docstring)."""
    if _ELLIPSIS.match(question):
        return None
    q = re.sub(r"^(?:那么?|那)(?=[\u4e00-\u9fff])", "", question)
    person = _LEAD_PERSON.match(earlier)
    body = None if person else _LEAD_BODY.match(earlier)
    if (m := _HE.search(q)) is not None:
        return q[:m.start()] + person.group() + q[m.end():] if person else None
    if (m := _IT.search(q)) is not None:
        return q[:m.start()] + body.group() + q[m.end():] if body else None
    if _ANAPHORA.search(q) or len(content_words(q)) > 1 or not _ASKS.search(q):
        return None
    lead = person or body
    return lead.group() + q if lead else None


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
