"""Exact expectations on the four shipped plans: every item, title, section and unit list."""
import pytest

DAZHOU_UNITS = {
    "1": ('党建办', '机关各科室、市教育直属单位'),
    "2": ('党建办', '机关各科室、市教育直属单位'),
    "3": ('机关纪委', '机关各科室、市教育直属单位'),
    "4": ('党建办', '机关各科室、市教育直属单位'),
    "5": ('人事师训科', '机关纪委、市教育直属单位'),
    "6": ('督导办、基教科', '法规科、职成科、体卫艺科、市教科所、市电教技装中心'),
    "7": ('基教科', '法规科、职成科、体卫艺科、党建办、市教科所、市电教技装中心'),
    "8": ('法规科', '计财科、人事师训科、基教科、体卫艺科、市招考办、市后勤与资助中心'),
    "9": ('法规科', '基教科、职成科、督导办'),
    "10": ('基教科、法规科', '职成科、督导办、人事师训科、市教科所'),
    "11": ('督导办', '人事师训科、法规科、计财科、基教科、职成科、体卫艺科、市招考办、市教科所、市电教技装中心'),
    "12": ('市招考办', '法规科、计财科、基教科、职成科、体卫艺科、督导办、人事师训科、市教科所、市电教技装中心'),
    "13": ('职成科', '计财科、法规科'),
    "14": ('安信办', '机关各科室、市教育直属单位'),
    "15": ('计财科', '督导办、基教科、机关纪委'),
    "16": ('计财科', '基教科、职成科、督导办、市电教技装中心'),
    "17": ('市电教技装中心', '机关各科室、市教育直属单位'),
    "18": ('市教科所、基教科', '职成科、体卫艺科、督导办、人事师训科、扶贫办、市招考办、市电教技装中心'),
    "19": ('市后勤与资助中心', '计财科、体卫艺科'),
    "20": ('市电教技装中心', '计财科、基教科、督导办、市教科所'),
    "21": ('市后勤与资助中心', '计财科、基教科、职成科、扶贫办'),
    "22": ('市后勤与资助中心', '计财科、体卫艺科、督导办'),
    "23": ('基教科', '法规科、计财科、督导办、市教科所、市电教技装中心'),
    "24": ('基教科', '法规科、计财科、督导办、人事师训科、扶贫办、市教科所、市电教技装中心'),
    "25": ('基教科', '法规科、计财科、职成科、督导办、市教科所、市电教技装中心'),
    "26": ('职成科', '计财科、基教科、人事师训科、市招考办、市教科所'),
    "27": ('法规科', '基教科、职成科、督导办'),
    "28": ('体卫艺科', '计财科、基教科、职成科、市教科所、市电教技装中心、市后勤与资助中心'),
    "29": ('基教科', '计财科、督导办、人事师训科、市教科所、市电教技装中心'),
    "30": ('人事师训科', '办公室、法规科、基教科、职成科、督导办、党建办'),
    "31": ('人事师训科', '计财科、基教科、职成科、市教科所'),
    "32": ('人事师训科', '计财科、督导办'),
    "33": ('人事师训科', '法规科、计财科、基教科、职成科、督导办、市招考办、市教科所、市电教技装中心'),
    "34": ('扶贫办', '基教科、职成科、计财科、人事师训科、市招考办、市后勤与资助中心、市电教技装中心'),
    "35": ('计财科', '基教科、职成科、体卫艺科、人事师训科、法规科、督导办、市教科所、市电教技装中心'),
    "36": ('语委办', '基教科、职成科、体卫艺科、督导办、人事师训科、党建办、市电教技装中心'),
    "37": ('职成科', '法规科、基教科'),
    "38": ('计财科', ''),
}

