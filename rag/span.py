"""Short answers: the exact words of the cited sentence that answer a factoid question
("首开集团建了多少个工会驿站" → "167个"), with their offsets.

Two parts. The trained reader (rag/reader.py) finds a span by default; this module then
checks that it is of the kind asked (:func:`fits_kind`: a count holds a figure, a who answer
is no verb) and shapes it as the answer gives it (:func:`shaped`: a figure with its unit and
the figures joined to it, brackets closed, a list grown to all its items). The rules below
are the fallback when no reader is loaded (``ZHRAG_SHORT_ANSWERS=rules``), and still answer a
count the reader took words for. They were developed on DRCD-dev (training data) only:

1. **Slot alignment.** Reading-comprehension questions are often the sentence rephrased
   with a question word in place of the answer ("东德国歌是谁作的" / "东德国歌由汉斯·艾斯勒
   作曲"). The words left of the question word and the words right of it are found in the
   sentence; what lies between them is the answer, if it is short and unbroken.
2. **Typed candidates.** A count question takes a number with its unit ("167个", "两小时",
   "2.1%"), a date question a date, a who question a person's name (jieba's nr tags, or a
   transliterated "汉斯·艾斯勒"), a where question a place name. Among candidates not in the
   question, the one nearest the question's words in the sentence wins.

Without the reader, "what" and "how" questions get no short answer: on DRCD-dev a noun
picked for them was right too rarely to put before the cited sentence (eval/RESULTS.md,
"Short answers").
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

from rag.lexical import content_words
from rag.question import CLASSIFIERS, jieba_words, question_focus, tagged

_UNIT = (r"(?:个半月|个半小时|个月|小时|分钟|秒钟|公里/小时|平方公里|平方米|公里|公尺|千米|厘米|毫米|米|毫升|升|公斤|千克|公吨|吨|克|摄氏度|度|"
         r"万人次|人次|万人|亿人|KB|MB|GB|TB|km|kg|cm|mm|ml|mAh|mAH|kW|GHz|MHz|Hz|"
         r"票(?!房)|[个名位家项次人元年月日天周条座所岁%％届场件部种只辆架艘颗枚倍户层台首集章卷册期号席分亩秒])")  # "1.22亿|票房"
_NUMERALS = "一二三四五六七八九十百千万两零〇"
# What may follow a number's digits: "多"/"余", a magnitude, "多"/"余" again ("3万余"), then the unit.
_MAGNITUDE = r"(?:多|余)?[万亿千百]?(?:多|余)?"
# Digits that may hold separators but not end in one ("1,200", not "1,"): a number, or one end of a range.
_DIGITS = r"\d(?:[\d,.]*\d)?"
# A figure's own qualifier: "约3万", "超过10%", "共14个".
_ABOUT = r"(?:大约|约|近|超过|逾|共|仅)?"
_NUMBER = re.compile(_ABOUT + r"(?:" + _DIGITS + r"(?:[-~～—]" + _DIGITS + r")*|[" + _NUMERALS + "几]+)"
                     + _MAGNITUDE + _UNIT + r"?(?:多|余)?")
_DATE = re.compile(r"(?:公元前?|西元)?\d{1,4}年(?:\d{1,2}月)?(?:\d{1,2}日)?|\d{1,2}月\d{1,2}日|\d{1,2}月|\d{2,4}年代"
                   r"|[一二三四五六七八九十]+世纪(?:[一二三四五六七八九十]+十年代)?(?:初|中|末)?")
_TRANSLITERATED = re.compile(r"[\u4e00-\u9fff]+(?:[·・．][\u4e00-\u9fff]+)+")
_QUESTION_WORD = re.compile(r"(?:是)?(?:什么(?:样的|时候)?\w?|哪(?:一|几)?[个家种部所位些年天里儿条座本首件项支国省市州]?|谁"
                            r"|多少\w?|几[个位名次项家条座所岁年天种倍]?|何(?:时|地|处|人|种)?|多[大长高远久重])")
_PUNCT = re.compile(r"[，。；：！？、,.;:!?（）()《》“”「」\s]")
_TAGS = {"person": ("nr", "nrt", "nrfg"), "place": ("ns", "nsf")}
# jieba tags some verbs as names ("弘扬" nr): a Chinese name starts with a common surname.
_SURNAMES = frozenset("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
                      "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
                      "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒"
                      "阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司"
                      "卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁"
                      "沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺"
                      "楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁"
                      "芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利"
                      "於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由")


# "Why", but not "called what" ("被称为什么", "名为什么", "更名为什么", "视为什么", "作为什么").
_WHY = r"(?<![称名视作])为什么|为何|何以|什么原因|原因是|原因为|的原因"


def asks_for_explanation(question: str) -> bool:
    """"How does X work", "why", "what are X's plans", "X的情况", "介绍…": questions whose
    answer is sentences, not a few words ("东城区总工会2025年有什么打算" is not answered "全区中心
    工作", nor "苏家坨镇慰问活动的情况" with the campaign's name). Of the shared and DRCD sets'
    questions, the ones ending in 的情况 all ask with a question word, and the one asking for an
    introduction says 介绍一下 (taken before)."""
    return bool(re.search(r"怎么(?!样的)|怎样|如何|哪些措施|做法|介绍一下|讲讲|说说|(?:什么|哪些|有何)打算|"
                          r"^[^什哪谁多几何]*的情况[？?]?$|^请?(?:介绍|简介|概述|总结)|" + _WHY, question))


# A search-box query that only names a subject ("首开书院", "167个工会驿站"), as
# the cited sentence writes it, asks to be told about it, as "介绍…" does: the reader's pick of
# words near it ("北京市公共区域职工之家" for 首开书院) answers nothing. Not one that ends with
# what it wants: of DuReader's first 300 queries, the three written out in their cited sentence
# all end so ("iphone7尺寸", "欧冠决赛2017决赛时间", "子宫大小"); CMRC's and XQuAD's hold none.
_ATTRIBUTE_TAIL = re.compile(r"(?:时间|日期|尺寸|大小|长度|高度|宽度|重量|地址|地点|位置|原因|意思|区别|作用|功效|成分|"
                             r"配置|型号|规格|标准|条件|要求|流程|方法|结果|成绩|排名|名单|答案|官网|网址)$")
_ASKING = re.compile(r"吗|呢|怎|如何|为何|为什么|是否")


def names_a_topic(question: str, sentence: str) -> bool:
    """Whether the question only names a subject the sentence writes out (see _ATTRIBUTE_TAIL)."""
    return topic_mention(question, sentence) is not None


def topic_mention(question: str, sentence: str) -> tuple[int, int] | None:
    """Where ``sentence`` writes out a query that only names a subject (see _ATTRIBUTE_TAIL),
    punctuation and case aside: its start and end in the sentence; None for any other."""
    typed = _as_typed(question)
    subject = _PUNCT.sub("", typed).lower()
    if (len(subject) < 2 or question_kind(question) is not None or _QUESTION_WORD.search(question)
            or _ASKING.search(question) or _ATTRIBUTE_TAIL.search(typed)):
        return None
    kept = [i for i, ch in enumerate(sentence) if not _PUNCT.match(ch)]
    plain_text = "".join(sentence[i] for i in kept).lower()
    at, length = plain_text.find(subject), len(subject)
    if at < 0:
        # a name typed short ("密云工匠学院" for 密云区工匠学院): its characters in order, with a
        # character or two the sentence adds between them
        m = re.search(".?".join(map(re.escape, subject)), plain_text)
        if m is None or len(m.group()) > length + _TYPED_SHORT:
            return None
        at, length = m.start(), len(m.group())
    return kept[at], kept[at + length - 1] + 1


# How many characters a subject typed short may leave out of the name a sentence writes.
_TYPED_SHORT = 2


# How far after a query's subject the value it asks for may begin ("网易股价为238.03美元",
# "迪丽热巴生日：1992年06月03日": DuReader's search-box queries written out in their page have
# their answer 1 to 9 characters after them).
_VALUE_AFTER = 12


def answers_the_topic(question: str, sentence: str, start: int, end: int) -> bool:
    """Whether ``sentence[start:end]`` may answer a query that only names a subject the sentence
    writes out: it overlaps the mention or begins right after it (a value written after its
    attribute, "玉的反义词是瓦"). The reader's pick elsewhere ("北京市公共区域职工之家" for
    "首开书院", "市级职工之家" before "167个工会驿站") tells nothing about the subject."""
    m = topic_mention(question, sentence)
    return m is not None and (start < m[1] and end > m[0] or m[1] <= start <= m[1] + _VALUE_AFTER)


# A definition question and the term it asks about: "什么是地月空间", "赫罗图是什么",
# "业工融合是什么意思", "盖亚假说指的是什么".
_DEFINITION = (re.compile(r"^(?:请问)?什么(?:是|叫)(.{2,20}?)$"),
               re.compile(r"^(.{2,20}?)(?:是什么意思|的意思是什么|指的是什么|是指什么|是什么东西|是什么)$"))
_TERM_QUOTES = "“”「」《》\"'‘’"
# Words that join a term and what it is: "…，即赫罗图", "…称为民主化", "专属经济区…是指…",
# "纳怜道，蒙语意为小道", "邮票的正式名称为邮值标签".
_DEFINING = re.compile(r"是|即|为|指|称|叫|意|系|乃")
# How far from the term its definition, or the word defining it, may stand: of DRCD's definition
# questions whose paragraph writes the term out (training data), 22 of 25 golds begin or end within
# this of it.
_DEFINITION_NEAR = 12
# What ends a defining word's clause: the marks that end a clause (_CLAUSE_END) but a colon, which
# introduces the definition ("费马原理是几何光学的基本定理：光传播的路径是…").
_CLAUSE_MARK = re.compile(r"[，。；！？,;!?]")
# How long the kind of thing a term names may be after it ("研学行动" of "“十万学子看长春”研学行动").
_KIND_CHARS = 6


def defined_term(question: str) -> str | None:
    """The term a definition question asks about ("业工融合" of "业工融合是什么意思"), None for
    any other question."""
    typed = _as_typed(question)
    for pattern in _DEFINITION:
        if (m := pattern.match(typed)) is not None:
            term = m.group(1).strip(_TERM_QUOTES)
            return term if len(term) >= 2 else None
    return None


def defines(question: str, sentence: str, start: int, end: int) -> bool:
    """Whether ``sentence[start:end]`` may answer a definition question as a definition of its
    term: joined to the term by a defining word ("描绘…的图，即赫罗图"; "民主化…是指…", to the end of
    that word's clause), the term and the kind of thing it is ("“十万学子看长春”研学行动"), or set
    right after a term that opens its clause ("抱树运动，以和平方式抱住大树…"). Words elsewhere in a
    sentence that names the term answer nothing about it: "为打造长春红旗工匠人才培育体系，长春市总
    工会…" does not say the system is 长春市总工会, nor "推进“业工融合”，…将工会的服务职能…" that
    业工融合 is 工会, and words that hold the term ("集团工会着力提升职工服务阵地的服务性" for
    "职工服务阵地是什么") are about it. True for other questions, and when the sentence does not
    write the term. Of DRCD's 54 definition questions (training data), 52 gold spans pass."""
    term = defined_term(question)
    if term is None:
        return True
    spots = [m.start() for m in re.finditer(re.escape(term), sentence, re.IGNORECASE)]
    if not spots:
        return True
    for at in spots:
        if sentence[start:at].strip(_TERM_QUOTES) == "" and start <= at and (
                0 < len(rest := sentence[at + len(term):end].strip(_TERM_QUOTES)) <= _KIND_CHARS
                and not _PUNCT.search(rest)):
            return True  # the term and the kind of thing it is: "“十万学子看长春”研学行动"
        after = sentence[at + len(term):start]
        joined = next((m for m in reversed(list(_DEFINING.finditer(after))) if m.start() <= _DEFINITION_NEAR), None) \
            if start >= at + len(term) else None
        if joined is not None and not _CLAUSE_MARK.search(after[joined.end():]) \
                and _joins_the_term(after[:joined.start()]):
            return True  # "人工智障爱酱,是A.I.Channel里的kizina ai": the defining word's clause, however long
        if 0 <= start - at - len(term) <= _DEFINITION_NEAR and (
                not after.strip(_TERM_QUOTES)
                or not after.strip(_TERM_QUOTES + "，,：:（( ")
                and not sentence[:at].rstrip(_TERM_QUOTES)[-1:].strip(_CLAUSE_END)):
            return True
        before = sentence[end:at]
        if 0 <= at - end <= _DEFINITION_NEAR and _DEFINING.search(before):
            return True
    return False


def _joins_the_term(between: str) -> bool:
    """Whether a defining word after the term, ``between`` them, speaks of the term: in the
    term's own clause ("…是"), or first in the next one when the term ends its clause
    ("人工智障爱酱,是…"). "开展流动驿站建设，为项目管理人员…提供“温馨港湾”" does not say what a
    流动驿站 is: its 为 opens a clause after other words ("建设")."""
    mark = _CLAUSE_MARK.search(between)
    return mark is None or not between[:mark.start()].strip(_TERM_QUOTES)


def asks_for_reason(question: str) -> bool:
    """"赵鹏为什么没有出场", "…的原因是什么": the reason is a clause ("伤病困扰") that can stand
    first, before the sentences that give it, as a count or a name does. (How questions have
    no such clause: "津蓟铁路的线路是怎样的" is answered by the sentences.)"""
    return bool(re.search(_WHY, question))


# A search-box query (short, no question word) that ends with the quantity it wants:
# "亚马逊市值", "劳务派遣税率", "王妍之身高", "广州科龙空调售后电话", and a measure's
# "iphone7尺寸", "子宫大小" (DuReader's 23 such queries all have a gold with a figure in it, and
# both of DRCD's keyword-form ones, "发球线和球网的距离": 6.40米). A number answers it. A
# long sentence ending so ("七鳃鳗的数量会影响物种的数量") is a statement with its question
# word lost, and its answer seldom a number: on DRCD's questions in keyword form (training data)
# the rule without the length cap changed 5 of 300 answers, 3 for the worse, all over 15
# characters (eval/RESULTS.md, "Lists, quantities and counts of things").
_SEARCH_BOX_CHARS = 12
_PHONE_TAIL = r"电话|号码"
_QUANTITY_TAIL = re.compile(r"(?:数量|价格|价钱|票房|市值|销量|收入|身高|体重|税率|人数|人口|面积|奖金|工资|年龄|费用|"
                            r"尺寸|尺码|大小|容量|长度|高度|宽度|深度|重量|距离|速度|温度|"
                            + _PHONE_TAIL + ")$")


_TIME_TAIL = re.compile(r"(?:时间|日期)$")


def asks_time_by_tail(question: str) -> bool:
    """A search-box query ending in 时间 or 日期 ("顺丰控股上市时间"): it asks when, or now and then
    how long ("鬼王CD时间": 40分钟)."""
    typed = _search_box(question)
    return typed is not None and bool(_TIME_TAIL.search(typed))


def _as_typed(question: str) -> str:
    return question.rstrip("?？。 ")


def _search_box(question: str) -> str | None:
    """The question as typed into a search box ("加勒比海盗5票房"): short, with no question word;
    None for any other question."""
    typed = _as_typed(question)
    return typed if len(typed) <= _SEARCH_BOX_CHARS and not _QUESTION_WORD.search(question) else None


def asks_for_phone(question: str) -> bool:
    """"广州海尔空调维修电话": a telephone number, which pages give one each (no conflict)."""
    return bool(re.search(f"(?:{_PHONE_TAIL})$", _as_typed(question)))


def question_kind(question: str) -> str | None:
    """count, date, person or place; None for anything else (what, why, how...)."""
    typed = _search_box(question)
    if typed is not None and _QUANTITY_TAIL.search(typed):
        return "count"
    if asks_time_by_tail(question):  # "顺丰控股上市时间" asks when, as "…什么时候上市" does
        return "date"
    # "哪几个部分" asks which, not how many, and "20几所" is a figure; "多伦多大学" is no "多大".
    if re.search(r"多少|(?<![哪\d十])几[个位名次项家条座所岁%年天种倍层]|几$|多[大长高远久重](?!学)", question):
        return "count"
    if re.search(r"何时|什么时候|哪[一]?年|哪天|几月|几号|哪一天|什么时间|何年|年份|哪个年代|哪个世纪", question):
        return "date"
    if re.search(r"谁|什么人|哪位|名字|叫什么|何人", question):
        return "person"
    if re.search(r"哪里|哪儿|在哪|何地|何处|什么地方|(?:什么|哪个)(?:位置|地点)|哪个国家|哪个城市|哪个省|位于", question):
        return "place"
    return None


def _slot(question: str, sentence: str) -> tuple[int, int] | None:
    m = _QUESTION_WORD.search(question)
    if not m:
        return None
    left = question[:m.start()].rstrip("是的在于由被从为")
    right = _PUNCT.sub("", question[m.end():]).rstrip("?？吗呢")
    l_end = next((i + n for n in range(min(len(left), 12), 1, -1) if (i := sentence.find(left[-n:])) >= 0), None)
    if l_end is None or not right:
        return None
    r_start = next((j for n in range(min(len(right), 12), 1, -1) if (j := sentence.find(right[:n], l_end)) >= 0),
                   None)
    if r_start is None or not 0 < r_start - l_end <= 25:
        return None
    s, e = l_end, r_start
    while s < e and sentence[s] in "，。、：；的是由在于为了被从 ":
        s += 1
    while e > s and sentence[e - 1] in "，。、：；的是由在于为了被从 ":
        e -= 1
    return (s, e) if e > s and not _PUNCT.search(sentence[s:e]) else None


def _candidates(sentence: str, kind: str) -> list[tuple[int, int]]:
    if kind == "count":
        return [(m.start(), m.end()) for m in _NUMBER.finditer(sentence)
                if re.search(r"\d", m.group()) or re.search(_UNIT + "$", m.group())]
    if kind == "date":
        return [(m.start(), m.end()) for m in _DATE.finditer(sentence)]
    import jieba.posseg as pseg

    out: list[tuple[int, int]] = []
    pos, cur = 0, None
    words = list(pseg.cut(sentence))
    for w in words:
        end = pos + len(w.word)
        if w.flag in _TAGS[kind] or (cur is not None and w.flag in ("n", "nz", "ng")):
            cur = (cur[0], end) if cur else (pos, end)
        else:
            if cur:
                out.append(cur)
            cur = None
        pos = end
    if cur:
        out.append(cur)
    if kind == "person":
        out = [(s, e) for s, e in out if sentence[s] in _SURNAMES and 2 <= e - s <= 4]
        out += _transliterated(sentence, [w.word for w in words])
    return out


def _transliterated(sentence: str, words: list[str]) -> list[tuple[int, int]]:
    """Names like 汉斯·艾斯勒: the words joined by the dots, as jieba cut them (a regex over
    characters would swallow the neighbours, "由汉斯·艾斯勒作曲")."""
    bounds, pos = [], 0
    for w in words:
        bounds.append((pos, pos + len(w)))
        pos += len(w)
    out = []
    for m in _TRANSLITERATED.finditer(sentence):
        dots = [i for i in range(m.start(), m.end()) if sentence[i] in "·・．"]
        left = next(s for s, e in bounds if s <= dots[0] - 1 < e)
        right = next(e for s, e in bounds if s <= dots[-1] + 1 < e)
        out.append((left, right))
    return out


# An item's number in a list of points: "1、", "2.", "一、" (a bare figure of one or two digits, or
# numerals, before the mark, at the start of a clause: not the "42." ending "零点零零42.", nor the
# "56." of a decimal, " 56.2% 为天主教徒").
_ENUMERATOR = re.compile(r"(?:(?<=[：:；;，,。！？\s])|^)(?:\d{1,2}[、.．](?![\d０-９])|[一二三四五六七八九十]{1,2}、)")


def short_answer(question: str, sentence: str) -> tuple[int, int] | None:
    """Offsets in ``sentence`` of the words that answer ``question``, or None."""
    kind = question_kind(question)
    if kind in (None, "person"):
        got = _slot(question, sentence)
        if got is not None:
            return got
    if kind is None:
        return None
    if kind == "count" and asks_for_phone(question):
        # A telephone number, not the "24小时" of the service beside it.
        phone = _PHONE.search(sentence)
        return (phone.start(), phone.end()) if phone else None
    terms = [t for t in content_words(question) if len(t) >= 2]
    cands = [(s, e) for s, e in _candidates(sentence, kind)
             if sentence[s:e] not in question and not any(sentence[s:e] in t for t in terms)]
    if not cands:
        return None
    anchors = [m.start() + len(t) / 2 for t in terms for m in re.finditer(re.escape(t), sentence)] or [len(sentence) / 2]
    # "多少个" wants a count in 个: a number with the asked unit first, then any with a unit
    # (a bare "3" in "3转4强7新" is seldom the count), then the nearest to the question's words.
    unit = _asked_unit(question) if kind == "count" else ""
    if kind == "count":
        # only figures that can answer as the count asked ("造影多少钱": "150-600", not the
        # "两周" before it: the test the reader's span passes too), not a year unless asked in
        # years
        cands = [c for c in cands if not _date_not_count(unit, sentence[c[0]:c[1]]) and holds_count(question, sentence, *c)]
        if not cands:
            return None

    def rank(c: tuple[int, int]) -> tuple[bool, bool, float]:
        text = sentence[c[0]:c[1]].rstrip("多余")
        return (bool(unit) and not text.endswith(unit), kind == "count" and text[-1:].isdigit(),
                min(abs((c[0] + c[1]) / 2 - a) for a in anchors))

    return min(cands, key=rank)


# After a figure the reader picked, any classifier is its unit too ("两" of "两支球队" → "两支"):
# the ones _UNIT lacks ("一批", "一片") are left out of _NUMBER's candidates, where they would
# be taken for counts, but not here.
_UNIT_AFTER = re.compile(_MAGNITUDE + r"(?:" + _UNIT + "|[" + "".join(sorted(CLASSIFIERS)) + "])")
_PHONE = re.compile(r"(?<!\d)(?:\d{3,4}[-－—]\d{3,4}(?:[-－—]\d{3,4})?|\d{7,12})(?!\d)")
# The rest of a range or of a telephone number: "-600", "-3807-3569", "~20".
_RANGE_END = r"[-－~～—]" + _DIGITS
_RANGE_AFTER = re.compile(r"(?:" + _RANGE_END + r")+")
_TIME_AFTER_GE = re.compile(r"半?(?:月|小时|钟头|星期|礼拜)")
_ASKS_TIME_GE = re.compile(r"(?:几|多少)个(?:月|小时|钟头|星期|礼拜)")


def _asked_unit(question: str) -> str:
    """The unit a count question asks in: the character after 多少 / 几 ("多少个" → 个), or 元
    when it asks about money."""
    if re.search(r"钱|经费|资金|费用|金额|投入|价格|奖金|工资|薪|多少元", question):
        return "元"
    m = re.search(r"(?:多少|几)(\w)", question)
    # what a film or a firm takes in is money, unless another unit is asked ("西元几年…财政收入")
    return m.group(1) if m else "元" if re.search(r"票房|市值|收入|营收|销售额", question) else ""


_DATE_ONLY = re.compile(r"\d{4}年|\d{1,2}[月日]")


# A day of the calendar: "5月30日", "农历五月初五".
_CALENDAR_DAY = re.compile(r"(?:农历)?[\d一二三四五六七八九十]{1,2}月(?:[\d一二三四五六七八九十]{1,3}[日号]|初[一二三四五六七八九十])")


def _date_not_count(unit: str, span: str) -> bool:
    """"2024年", "3月" are dates, not the count asked for, unless it is asked in years, months
    or days ("多少年"); a day of the calendar is no count of days ("端午节放几天" is not answered
    "农历五月初五")."""
    if unit in ("日", "天"):
        return bool(_CALENDAR_DAY.fullmatch(span))
    return unit not in ("年", "月") and bool(_DATE_ONLY.fullmatch(span))


# A numeral that is part of a word ("三" of "三农", "六" of "六进六看"): no magnitude, no unit
# (a span reaches here with its unit written after it, :func:`with_unit`), and a Chinese
# character right after it.
_WORD_NUMERAL = re.compile(r"[一二三四五六七八九十两]+")
# What may follow a one-digit figure of money: its magnitude or its currency ("3万", "5块",
# "2美元"), the rest of a range or "about" ("5到8元", "5多块", "5左右").
_MONEY_AFTER = "元块万亿千百角毛美欧英日港台韩澳加到至多余左"


# The characters a figure is written in: digits, numerals, 几 and 半.
_FIGURE_SET = r"\d０-９" + _NUMERALS + "几半"
_FIGURE_CHARS = re.compile(f"[{_FIGURE_SET}]")
# jieba's tags of words whose numerals are no figure: adjectives and adverbs ("一般", "一直"),
# and names of places, bodies and things ("九龙", "三菱"). Names of people are not among them:
# jieba tags "二人" one (nrt).
_NOT_FIGURE_TAGS = frozenset({"a", "ad", "an", "d", "ns", "nz", "nt"})


_DIGIT_RUN = re.compile(r"[\d０-９]+(?:[.．][\d０-９]+)?")


def _questions_own(question: str, span: str, start: int, end: int) -> bool:
    """Whether the question writes ``span[start:end]`` (digits or a numeral) with the character beside it."""
    return start > 0 and span[start - 1:end] in question or end < len(span) and span[start:end + 1] in question


def _has_figure(question: str, span: str) -> bool:
    """Whether ``span`` writes a figure: a digit, or a numeral that is neither the question's
    own ("三" of "科目三", which "科目三过了多久…" writes) nor in a word whose numeral is no figure
    (_NOT_FIGURE_TAGS): "一般科目三考完" holds none, "成都九龙医院" none, "一周多时间" one."""
    # digits the question writes with the character beside them are the question's own:
    # "《加勒比海盗5:死无对证》" holds no figure for "加勒比海盗5票房", nor "《28岁未成年》"
    if any(not _questions_own(question, span, m.start(), m.end()) for m in _DIGIT_RUN.finditer(span)):
        return True
    span = _DIGIT_RUN.sub(" ", span)
    # a numeral the question writes with the character beside it is the question's own
    span = "".join(" " if ch in _NUMERALS and _questions_own(question, span, i, i + 1) else ch for i, ch in enumerate(span))
    if not _FIGURE_CHARS.search(span):
        return False
    import jieba.posseg as pseg

    return any(w.flag not in _NOT_FIGURE_TAGS and _FIGURE_CHARS.search(w.word) for w in pseg.cut(span))


def holds_count(question: str, sentence: str, start: int, end: int) -> bool:
    """Whether ``sentence[start:end]`` can answer the question as a count: any span for other
    questions; for "how many", one with a numeral in it (the reader sometimes picks the words
    near where a figure would stand when the passage gives none) that is not a date when the
    count is asked in another unit ("经费支出多少" is not answered "2024年"; "多久" may be) nor
    a numeral inside a word ("组织了多少名高校学生" is not answered "三" of "“三农”")."""
    if question_kind(question) != "count":
        return True
    span = sentence[start:end]
    if _WORD_NUMERAL.fullmatch(span) and _CJK.match(sentence, end):
        return False
    if _ENUMERATOR.match(sentence[:end + 1], start):
        return False  # an item's number: "1、斑点大小", "一、2.5平方电线能带多少瓦"
    # a date is refused only for a count asked in another unit: "多久" may be answered "1500年"
    unit = _asked_unit(question)
    return (_has_figure(question, span) and not (unit and _date_not_count(unit, span))
            and not _counts_another_thing(question, unit, sentence, end) and not _things_for_a_measure(question, span)
            and not _things_for_money(question, unit, span, sentence[end:end + 1]) and not _date_for_a_duration(question, span)
            and not _time_or_measure_for_things(question, unit, span))


_DURATION = re.compile(r"多久|多长时间|多少时间")
_MONTH_OR_AGE = re.compile(r"(?<!个)(?:\d{1,2}|[一二三四五六七八九十]{1,3})月$|岁的?$")


def _date_for_a_duration(question: str, span: str) -> bool:
    """Whether a duration is asked ("流产后多久可以备孕") and ``span`` is a month of the calendar
    or an age ("四月", "六岁的"): a duration is "4个月", "半年". None of DRCD's 42 questions
    asking 多久 or 多长时间 has a gold span ending so."""
    return bool(_DURATION.search(question)) and bool(_MONTH_OR_AGE.search(span))


# The figure of a count, in digits or numerals, loose ("2万余", "几", "三十多").
_FIGURE = r"[\d,." + _NUMERALS + r"几多余]+"
# What an amount of money is never counted in: things, people, spans of time, house numbers
# ("几个", "一人", "二十年", "两周", "203号"). 块 is not here: "50块" is money.
_NOT_MONEY_UNITS = (CLASSIFIERS - {"块"}) | set("人年岁天次周号")
# ... nor measures: "2000毫升" of a dialysis machine's fluid is not its price.
_MEASURE_UNITS = (r"(?:平方|立方)?(?:公里|千米|厘米|毫米|米|公斤|千克|斤|克|吨|毫升|升|亩|千瓦|瓦|大卡|千焦|"
                  r"英尺|英寸|尺|寸)")
# A figure and nothing but the thing it counts: "几个", "一人", "千名", "二十年", "3个月", "2000毫升", "逾55个"
# (not "500铢一个人", whose price is counted per person).
_COUNT_OF_THINGS = re.compile(r"(?:逾|约|近|超过|达)?" + _FIGURE + r"(?:[" + "".join(sorted(_NOT_MONEY_UNITS)) + r"]|"
                              + _MEASURE_UNITS + r"|人次|个?月|小时|分钟|秒钟)的?")


# A ratio ("20倍") is no amount of money, unless the question asks how much something grew
# ("韩国…成长了多少的教育经费": 近16倍, DRCD's one such gold span).
_RATIO = re.compile(r"倍(?:之多|左右|多)?$")
_GROWS = re.compile(r"成长|增长|增加|提高|上涨|上升|翻")


def _things_for_money(question: str, unit: str, span: str, after: str) -> bool:
    """Whether money is asked (:func:`_asked_unit` gives 元) and ``span`` is a figure of
    something else ("激光祛斑美白多少钱" is not "几个", "做人流要多少钱" not "一人", "造影多少钱"
    not "两周", "亚马逊市值" not "20倍"), or one digit of a name (``after`` it a character that is
    no currency: "3" of "3转4强7新"; "23到28之间", "5900点卷" are money). Of DRCD's 10 questions
    asking an amount, no gold span is one."""
    return unit == "元" and (bool(_COUNT_OF_THINGS.fullmatch(span))
                            or bool(_RATIO.search(span)) and not _GROWS.search(question)
                            or len(span) == 1 and span.isdigit() and bool(_CJK.match(after)) and after not in _MONEY_AFTER)


# "How big / long / high / far / heavy": a measure, not a count of things.
_MEASURE = re.compile(r"多[大长高远久重宽深厚](?!学)")


# Units of time and measures a figure of things is never counted in: "几层坛面" is not "十四年"
# of "乾隆十四年", "有几条线" not "近5.6万平方米" of the station's floor.
_NOT_THINGS_TAIL = re.compile(r"(?:年|个?月|日|天|岁|世纪|年代|小时|分钟|周|" + _MEASURE_UNITS + r")的?$")


def _time_or_measure_for_things(question: str, unit: str, span: str) -> bool:
    """Whether things are counted in a classifier ("几层", "多少个") and ``span`` is a span of
    time, a date or a measure ("十四年", "1930年代", "5.6万平方米"); "几个月", "多少个小时"
    count time, and are left alone."""
    m = re.search(r"(?:多少|几)" + re.escape(unit) + r"([月小钟星礼周]?)", question) if unit else None
    return m is not None and not m.group(1) and unit in CLASSIFIERS and bool(_NOT_THINGS_TAIL.search(span))


# A measure asked in its unit: "多少厘米", "多少平方米", "几千瓦".
_ASKS_IN_MEASURE = re.compile(r"(?:多少|几)(?:" + _MEASURE_UNITS + r")")


def _things_for_a_measure(question: str, span: str) -> bool:
    """Whether a measure is asked ("职工之家有多大", "2尺4是多少厘米") and ``span`` counts things
    ("12层" of "在首开大厦10层和12层", "一个"): a size is in 平方米, a length in 米, an age in 岁,
    never in a classifier of things. Of DRCD's 59 questions asking 多大, 多长, 多久… none has a
    gold span ending in one. (时间 ends in one, 间, and is a span of time: "一周多时间".)"""
    asks = bool(_MEASURE.search(question)) and not re.search(r"多少|几", question) \
        or bool(_ASKS_IN_MEASURE.search(question))
    return asks and span[-1:] in CLASSIFIERS and not span.endswith("时间")


# What a when-answer writes: a figure, a word of time, an era or a dynasty ("南宋", "战国"), a
# festival ("元宵节"). Of DRCD's 948 when questions, 3 gold spans hold none, all of questions
# read as when that ask something else ("…刊登在哪一期刊上": 国家科学院学报); the reader's
# "安徽卫视" for "什么时候播" holds none either.
_TIME_MARK = re.compile(f"[{_FIGURE_SET}" + r"年月日号时周旬季世纪代朝期初底末前后春夏秋冬晨早晚午夜今昨明"
                        r"候当间汉唐宋元清秦隋晋节]|战国|民国")


_YEAR = re.compile(r"(\d{4})年?")


def _own_year(question: str, sentence: str, start: int, end: int) -> bool:
    """Whether a when-answer is only the year the question names ("欧冠决赛2017决赛时间" is not
    answered "2017年"), with no month written after it (which :func:`with_date` adds: "2017年|8月
    26日"), unless the year is what it asks ("「2008一村一品国际研讨会」于何年举行", DRCD: of its
    948 when golds the one that is the question's own year)."""
    m = _YEAR.fullmatch(sentence, start, end)
    return m is not None and m.group(1) in question and not _ASKS_YEAR.search(question) \
        and not _MONTH_DAY.match(sentence, end)


def fits_kind(question: str, sentence: str, start: int, end: int) -> bool:
    """Whether ``sentence[start:end]`` can answer the question as the kind of thing it asks
    for: a count as :func:`holds_count` says; a date with a mark of time (_TIME_MARK); a
    person or a place not with a verb, and a place
    not with a quoted name. The reader answered "首开书院在哪里" with "北京市公共区域职工之家" of
    "获评“北京市公共区域职工之家”", and the rules with "惠及" of "惠及了职工群体" (jieba tags it a
    place). A verb is words jieba tags verbs alone, or words an aspect particle (了, 着) follows:
    of DRCD's 1,290 who and where questions, two gold spans are verbs alone to jieba (保定, 连战:
    names it mistags) and none is followed by 了 or 着."""
    kind = question_kind(question)
    if kind == "count":
        return holds_count(question, sentence, start, end)
    if kind == "date":
        return bool(_TIME_MARK.search(sentence[start:end])) and not _own_year(question, sentence, start, end)
    if kind is None:
        return not (_count_for_a_what(question, sentence[start:end]) or _name_of_the_verb(question, sentence, start, end))
    if kind not in ("person", "place"):
        return True
    if _WHERE.search(question) and (_inside_quotes(sentence, start, end)
                                    or not _JOINED.search(question) and _beside_in_a_list(question, sentence, start, end)):
        return False
    return sentence[end:end + 1] not in ("了", "着") and not _only_verbs(sentence[start:end])


# A question that lists things itself asks for one more of them: "长沙、桂阳、零陵以及哪里为刘备所攻下的地方"
# (DRCD: 7 gold spans stand beside the question's own items so).
_JOINED = re.compile(r"[、和及与]")


def _beside_in_a_list(question: str, sentence: str, start: int, end: int) -> bool:
    """Whether the span is an item of a list that holds the thing asked about ("城市密码咖啡在哪
    里": "大家书房" of "设置城市密码咖啡、大家书房、城市复兴讲堂…"): things listed together are not
    where one another is (unless the question lists, _JOINED)."""
    words = [w for w in content_words(question) if len(w) >= 2]
    before = sentence[:start - 1] if sentence[start - 1:start] == LIST_MARK else ""
    after = sentence[end + 1:] if sentence[end:end + 1] == LIST_MARK else ""
    return any(before.endswith(w) or after.startswith(w) for w in words)


# A figure of things and nothing else: "2万余人次", "10名", "三个".
_BARE_COUNT = re.compile(r"[约近]?" + _FIGURE + r"(?:人次|[人" + "".join(sorted(CLASSIFIERS)) + r"])")


def _count_for_a_what(question: str, span: str) -> bool:
    """Whether a "what" or "which" question that asks no count ("技能竞赛前三名的选手有什么待遇")
    is answered with a bare count of things ("2万余人次" of the sentence beside the answer): the
    reader likes figures. Of DRCD's 4,325 questions of no kind, no gold span is one (those
    answered "2公里" or "1813年" ask a distance or a time)."""
    return bool(re.search(r"什么|哪", question)) and bool(_BARE_COUNT.fullmatch(span))


_WHAT_OF = re.compile(r"(?:了|过|上)?(?:什么|哪些)")


def _quote_marked(span: str) -> bool:
    """A span that opens with a quote or title mark and ends with its closing one."""
    return len(span) >= 3 and span[0] in _OPEN and span[-1] == _CLOSE[_OPEN.index(span[0])]


def _one_quoted(span: str) -> bool:
    """A span that is one quoted name or title, marks included ("“情暖职工 冬送温暖”"), not a
    clause that starts with one ("《每日邮报》曾报道，…")."""
    return _quote_marked(span) and span[-1] not in span[1:-1]


def _name_of_the_verb(question: str, sentence: str, start: int, end: int) -> bool:
    """Whether a "V了什么" question ("苏家坨镇总工会给职工送了什么") is answered with a quoted
    name that holds its verb (“情暖职工 冬送温暖”, the campaign's name, not what was given):
    the reader took the verb's echo. Of DRCD's 39 such questions with a quoted gold span, none
    holds the question's verb."""
    m = _WHAT_OF.search(question)
    if m is None or not (_inside_quotes(sentence, start, end) or _one_quoted(sentence[start:end])):
        return False
    words = tagged(question[:m.start()])
    return bool(words) and words[-1][1].startswith("v") and words[-1][0] in sentence[start:end]


# "Where" itself, not "in which event" (在哪一场会议, 在哪一事件: DRCD quotes those answers).
_WHERE = re.compile(r"哪里|哪儿|何处|何地|什么地方|(?:什么|哪个)(?:位置|地点)|在哪(?![一个场次件项])")
_QUOTES = (("“", "”"), ("「", "」"), ("『", "』"))


def _inside_quotes(sentence: str, start: int, end: int) -> bool:
    """Whether ``sentence[start:end]`` lies within one pair of quotes: a name, a title or an
    honour ("获评“北京市公共区域职工之家”"), which answers "首开书院在哪里" no more than a verb
    does. None of DRCD's 238 where questions has its gold span so quoted."""
    for o, c in _QUOTES:
        i = sentence.rfind(o, 0, start + 1)
        if i < 0 or sentence.find(c, i + 1, end - 1) >= 0:
            continue
        if sentence.find(c, max(i + 1, end - 1)) >= 0:
            return True
    return False


def _only_verbs(span: str) -> bool:
    """Whether jieba tags every word of ``span`` a verb, adverb, conjunction, preposition or
    particle (a verbal noun, vn, names a thing: 占领行动)."""
    import jieba.posseg

    flags = [w.flag for w in jieba.posseg.cut(span) if w.word.strip()]
    return any(f.startswith("v") and f != "vn" for f in flags) and all(
        f.startswith(("v", "d", "c", "p", "u")) and f != "vn" for f in flags)


# People are counted in any of these: "几位导师" may be answered "10名" of "10名劳模工匠…为导师".
_PERSON_CLASSIFIERS = frozenset("名位")


def _counts_another_thing(question: str, unit: str, sentence: str, end: int) -> bool:
    """Whether the figure ending at ``end`` counts another thing than the question: it is
    counted with another classifier and the noun after it shares nothing with the one the
    question counts ("长春市有多少名技能人才" is not answered "四个" of "四个关键环节"; "多少名导师"
    may be answered "10名" of "10名劳模工匠…为导师", and "多少名员工" "300位" of "300位员工")."""
    asked = re.search(r"(?:多少|几)" + re.escape(unit) + r"([\u4e00-\u9fff]+)", question) if unit in CLASSIFIERS else None
    if asked is None or end == 0 or sentence[end - 1] not in CLASSIFIERS or sentence[end - 1] == unit \
            or {sentence[end - 1], unit} <= _PERSON_CLASSIFIERS:
        return False
    after = re.match(r"[\u4e00-\u9fff]{2}", sentence[end:])
    return after is not None and not set(after.group()) & set(asked.group(1))


# A figure that ends a span, with what may follow it there (magnitude, unit or classifier).
_TAIL_FIGURE = re.compile(_ABOUT + _DIGITS + r"(?:" + _RANGE_END + r")*" + _MAGNITUDE + r"[\u4e00-\u9fffA-Za-z%％/]{0,3}$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def figure_start(question: str, sentence: str, start: int, end: int) -> int:
    """Where a count's short answer should start: the reader sometimes takes the clause
    leading up to the figure ("2016年末,长沙市常住人口764.52万人", "68席、中国国民党获得35席、
    …亲民党获得3席"); the figure that ends the span is the answer. Only when what comes before
    it is a clause of its own (a comma, or three Chinese characters or more) and not the first
    end of a range ("几十元到上百元"); a telephone number is cut by :func:`phone_number`."""
    span = sentence[start:end]
    if question_kind(question) != "count" or asks_for_phone(question) or not (m := _TAIL_FIGURE.search(span)):
        return start
    before = span[:m.start()]
    if not before or before[-1].isdigit() or before.endswith(("到", "至", "或", "和", ".", "-", "~", "～", "—", "及")):
        return start
    # "3个、5个" lists figures; "13次顶级联赛冠军、13次英格兰足总杯冠军、2次" lists trophies, whose last is asked
    if before.endswith(LIST_MARK) and re.search(r"[\d" + _NUMERALS + r"]\w?、$", before):
        return start
    return start + m.start() if len(_CJK.findall(before)) >= 3 or re.search(r"[，,；;：:]", before) else start


def _clause(sentence: str, at: int) -> tuple[int, int]:
    """The clause of ``sentence`` around offset ``at``: between the clause marks either side."""
    s = max((sentence.rfind(c, 0, at) for c in _CLAUSE_END), default=-1) + 1
    ends = [i for c in _CLAUSE_END if (i := sentence.find(c, at)) >= 0]
    return s, min(ends, default=len(sentence))


def focus_figure(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """The figure of the clause that names what a count counts. Asked "开通了多少条国际航线" of
    "已累计开通国内客运航线62条，国际航线5条", the reader took 62条: the sentence's first figure
    for the right kind of thing. When the span's clause does not name the question's counted
    thing (:func:`~rag.question.question_focus`, a specific one) and exactly one other clause
    of the sentence names it and holds a figure, that figure (the one nearest the name) is the
    answer; otherwise the span stands."""
    focus = question_focus(question)
    if question_kind(question) != "count" or focus is None or not focus.counts_a_thing:
        return start, end
    phrase = focus.phrase
    here = _clause(sentence, start)
    if phrase in sentence[here[0]:max(here[1], end)]:
        return start, end
    found: list[tuple[int, int]] = []
    for clause in _CLAUSE.finditer(sentence):
        text, at = clause.group(), clause.start()
        if (at, clause.end()) == here or phrase not in text:
            continue
        name = at + text.index(phrase)
        # figures as the rules take them: digits, or numerals with their unit (not "三" of "三农")
        figures = [(at + f, at + t) for f, t in _candidates(text, "count") if text[f:t] not in question]
        if figures:
            found.append(min(figures, key=lambda f: abs(f[0] - name)))
    return found[0] if len(found) == 1 else (start, end)


def with_unit(question: str, sentence: str, start: int, end: int) -> int:
    """Where a count's short answer should end: a bare number the reader picked gets the unit
    written right after it ("167" → "167个", "10余" → "10余场"), since "多少个工会驿站" wants
    "167个"; the reader stops before the unit when the question names it. Any other span
    keeps its end."""
    if question_kind(question) != "count":
        return end
    if re.search(r"[\d" + _NUMERALS + "]个$", sentence[start:end]) and _ASKS_TIME_GE.search(question) \
            and (m := _TIME_AFTER_GE.match(sentence, end)):
        return m.end()  # "4个" of "4个半月" for "几个月": the unit is the time after 个
    if not re.search(r"[\d" + _NUMERALS + "](?:多|余)?$", sentence[start:end]):
        return end
    if sentence[end - 1].isdigit() and (r := _RANGE_AFTER.match(sentence, end)):
        end = r.end()  # "150" of "150-600元", "020" of "020-38073569"
    m = _UNIT_AFTER.match(sentence, end)
    return m.end() if m else end


# Words after a figure that hedge it, not measure it: "4000块左右", "5000以上", "几万到几十万不等".
_HEDGE = re.compile(r"(?:左右|以上|以下|以内|上下|不等|之间|多|余|来|起)+$")
# The last character of a figure, its magnitude included ("1.85亿美元": 亿).
_FIGURE_END = re.compile(f"[{_FIGURE_SET}亿]")
# Ways of writing yuan.
_YUAN = re.compile(r"^(?:块钱?|元钱?|元人民币|人民币)$")


def figure_unit(question: str, figure: str) -> str:
    """The unit a count's figure is written in: what follows its last digit or numeral, its
    magnitude and hedges left out ("4000块左右" → 元, "1.85亿美元" → 美元). A bare figure ("5000")
    is in the unit the question asks for (:func:`_asked_unit`), or none."""
    ends = list(_FIGURE_END.finditer(figure))
    unit = _HEDGE.sub("", figure[ends[-1].end():] if ends else figure).strip()
    if _YUAN.match(unit):
        return "元"
    return unit or _asked_unit(question)


def _date_parts(date: str) -> tuple[bool, bool, bool]:
    """Which of a year, a month and a day a date writes."""
    return "年" in date, "月" in date, bool(re.search(r"[日号]", date))


def same_measure(question: str, a: str, b: str) -> bool:
    """Whether two figures that answer ``question`` could say the same thing and so contradict
    each other when they differ: dates to the same precision ("25日" and "7月12日" do not, nor
    "5月下旬" and "2008年"); counts in one unit ("共3天" and "2017年" do not, nor "30度" and
    "两年"; "4000块" and "5000" asked "多少钱" do). Units compare by their first characters, so
    "多少厘米"'s 厘 is 厘米's."""
    kind = question_kind(question)
    if kind == "date":
        return _date_parts(a) == _date_parts(b)
    if kind != "count":
        return True
    x, y = figure_unit(question, a), figure_unit(question, b)
    return x == y or bool(x and y) and (x.startswith(y) or y.startswith(x))


_BARE_YEAR = re.compile(r"\d{2,4}年$")
_MONTH_DAY = re.compile(r"\d{1,2}月(?:\d{1,2}[日号])?(?:[上中下]旬|初|底|末)?")
_ASKS_YEAR = re.compile(r"哪一?年|何年|年份|年代|几年|多少年")


def with_date(question: str, sentence: str, start: int, end: int) -> int:
    """Where a date's short answer should end: a bare year the reader picked ("2017年") gets
    the month and day written right after it ("2017年6月23日"), as a bare number gets its unit,
    unless the question asks for the year itself ("哪一年") or for a count ("建党多少周年")."""
    if (not _BARE_YEAR.search(sentence[start:end]) or _ASKS_YEAR.search(question)
            or question_kind(question) == "count"):
        return end
    m = _MONTH_DAY.match(sentence, end)
    return m.end() if m else end


# "哪些", "哪几", "哪两…", with the classifier that may follow ("哪几类", "哪两个").
_SEVERAL = re.compile(r"哪(?:些|几|[两二三四五])[个家种类所位项条座名支件部本首]?")


def asks_for_several(question: str) -> bool:
    """"哪些站点", "哪几类恐龙", "哪两个公司": the answer is every item of a list."""
    return bool(_SEVERAL.search(question))


_OPEN, _CLOSE = "《“「（(【", "》”」）)】"
# A list's items are joined by 、 (and the last one often by 和, 及, 以及, 与 or 还有).
LIST_MARK = "、"
_LAST_JOIN = re.compile(r"(?:以及|还有|和|及|与)")
_CLAUSE_END = "，。；：！？,;:!?\n"
_CLAUSE = re.compile(f"[^{_CLAUSE_END}]+")
CLAUSE_END = re.compile(f"[{_CLAUSE_END}]")
_LONGEST_ITEM = 24


# Marks a span never starts or ends with (a clause's end, a list's mark, a space): the reader
# often takes the comma or the full stop along ("《日出》。", "2.1%，"), and the answer would
# read "《日出》。[1]。".
_LOOSE_MARKS = _CLAUSE_END + LIST_MARK + " "


# A meeting's locative 上, which the reader takes along ("工作联席会上" of "从…联席会上了解到"):
# of DRCD's 7,017 gold spans none ends so, and one that names a meeting stops before it.
_AT_MEETING = re.compile(r"(?:会|会议|论坛|典礼|仪式)上$")


def trimmed(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The span without the punctuation at either end (a span of marks alone is kept), nor
    the particle 的 the reader sometimes starts on ("的服务性", "的环境食物局"), nor a meeting's
    locative 上 ("…工作联席会上")."""
    s, e = start, end
    while s < e and (sentence[s] in _LOOSE_MARKS or sentence[s] == "的" and e - s > 2):
        s += 1
    while e > s and sentence[e - 1] in _LOOSE_MARKS:
        e -= 1
    if e - s > 3 and _AT_MEETING.search(sentence, s, e):
        e -= 1
    return (s, e) if s < e else (start, end)


def closed(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The span with its brackets and quotes closed ("《朱学论集" → "《朱学论集》"), when the
    closing mark stands within an item's length of where the reader stopped, in the same
    clause ("“三全" → "“三全服务标准”"); and opened, when the opening mark stands as near
    before it ("冬送温暖”" → "“情暖职工 冬送温暖”": the reader started after the space)."""
    text = sentence[start:end]
    for o, c in zip(_OPEN, _CLOSE, strict=True):
        if text.count(o) > text.count(c):
            close = sentence.find(c, end, end + _LONGEST_ITEM + 1)
            if close >= 0 and not CLAUSE_END.search(sentence, end, close):
                end = close + 1
        elif text.count(c) > text.count(o):
            opened = sentence.rfind(o, max(0, start - _LONGEST_ITEM - 1), start)
            if opened >= 0 and not CLAUSE_END.search(sentence, opened, start) \
                    and c not in sentence[opened + 1:start]:
                start = opened
    return start, end


def _item_end(sentence: str, at: int) -> int | None:
    """Where the list item starting at ``at`` ends (its brackets kept whole), or None when it
    runs on too long to be an item."""
    depth, i = 0, at
    while i < len(sentence) and i - at <= _LONGEST_ITEM:
        ch = sentence[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0 and (ch in _CLAUSE_END or ch == LIST_MARK or sentence.startswith("等", i)
                             or _LAST_JOIN.match(sentence, i)):
            return i if i > at else None
        i += 1
    return i if i == len(sentence) and i > at else None


def _before_verb(sentence: str, start: int, end: int) -> int:
    """The last item of a list (after 和, 与, 以及) ends where the clause's verb begins:
    "光荣和ω-force合作开发" lists 光荣 and ω-force."""
    import jieba.posseg as pseg

    pos = start
    for w in pseg.cut(sentence[start:end]):
        # A one-character "verb" is often a noun's tail to jieba (高铁|站); idioms (l) act as verbs.
        if pos > start and (w.flag.startswith("v") and len(w.word) > 1 or w.flag == "l" or w.word in ("为", "是")):
            return pos  # "…和教师代表|为导师": the copula too
        pos += len(w.word)
    return end


# "有哪些人" names no kind but people: a second item joined by 和 that names people ("劳模工匠和
# 教师代表") is one of the list.
_ASKS_PEOPLE = re.compile(r"哪(?:些|几个|几位)(?:人|人员|人物)")
_PERSON_TAIL = re.compile(r"(?:代表|人员|员|师|者|家|长|匠|人|士|生|手|模)$")


def with_list(question: str, sentence: str, start: int, end: int) -> int:
    """Where a list question's short answer should end: the reader often picks the first item
    ("大家洼站" of "大家洼站、寒亭站、昌邑北站…"); the answer asked for is the whole list, to the
    end of its clause. Items follow only after 、 (the last one may follow 和, 及, 以及);
    any other span keeps its end."""
    if not asks_for_several(question):
        return _rest_of_list(question, sentence, start, end)
    longest = end - start
    # Two items need no 、: "哪两个公司" is answered "光荣和ω-force", and "投向哪些领域"
    # "全区中心工作和重大领域" (the second item names the kind asked for).
    seen_mark = bool(re.search(r"哪[两二]", question)) or LIST_MARK in sentence[start:end]
    kind = several_kind(question)
    while end < len(sentence):
        joined = None if sentence[end] == LIST_MARK else _LAST_JOIN.match(sentence, end)
        if joined is None and sentence[end] != LIST_MARK:
            break
        step = 1 if joined is None else joined.end() - end
        item = _item_end(sentence, end + step)
        if item is not None and joined is not None:  # the last item: "…与蒙特尼哥罗|组成巴尔干同盟"
            item = _before_verb(sentence, end + step, item)
            named = sentence[end + step:item]
            if not seen_mark and not (kind and kind in named or _ASKS_PEOPLE.search(question) and _PERSON_TAIL.search(named)):
                break
        seen_mark = True
        # An item far longer than the others is the list's clause running on.
        if item is None or item - (end + step) > 2 * max(longest, 4) + 2:
            break
        longest = max(longest, item - (end + step))
        end = item
    return end


def _rest_of_list(question: str, sentence: str, start: int, end: int) -> int:
    """Where a span that is a list cut short should end, for a question that does not ask for
    several: "首开书院的三全服务标准指什么" is "全年龄、全领域、全业务", not the reader's "全年龄、
    全领域". Only a span that holds a 、 and stops at another, and only items about as long as
    its own, each ending at a 的 that joins the list to its noun ("全业务的“三全服务标准”"). None
    of DRCD's 7 gold spans that hold a 、 stops before another."""
    if question_kind(question) in ("count", "date"):
        return end
    if LIST_MARK not in sentence[start:end]:
        return _open_list_end(question, sentence, start, end)
    longest = max(len(item) for item in sentence[start:end].split(LIST_MARK))
    while sentence.startswith(LIST_MARK, end):
        item = _item_end(sentence, end + 1)
        if item is None:
            break
        of = sentence.find("的", end + 1, item)
        item = of if of > end + 1 else item
        if item - (end + 1) > longest + 2:
            break
        end = item
    return end


# An open list's items, up to its 等: "干果、牛奶等慰问品".
_OPEN_LIST = re.compile(r"(?:、[^、，。；：！？,;:!?\n等和及与]{1,12})+(?=等)")


def _open_list_end(question: str, sentence: str, start: int, end: int) -> int:
    """Where a what-answer that is an open list's first item should end: "送了什么" over "送上
    干果、牛奶等慰问品" is "干果、牛奶", not the reader's "干果". Only a what question (什么, no
    哪, no kind of its own) whose span starts the list, and that names none of the other items:
    of DRCD's what questions 6 gold spans are one item of such a list, and 5 of those name the
    others ("包括金银、古贝以及什么等"); none holds the whole list."""
    if "什么" not in question or "哪" in question or question_kind(question) \
            or start > 0 and sentence[start - 1] == LIST_MARK:
        return end
    m = _OPEN_LIST.match(sentence, end)
    if m is None or any(item in question for item in m.group().split(LIST_MARK)[1:]):
        return end
    return m.end()


# Words that end the clause's lead-in before a list's first item ("走访慰问了|苏家坨镇…"), beside verbs.
_LEAD_ENDS = frozenset({"了", "过", "着", "的", "包括", "如", "有", "是", "为", "在", "向", "对", "给",
                        "其中", "设置", "设有", "开设", "涵盖", "包含"})  # jieba tags 设置 a noun ("其中设置|城市…")


# A modifier ending in 的 between 哪些 and the kind: "有针对性的", "新的".
_MODIFIED = re.compile(r"[^，。？?的]{1,8}的([\u4e00-\u9fff]{2,8})")


@lru_cache(maxsize=4096)
def several_kind(question: str) -> str | None:
    """The kind of thing a list question asks for, when a noun of two or more characters
    names it: 单位 of "走访慰问了哪些单位", 国家 of "由哪些国家组成"."""
    import jieba.posseg as pseg

    m = _SEVERAL.search(question)
    if m is None:
        return None
    if question[m.end():].strip("？?。！! 呢啊"):
        w = next(iter(pseg.cut(question[m.end():])), None)
        if w is not None and not _names_a_kind(w.flag) and (mod := _MODIFIED.match(question, m.end())) is not None:
            # "哪些有针对性的培训", "哪些新的系列活动": the kind is the noun its modifier leads to
            nouns = list(itertools.takewhile(lambda x: _names_a_kind(x.flag), pseg.cut(mod.group(1))))
            w = nouns[-1] if nouns else None
    else:  # "慰问品有哪些": the kind is named before the question ends on it
        before = re.sub(r"(?:都|还|主要|具体|分别)?(?:有|是|包括|包含)$", "", question[:m.start()])
        w = ([None] + list(pseg.cut(before)))[-1] if before != question[:m.start()] else None
    return w.word if w is not None and _names_a_kind(w.flag) and len(w.word) >= 2 else None


def _names_a_kind(flag: str) -> bool:
    """A noun, or a verbal noun, which names a kind as well as a noun does ("开展了哪些培训")."""
    return flag.startswith("n") or flag == "vn"


def _first_item(sentence: str, at: int) -> int | None:
    """Where the list whose items run up to ``at`` begins: the first 、 of the clause marks
    the end of its first item, which begins after the clause's lead-in, its first run of verbs
    and particles ("该镇总工会走访慰问了|苏家坨镇水务管理服务中心、…"). None when an item runs on
    too long to be one."""
    import jieba.posseg as pseg

    clause = _clause(sentence, at)[0]
    mark = sentence.find(LIST_MARK, clause, at)
    first_end = mark if mark >= 0 else at
    start, pos, leading, prev = clause, clause, False, ""
    for w in pseg.cut(sentence[clause:first_end]):
        if leading and (w.flag == "r" and prev == "p" or w.flag == "f" and prev.startswith("v")):
            # "为他们送上|干果、牛奶": a pronoun after the preposition, a direction after the verb
            start, prev = pos + len(w.word), w.flag
            pos += len(w.word)
            continue
        prev = w.flag
        if pos == clause and w.word[0] in "将把" and len(w.word) > 1 and w.word not in jieba_words():
            # jieba's "将区|交通": the disposal 将 (把) fused with the first item's head
            leading, start = True, pos + 1
            pos += len(w.word)
            continue
        if w.word in _LEAD_ENDS or w.flag in ("v", "vd", "vg", "vi", "p"):
            leading, start = True, pos + len(w.word)
            if "了" in w.word[:-1]:  # jieba's "了苏|家|坨镇": the lead-in ends at 了
                start = pos + w.word.index("了") + 1
                break
        elif leading:  # the first run of verbs and particles is the lead-in
            break
        pos += len(w.word)
    if (done := sentence.rfind("了", start, first_end)) >= 0:
        # a subject jieba tagged a verb ("首开|集团工会打造了|…"): the lead-in ends at its 了
        start = done + 1
    if sentence.startswith("集", start) and "于一体" in sentence[first_end:first_end + 40]:
        start += 1  # "集文化交流、康体健身、生活关爱等功能于一体"
    if start >= first_end:
        return None
    items = re.split(LIST_MARK, sentence[start:at])
    items[-1:] = _LAST_JOIN.split(items[-1], maxsplit=1)  # "…（农服）和北京金地丰源科技有限公司"
    return None if any(len(item) > _LONGEST_ITEM for item in items) else start


def _from_first_item(sentence: str, start: int) -> int:
    """Where a span that starts after a 、 should start: at its list's first item (list_start's
    later item, title_start's last post), or where it is when the list runs on too long."""
    first = _first_item(sentence, start)
    return start if first is None else first


def _etc_kind(kind: str) -> str:
    """The pattern of "等" and the kind a list names after it, with up to six characters
    between ("等单位", "等有关单位", "等有针对性的培训"), or of the count of its items and the
    kind ("价值观、个性特质、素质能力及关键经历四个维度")."""
    return (r"(?:等[\u4e00-\u9fff\d]{0,6}?|(?<![\d" + _NUMERALS + r"])[\d一二三四五六七八九十两]+[" + "".join(sorted(CLASSIFIERS))
            + r"大]?)" + re.escape(kind))


def named_list(question: str, sentence: str) -> tuple[int, int] | None:
    """The list a sentence names as the kind asked for, "A、B和C等单位" for "慰问了哪些单位":
    the reader, trained on Wikipedia paragraphs that seldom list, often takes a quoted name
    from a sentence beside it instead."""
    kind = several_kind(question)
    return None if kind is None else list_of(kind, sentence)


def list_of(kind: str, sentence: str, *, owned: bool = True) -> tuple[int, int] | None:
    """The list ``sentence`` names as ``kind`` ("A、B和C等单位" of 单位), or None: what a list
    question asks for (named_list), and what a count of the kind is answered with when the
    article lists the things rather than counting them ("慰问了几家单位"). ``owned`` false: not
    a list of something the kind belongs to ("A、B等单位的一线职工" lists no 职工)."""
    for m in re.finditer(_etc_kind(kind), sentence):
        if not owned and "的" in m.group():
            continue
        start = _first_item(sentence, m.start())
        if start is None or m.start() - start < 2:
            continue
        # a count names the list before it only when there is one ("主打两大模式「战史演武」&
        # 「争霸演武」": the items follow, and "主打" is none)
        if m.group().startswith("等") or LIST_MARK in sentence[start:m.start()] \
                or _LAST_JOIN.search(sentence, start, m.start()):
            return start, m.start()
    return None


def list_start(question: str, sentence: str, start: int, end: int) -> int:
    """Where a list question's short answer should start: the reader sometimes picks a later
    item ("鄯阳" of "化德、阿尔山、鄯阳"), and sometimes the clause before the list too ("投入专项
    经费，将区交通、环卫…" for "把哪些人纳入重点慰问范围") or the list's own lead-in ("其中设置城市
    密码咖啡、…" for "有哪些功能区"); the answer asked for begins with the first item, after its
    clause's lead-in."""
    if not asks_for_several(question):
        return start
    if start > 0 and sentence[start - 1] == LIST_MARK:
        return _from_first_item(sentence, start)
    mark = sentence.find(LIST_MARK, start, end)
    if mark < 0:
        return start
    first = _first_item(sentence, mark)
    return start if first is None or first < start else first


def shaped(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """The span the reader (or the rules) found, as the answer gives it, in this order: a
    count's figure taken from the clause that names what is counted ("国内客运航线62条，国际航线
    5条": 5条 for 国际航线) and its leading clause left out ("…常住人口764.52万人" → "764.52万人");
    a bare year given its month and day ("2017年" → "2017年6月23日"), a figure the figures joined
    to it in its unit ("10层" or "12层" → "10层和12层"); brackets and quotes closed,
    then loose marks trimmed ("《朱学论集" → "《朱学论集》", "《日出》。" → "《日出》"; closed first:
    "“ Ein neues Lied wir heben an " is closed by the ” after its space); a post given the
    posts and the body before it ("副校长" → "首都经济贸易大学密云分校党委委员、副校长"); a list question's
    item grown to the whole list, from its first item (not the clause before it) to before the
    "等部分" naming the kind asked for."""
    s, e = focus_figure(question, sentence, start, end)
    s = figure_start(question, sentence, s, e)
    e = with_joined_figures(question, sentence, s, with_date(question, sentence, s, e))
    s = joined_figures_start(question, sentence, s, e)
    s, e = trimmed(sentence, *closed(sentence, s, e))
    e = with_joined_quotes(question, sentence, s, e)
    s = title_start(question, sentence, s, e)
    s = subject_start(question, sentence, s, e)
    s = place_start(question, sentence, s, e)
    s = partner_start(question, sentence, list_start(question, sentence, s, e), e)
    s, e = joint_parties(question, sentence, s, e)
    s, e = phone_number(question, sentence, s, e)
    e = _before_attribute(question, sentence, s, e)
    return s, _before_kind(question, sentence, s, with_list(question, sentence, s, e))


# A figure joined to the one before it in the same unit: "和12层" after "10层".
_JOIN = r"(?:和|、|及|与|或)"
_A_FIGURE = r"(?:" + _DIGITS + r"|[" + _NUMERALS + r"]+)" + _MAGNITUDE
_FIGURE_CHAR = re.compile(r"[\d" + _NUMERALS + "]")


def _joinable_unit(question: str, span: str) -> str | None:
    """The unit that ends a count's or a place's span ("层" of "12层"), which figures joined to
    it in the same unit share; None for other questions, telephone numbers and bare figures."""
    if (question_kind(question) not in ("count", "place") or asks_for_phone(question) or len(span) < 2
            or not re.fullmatch(_UNIT, span[-1])):
        return None
    return span[-1]


def with_joined_figures(question: str, sentence: str, start: int, end: int) -> int:
    """Where a count's or a place's short answer should end: a figure with the figures joined
    to it in its own unit ("在首开大厦几层": "10层和12层", not "10层"; "首开文体活动中心在哪":
    "首开大厦10层和12层"). None of DRCD's 450 count answers and 6 place answers ending in a
    figure is followed by such a figure (so none is lengthened wrongly); the reader stops at the first."""
    span = sentence[start:end]
    if (unit := _joinable_unit(question, span)) is None or not _FIGURE_CHAR.search(span[:-1]):
        return end
    joined = re.compile(_JOIN + _A_FIGURE + re.escape(unit))
    while m := joined.match(sentence, end):
        end = m.end()
    return end


def joined_figures_start(question: str, sentence: str, start: int, end: int) -> int:
    """Where a count's or a place's short answer should start: the figures joined before it in
    its own unit ("在几层": "10层和12层", when the reader picked "12层"), as
    :func:`with_joined_figures` adds the ones after it."""
    span = sentence[start:end]
    if (unit := _joinable_unit(question, span)) is None or not _FIGURE_CHAR.match(span):
        return start
    before = re.compile(_A_FIGURE + re.escape(unit) + _JOIN + "$")
    while (m := before.search(sentence, 0, start)) and not _FIGURE_CHAR.match(sentence[m.start() - 1:m.start()]):
        start = m.start()
    return start


_JOINED_QUOTE = re.compile(_JOIN + r"([“「《])([^“”「」《》]{1,30})([”」》])")


def with_joined_quotes(question: str, sentence: str, start: int, end: int) -> int:
    """Where a quoted short answer should end: with the quoted names (or titles) joined to it
    ("“密云工匠”和“密云能手”" for "可以被推荐评选什么"; the reader stops at the first), unless the
    question names the one joined (DRCD's "一种是「高丽奴」，另一种是?": of its gold spans in quotes
    or title marks, the ones followed by a joined one are each named by their question, and none
    takes one in)."""
    if not _quote_marked(sentence[start:end]):
        return end
    while (m := _JOINED_QUOTE.match(sentence, end)) and m.group(2) not in question \
            and _OPEN.index(m.group(1)) == _CLOSE.index(m.group(3)):
        end = m.end()
    return end


# A post, not a name: what a who-question is answered with when the article names no one.
_POST = re.compile(r"(?:长|主任|书记|委员|主席|经理|总监|总裁|董事|教授|院士|秘书|顾问)$")


def subject_start(question: str, sentence: str, start: int, end: int) -> int:
    """Where a span that begins with the question's own subject and verb should start: after
    them ("密云区总工会和哪个单位联合开展…": "区人力资源和社会保障局", not "密云区总工会联合区人力…";
    the reader took the clause the question repeats). Only words the question starts with and a
    verb it holds: of DRCD's 7,017 gold spans, none starts so (4 start with other words of their
    question and a verb of it, "细密镶嵌技术", and keep them)."""
    span, at = sentence[start:end], 0
    if len(span) < 3 or span[:2] != question[:2]:
        return start  # the usual case, decided without tagging the span
    import jieba.posseg as pseg

    for w in pseg.cut(span):
        lead = span[:at]
        if len(lead) >= 2 and question.startswith(lead) and w.flag.startswith("v") and w.word in question:
            return start + at + len(w.word) if at + len(w.word) < len(span) else start
        at += len(w.word)
        if not question.startswith(span[:at]):
            break
    return start


def place_start(question: str, sentence: str, start: int, end: int) -> int:
    """Where a where-answer should start: right after its 在 when only nouns and verbs stand
    between ("在首开大厦10层…": "首开大厦10层", not the reader's "大厦10层"; jieba tags 首开 a
    verb). Of DRCD's 568 where answers, 126 start right after a 在 and none after a 在 and
    such words (12 start after a 在 and a time, a 的, a preposition or a direction: "在芬兰的|
    赫尔辛基", "在1567年|瑞典", which keep their start)."""
    at = sentence.rfind("在", max(0, start - _PLACE_LEAD), start)
    if at < 0 or at + 1 == start or question_kind(question) != "place":
        return start
    import jieba.posseg as pseg

    lead = sentence[at + 1:start]
    return at + 1 if all(w.flag.startswith(("n", "v")) for w in pseg.cut(lead)) else start


# How far before a where-answer its 在 may stand (in characters) for the answer to start after it.
_PLACE_LEAD = 6


# "和哪些部门合作", "与谁联合", "同哪个单位共建": the question asks for a partner.
_PARTNER = re.compile(r"[和与同跟](?:哪|谁|什么)")
_WITH = frozenset("和与同跟")


@lru_cache(maxsize=4096)
def _verb_after(question: str, at: int, min_chars: int = 1) -> str | None:
    """The question's first verb after ``at`` of ``min_chars`` or more characters (合作 of
    "和哪些部门合作开展…", 提供 of "为谁提供服务"): looked for once per question, though each
    cited sentence is matched against it."""
    import jieba.posseg as pseg

    return next((w.word for w in pseg.cut(question[at:]) if w.flag.startswith("v") and len(w.word) >= min_chars), None)


def partner_start(question: str, sentence: str, start: int, end: int) -> int:
    """Where an answer naming a partner should start: after the sentence's own 与 ("投入专项经费
    与区人保局、区经信局、区科委等相关部门合作开展…" answers "和哪些部门合作开展东城工匠评选" with
    the departments, not "专项经费与区人保局…"), when the question's verb after the partner
    (合作) follows the span in the sentence too, and no list item comes before the 与. Of
    DRCD's 263 partner questions, 6 gold spans hold a 与 or 和 of their own ("胎儿与产妇的健康
    状况", "昭和天皇") and none is cut."""
    m = _PARTNER.search(question)
    if m is None:
        return start
    verb = _verb_after(question, m.end(), 2)
    if verb is None or verb not in sentence[end:end + 30]:
        return start
    import jieba.posseg as pseg

    pos = start
    for w in pseg.cut(sentence[start:end]):
        if LIST_MARK in w.word:
            break
        if pos > start and w.word in _WITH:
            return pos + 1 if pos + 1 < end else start
        pos += len(w.word)
    return start


# Verbs of a deed done together: "首开居民服务中心是谁共建的".
_TOGETHER = re.compile(r"共建|共同|联合(?!国)|合办|共办|携手|合作|合创|一起")
# How far a name may reach back before the reader's span (to its clause's start, with no
# preposition between), and forward to the deed done together.
_NAME_LEAD, _PARTY_CHARS = 10, 30


def joint_parties(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """A who-answer for a deed done together, when the question names no party ("首开居民服务中
    心是谁共建的"): all the parties the sentence joins before the verb ("首开城运天岳恒公司与属地大
    安澜营社区共同…"), not the reader's one name, nor part of it ("城运天岳恒"). A question that
    names one party ("达尔文和谁共同署名", DRCD's usual form: 13 of its 14 such who questions) asks
    for the other alone, and keeps the span."""
    if (question_kind(question) != "person" or not _TOGETHER.search(question)
            or re.search(r"[和与同跟及]", question)):
        return start, end
    m = re.match(rf"[^{_CLAUSE_END}]{{0,12}}?[与和同及、][^{_CLAUSE_END}]{{1,{_PARTY_CHARS}}}?(?={_TOGETHER.pattern})",
                 sentence[end:])
    if m is None:
        return start, end
    clause = max(sentence.rfind(p, 0, start) for p in _CLAUSE_END + "由")
    lead = sentence[clause + 1:start]
    whole = len(lead) <= _NAME_LEAD and not re.search(r"[在将为把被对从向经与和]", lead)
    return (clause + 1 if whole else start), end + m.end()


_PHONE_DIGITS = re.compile(r"\d[\dA-Za-z\-－]*\d[A-Za-z]?\d*")
_AREA_CODE = re.compile(r"0\d{2,3}[-－]$")


def phone_number(question: str, sentence: str, start: int, end: int) -> tuple[int, int]:
    """A telephone question's answer is the number: "122" of the reader's "“122”交通事故报警电话",
    "400-167-6796" of "24小时报修热线1)400-167-6796" (the first run of three digits or more), with
    the area code written before it ("020-" of "020-38073569" when the reader took the rest).
    Other spans, and spans without three digits together, keep their bounds."""
    if not asks_for_phone(question) or _QUESTION_WORD.search(question):
        return start, end  # "公用电话在哪一年时被改为…公用电话" asks a year
    m = next((m for m in _PHONE_DIGITS.finditer(sentence, start, end) if len(re.findall(r"\d", m.group())) >= 3), None)
    if m is None:
        return start, end
    start, end = m.span()
    area = _AREA_CODE.search(sentence[max(0, start - 5):start])
    return (start - len(area.group()) if area else start), end


def title_start(question: str, sentence: str, start: int, end: int) -> int:
    """Where a who-answer that is a post, or a group of people, should start: "聘请首都经济贸易
    大学密云分校党委委员、副校长为院长" answers "院长是谁" with the person's posts and the body
    that gave them, not the last post alone ("副校长"), and "组织谁疗休养" with "全区劳模工匠、
    高技能人才", not the last group. Only a post or a group after a 、 is grown: the 14 of DRCD's
    724 who answers that follow a 、 are names, items of a list of people, and keep their start."""
    if question_kind(question) != "person" or start == 0 or sentence[start - 1] != LIST_MARK:
        return start
    if not _POST.search(sentence[start:end]) and not _common_nouns(sentence[start:end]):
        return start
    return _from_first_item(sentence, start)


def _common_nouns(span: str) -> bool:
    """Whether ``span`` is common nouns alone to jieba, a group of people ("全区劳模工匠、高技能
    人才疗休养": 高技能人才 is one item of whom), not a name (梁启超 nr, 匈牙利 ns, and 周恩来,
    which jieba tags a time)."""
    import jieba.posseg as pseg

    return all(w.flag in ("n", "ng") for w in pseg.cut(span))


def _before_kind(question: str, sentence: str, start: int, end: int) -> int:
    """A list answer ends before the "等部分" that names the kind asked for ("由哪几个部分组成":
    "站房、站台雨棚、地下通道、跨线天桥", as :func:`named_list` gives it), not after it."""
    kind = several_kind(question)
    if kind is None or LIST_MARK not in sentence[start:end]:
        return end
    m = re.search(_etc_kind(kind) + "$", sentence[start:end])
    return start + m.start() if m and m.start() > 0 else end


def _before_attribute(question: str, sentence: str, start: int, end: int) -> int:
    """Where an answer to "X的Y是什么" should end: before the "为…Y" that calls it the Y asked
    about ("以服务区域经济发展、提升劳动者素质为核心目标" answers "工匠学院的目标是什么" with
    what comes before 为核心目标)."""
    focus = question_focus(question)
    if focus is None or focus.kind != "what":
        return end
    m = re.search(r"[以]?为[\u4e00-\u9fff]{0,4}" + re.escape(focus.phrase) + "$", sentence[start:end])
    return start + m.start() if m and m.start() >= 2 else end


# "首开集团的工作机制是什么" / "构建了什么工作机制": the attribute asked for (工作机制).
_WHAT_NOUN = re.compile(r"什么([\u4e00-\u9fff]{2,6})[？?]?$")


def quoted_attribute(question: str, sentence: str) -> tuple[int, int] | None:
    """The quoted name a sentence gives the attribute asked for: "构建“党委领导、行政支持、工会
    搭台”的工作机制" answers "首开集团的工作机制是什么" with the quoted words, the way news
    names a mechanism, a brand or a slogan. The reader, trained on Wikipedia, took a quoted
    name from the sentence beside it. On DRCD it applies once ("拥有什么头衔": 「奥古斯都」,
    right)."""
    noun = _attribute_noun(question)
    if len(noun) < 2:
        return None
    for opening, closing in _QUOTES:
        m = re.search("(" + re.escape(opening) + r"[^" + opening + closing + r"]{1,30}" + re.escape(closing)
                      + ")的?" + re.escape(noun), sentence)
        if m:
            return m.span(1)
    return None


# "“六进六看”活动是什么", "六进六看指的是什么": what a quoted name stands for.
_WHAT_IS = re.compile(r"^[“「]?(?P<name>[^“”「」？?，。]{2,12}?)[”」]?(?:活动|行动|工程|计划|机制|模式)?"
                      r"(?:是什么|指什么|是指什么|指的是什么|包括什么|包括哪些|有哪些内容|是哪些)[？?]?$")


def listed_name(question: str, sentence: str) -> tuple[int, int] | None:
    """The list a quoted name stands for, where the sentence names the list so: "组织高校学生
    进企业看生产车间、进景区看优美风光、进乡村看“三农”发展等“六进六看”活动" answers "六进六看
    活动是什么" with the list before 等 (news names a campaign by counting what it lists). The
    reader took the clause after it. Only a name in quotes right after 等."""
    m = _WHAT_IS.match(question.strip())
    if m is None:
        return None
    for opening, closing in _QUOTES:
        if (at := list_of(opening + m.group("name") + closing, sentence)) is not None:
            return at
    return None


def _attribute_noun(question: str) -> str:
    """The attribute a what-question asks for: 工作机制 of "首开集团的工作机制是什么"."""
    focus = question_focus(question)
    return focus.phrase if focus is not None and focus.kind == "what" else (
        m.group(1) if (m := _WHAT_NOUN.search(question)) else "")


def attribute_as(question: str, sentence: str) -> tuple[int, int] | None:
    """What a sentence takes as the attribute asked for: "以匠心育匠人为理念，以服务区域经济发展、
    提升劳动者素质为核心目标" answers "…的理念是什么" with 匠心育匠人 and "…的目标是什么" with
    the words between 以 and 为, the way news states an aim or an idea. The reader took the
    clause before it along ("弘扬工匠精神，以匠心育匠人") or another clause. A question that
    says "以什么为" itself is left to the reader, which reads that well; of DRCD's 7,017
    questions no other one's paragraph states its attribute so."""
    noun = _attribute_noun(question)
    if len(noun) < 2 or "以" in question:
        return None
    m = re.search(r"以([^，。；：以为]{2,40}?)(?<![作成])为[\u4e00-\u9fff]{0,2}?" + re.escape(noun), sentence)
    return m.span(1) if m else None


# "为谁提供服务", "面向谁开放", "向哪些人发放": whom the question's verb is for.
# Not the 为 of a word ("认为谁才更适合", "成为谁的", "称为谁"), nor "X为谁" (who X is).
_TO_WHOM = re.compile(r"(?:(?<![认以成作称视因])为|向|对|面向|给|替)(?:谁|哪些人|什么人)(?=[\u4e00-\u9fff])")
_TO = r"(?:为|向|对|面向|给|替)"


def to_whom(question: str, sentence: str) -> tuple[int, int] | None:
    """Whom a sentence names between a preposition and the question's verb: "为项目管理人员、
    一线施工人员提供“温馨港湾”" answers "流动驿站为谁提供服务", and "对公众开放的首开书院"
    "首开书院面向谁开放". The reader, trained on Wikipedia, took the quoted thing provided or the
    sentence's subject. The sentence may use another preposition than the question (对 for 面向);
    the words between stay within one clause and hold no other preposition ("为争取苏联对日本宣战":
    日本). Of DRCD's 22 questions asking so, the gold sentence of one names whom so, right
    ("是为换取苏联对谁宣战": 日本)."""
    m = _TO_WHOM.search(question)
    if m is None:
        return None
    verb = _verb_after(question, m.end())
    if verb is None:
        return None
    found = re.search(_TO + r"((?:(?!" + _TO + r")[^" + _CLAUSE_END + r"“”「」《》]){2,24}?)" + re.escape(verb), sentence)
    if found is None:
        return None
    start, end = found.span(1)
    # the question's verb as the object of a light one ("为职工、社区居民…提供贴心、暖心的服务" for
    # "为哪些人服务"): whom ends before it
    light = re.search(_LIGHT_VERB, sentence[start + 2:end])
    return (start, start + 2 + light.start()) if light else (start, end)


# Verbs that take the deed as their object: "提供…服务", "开展…培训", "给予…帮助".
_LIGHT_VERB = r"提供|开展|给予|进行"
