"""Short answers: the exact words that answer a factoid question, found in the cited sentence."""

from __future__ import annotations

import pytest

from rag.span import (
    asks_for_explanation,
    asks_for_reason,
    fits_kind,
    named_list,
    question_kind,
    short_answer,
    to_whom,
)

SEED = "5年来，首开集团工会共建设14个市级职工之家，167个工会驿站，并荣获“全国模范职工之家”称号。"


@pytest.mark.parametrize(("question", "sentence", "want"), [
    ("首开集团建了多少个工会驿站", SEED, "167个"),
    # a size, not the floors it is on
    ("首开集团的职工之家有多大", "在首开大厦10层和12层，首开集团工会打造了千余平方米“职工之家”。", "千余平方米"),
    ("长春市总工会设置了多少个竞赛项目", "围绕长春市“3转4强7新”现代化产业体系，该市总工会设置竞赛项目145个。", "145个"),
    ("搭台马轮从南竿到东引要花多少时间？", "台马轮从南竿到东引大约两小时，每日一班。", "大约两小时"),
    ("布尔什维克于西元几年时接管亚塞拜然?", "1920年，布尔什维克接管了亚塞拜然。", "1920年"),
    ("是谁做出了东德的国歌？", "东德的国歌《从废墟中崛起》由汉斯·艾斯勒作曲。", "汉斯·艾斯勒"),
    ("首开集团工会的负责人是谁", "首开集团工会主席王建国介绍了驿站建设情况。", "王建国"),
])
def test_the_answering_words_are_found(question, sentence, want):
    got = short_answer(question, sentence)
    assert got is not None and sentence[got[0]:got[1]] == want


@pytest.mark.parametrize(("question", "sentence"), [
    ("密云区工匠学院的院长是谁", "密云区总工会牵头成立密云区工匠学院，弘扬工匠精神，聘请副校长为院长。"),  # no name: none
    ("密云区工匠学院怎么运作", "密云区工匠学院实行双导师制。"),  # not a factoid question
    ("首开集团建了多少个工会驿站", "首开集团工会着力提升职工服务阵地的服务性。"),  # no number
])
def test_no_short_answer_where_the_sentence_does_not_give_one(question, sentence):
    assert short_answer(question, sentence) is None


def test_questions_whose_answer_is_sentences():
    for q in ("密云区工匠学院怎么运作", "东城区总工会2025年有什么打算", "为什么成立工匠学院", "有哪些打算",
              "苏家坨镇慰问活动的情况", "请介绍一下首开书院", "介绍密云区工匠学院"):
        assert asks_for_explanation(q), q
    for q in ("首开集团建了多少个工会驿站", "密云区工匠学院的院长是谁", "南北战争期间联邦政府订出什么计划",
              "在哪一个时期时常常发生强行征兵的情况?"):  # DRCD: asks which period
        assert not asks_for_explanation(q), q
    for q in ("为什么成立工匠学院", "赵鹏没有出场的原因是什么", "东南亚各国排华的原因为何", "王守仁为何起兵"):
        assert asks_for_reason(q), q
    for q in ("密云区工匠学院怎么运作", "首开集团建了多少个工会驿站", "原因"):
        assert not asks_for_reason(q), q
    # "called what" asks for a name, not a reason: a short answer, by the rules too
    for q in ("有期徒刑在香港被称为什么", "NTL的服务更名为什么", "摇滚乐在东德被视为什么"):
        assert not asks_for_explanation(q) and not asks_for_reason(q), q


def test_question_kinds():
    assert [question_kind(q) for q in ("有多少人参与", "哪一年成立", "谁是主席", "在哪里举行", "为什么")] == \
        ["count", "date", "person", "place", None]
    assert question_kind("余杭站南侧广场包括哪几个部分？") is None  # which, not how many
    assert question_kind("多伦多大学的主要校区是哪个校区?") is None
    assert question_kind("嘉兴南站有几条线？") == question_kind("范冰冰多高") == "count"
    # a search-box query ending in 时间 asks when; a longer sentence asks as its question word says
    assert question_kind("顺丰控股上市时间") == question_kind("职工之家开放时间") == "date"
    assert question_kind("首开集团工会的职工之家一般在周末的开放时间") is None


@pytest.mark.slow
@pytest.mark.parametrize("method", ["reader", "rules"])
def test_the_answer_starts_with_the_short_answer_and_its_offsets_point_into_the_article(tmp_path, e5, method):
    from rag.pipeline import load_engine
    from tests.conftest import hashing_settings

    engine = load_engine(hashing_settings(tmp_path, embed_model="e5-small", short_answers=method))
    try:
        ans = engine.ask("首开集团建了多少个工会驿站")
        assert ans.text.startswith("167个[1]。") and ans.short == "167个"
        span, n = ans.short_answer
        cited = next(c for c in ans.citations if c.n == n)
        assert engine.store.get_article(cited.chunk.doc_id).text[span.start:span.end] == "167个"
        assert cited.chunk.char_start <= span.start < span.end <= cited.chunk.char_end
        how = engine.ask("密云区工匠学院怎么运作")
        assert not how.refused and how.short_answer is None and how.text.startswith("密云区")
    finally:
        engine.close()


def test_a_year_is_not_the_count_asked_for():
    s = "记者了解到，2024年，东城区总工会加大经费支持力度，经费支出主要面向全区中心工作。"
    assert short_answer("东城区总工会投入多少经费", s) is None
    got = short_answer("东城区总工会投入多少经费", "2024年，东城区总工会投入经费3200万元，用于职工服务。")
    assert got is not None and "2024年，东城区总工会投入经费3200万元"[got[0]:got[1]] == "3200万元"