TITLES = {
    "dazhou-2020": [
        '深入学习贯彻习近平新时代中国特色社会主义思想,贯彻党的十九届四中全会和省委十一届六次全会、市委四届八次全会精神',
        '坚持党的全面领导,推动党建与教育教学深度融合',
        '持之以恒纵深推进全面从严治党',
        '加强教育系统意识形态工作',
        '加强教育系统干部人才队伍建设',
        '全面深化教育评价体系改革',
        '坚持立德树人,落实五育并举',
        '推动教育改革有序有效实施',
        '加强教育领域法治建设',
        '切实规范办学行为',
        '深入推进教育督导体制机制改革',
        '稳妥推进招生考试制度改革',
        '加快推进区域教育交流合作',
        '完善教育领域安全稳定风险防控体系',
        '健全完善教育经费投入保障机制',
        '加快推进教育重大项目实施',
        '深入推进教育信息化建设和应用',
        '加强中小学教育教研科研工作',
        '推进学校后勤服务规范化标准化建设',
        '加强和改进教育技术装备工作',
        '提高资助工作精准管理能力',
        '推进农村义务教育营养改善计划规范实施',
        '推进扩大普惠学前教育资源攻坚',
        '推动城乡义务教育一体化发展',
        '推进普通高中健康发展',
        '推进现代职业教育体系建设',
        '促进民办教育健康发展',
        '建立促进学生身心健康发展长效机制',
        '提升特殊教育发展水平',
        '完善师德师风建设长效机制',
        '大力提升教师队伍整体素质',
        '加大教师队伍关心关爱力度',
        '推进教师队伍管理改革',
        '坚决打赢打好教育脱贫攻坚战',
        '奋力推进区域教育中心建设工作',
        '积极推广国家通用语言文字',
        '推进终身教育体系建设',
        '提高教育统计数据质量和服务水平',
    ],
    "hengyang-2022": [
        '学习贯彻党的创新理论',
        '全面加强教育系统党组织建设',
        '坚定不移推进全面从严治党和党风廉政建设',
        '维护教育系统安全稳定',
        '推进民办教育健康发展',
        '全面推动双减走深走实',
        '加强和改进学校思想政治工作',
        '促进学生身心健康发展',
        '强化优质教育资源供给力度',
        '提升基础教育发展水平',
        '巩固教育脱贫成果',
        '提升职业教育服务转化能力',
        '推进教育评价改革',
        '深化教育考试改革',
        '实施教育督导体制机制改革',
        '全面推进依法治教',
        '深化师德师风建设',
        '推动教师素质提升',
        '做优教师管理服务',
    ],
    "shaodong-2020": [
        '全面加强党对教育的领导',
        '全面加强基层支部建设',
        '全面加强党风廉政建设',
        '全面加强意识形态管理',
        '全面加强纯粹教育理念实践探索',
        '全面加强干部队伍建设',
        '打赢大班额（超大班额）攻坚战',
        '全面改善办学条件',
        '扩大普惠性学前教育资源',
        '加快义务教育优质均衡发展',
        '推动普通高中特色发展',
        '完善现代中职教育体系',
        '支持规范民办教育发展',
        '突出德育实效',
        '提升智育水平',
        '强化体育锻炼',
        '增强美育熏陶',
        '加强劳动教育',
        '把涵养高尚师德作为第一标准',
        '把营造尊师氛围作为最美风尚',
        '把减轻教师负担作为关键一招',
        '把提升综合素养作为首要任务',
        '把落实各项待遇作为重要抓手',
        '打赢疫情防控阻击战',
        '落实教育精准扶贫要求',
        '维护师生平安校园稳定',
        '完善教育督导评价',
        '加强财务食堂后勤管理',
        '统筹做好其他工作',
    ],
    "yongshun-2023": [
        '发展优质普惠的学前教育',
        '发展优质均衡的义务教育',
        '发展优质特色的普高教育',
        '发展优质品牌的职业教育',
        '发展优质融合的特殊教育',
        '发展优质惠民的社会教育和民办教育',
        '坚持“立德”与“立志”相融合',
        '坚持“教育”与“体育”相融合',
        '坚持“美育”与“心育”相融合',
        '坚持“劳心”与“劳力”相融合',
        '坚持“管理”与“质量”相融合',
        '向师德要高度',
        '向培训要效益',
        '向结构要质量',
        '持续巩固拓展教育脱贫攻坚成果同乡村振兴有效衔接',
        '优化均衡教育资源配置保障',
        '完善体育服务保障',
        '加强教体系统内部治理',
        '深化教育督导改革',
        '深化教育评价改革',
        '打造党的领导坚强阵地',
        '塑造党建文化特色品牌',
        '营造风清气正良好生态',
    ],
}

