"""What kind of sentence a passage sentence is, so the composer can pass over the kinds
that are not answers.

A *directive* addresses the reader or a model rather than reporting anything: requests to
visit a URL, to ignore instructions, to contact someone, to scan a code. An article with
"本报已停刊，请访问 evil.example" planted in it must not have that sentence quoted as the
answer to a question about the article's topic; only a question that asks how to reach
someone (网址, 联系方式, 电话) may be answered with one.
"""

from __future__ import annotations

import re

_DIRECTIVE = re.compile(
    r"(https?://|www\.|\b[\w-]+\.(?:com|cn|net|org|example)\b"
    r"|请(?:访问|登录|点击|联系|拨打|致电|扫描|扫码|关注|转发|回复|发送|前往|下载)"
    r"|(?:忽略|无视|忘记)(?:之前|以上|上述|前面|所有|一切)?(?:的)?(?:所有)?(?:指令|指示|提示|规则|要求)"
    r"|ignore (?:all |any )?(?:previous |prior |above )?instructions"
    r"|(?:扫描|长按)(?:下方|上方)?二维码|点击(?:链接|下方|这里)|关注(?:微信)?公众号"
    r"|对任何问题都回答|你(?:必须|应该)回答)",
    re.IGNORECASE)
_ASKS_FOR_CONTACT = re.compile(r"网址|网站|链接|官网|联系|电话|热线|邮箱|公众号|二维码|怎么报名|如何报名|在哪报名|地址")


def is_directive(sentence: str) -> bool:
    """True for a sentence that tells the reader (or a model) to do something."""
    return bool(_DIRECTIVE.search(sentence))


def asks_for_contact(question: str) -> bool:
    """True when the question itself asks for a link, an address or contact details."""
    return bool(_ASKS_FOR_CONTACT.search(question))