@pytest.mark.parametrize(("question", "sentence", "span", "fits"), [
    # The seed page's case: jieba tags 惠及 a place, but 了 follows it.
    ("首开书院在哪里", "首开书院不仅惠及了职工群体，还与周边院校建立了紧密的文化联系。", "惠及", False),
    ("首开书院在哪里", "首开集团将企业一楼空间打造成对公众开放的首开书院。", "企业一楼空间", True),
    # an honour in quotes, or a place inside it, is no answer to where
    ("首开书院在哪里", "首开书院等8个“职工之家”获评“北京市公共区域职工之家”。", "北京市公共区域职工之家", False),
    ("首开书院在哪里", "首开书院等8个“职工之家”获评“北京市公共区域职工之家”。", "“北京市公共区域职工之家”", False),
    ("首开书院在哪里", "首开书院等8个“职工之家”获评“北京市公共区域职工之家”。", "北京市", False),
    ("首开书院在哪里", "“首开书院”位于北京市东城区。", "北京市东城区", True),
    ("首开书院在什么位置", "首开书院等8个“职工之家”获评“北京市公共区域职工之家”。", "北京市公共区域职工之家", False),
    ("议长的权限在哪一场革命中遭到削减", "议长的权限在「1910年革命」中遭到削减。", "1910年革命", True),
    ("谁主持了会议", "会议由区总工会主席主持，他强调了三点要求。", "强调", False),  # a verb to jieba
    ("谁主持了会议", "会议由区总工会主席王建国主持。", "王建国", True),
    ("四川省省会在哪里", "四川省省会成都位于四川盆地西部。", "成都", True),
    ("首开集团建了多少个工会驿站", SEED, "167个", True),
    ("首开集团的职工之家有多大", "在首开大厦10层和12层，首开集团工会打造了千余平方米“职工之家”。", "12层", False),
    ("首开集团的职工之家有多大", "在首开大厦10层和12层，首开集团工会打造了千余平方米“职工之家”。", "千余平方米", True),
    ("这座塔有多高", "这座塔共有9层，高约60米。", "60米", True),
    # a duration is no month of the calendar, nor an age
    ("自然流产后多久可以备孕", "四月份流产的，一般建议半年后再备孕。", "四月", False),
    ("自然流产后多久可以备孕", "四月份流产的，一般建议半年后再备孕。", "半年", True),
    ("东德的义务教育需要多久", "东德的义务教育为十年，学生六岁入学。", "六岁", False),
    ("科目三过了多久可以考科目四", "科目三通过后一般等4个月可以约考科目四。", "4个月", True),
    ("水痘多久能好", "六岁的孩子水痘一般要有一周多时间恢复的。", "一周多时间", True),  # 时间 ends in 间, a classifier
    # a numeral the question writes ("科目三") or one inside a name ("九龙") is no figure
    ("科目三过了多久可以考科目四", "一般科目三考完后隔天就可以考科目四的。", "一般科目三考完", False),
    ("成都市做人流要多少钱", "成都九龙医院实施一人一医一诊室。", "成都九龙医院", False),
    ("西洋棋是由几个人游玩的游戏", "西洋棋是一种二人对弈的游戏。", "二人", True),
    # so are the digits the question writes ("加勒比海盗5", "28岁未成年"), but not its own year's neighbours
    ("加勒比海盗5票房", "从上周开始,《加勒比海盗5:死无对证》登陆逾55个市场,票房合计达2.7亿美元。", "《加勒比海盗5:死无对证》", False),
    ("加勒比海盗5票房", "从上周开始,《加勒比海盗5:死无对证》登陆逾55个市场,票房合计达2.7亿美元。", "2.7亿美元", True),
    ("28岁未成年票房", "《28岁未成年》在全国上映，中国内地收获1.22亿票房。", "《28岁未成年》", False),
    # what a film takes in is money, not markets
    ("加勒比海盗5票房", "从上周开始,《加勒比海盗5:死无对证》登陆逾55个市场,票房合计达2.7亿美元。", "逾55个", False),
    ("iphone7多少寸", "iPhone 7的屏幕为4.7英寸。", "4.7英寸", True),
    # a when-answer writes a mark of time: not a television channel
    ("龙珠传奇之无间道什么时候播", "《龙珠传奇之无间道》将登陆安徽卫视，2017年05月08日开播。", "安徽卫视", False),
    ("龙珠传奇之无间道什么时候播", "《龙珠传奇之无间道》将登陆安徽卫视，2017年05月08日开播。", "2017年05月08日", True),
    ("辽宁地区从什么时候开始才划归华夏管辖", "辽宁地区自战国开始划归华夏管辖。", "战国", True),
    # ... not the year the question names, unless it asks for the year
    ("欧冠决赛2017决赛时间", "欧冠决赛2017决赛时间已定，决赛日期为当地时间2017年6月4日星期日。", "2017", False),
    ("欧冠决赛2017决赛时间", "欧冠决赛2017决赛时间已定，决赛日期为当地时间2017年6月4日星期日。", "2017年6月4日", True),
    ("「2008一村一品国际研讨会」于何年举行?", "2008年举行了「2008一村一品国际研讨会」。", "2008年", True),
    ("2017注会报名时间", "2017注会报名时间为2017年8月26日。", "2017年", True),  # its month and day follow
    # a day of the calendar is no count of days
    ("端午节国家规定放几天", "端午节为每年农历五月初五，5月28日至30日放假调休,共3天。", "农历五月初五", False),
    ("端午节国家规定放几天", "端午节为每年农历五月初五，5月28日至30日放假调休,共3天。", "3天", True),
    # money is not counted in things or people
    ("激光祛斑美白多少钱", "激光祛斑一般要做几个疗程，每次几百元到3000元左右。", "几个", False),
    ("激光祛斑美白多少钱", "激光祛斑一般要做几个疗程，每次几百元到3000元左右。", "几百元到3000元", True),
    ("一张门票多少钱", "门票每人50块，儿童半价。", "50块", True),
    # a prize is money; not people ("2万余人次"), nor a bare figure of a name ("3" of "3转4强7新")
    ("密云区技能竞赛的奖金有多少", "开展技能竞赛10余场，参赛职工2万余人次。", "2万余人次", False),
    ("长春市总工会的竞赛奖金是多少", "围绕“3转4强7新”产业体系，设置竞赛项目145个。", "3", False),
    ("长春市总工会的竞赛奖金是多少", "围绕“3转4强7新”产业体系，设置竞赛项目145个。", "145个", False),
    ("竞赛奖金是多少", "冠军奖金50万美元，亚军20万。", "50万美元", True),
    ("一张门票多少钱", "门票每人50块，儿童半价。", "50", True),
    ("肯德基皮卡丘套餐价格", "价格在23到28之间。", "23", True),
    ("北领前线 斯维因多少钱", "价格:5900点卷", "5900", True),
    ("芭提雅人妖表演多少钱", "价格大概500铢一个人。", "500铢一个人", True),
    # ... nor in spans of time, house numbers or measures (DuReader's conflict notes quoted these)
    ("造影多少钱", "月经干净后两周内复查，费用在150-600之间。", "两周", False),
    ("无锡无痛人流多少钱", "无锡滨湖区蠡溪路203号的医院做的。", "203号", False),
    ("腹膜透析机多少钱一台", "每天用2000毫升药液。", "2000毫升", False),
    ("腹膜透析机多少钱一台", "一台差不多十万。", "十万", True),
    # a ratio is no amount, unless the question asks how much something grew (DRCD's "近16倍")
    ("亚马逊市值", "亚马逊的市值是沃尔玛的20倍。", "20倍", False),
    ("亚马逊市值", "亚马逊市值3581亿美元。", "3581亿美元", True),
    ("韩国在1975年到后十年成长了多少的教育经费？", "教育经费成长近16倍。", "近16倍", True),
    # a measure asked in its unit is not counted in things
    ("2尺4是多少厘米", "1平方英尺约合929平方厘米，是一个英制单位。", "一个", False),
    ("2尺4是多少厘米", "3尺等于1米，解得x=80厘米。", "80厘米", True),
    ("孕妇几个月开始补钙", "怀孕4个半月以后开始补钙。", "4个", True),  # time is not such a measure: left to the reader
    # things counted in a classifier are not counted in time (DRCD: "几层坛面" answered "十四年"), but time may be
    ("圜丘坛总共有几层坛面?", "坛面原来使用蓝琉璃砖，乾隆十四年重建后，改用艾叶青石铺设。", "十四年", False),
    ("圜丘坛总共有几层坛面?", "用古尺计算圜丘三层坛面的直径。", "三层", True),
    ("他在国外待了几个月", "他在国外待了三个月。", "三个月", True),
    # ... nor in measures (CMRC: "嘉兴南站有几条线" answered with the station's floor area)
    ("嘉兴南站有几条线", "车站总建筑面积近5.6万平方米，设有4条线路。", "近5.6万平方米", False),
    ("嘉兴南站有几条线", "车站总建筑面积近5.6万平方米，设有4条线路。", "4条", True),
    ("首开集团工会获得了什么称号", SEED, "荣获", True),  # not a who or where question: left to the reader
    # ... but no what-question is answered with a bare count of things; a count with its thing may
    ("密云区技能竞赛前三名的选手有什么待遇", "参赛职工2万余人次，前三名的选手优先推荐评选“密云工匠”。", "2万余人次", False),
    ("密云区技能竞赛前三名的选手有什么待遇", "参赛职工2万余人次，前三名的选手优先推荐评选“密云工匠”。",
     "优先推荐评选“密云工匠”", True),
    ("首开集团获得了什么荣誉", "首开书院等8个“职工之家”获评“北京市公共区域职工之家”。", "8个“职工之家”", True),
    # "送了什么" is not answered with a quoted name that holds 送 (the campaign's, not what was given)
    ("苏家坨镇总工会给职工送了什么", "苏家坨镇总工会开展“情暖职工 冬送温暖”慰问活动。", "“情暖职工 冬送温暖”", False),
    ("苏家坨镇总工会给职工送了什么", "苏家坨镇总工会开展“情暖职工 冬送温暖”慰问活动。", "情暖职工 冬送温暖", False),
    ("苏家坨镇总工会给职工送了什么", "为他们送上干果、牛奶等慰问品和温暖祝福。", "干果、牛奶", True),
    # a clause that only starts with a title is no quoted name (XQuAD: its gold is inside it)
    ("2012年英国政府的福利机构检查什么？", "2012年《每日邮报》曾报道，英国政府的福利机构检查申请人的“ Sky TV 账单”。",
     "《每日邮报》曾报道，英国政府的福利机构检查申请人的“ Sky TV 账单", True),
    ("首开集团构建了什么工作机制", "构建“党委领导、行政支持、工会搭台”的工作机制。", "“党委领导、行政支持、工会搭台”", True),
])
def test_a_who_or_where_answer_is_no_verb_and_a_measure_no_count_of_things(question, sentence, span, fits):
    from rag.span import fits_kind

    s = sentence.index(span)
    assert fits_kind(question, sentence, s, s + len(span)) is fits