SECTIONS = {
    "dazhou-2020": {
        "一、全面加强教育系统新时代党的建设": range(1, 6),
        "二、推进教育治理体系和治理能力现代化": range(6, 15),
        "三、扩大公平优质教育资源供给": range(15, 23),
        '四、落实"四轮驱动"重点任务': range(23, 30),
        "五、切实加强教师队伍建设": range(30, 34),
        "六、提升服务经济社会发展能力": range(34, 39),
    },
    "hengyang-2022": {
        "一、深入学习贯彻习近平新时代中国特色社会主义思想，确保教育领域始终成为坚持党的领导的坚强阵地": range(1, 5),
        "二、全面贯彻党的教育方针，全面落实立德树人根本任务": range(5, 9),
        "三、积极回应群众关切，促进教育发展成果更多更公平惠及全体人民": range(9, 13),
        "四、坚持深化改革，激发教育发展活力": range(13, 17),
        "五、坚持以人为本，打造高素质教师队伍": range(17, 20),
    },
    "shaodong-2020": {
        "一、实施党建质量固本工程，进一步净化教育生态": range(1, 7),
        "二、实施优质均衡强基工程，进一步丰富教育供给": range(7, 14),
        "三、实施“五育并举”赋能工程，进一步提高教育质量": range(14, 19),
        "四、实施师德师能铸魂工程，进一步提升教师地位": range(19, 24),
        "五、实施综合保障提质工程，进一步提升治理效能": range(24, 30),
    },
    "yongshun-2023": {
        "一、立足终身学习需要，打造体系完善的供给高地": range(1, 7),
        "二、强化融合推进策略，打造创新人才的培养高地": range(7, 12),
        "三、突出清廉纯粹导向，打造名师荟萃的人才高地": range(12, 15),
        "四、坚持以民生为本，打造科学有效的教体保障高地": range(15, 18),
        "五、深化体制机制改革，打造现代教育的治理高地": range(18, 21),
        "六、全面加强从严治党，打造创新融合的品牌高地": range(21, 24),
    },
}

PLAN_META = {
    # id: (title, issuer, co_issuers, year, doc_number, issue_date, item count)
    "dazhou-2020": ("达州市教育局2020年工作要点", "达州市教育局", ["中共达州市委教育工作委员会"], 2020, "达市教〔2020〕1号", "2020-04-02", 38),
    "hengyang-2022": ("2022年衡阳市教育局工作要点", "衡阳市教育局", [], 2022, "", "2022-04-14", 19),
    "shaodong-2020": ("邵东市教育局2020年工作要点", "邵东市教育局", [], 2020, "", "", 29),
    "yongshun-2023": ("永顺县教育和体育局2023年工作要点", "永顺县教育和体育局", [], 2023, "", "2022-12", 23),
}


@pytest.mark.parametrize("plan_id", sorted(PLAN_META))
def test_plan_metadata_comes_from_the_notice_header_and_title(corpus, plan_id):
    plan = corpus.plan(plan_id)
    title, issuer, co, year, doc_number, issue_date, count = PLAN_META[plan_id]
    assert (plan.title, plan.issuer, plan.co_issuers, plan.year) == (title, issuer, co, year)
    assert (plan.doc_number, plan.issue_date) == (doc_number, issue_date)
    assert len(plan.numbered_items) == count


@pytest.mark.parametrize("plan_id", sorted(PLAN_META))
def test_items_are_numbered_one_to_n_with_exact_titles(corpus, plan_id):
    plan = corpus.plan(plan_id)
    numbers = [i.number for i in plan.numbered_items]
    assert numbers == [str(n) for n in range(1, PLAN_META[plan_id][-1] + 1)]
    assert [i.title for i in plan.numbered_items] == TITLES[plan_id]


@pytest.mark.parametrize("plan_id", sorted(PLAN_META))
def test_every_item_sits_in_its_printed_section(corpus, plan_id):
    plan = corpus.plan(plan_id)
    got = {}
    for item in plan.numbered_items:
        assert len(item.section) == 1
        got.setdefault(item.section[0], []).append(int(item.number))
    assert got == {k: list(v) for k, v in SECTIONS[plan_id].items()}


def test_all_38_lead_and_responsible_unit_lists_of_dazhou(corpus):
    plan = corpus.plan("dazhou-2020")
    got = {i.number: ("、".join(i.lead_units), "、".join(i.responsible_units)) for i in plan.numbered_items}
    assert got == DAZHOU_UNITS


def test_dazhou_unit_quirks_are_normalised_and_reported(corpus):
    plan = corpus.plan("dazhou-2020")
    # Item 11: first line mislabelled 责任, read as lead, with a warning.
    assert plan.item("11").lead_units == ["督导办"]
    assert any("item 11" in w and "read as lead" in w for w in plan.warnings)
    # Item 19: lead and responsible printed on one line.
    assert plan.item("19").lead_units_raw == "市后勤与资助中心"
    assert plan.item("19").responsible_units == ["计财科", "体卫艺科"]
    # Item 29: "市教科" + line break + "所" joined back; item 10: truncated 市教科 aliased.
    assert "市教科所" in plan.item("29").responsible_units
    assert plan.item("10").responsible_units_raw.endswith("市教科")
    assert plan.item("10").responsible_units[-1] == "市教科所"
    # Item 34: 市资助中心 / 市电教中心 aliased, raw kept as printed.
    assert "市资助中心" in plan.item("34").responsible_units_raw
    assert plan.item("34").responsible_units[-2:] == ["市后勤与资助中心", "市电教技装中心"]
    # Item 38 has no responsible line: an empty list and a warning, never a guess.
    assert plan.item("38").responsible_units == []
    assert any("item 38" in w for w in plan.warnings)


