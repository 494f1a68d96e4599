"""Multi-turn: turn a follow-up ("那它的导师有哪些人？") into a question retrieval can use.

Retrieval sees one string. A follow-up that leans on the conversation (a pronoun, "那",
or almost no content words of its own) is searched together with the earlier question
it follows, which carries the subject (密云区工匠学院). A question that names its own
subject starts afresh, so an unrelated new question is not polluted by old context.
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


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "assistant" | "system"
    content: str


def is_followup(question: str) -> bool:
    """Whether the question depends on what came before it."""
    q = question.strip()
    if _ANAPHORA.search(q):
        return True
    return len(content_words(q)) <= 1 and len(q) <= 12


def standalone_question(history: Sequence[Turn], question: str, *, max_chars: int = 400) -> str:
    """The question to retrieve with: the follow-up prefixed by the question it follows.

    Walks back through earlier user turns while they are themselves follow-ups, so a chain
    of three questions still carries the first one's subject.
    """
    if not is_followup(question):
        return question
    context: list[str] = []
    for turn in reversed(history):
        if turn.role != "user" or not turn.content.strip():
            continue
        context.insert(0, turn.content.strip())
        if not is_followup(turn.content):
            break
    if not context:
        return question
    combined = " ".join([*context, question.strip()])
    return combined[-max_chars:]