DONGCHENG = "投入专项经费与区人保局、区经信局、区科委等相关部门合作开展东城工匠评选、技能大赛、技能培训。"


def _shaped(question: str, sentence: str, span: str) -> str:
    """``span`` (its first occurrence in ``sentence``) as the composer gives it."""
    from rag.span import shaped

    s = sentence.index(span)
    return sentence[slice(*shaped(question, sentence, s, s + len(span)))]


@pytest.mark.parametrize("question,sentence,first,want", [
    # CMRC-style list questions: the reader picks the first item, the answer is the list.
    ("铁路沿线设有哪些站点？", "沿线设有大家洼站、寒亭站、昌邑北站、海天站等车站。", "大家洼站", "大家洼站、寒亭站、昌邑北站、海天站"),
    ("余杭站南侧广场包括哪几个部分？", "南侧广场包括地下汽车库、地上广场以及高铁站南北两侧地下通道。", "地下汽车库",
     "地下汽车库、地上广场以及高铁站南北两侧地下通道"),
    ("陈荣捷的主要著作有哪些？", "著有《朱学论集》、《中国和西方对仁的解说》等。", "《朱学论集", "《朱学论集》、《中国和西方对仁的解说》"),
    ("《战国无双3》是由哪两个公司合作开发的？", "本作由光荣和ω-force合作开发。", "光荣", "光荣和ω-force"),
    # The reader took the clause before the list too; jieba fuses the disposal 将 with the item.
    ("东城区总工会把哪些人纳入重点慰问范围", "投入专项经费，将区交通、环卫、消防等单位重大节日值守人员纳入重点慰问范围；",
     "投入专项经费，将区交通、环卫、消防等单位重大节日值守人员", "区交通、环卫、消防等单位重大节日值守人员"),
    # ... and the "等部分" naming the kind asked for is left out, as named_list leaves it (CMRC)
    ("嘉兴南站由哪几个部分组成", "嘉兴南站为二等站，建筑总面积约1万平方米，包括站房、站台雨棚、地下通道、跨线天桥等部分。",
     "二等站，建筑总面积约1万平方米，包括站房、站台雨棚、地下通道、跨线天桥等部分", "站房、站台雨棚、地下通道、跨线天桥"),
    # ... or the list's own lead-in, in the same clause (jieba tags 设置 a noun)
    ("首开书院有哪些功能区", "其中设置城市密码咖啡、大家书房、城市复兴讲堂等多元功能区。",
     "其中设置城市密码咖啡、大家书房、城市复兴讲堂", "城市密码咖啡、大家书房、城市复兴讲堂"),
    # ... or its subject, which jieba tags a verb (首开), up to the 了 that ends the lead-in; and the
    # 集 of "集A、B、C等功能于一体"
    ("首开集团的职工之家有哪些功能", "首开集团工会打造了集文化交流、康体健身、生活关爱等功能于一体的“职工之家”",
     "集团工会打造了集文化交流、康体健身、生活关爱", "文化交流、康体健身、生活关爱"),
    ("苏家坨镇总工会慰问了哪些单位", "该镇总工会走访慰问了苏家坨镇水务管理服务中心、农业综合服务中心等单位的一线职工",
     "慰问了苏家坨镇水务管理服务中心、农业综合服务中心", "苏家坨镇水务管理服务中心、农业综合服务中心"),
    # The last item ends where the clause's verb begins.
    ("巴尔干同盟由哪些国家组成？", "保加利亚、塞尔维亚、希腊与蒙特尼哥罗组成巴尔干同盟。", "保加利亚",
     "保加利亚、塞尔维亚、希腊与蒙特尼哥罗"),
    # The reader took a later item: the answer starts with the first, after the clause's lead-in.
    ("内蒙古有哪些地方设立了站点", "内蒙古的化德、阿尔山、鄯阳等地设立了站点。", "鄯阳", "化德、阿尔山、鄯阳"),
    ("巴尔干同盟由哪些国家组成？", "保加利亚、塞尔维亚、希腊与蒙特尼哥罗组成巴尔干同盟。", "希腊",
     "保加利亚、塞尔维亚、希腊与蒙特尼哥罗"),
    # Two items joined by 和: a list when the second names the kind asked for (the seed article)
    ("东城区总工会经费主要投向哪些领域", "经费支出主要面向全区中心工作和重大领域倾斜。", "全区中心工作", "全区中心工作和重大领域"),
    ("东城区总工会经费主要投向哪些领域", "经费支出主要面向全区中心工作和职工服务倾斜。", "全区中心工作", "全区中心工作"),
    # ... or, asked for people ("有哪些人"), when the second names people; the copula 为 ends it
    ("密云区工匠学院的导师有哪些人？", "聘请10名劳模工匠和教师代表为导师，整合各方资源。", "劳模工匠", "劳模工匠和教师代表"),
    ("密云区工匠学院的导师有哪些人？", "聘请10名劳模工匠和各方资源为导师。", "劳模工匠", "劳模工匠"),
    # Not a list question: the span keeps its end; brackets are still closed.
    ("隋文帝还在哪一州设置大总管?", "于益州、荆州、扬州四州设置大总管。", "益州", "益州"),
    ("村民委员会是依照哪一条法律设置的?", "依照《中华人民共和国村民委员会组织法》设置。", "《中华人民共和国村民委员会组织法",
     "《中华人民共和国村民委员会组织法》"),
    # The reader took the clause's comma, the full stop or the list's mark along: left out.
    ("奥斯卡第一届最佳影片奖另一座颁给了哪部影片?", "另一座颁给了《日出》。", "《日出》。", "《日出》"),
    ("第8名的消费量占全球的多少比例？", "第8名占2.1%，其次是印度。", "2.1%，", "2.1%"),
    ("中国红十字会是哪些类型的组织？", "它属于基金、协会、民办非企业。", "基金、", "基金、协会、民办非企业"),
    ("哪一本书最先记载中国妃嫔制度?", "，《周礼》，", "，《周礼》，", "《周礼》"),
    # a quote closed after the space the reader stopped at, then trimmed
    ("这首赞美诗叫什么?", "诗名为“ Ein neues Lied wir heben an ”。", "“ Ein neues Lied wir heben an ",
     "“ Ein neues Lied wir heben an ”"),
    # a quote opened a few characters back, when the reader started after its space; not across a clause's end
    ("苏家坨镇慰问活动叫什么", "苏家坨镇总工会开展“情暖职工 冬送温暖”慰问活动。", "冬送温暖”", "“情暖职工 冬送温暖”"),
    ("苏家坨镇慰问活动叫什么", "开展“情暖职工，冬送温暖”慰问活动。", "冬送温暖”", "冬送温暖”"),
    # a quote closed a few characters on, in the same clause; not across a clause's end
    ("首开书院有什么服务标准", "首开书院遵循全业务的“三全服务标准”，惠及职工。", "“三全", "“三全服务标准”"),
    ("首开书院有什么服务标准", "首开书院遵循“三全，服务标准”。", "“三全", "“三全"),
    # the particle 的 the reader started on is left out, unless too little would be left
    ("首开集团工会为什么要建设职工服务阵地", "着力提升职工服务阵地的服务性。", "的服务性", "服务性"),
    ("当惹雍错对苯教徒有什么意义", "是心目中的神。", "的神", "的神"),
    # quoted names joined to the one found are taken in, unless the question names them (DRCD)
    ("密云区技能竞赛前三名可以被推荐评选什么", "优先推荐评选“密云工匠”和“密云能手”，为培育注入动力。", "“密云工匠”",
     "“密云工匠”和“密云能手”"),
    ("元代进口两种奴隶，一种是「高丽奴」，另一种是?", "主要进口「黑厮」和「高丽奴」。", "「黑厮」", "「黑厮」"),
    # a meeting's locative 上 is left out; a word ending in 上 is not a meeting's
    ("东城区总工会的消息来自哪次会议", "记者近日从东城区人民政府与东城区总工会工作联席会上了解到，2024年经费增加。",
     "东城区人民政府与东城区总工会工作联席会上", "东城区人民政府与东城区总工会工作联席会"),
    ("他们在哪里见面", "两人在北京的晚上见面。", "北京的晚上", "北京的晚上"),
])
def test_a_list_questions_answer_is_the_whole_list_and_brackets_are_closed(question, sentence, first, want):
    assert _shaped(question, sentence, first) == want