def test_dazhou_sub_fields_are_split_and_broken_lines_joined(corpus):
    item = corpus.plan("dazhou-2020").item("13")
    assert item.problem == "地区间教育交流合作与地方经济社会发展布局深度融合不够。"
    assert item.goals.startswith("加快区域教育合作")
    assert "力促泛美航空职业教育落地达州" in item.measures
    # Item 34 prints 问题描述 twice: both kept.
    assert corpus.plan("dazhou-2020").item("34").problem.count("\n") == 1
    # Item 15 has no 工作措施 in the source.
    assert corpus.plan("dazhou-2020").item("15").measures == ""


@pytest.mark.parametrize("plan_id", ["hengyang-2022", "shaodong-2020", "yongshun-2023"])
def test_plans_without_unit_fields_get_empty_unit_lists(corpus, plan_id):
    plan = corpus.plan(plan_id)
    assert not plan.has_units
    assert all(i.lead_units == [] and i.responsible_units == [] for i in plan.items)


def test_text_outside_numbered_items_is_kept_as_citable_records(corpus):
    preambles = {p.id: [i for i in p.items if i.kind == "preamble"] for p in corpus.plans}
    assert all(len(v) == 1 for v in preambles.values())
    assert preambles["shaodong-2020"][0].title == "总体要求"
    assert preambles["dazhou-2020"][0].title == "2020年全市教育工作的总体思路"
    assert preambles["yongshun-2023"][0].text.endswith("为持续推动全面建设社会主义现代化新永顺贡献教体力量。")
    closing = [i for i in corpus.plan("hengyang-2022").items if i.kind == "text"]
    assert len(closing) == 1
    assert closing[0].number is None
    assert closing[0].text.startswith("统筹做好统战、语言文字工作")
    assert closing[0].section == ["五、坚持以人为本，打造高素质教师队伍"]
    # …and item 19 no longer carries it.
    assert "统战" not in corpus.plan("hengyang-2022").item("19").text


def test_notice_header_is_metadata_not_items(corpus):
    for plan in corpus.plans:
        for item in plan.items:
            assert "印发" not in item.title and "通知" not in item.title
    assert "现印发给你们" in corpus.plan("yongshun-2023").header
    assert corpus.plan("yongshun-2023").recipients == "全县各级各类学校、县级体育类社会组织"


def test_markup_bullets_and_spaces_are_cleaned(corpus):
    yongshun = corpus.plan("yongshun-2023")
    assert all("bookmark" not in i.text for i in yongshun.items)
    assert yongshun.item("8").title == "坚持“教育”与“体育”相融合"
    dazhou = corpus.plan("dazhou-2020")
    assert dazhou.item("6").section == ["二、推进教育治理体系和治理能力现代化"]
    assert all(not i.text.startswith("- ") for i in dazhou.items)


def test_offsets_point_into_the_source_text(corpus, plans_dir):
    import re

    for plan in corpus.plans:
        source = (plans_dir / plan.source).read_text(encoding="utf-8")
        for item in plan.numbered_items:
            span = re.sub(r"^\[bookmark:[^\]]*\]", "", source[item.start:item.end].lstrip(" \u3000-"))
            assert span.startswith(item.number), (plan.id, item.number)
            assert item.title.replace(" ", "")[:6] in span.replace(" ", "")


def test_no_text_of_a_plan_is_dropped(corpus, plans_dir):
    """Every CJK character of a file is in the plan's metadata or one of its records.

    Unit labels (牵头科室(单位)) are the only words not kept verbatim: their content is.
    """
    import re
    from collections import Counter

    from assistant.units import UNIT_LABEL_RE

    cjk = re.compile(r"[\u4e00-\u9fff]")
    for plan in corpus.plans:
        source = UNIT_LABEL_RE.sub("", (plans_dir / plan.source).read_text(encoding="utf-8"))
        kept = plan.header + plan.full_title + "".join(
            i.text + i.lead_units_raw + i.responsible_units_raw + "".join(i.section) for i in plan.items
        )
        missing = Counter(cjk.findall(source)) - Counter(cjk.findall(kept))
        assert not missing, (plan.id, missing.most_common(10))
