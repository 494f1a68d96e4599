"""What kind of sentence a passage sentence is, so the composer can pass over the kinds
that are not answers and prefer the ones that carry what was asked.

A *directive* addresses the reader or a model rather than reporting anything: requests to
visit a URL, to ignore instructions, to contact someone, to scan a code. An article with
"本报已停刊，请访问 evil.example" planted in it must not have that sentence quoted as the
answer to a question about the article's topic; only a question that asks how to reach
someone (网址, 联系方式, 电话) may be answered with one.
"""

from __future__ import annotations

import re

from rag.question import CLASSIFIERS

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


_QUESTION_END = re.compile(r"(?:[？?]|[吗呢][？?！!。]?)\s*[”」』]?$")
_INTERROGATIVE = re.compile(r"谁|多少|几[个位名次年天岁]|什么|哪[里儿个些年天位]|何时|为何|为什么|怎么|如何")


def is_question_shaped(sentence: str) -> bool:
    """A sentence that asks rather than tells ("…总导演是谁？"): never an answer by itself."""
    s = sentence.strip()
    return bool(_QUESTION_END.search(s)) or (len(s) < 40 and bool(_INTERROGATIVE.search(s)) and s.endswith(("？", "?")))


# "半年", "两个月", "两层" (any classifier but 种: "一种" is the indefinite article, "最先进的一种
# 方法", and "两种方法" no figure of anything asked); "1991 年 4 月" as translated text spaces it.
_NUMBER = re.compile(r"[0-9０-９]|[一二三四五六七八九十百千万两半]+["
                     + "".join(sorted((CLASSIFIERS - {"种"}) | set("个名位家项次人元年月日天条座所万亿岁%"))) + "]")
_DATE = re.compile(r"\d{2,4} ?年|\d{1,2} ?月|\d{1,2} ?日|[今去明前]年|[一二三四五六七八九十]+月|星期|周[一二三四五六日]")
_PLACE = re.compile(r"[省市区县镇乡村路街道巷号楼]|国|广场|公园|中心|大厦|院")
_PLAN = re.compile(r"将(?:于|在|会|要)?|计划|预计|拟|准备|有望|即将|打算")
_ASKS_PLAN = re.compile(r"打算|计划|将|未来|明年|下一步|准备")


def has_type(sentence: str, kind: str) -> bool:
    """Whether the sentence holds something of the kind the question wants."""
    if kind == "count":
        return bool(_NUMBER.search(sentence))
    if kind == "date":
        return bool(_DATE.search(sentence))
    if kind == "place":
        return bool(_PLACE.search(sentence))
    if kind == "person":
        import jieba.posseg as pseg

        return any(w.flag in ("nr", "nrt", "nrfg") for w in pseg.cut(sentence))
    return False


def announces(sentence: str) -> bool:
    """A sentence about what will happen (将, 计划, 预计) rather than what did."""
    return bool(_PLAN.search(sentence))


def asks_about_plans(question: str) -> bool:
    return bool(_ASKS_PLAN.search(question))