def test_a_short_search_box_query_ending_with_a_quantity_asks_for_a_number():
    for q in ("亚马逊市值", "劳务派遣税率", "王妍之身高", "广州科龙空调售后电话", "2017年大学生毕业人数",
              "iphone7电池容量", "24寸行李箱尺寸", "发球线和球网的距离"):  # a measure too
        assert question_kind(q) == "count", q
    # ... and a span with no figure does not answer it ("橱柜宽度" was answered "洗菜盆")
    assert not fits_kind("橱柜宽度", "洗菜盆的宽度一般是55厘米。", 0, 3)
    assert fits_kind("橱柜宽度", "洗菜盆的宽度一般是55厘米。", 10, 14)
    assert question_kind("小米6防水等级") is None  # a grade, not a quantity
    assert question_kind("哪个城市人口最多") == "place"  # a question word decides
    assert question_kind("七鳃鳗的数量会影响物种的数量") is None  # a statement that lost its question word
    # a figure in the question is no "how many": "20几所" (DRCD), "哪几个" asks which
    assert question_kind("北京20几所高等院校学生在哪里举行游行集会?") == "place"
    assert question_kind("我国有几所高校") == "count"


@pytest.mark.parametrize("question,sentence,want", [
    ("天津海信空调售后维修电话", "天津海信空调售后维修电话：400-6177-626，24小时服务。", "400-6177-626"),
    ("造影多少钱", "费用因地区和医院的差异会有不同，在150-600元之间。", "150-600元"),
    ("亚马逊市值", "亚马逊市值达3581亿美元，超过沃尔玛。", "3581亿"),
    ("王妍之身高", "王妍之身高170cm，体重48kg。", "170cm"),  # Latin units are units too
    # the figure that can answer as asked, not the first one (a span of time or a volume for money)
    ("造影多少钱", "月经干净后两周内做造影，费用在150-600之间。", "150-600"),
    ("腹膜透析机多少钱一台", "腹膜透析每天要用2000毫升药液，机器一台差不多10万。", "10万"),
    # ... nor a year when the count is not asked in years
    ("2017年大学生毕业人数", "2016年毕业季已经结束,高校毕业生达到历史新高765万。", "765万"),
    ("孕妇几个月开始补钙", "怀孕4个半月以后开始补钙。", "4个半月"),
    ("28岁未成年票房", "《28岁未成年》在全国上映，中国内地收获1.22亿票房。", "1.22亿"),  # 票 of 票房 is no unit
])
def test_numbers_keep_their_range_and_telephone_numbers_their_dashes(question, sentence, want):
    from rag.span import with_unit

    got = short_answer(question, sentence)
    assert got is not None and sentence[got[0]:with_unit(question, sentence, *got)] == want


