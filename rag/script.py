"""Questions typed in Traditional characters read in Simplified ones.

The archive is written in Simplified characters. A question pasted from a Hong Kong or Taiwan
source ("首開集團建了多少個工會驛站") found the right passages by meaning, but its names matched no
article's words: the name check refused it ("现有文章中没有提到首開集團"). It is read as
"首开集团建了多少个工会驿站". A question in Simplified characters with one variant character
("跃於戏剧圈", "黄霑") is left as typed: a single character is more often a name's own spelling
than a script (CMRC's 3,219 questions hold four such, no question with two). An archive
written in Traditional characters turns this off (``ZHRAG_SIMPLIFY_QUESTIONS=false``): its
articles are indexed and checked for names as written, not converted.
"""

from __future__ import annotations

import functools
from typing import Any

# How many characters must differ from their Simplified form for a question to be read as
# written in Traditional characters.
MIN_TRADITIONAL_CHARS = 2


@functools.cache
def _to_simplified() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """``text`` in Simplified characters when it is written in Traditional ones, else as it is.
    (OpenCC's t2s conversion, phrase by phrase: "乾隆" stays, "乾燥" becomes "干燥".)"""
    if text.isascii():
        return text
    converted: str = _to_simplified().convert(text)
    if len(converted) != len(text):
        return text
    differ = sum(a != b for a, b in zip(text, converted, strict=True))
    return converted if differ >= MIN_TRADITIONAL_CHARS else text