def test_an_items_number_is_no_figure():
    # DuReader: "1、斑点大小" was read for a price
    assert short_answer("激光去斑多少钱", "价格主要跟以下几个方面因素有关：1、斑点大小：每个人色斑情况不同。") is None
    # nor, to the reader's span, "一、" of a point written in numerals (DuReader)
    from rag.span import holds_count

    sentence = "一、2.5平方电线能带多少瓦国标GB4706.1-2005规定的电线负载电流值。"
    assert not holds_count("2.5平方线能带多少千瓦", sentence, 0, 1)
    assert holds_count("西洋棋是由几个人游玩的游戏", "西洋棋是一种二人对弈的游戏。", 6, 8)
    # a decimal after a space is no item's number (XQuAD)
    sentence = "1901 年，华沙居民 711,988 人中， 56.2% 为天主教徒。"
    at = sentence.index("56.2%")
    assert holds_count("1901 年华沙居民中天主教徒的比例是多少？", sentence, at, at + 5)


def test_a_number_does_not_end_in_a_comma():
    s = "身高174减去10-15厘米才是真实身高3,所以"
    got = short_answer("范冰冰多高真实身高", s)
    assert got is not None and not s[got[0]:got[1]].endswith((",", "."))


AIRPORT_ROUTES = "目前苏南硕放国际机场已累计开通国内客运航线62条，国际航线5条。"


RESIDENTS_CENTRE = ("首开城运天岳恒公司与属地大安澜营社区共同围绕解决居民诉求，整合小区公共空间资源，共建首开居民服务中心和"
                    "公共区域职工之家。")


@pytest.mark.parametrize("question,sentence,span,want", [
    # the reader's figure counts another thing: the clause naming what is counted has the answer
    ("苏南硕放国际机场开通了多少条国际航线", AIRPORT_ROUTES, "62条", "5条"),
    ("首开集团建了多少个工会驿站", "5年来，首开集团工会共建设14个市级职工之家，167个工会驿站。", "14个", "167个"),
    # ... unless the span's own clause names it, or no other clause (or more than one) names it with a figure
    ("苏南硕放国际机场开通了多少条国内客运航线", AIRPORT_ROUTES, "62条", "62条"),
    ("首开集团建了多少个工会驿站", "共建设167个工会驿站，14个职工之家。", "167个", "167个"),
    ("首开集团建了多少个工会驿站", "工会驿站建设成效显著，共建成167个。", "167个", "167个"),
    ("首开集团建了多少个工会驿站", "东城建了3个工会驿站，西城建了5个工会驿站，共计8个。", "8个", "8个"),
    # a numeral inside a word is no figure: "十万" stands, not "三" of "三农" beside 高校学生
    ("长春市总工会组织了多少名高校学生", "开展“十万学子看长春”研学行动，组织高校学生进乡村看“三农”发展", "十万", "十万"),
    ("苏南硕放国际机场有多少人", AIRPORT_ROUTES, "62条", "62条"),  # no specific thing counted
    # a count starts at the figure that ends it ...
    ("长沙常住人口", "据统计，2016年末,长沙市常住人口764.52万人。", "2016年末,长沙市常住人口764.52万人", "764.52万人"),
    ("亲民党得到多少席次", "民进党获得68席、中国国民党获得35席、亲民党获得3席。", "68席、中国国民党获得35席、亲民党获得3席", "3席"),
    ("阿森纳共赢得几次英格兰联赛杯冠军?", "曾赢得13次顶级联赛冠军、13次英格兰足总杯冠军、2次英格兰联赛杯冠军。",
     "13次顶级联赛冠军、13次英格兰足总杯冠军、2次", "2次"),  # DRCD: the reader took the list before it
    ("苹果7128g多少钱", "128G只需要5780元", "128G只需要5780元", "5780元"),
    # ... but a range's words, a figure's own qualifier, a bare figure stay whole (a telephone number loses
    # its line's name: the number answers)
    ("天津男科需要多少钱", "费用从几十元到上百元不等", "几十元到上百元", "几十元到上百元"),
    ("这里有几个站点", "东区有3个、5个或更多站点", "3个、5个", "3个、5个"),
    ("现货玻璃多少钱一吨", "均价1224元/吨", "均价1224元", "均价1224元"),
    ("科龙空调售后电话", "全国统一服务热线4006-554-868", "全国统一服务热线4006-554-868", "4006-554-868"),
    ("首开集团建了多少个工会驿站", SEED, "167个", "167个"),
    # a bare year gets its month and day ...
    ("变形金刚5什么时候在中国上映", "影片于2017年6月23日在中国内地上映。", "2017年", "2017年6月23日"),
    ("阴阳师活动开始时间", "活动将于2017年5月中旬开启", "2017年", "2017年5月中旬"),
    # ... unless the year itself or a count is asked for, or nothing follows it
    ("香港是哪一年回归的", "香港于1997年7月1日回归。", "1997年", "1997年"),
    ("2017建党多少周年", "中国共产党1921年7月1日成立。", "1921年", "1921年"),
    ("西罗马帝国灭亡于何时", "西罗马帝国于476年灭亡。", "476年", "476年"),
    # a figure takes the figures joined to it in its own unit ...
    ("职工之家在首开大厦几层", "在首开大厦10层和12层，首开集团工会打造了“职工之家”", "10层", "10层和12层"),
    ("这栋楼有几层在出租", "3层、5层及8层对外出租", "3层", "3层、5层及8层"),
    # ... before it as well, when the reader picked a later one
    ("首开集团大厦职工之家在几层", "在首开大厦10层和12层，首开集团工会打造了“职工之家”", "12层", "10层和12层"),
    ("这栋楼有几层在出租", "3层、5层及8层对外出租", "8层", "3层、5层及8层"),
    ("会议开了几天", "会议开了2个晚上和3天", "3天", "3天"),
    # ... for a where-answer too, which starts right after its 在 over nouns and verbs (jieba: 首开 v) ...
    ("首开文体活动中心在哪", "在首开大厦10层和12层，首开集团工会打造了“职工之家”，新建首开文体活动中心。", "大厦10层",
     "首开大厦10层和12层"),
    # ... not over a 的 or a time (DRCD: "在芬兰的|赫尔辛基")
    ("第十五届夏季奥林匹克运动会在哪一个地方举行?", "运动会在芬兰的赫尔辛基举行。", "赫尔辛基", "赫尔辛基"),
    ("奥斯陆市民自行焚烧了城市是由于哪个国家围攻他们?", "在1567年瑞典围攻时，市民焚烧了城市。", "瑞典", "瑞典"),
    # ... not a figure of another unit, nor one of another thing
    ("会议开了几天", "会议开了3天和2个晚上", "3天", "3天"),
    ("首开集团建了多少个工会驿站", "建成167个工会驿站和14个职工之家", "167个", "167个"),
    # a who-answer that is a post takes the posts and the body before it; a name in a list does not
    ("密云区工匠学院的院长是谁",
     "聘请首都经济贸易大学密云分校党委委员、副校长为院长，10名劳模工匠和教师代表为导师", "副校长",
     "首都经济贸易大学密云分校党委委员、副校长"),
    ("康有为和谁流亡国外", "康有为、梁启超则流亡国外", "梁启超", "梁启超"),
    # ... a group of people after a 、 is grown to the list of whom; a name (周恩来, jieba's "time") is not
    ("东城区总工会2025年将组织谁疗休养", "将会同有关部门组织全区劳模工匠、高技能人才疗休养。", "高技能人才",
     "全区劳模工匠、高技能人才"),
    ("1945年国民政府谈判的对象包括毛泽东、王若飞以及谁?", "中共代表毛泽东、周恩来、王若飞赴重庆谈判。", "周恩来", "周恩来"),
    # an answer to "X的Y是什么" ends before the "为…Y" that names it the Y
    ("密云区工匠学院的目标是什么", "以服务区域经济发展、提升劳动者素质为核心目标，聘请导师。",
     "服务区域经济发展、提升劳动者素质为核心目标", "服务区域经济发展、提升劳动者素质"),
    ("谁主持了会议", "由市委书记、市长主持会议", "市长", "市委书记、市长"),
    # a span that repeats the question's subject and verb starts after them; other words of it stay
    ("密云区总工会和哪个单位联合开展技术创新竞赛", "密云区总工会联合区人力资源和社会保障局等单位，开展技术创新竞赛活动",
     "密云区总工会联合区人力资源和社会保障局", "区人力资源和社会保障局"),
    ("新北市三峡蓝染节是由什么机关办理的活动？", "由新北市政府文化局办理", "新北市政府文化局", "新北市政府文化局"),
    ("波斯的细密画技术来自拜占庭镶嵌画圣像的什么技术?", "来自拜占庭的细密镶嵌技术", "细密镶嵌技术", "细密镶嵌技术"),
    # a partner is named after the sentence's own 与, when the question's verb follows (合作) ...
    ("东城区总工会和哪些部门合作开展东城工匠评选", DONGCHENG, "专项经费与区人保局、区经信局、区科委",
     "区人保局、区经信局、区科委"),
    ("东城区总工会和哪些部门合作开展东城工匠评选", DONGCHENG, "区科委", "区人保局、区经信局、区科委"),
    # ... not when the 与 is the answer's own ("胎儿与产妇", DRCD) or another verb follows
    ("分娩的第二阶段长度不定，一般来说和什么有关?", "第二阶段的长度应该由胎儿与产妇的健康状况决定。", "胎儿与产妇的健康状况",
     "胎儿与产妇的健康状况"),
    ("东城区总工会和哪些部门联合慰问职工", DONGCHENG, "专项经费与区人保局、区经信局、区科委",
     "专项经费与区人保局、区经信局、区科委"),
    # a list cut short is given whole though the question does not ask for several, to the 的 joining it to its noun
    ("首开书院的三全服务标准指什么", "首开书院遵循全年龄、全领域、全业务的“三全服务标准”，惠及了职工群体。", "全年龄、全领域",
     "全年龄、全领域、全业务"),
    ("首开书院遵循什么标准", "首开书院遵循全年龄、全领域、全业务的“三全服务标准”。", "“三全服务标准”", "“三全服务标准”"),
    # what was given, an open list's first item: the list to its 等 ...
    ("苏家坨镇总工会给职工送了什么", "为他们送上干果、牛奶等慰问品和温暖祝福。", "干果", "干果、牛奶"),
    # ... not when the question names the other items (DRCD), asks which one, or its span is a later item
    ("林邑投降后送宋廷的礼物包括金银、古贝以及什么等?", "送宋廷大象、金银、古贝等礼物。", "大象", "大象"),
    ("哪个单位送了干果", "为他们送上干果、牛奶等慰问品。", "干果", "干果"),
    ("苏家坨镇总工会给职工送了什么", "为他们送上干果、牛奶等慰问品和温暖祝福。", "牛奶", "牛奶"),
    # who did a thing together, no party named: all the parties the sentence joins, each name whole
    ("首开居民服务中心是谁共建的", RESIDENTS_CENTRE, "城运天岳恒", "首开城运天岳恒公司与属地大安澜营社区"),
    ("首开居民服务中心是谁共建的", RESIDENTS_CENTRE, "岳恒公司", "首开城运天岳恒公司与属地大安澜营社区"),
    ("服务中心是谁共建的", "在属地大安澜营社区，首开公司与社区共同建设服务中心。", "首开公司", "首开公司与社区"),
    ("活动由谁联合主办", "本次活动由市总工会与市文旅局联合主办。", "市总工会", "市总工会与市文旅局"),
    # ... one party named: the other alone (DRCD: "达尔文和谁共同署名")
    ("首开居民服务中心是谁和大安澜营社区共建的", RESIDENTS_CENTRE, "首开城运天岳恒公司", "首开城运天岳恒公司"),
    ("首开居民服务中心是谁建的", RESIDENTS_CENTRE, "首开城运天岳恒公司", "首开城运天岳恒公司"),
    # a telephone number, its area code written before it (DuReader)
    ("交警救援电话", "要用手机拨打“122”交通事故报警电话。", "“122”交通事故报警电话", "122"),
    ("广州海尔空调维修电话", "广州海尔空调维修电话：020-38073569，欢迎来电。", "38073569", "020-38073569"),
    ("广州荣事达洗衣机售后电话", "售后电话662070I2。", "662070I2", "662070I2"),
    # ... not the words before it
    ("南京志高空调售后维修电话", "24小时报修热线1)400-167-6796在售后服务工作中", "24小时报修热线1)400-167-6796", "400-167-6796"),
    ("广州海尔空调维修电话", "24小时服务热线：020-38073569", "24小时服务热线：020-38073569", "020-38073569"),
])
def test_a_count_is_cut_to_its_figure_a_year_given_its_date_a_post_its_body_and_the_subject_left_out(question, sentence, span, want):
    assert _shaped(question, sentence, span) == want


@pytest.mark.parametrize(("question", "sentence", "want"), [
    ("苏家坨镇总工会慰问了哪些单位",
     "该镇总工会走访慰问了苏家坨镇水务管理服务中心、农业综合服务中心（农服）和北京金地丰源科技有限公司等单位的一线职工。",
     "苏家坨镇水务管理服务中心、农业综合服务中心（农服）和北京金地丰源科技有限公司"),
    ("密云区在哪些行业开展了技能竞赛", "其中在家政服务、卫生系统、蜜蜂养殖、餐饮服务等行业开展技能竞赛10余场。",
     "家政服务、卫生系统、蜜蜂养殖、餐饮服务"),
    ("密云区在哪几个行业开展了技能竞赛", "其中在家政服务、卫生系统等多个行业开展技能竞赛。", "家政服务、卫生系统"),
    # a kind jieba tags a verbal noun, named a few words after 等
    ("密云区开展了哪些培训", "整合多方资源，开展民宿管理、新媒体运营推广、康养服务等有针对性的培训活动，",
     "民宿管理、新媒体运营推广、康养服务"),
    # the kind after a modifier ending in 的 ("线上线下相结合的模式" was the reader's answer)
    ("密云区开展了哪些有针对性的培训", "整合多方资源，开展民宿管理、新媒体运营推广、康养服务等有针对性的培训活动，",
     "民宿管理、新媒体运营推广、康养服务"),
    # a kind named before the question ends on 有哪些; the lead-in goes on through a pronoun and a direction
    ("苏家坨镇总工会慰问品有哪些", "为他们送上干果、牛奶等慰问品和温暖祝福。", "干果、牛奶"),
    ("苏家坨镇总工会的慰问品包括哪些？", "为他们送上干果、牛奶等慰问品和温暖祝福。", "干果、牛奶"),
    # a list that names its kind by the count of its items
    ("长春市总工会从哪几个维度构建工匠型人才成长模型",
     "从价值观、个性特质、素质能力及关键经历四个维度，构建“工匠型人才成长模型”。", "价值观、个性特质、素质能力及关键经历"),
    # a list of another kind, no list at all, or a question that does not ask for several: none
    ("长春市总工会从哪几个维度构建工匠型人才成长模型", "从价值观、个性特质两个方面入手，建立四个维度的模型。", None),
    ("战国史模式主打哪两个模式？", "主打两大模式「战史演武」&「争霸演武」。", None),  # CMRC: the items follow
    ("苏家坨镇总工会慰问了哪些单位", "为他们送上干果、牛奶等慰问品。", None),
    ("苏家坨镇总工会慰问了哪些单位", "该镇总工会慰问了一线职工。", None),
    ("密云区在什么行业开展了技能竞赛", "其中在家政服务、卫生系统等行业开展技能竞赛。", None),
])
def test_a_list_question_finds_the_list_a_sentence_names_as_the_kind_asked(question, sentence, want):
    got = named_list(question, sentence)
    assert (sentence[got[0]:got[1]] if got else None) == want


@pytest.mark.parametrize(("question", "sentence", "want"), [
    ("首开集团的工作机制是什么", "构建“党委领导、行政支持、工会搭台”的工作机制，加强多方联动。", "“党委领导、行政支持、工会搭台”"),
    ("首开集团构建了什么工作机制", "构建“党委领导、行政支持、工会搭台”的工作机制。", "“党委领导、行政支持、工会搭台”"),
    ("从屋大维开始，第一公民还可以拥有什么头衔?", "第一公民还拥有「奥古斯都」头衔。", "「奥古斯都」"),  # DRCD
    # a quoted name of something else, or no quote before the attribute: none
    ("首开集团的工作机制是什么", "打造贴近职工的“温馨家园”，完善工作机制。", None),
    ("首开集团的工作体系是什么", "构建“党委领导、行政支持、工会搭台”的工作机制。", None),
])
def test_the_quoted_name_of_the_attribute_asked_for(question, sentence, want):
    from rag.span import quoted_attribute

    got = quoted_attribute(question, sentence)
    assert (sentence[slice(*got)] if got else None) == want


@pytest.mark.parametrize(("question", "sentence", "want"), [
    ("流动驿站为谁提供服务", "开展流动驿站建设，为项目管理人员、一线施工人员提供“温馨港湾”。", "项目管理人员、一线施工人员"),
    ("首开书院面向谁开放", "首开集团将企业一楼空间打造成对公众开放的首开书院。", "公众"),  # another preposition
    ("九合空间为哪些人服务", "为职工、社区居民和新就业形态劳动者提供贴心、暖心的服务。", "职工、社区居民和新就业形态劳动者"),  # 提供…服务
    ("所谓《雅尔达协定》，是为换取苏联对谁宣战?", "美英为争取苏联对日本宣战，与苏联签订协定。", "日本"),  # DRCD: the nearest
    ("弥尔认为谁才更适合来判断", "因为他们才更适合来判断什么最有益于社会", None),  # 认为, not 为
    ("理想国为谁所写的?", "《理想国》是柏拉图所写的。", None),  # who it is, not whom for
    ("流动驿站为谁提供服务", "首开集团工会提供服务，为职工。", None),  # not within one clause
])
def test_whom_a_verb_is_for_is_named_between_its_preposition_and_the_verb(question, sentence, want):
    got = to_whom(question, sentence)
    assert (sentence[slice(*got)] if got else None) == want


_SIX = "长春市总工会开展“十万学子看长春”研学行动，组织高校学生进企业看生产车间、进景区看优美风光、进乡村看“三农”发展等“六进六看”活动。"


@pytest.mark.parametrize(("question", "sentence", "want"), [
    ("六进六看活动是什么", _SIX, "高校学生进企业看生产车间、进景区看优美风光、进乡村看“三农”发展"),
    ("“六进六看”是什么？", _SIX, "高校学生进企业看生产车间、进景区看优美风光、进乡村看“三农”发展"),
    ("十万学子看长春是什么", _SIX, None),  # a quoted name, but no list before it
    ("六进六看活动在哪里举行", _SIX, None),  # not what it stands for
    ("三进活动是什么", "开展进企业、进社区等活动。", None),  # the list names no such name
])
def test_a_quoted_name_stands_for_the_list_before_it(question, sentence, want):
    """"六进六看活动是什么" was answered "引导青年学子", the clause after the name."""
    from rag.span import listed_name

    got = listed_name(question, sentence)
    assert (sentence[slice(*got)] if got else None) == want


_ACADEMY = "密云区总工会牵头成立密云区工匠学院，弘扬工匠精神，以匠心育匠人为理念，以服务区域经济发展、提升劳动者素质为核心目标，聘请副校长为院长。"


@pytest.mark.parametrize(("question", "sentence", "want"), [
    ("密云区工匠学院的理念是什么", _ACADEMY, "匠心育匠人"),  # "弘扬工匠精神，以匠心育匠人" before
    ("密云区工匠学院的核心目标是什么", _ACADEMY, "服务区域经济发展、提升劳动者素质"),  # "弘扬工匠精神" before
    ("密云区工匠学院的目标是什么", _ACADEMY, "服务区域经济发展、提升劳动者素质"),
    ("密云区工匠学院以什么为理念", _ACADEMY, None),  # asked so, the reader reads it
    ("网易以什么为用户入口", "网易以邮箱业务作为用户入口。", None),
    ("网易的用户入口是什么", "网易以邮箱业务作为用户入口。", None),  # 作为, not 为
    ("密云区工匠学院的宗旨是什么", _ACADEMY, None),
])
def test_what_a_sentence_takes_as_the_attribute_asked_for(question, sentence, want):
    from rag.span import attribute_as

    got = attribute_as(question, sentence)
    assert (sentence[slice(*got)] if got else None) == want


@pytest.mark.parametrize(("question", "sentence", "topic"), [
    ("首开书院", "首开集团将企业一楼空间打造成对公众开放的首开书院。", True),
    ("167个工会驿站", "首开集团工会共建设14个市级职工之家，167个工会驿站。", True),
    # a name typed short, a character or two left out ("密云区工匠学院")
    ("密云工匠学院", "密云区总工会牵头成立密云区工匠学院。", True),
    # a subject the sentence does not write out, or a query ending with what it wants (DuReader)
    ("密云工匠学院", "密云区总工会牵头成立工匠学院。", False),
    ("密云学院", "密云区总工会牵头成立工匠学院。", False),
    ("iphone7尺寸", "iphone7尺寸为138.3x67.1x7.1mm。", False),
    ("阿凡达票房", "阿凡达票房已破四亿。", False),
    ("首开书院在哪", "首开集团将企业一楼空间打造成对公众开放的首开书院。", False),
    ("首开书院？", "首开集团将企业一楼空间打造成对公众开放的首开书院。", True),
    ("首开书院吗", "首开集团将企业一楼空间打造成对公众开放的首开书院。", False),
])
def test_a_query_that_only_names_a_subject_asks_to_be_told_about_it(question, sentence, topic):
    from rag.span import names_a_topic

    assert names_a_topic(question, sentence) is topic


@pytest.mark.parametrize(("question", "sentence", "span", "answers"), [
    # a value written right after its subject may answer (DuReader's search-box queries) ...
    ("玉的反义词", "在古文中，玉的反义词是瓦。", "瓦", True),
    ("网易股价", "截至收盘，网易股价为238.03美元。", "238.03美元", True),
    ("履约保证金比例", "合同中履约保证金比例一般为总金额的5%-10%。", "合同中履约保证金比例一般为总金额的5%-10%", True),
    # ... the reader's pick before it, or far from it, does not
    ("167个工会驿站", "首开集团工会共建设14个市级职工之家，167个工会驿站。", "市级职工之家", False),
    ("首开书院", "首开书院等8个职工之家获评北京市公共区域职工之家，首开书院入选北京市工会重点工作创新案例。",
     "北京市工会重点工作创新案例", False),
])
def test_a_subject_typed_alone_is_answered_only_by_words_written_right_after_it(question, sentence, span, answers):
    from rag.span import answers_the_topic

    start = sentence.index(span)
    assert answers_the_topic(question, sentence, start, start + len(span)) is answers



@pytest.mark.parametrize(("question", "sentence", "span", "defines_it"), [
    # the seed page: words of a sentence that names the term, not a definition of it
    ("业工融合是什么意思", "近日，通州商业资产运营集团有限公司工会推进“业工融合”，举办“国有企业房屋出租交易业务介绍”培训班，"
     "将工会的服务职能与集团业务发展高效融合。", "工会", False),
    ("长春红旗工匠人才培育体系是什么", "为打造长春红旗工匠人才培育体系，长春市总工会对优秀技能人才精确画像。", "长春市总工会", False),
    ("职工服务阵地是什么", "集团工会着力提升职工服务阵地的服务性。", "集团工会着力提升职工服务阵地的服务性", False),
    ("十万学子看长春是什么", "长春市总工会开展“十万学子看长春”研学行动，组织高校学生进企业。", "“十万学子看长春”研学行动", True),
    # DRCD (training data): a definition joined to its term, before or after it
    ("赫罗图是什么？", "描绘众多恒星的温度相对于亮度的图，即赫罗图，可以让我们了解恒星。", "描绘众多恒星的温度相对于亮度的图", True),
    ("什么是地月空间?", "在地球的大气层和月球之间的地区有时也称为地月空间。", "地球的大气层和月球之间的地区", True),
    ("纳怜道指的是什么?", "纳怜道，蒙语意为小道。", "小道", True),
    ("抱树运动指的是什么?", "抱树运动，以和平方式抱住大树来阻止森林砍伐。", "以和平方式抱住大树来阻止森林砍伐", True),
    ("acca是什么", "ACCA是英国特许公认会计师公会。", "英国特许公认会计师公会", True),
    ("人工智障爱酱是什么", "人工智障爱酱,是A.I.Channel里的kizina ai,超可爱。", "kizina ai", True),  # DuReader
    # ... but not a 为 that opens a clause after other words ("建设，为…": for whom, not what)
    ("什么是流动驿站", "首开房地工会开展流动驿站建设，为项目管理人员、一线施工人员提供“温馨港湾”。", "温馨港湾", False),
    ("业工融合是什么意思", "业工融合是近年的提法，工会参与其中。", "工会", False),  # 是's clause ended before
    ("赋能续航是什么", "依托工匠学院将“赋能续航”线下培训与“百万职工进课堂”线上培训同步推进。", "线下培训", True),
    # a sentence that does not write the term out is not judged; nor is another kind of question
    ("acca是什么", "英国特许公认会计师公会成立于1904年。", "英国特许公认会计师公会", True),
    ("长春市总工会打造了什么体系", "为打造长春红旗工匠人才培育体系，长春市总工会对优秀技能人才精确画像。", "长春红旗工匠人才培育体系", True),
])
def test_a_definition_questions_short_answer_is_joined_to_its_term(question, sentence, span, defines_it):
    from rag.span import defines

    start = sentence.index(span)
    assert defines(question, sentence, start, start + len(span)) is defines_it


@pytest.mark.parametrize(("question", "a", "b", "same"), [
    ("端午节国家规定放几天", "共3天", "2017年", False),
    ("笔记本温度多少算正常", "30度", "两年", False),
    ("造影多少钱", "150-600", "1.85亿美元", False),  # yuan, asked for, against dollars
    ("高考分数什么时候公布", "25日", "7月12日", False),
    ("做痔疮手术大概多少钱", "4000块左右", "5000以上", True),  # a bare figure is in the unit asked
    ("2尺4是多少厘米", "80厘米", "144", True),
    ("首开集团建了多少个工会驿站", "167个", "160个", True),
    ("高考分数什么时候公布", "23号", "25日", True),
])
def test_figures_measure_the_same_thing_in_one_unit_or_to_one_precision(question, a, b, same):
    from rag.span import same_measure

    assert same_measure(question, a, b) is same and same_measure(question, b, a) is same
