"""Intents and the question reader on hand-built plans: no index, no embedder."""
import pytest

from assistant.engine.evidence import Evidence, Vocabulary
from assistant.engine.intent_model import default_model
from assistant.engine.intents import REGISTRY, Env
from assistant.engine.query import read_query, split_clauses
from assistant.engine.tuning import DEFAULT_TUNING
from assistant.models import Item, Plan
from assistant.retrieval import Hit
from assistant.scope import resolve_scope


def _plan(pid, place, units=True):
    items = [
        Item(pid, "1", "加强学校安全管理", ["一、平安校园"], "1. 加强学校安全管理\n每月开展一次安全隐患排查。",
             lead_units=["安信办"] if units else [], responsible_units=["基教科", "计财科"] if units else [], seq=0),
        Item(pid, "2", "推进学前教育普惠发展", ["一、平安校园"], "2. 推进学前教育普惠发展\n普惠性幼儿园覆盖率达到80%。",
             lead_units=["基教科"] if units else [], responsible_units=[] if units else [], seq=1),
        Item(pid, "3", "加强教师队伍建设", ["二、教师队伍"], "3. 加强教师队伍建设\n年内补充新教师300人。",
             lead_units=["人事科"] if units else [], responsible_units=["基教科"] if units else [], seq=2),
    ]
    return Plan(id=pid, title=f"{place}教育局2021年工作要点", issuer=f"{place}教育局", year=2021,
                source=f"{pid}.txt", place=place, items=items)


@pytest.fixture(scope="module")
def env():
    return _env([_plan("alpha-2021", "甲市"), _plan("beta-2021", "乙县", units=False)])


def _env(plans):
    records = {i.id: (p, i) for p in plans for i in p.items}
    vocab = Vocabulary(plans)

    def search(text, scope):  # a lexical stand-in for retrieval: records sharing characters, best first
        hits = []
        for p, i in records.values():
            if scope.plan_ids is not None and p.id not in scope.plan_ids:
                continue
            overlap = len(set(text) & set(i.title + i.text))
            hits.append(Hit(p, i, overlap, {}))
        return sorted(hits, key=lambda h: -h.score)[:10]

    return Env(plans=plans, records=records, vocab=vocab, evidence=Evidence(vocab, DEFAULT_TUNING),
               tuning=DEFAULT_TUNING, search=search)


def read(env, question, context=None):
    return read_query(question, env.plans, env.vocab, default_model(), context=context)


def test_chatter_is_never_topic(env):
    q = read(env, "我是甲市一所小学的校长，想问一下，学校安全这项是哪个科室牵头？")
    assert q.chatter and "校长" not in q.topic and "小学" not in q.topic
    assert "安全" in q.topic and q.scope.plan_ids == ["alpha-2021"]
    assert [c.role for c in split_clauses("我是一名校长，请问学校安全谁牵头？")] == ["chatter", "ask"]


def test_unit_role_and_other_units(env):
    q = read(env, "甲市学校安全由哪个科室牵头？")
    ans = REGISTRY["unit_role"].answer(q, env)
    assert ans.supported and "安信办" in ans.answer and ans.citations[0].id == "alpha-2021:1"
    q = read(env, "甲市学校安全，除了牵头的还有哪些科室参与？")
    ans = REGISTRY["unit_role"].answer(q, env)
    assert q.role == "others" and "基教科、计财科" in ans.answer


def test_unit_role_without_units_is_refused_with_the_item_cited(env):
    ans = REGISTRY["unit_role"].answer(read(env, "乙县学校安全由哪个科室牵头？"), env)
    assert ans.supported is False and "没有列出" in ans.answer and ans.citations[0].id == "beta-2021:1"
    assert "安信办" not in ans.answer


def test_a_unit_no_plan_lists_is_refused_naming_the_units_listed(env):
    from assistant.engine.intents.units import unlisted_unit_refusal

    q = read(env, "甲市要点里，宣传科牵头了哪几条工作？帮我列一下。")
    assert q.unlisted_units == ("宣传科",) and not q.units
    ans = unlisted_unit_refusal(q, env)
    assert ans.supported is False and "没有“宣传科”" in ans.answer and "安信办、基教科、计财科" in ans.answer
    # listed units, their shortenings, a name sharing two characters with one, and question words are not unlisted
    for question in ("甲市基教科牵头的有哪些？", "学校安全由哪个科室牵头？", "各科负责什么？", "学科负责人有哪些要求？",
                     "甲市人事师训科牵头哪些？"):
        assert read(env, question).unlisted_units == (), question


def test_unit_items_with_two_roles(env):
    q = read(env, "甲市基教科牵头的有哪些？")
    ans = REGISTRY["unit_items"].answer(q, env)
    assert [c.id for c in ans.citations] == ["alpha-2021:2"]
    q = read(env, "甲市人事科牵头、基教科配合的有哪几条？")
    assert [c.id for c in REGISTRY["unit_items"].answer(q, env).citations] == ["alpha-2021:3"]


def test_section_of_and_count(env):
    ans = REGISTRY["section_of"].answer(read(env, "甲市第3项属于哪个部分？"), env)
    assert "第二部分「二、教师队伍」" in ans.answer
    ans = REGISTRY["count"].answer(read(env, "甲市一共多少项？"), env)
    assert "共3项" in ans.answer


def test_figure_with_the_wrong_measure_is_not_an_answer(env):
    ans = REGISTRY["fact"].answer(read(env, "甲市补充新教师要花多少钱？"), env)
    assert ans.supported is False and "没有写明" in ans.answer
    ans = REGISTRY["fact"].answer(read(env, "甲市要补充多少新教师？"), env)
    assert ans.supported and "300人" in ans.answer


def test_item_numbers_are_read_exactly(env):
    plans = env.plans
    assert resolve_scope("甲市第一百零一项是什么", plans).item_number == "101"
    assert resolve_scope("甲市第两百项是什么", plans).item_number == "200"
    # a number no item can have is kept as written: looked up, not found, refused with the real range
    assert resolve_scope("甲市第-1项是什么", plans).item_number == "-1"
    assert resolve_scope("甲市第1e9项是什么", plans).item_number == "1e9"
    assert resolve_scope("甲市第 - 3 条是什么", plans).item_number == "-3"
    assert resolve_scope("甲市第九万九千九百九十九项是什么", plans).item_number == "99999"
    assert resolve_scope("甲市第２项是什么", plans).item_number == "2"  # full-width digits
    assert resolve_scope("甲市第贰项是什么", plans).item_number == "2"  # financial numerals
    for question in ("甲市第一百项是什么？", "甲市第-1项是什么？", "甲市第1e9项是什么？", "甲市第零项是什么？",
                     "甲市第０项是什么？", "甲市第壹佰项是什么？"):
        ans = REGISTRY["item"].answer(read(env, question), env)
        assert ans.supported is False and "共3项" in ans.answer and not ans.citations, question


def test_a_complete_question_starts_fresh_an_elliptical_one_inherits(env):
    ctx = {"plan_id": "beta-2021", "item_id": "beta-2021:2", "question": "乙县学前教育普惠覆盖率多少"}
    fresh = read(env, "甲市学校安全由哪个科室牵头？", ctx)
    assert fresh.scope.plan_ids == ["alpha-2021"] and not fresh.inherited
    follow = read(env, "那它的责任科室呢？", ctx)
    assert follow.elliptical and "plan_id" in follow.inherited
    again = read(env, "甲市呢？", ctx)
    assert "question" in again.inherited and again.scope.plan_ids == ["alpha-2021"]


def test_synonym_of_a_word_the_plans_lack(env):
    # the plans say 教师, people say 老师: the thesaurus maps it instead of counting it against the item
    q = read(env, "甲市今年招新老师的目标是多少人？")
    assert "教师" in q.topic and "老师" not in q.unknown
    assert "目标" not in q.topic  # the kind of answer wanted, not its subject
    ans = REGISTRY["fact"].answer(q, env)
    assert ans.supported and "300人" in ans.answer and ans.citations[0].id == "alpha-2021:3"


def test_a_standing_modifier_joins_its_word_a_word_ending_does_not():
    from assistant.engine.words import topic_words

    text = "1. 普及学前教育\n学前三年毛入园率达到90%。开展中小学研学实践教育。"
    vocab = Vocabulary([Plan(id="p-2021", title="丙市教育局2021年工作要点", issuer="丙市教育局", year=2021, source="p.txt",
                             place="丙市", items=[Item("p-2021", "1", "普及学前教育", [], text, seq=0)])])
    assert "毛入园率" in topic_words("学前三年毛入园率要到多少", vocab, set())
    # "学" ends 研学 here: 学实践 is a string of the plan, not a word of the question
    assert topic_words("研学实践这块有什么要求", vocab, set()) == ["研学", "实践"]


def test_a_demonstrative_in_the_ask_names_a_phrase_of_the_scene():
    from assistant.engine.anaphora import antecedent

    scene = "学校要按教育评价改革调整教师考核办法"
    assert antecedent("请问市局这项改革是哪个科室牵头的", scene) == "教育评价改革"
    assert antecedent("这项工作谁牵头", scene) is None  # 工作 is not in the scene: the whole scene stays
    assert antecedent("谁牵头", scene) is None


def test_relayed_request_and_format_instruction_are_not_asks(env):
    q = read(env, "领导让我核一下，甲市年内要完成哪些事？全部列出来")
    assert len(q.asks) == 1 and "领导" not in q.topic and "全部" not in q.topic
    assert any("领导" in c for c in q.chatter)


def test_a_relayed_question_is_asked_and_a_scene_word_the_item_lacks_does_not_sink_it(env):
    q = read(env, "在吗，领导让我把甲市要点里管学前教育普惠的那条找出来，安全会上要引用，是第几条来着？")
    assert len(q.asks) == 1 and "普惠" in q.topic and q.optional == ("安全",)
    ans = REGISTRY["item_find"].answer(q, env)
    assert ans.supported and ans.citations[0].id == "alpha-2021:2", ans.answer
    # the plans collected are not something said before: the ask keeps its own subject
    q = read(env, "这几份要点里哪几个地方写了学前教育普惠的事？我在做个汇总")
    assert "汇总" not in q.topic and not q.situation


def test_a_bare_request_verb_asks_about_the_clause_before_it():
    clauses = split_clauses("甲市要点里关于学前教育普惠那条，帮我捋一下")
    assert [c.role for c in clauses] == ["ask"] and "普惠" in clauses[0].text


def test_own_situation_supplies_the_topic_an_ask_points_back_to(env):
    q = read(env, "我们学校想抓学前教育普惠，甲市这件事归哪个科室牵头？")
    assert "学前教育" in q.topic or "普惠" in q.topic
    # who the asker is ("安全示范校的校长") is not the situation pointed back to
    who = read(env, "我是甲市一所安全示范校的校长，想抓学前教育普惠，这件事归哪个科室牵头？")
    assert "普惠" in who.topic and "安全" not in who.topic
    ans = REGISTRY["unit_role"].answer(q, env)
    assert ans.supported and "基教科" in ans.answer and ans.citations[0].id == "alpha-2021:2"


def test_frequency_is_stated_as_every_period(env):
    q = read(env, "甲市学校安全隐患排查多长时间开展一次？")
    ans = REGISTRY["fact"].answer(q, env)
    assert ans.supported and "每月" in ans.answer and ans.citations[0].id == "alpha-2021:1"


def test_text_index_finds_substrings_like_a_scan():
    from assistant.engine.textindex import TextIndex

    texts = ["加强学校安全管理", "推进学前教育普惠发展", "学前三年毛入园率", "安全", ""]
    index = TextIndex(texts)
    for needle in ["安全", "学前", "学前教育", "前三年毛", "全管", "学", "不存在", "发展x"]:
        assert index.containing(needle).tolist() == [n for n, t in enumerate(texts) if needle in t], needle
    assert index.count("") == 0 and index.containing_any(["安全", "普惠"]).tolist() == [0, 1, 3]


def test_a_plan_without_numbered_items_is_counted_as_such_not_a_crash():
    empty = Plan(id="gamma-2021", title="丙区教育局2021年工作要点", issuer="丙区教育局", year=2021,
                 source="gamma-2021.txt", place="丙区", items=[])
    env = _env([_plan("alpha-2021", "甲市"), empty])
    ans = REGISTRY["count"].answer(read(env, "一共多少项？"), env)
    assert ans.supported and "共3项" not in ans.answer and "3项" in ans.answer and "丙区" in ans.answer
    ans = REGISTRY["count"].answer(read(env, "丙区一共多少项？"), env)
    assert ans.supported is False and not ans.citations


def test_when_one_thing_is_due_is_not_an_enumeration_of_deadlines(env):
    assert REGISTRY["deadline"].matches(read(env, "甲市年内要完成哪些事？"), env)
    assert REGISTRY["deadline"].matches(read(env, "甲市哪些工作有时间要求？"), env)
    assert not REGISTRY["deadline"].matches(read(env, "甲市学前教育普惠定了哪年完成吗？"), env)


def test_a_topic_offered_as_alternatives_is_named_by_either(env):
    q = read(env, "甲市哪些条目提到了安全隐患排查或普惠幼儿园？")
    assert len(q.alternatives) == 2
    ans = REGISTRY["mentions"].answer(q, env)
    assert ans.supported and {c.id for c in ans.citations} == {"alpha-2021:1", "alpha-2021:2"}, ans.answer
    # "同时": both, not either
    assert not read(env, "甲市哪些条目同时提到了安全隐患排查、普惠幼儿园？").alternatives


def test_which_places_is_neither_a_section_nor_a_count(env):
    ctx = {"plan_id": "alpha-2021", "item_id": "alpha-2021:3", "topic": ["新教师"]}
    q = read(env, "分别在哪几个县区？", context=ctx)
    assert not REGISTRY["section_of"].matches(q, env) and not REGISTRY["count"].matches(q, env)
    assert REGISTRY["section_of"].matches(read(env, "这项放在哪个大部分下面？", context=ctx), env)
    assert REGISTRY["count"].matches(read(env, "甲市一共有几项？"), env)


def test_asked_how_often_the_sentence_stating_a_frequency_is_quoted():
    item = Item("gamma-2021", "1", "加强意识形态工作", ["一、党建"],
                "1. 加强意识形态工作\n落实意识形态工作责任制，加强舆情研判，抓好阵地管理。"
                "各校每月组织1次集中政治学习。每季度分析研判意识形态领域情况并报送上级党组织。",
                lead_units=[], responsible_units=[], seq=0)
    plan = Plan(id="gamma-2021", title="丙市教育局2021年工作要点", issuer="丙市教育局", year=2021,
                source="gamma-2021.txt", place="丙市", items=[item])
    env = _env([plan])
    ans = REGISTRY["fact"].answer(read(env, "丙市意识形态研判多久报一次？"), env)
    assert ans.supported and "每季度" in ans.answer, ans.answer


def test_structure_words_operations_and_kinds_of_statement_are_not_topic(env):
    q = read(env, "比较甲市与乙县关于学前教育普惠的规定")
    assert "比较" not in q.topic and "规定" not in q.topic and "普惠" in q.topic
    assert "大块" not in read(env, "甲市要点里安全隐患排查放在哪个大块里？").topic
    # a figure counted in people is stated by the plan, not a count of its items
    assert not REGISTRY["count"].matches(read(env, "甲市今年要补充多少个新老师？"), env)


def test_a_clause_ending_in_a_role_is_a_self_description_only_after_a_copula(env):
    # "我们学校还没有安全副校长" is the situation the ask points back to, not who the asker is
    q = read(env, "我是甲市一所初中的校长，我们学校还没有安全副校长，市里要点有没有这个要求？")
    assert "安全" in q.topic and q.situation == "我们学校还没有安全副校长"
    q = read(env, "我在农村当校长，学校安全这项是哪个科室牵头？")
    assert "校长" not in q.topic and q.situation == ""


def test_a_part_named_before_is_what_this_part_points_back_to(env):
    q = read(env, "我是一名校长，想组织老师们学学甲市要点里教师队伍那部分，这部分一共几项？")
    assert q.topic == ("教师队伍",)  # not 组织 or 学习: what the asker plans to do with it
    ans = REGISTRY["count"].answer(q, env)
    assert ans.supported and "共1项" in ans.answer and "第3项" in ans.answer


def test_pieces_of_a_structure_word_and_the_enumerated_noun_are_not_topic(env):
    q = read(env, "甲市要点里专门讲教师队伍建设的那一大块，下面有几条？")
    assert "一大" not in q.topic + q.unknown
    q = read(env, "甲市要点中哪些项目涉及学前教育或普惠发展？")
    assert q.alternatives and all("项目" not in alt for alt in q.alternatives)


def test_a_record_naming_a_synonym_that_shares_a_morpheme_covers_the_word(env):
    text = "3. 加强教师队伍建设\n年内补充新教师300人。"
    assert env.evidence.cover(("填补", "教师"), text) == 1.0  # 填补 ~ 补充, sharing 补
    from assistant.engine.synonyms import same_sense_synonyms

    # a word of several senses gets none (编制 would be credited by 机制); one sharing no character is left out
    assert "教师" in same_sense_synonyms("老师") and same_sense_synonyms("编制") == ()
    assert "补助" in same_sense_synonyms("资助") and "捐助" in same_sense_synonyms("资助")
    without = Evidence(env.vocab, DEFAULT_TUNING.with_(synonym_credit=0.0))
    assert without.cover(("填补", "教师"), text) < 1.0


def test_two_values_asked_in_one_clause_are_two_asks(env):
    from assistant.engine.query import coordinated_asks

    assert coordinated_asks("甲市要点对安全隐患排查的频次及教师补充的人数有何要求") == [
        "甲市要点对安全隐患排查的频次有何要求", "教师补充的人数有何要求"]
    assert coordinated_asks("牵头单位和责任单位分别是谁") == ["牵头单位和责任单位分别是谁"]  # no value asked
    assert coordinated_asks("第2项和第3项分别讲什么") == ["第2项", "第3项分别讲什么"]  # two items named
    q = read(env, "甲市要点对安全隐患排查的频次及教师补充的人数有何要求？")
    assert len(q.asks) == 2


def test_which_plans_mention_shows_a_plan_wording_the_topic_in_part_as_the_closest():
    def plan(pid, place, text):
        item = Item(pid, "1", "落实五育并举", ["一、立德树人"], f"1. 落实五育并举\n{text}", seq=0)
        # 实践 is common in the plans, 研学 rare: a record with 研学 alone covers most of 研学实践
        other = Item(pid, "2", "加强学校安全管理", ["二、平安校园"], "2. 加强学校安全管理\n每月开展一次安全实践演练。", seq=1)
        return Plan(id=pid, title=f"{place}教育局2021年工作要点", issuer=f"{place}教育局", year=2021,
                    source=f"{pid}.txt", place=place, items=[item, other])

    env = _env([plan("alpha-2021", "甲市", "推进中小学研学实践教育。"), plan("beta-2021", "乙县", "出台研学旅行工作规程。"),
                plan("gamma-2021", "丙区", "开齐开足体育课程。")])
    q = read(env, "研学实践这块，哪几个计划都提了？")
    ans = REGISTRY["mentions"].answer(q, env)
    assert ans.supported and {c.id for c in ans.citations} == {"alpha-2021:1", "beta-2021:1"}
    assert "1份计划提到" in ans.answer and "乙县教育局2021年工作要点没有原文写到" in ans.answer
    assert "丙区教育局2021年工作要点未提及" in ans.answer


def test_a_word_inside_another_is_not_a_closest_wording():
    # "讲学" inside "宣讲学习" is not the word 讲学: no closest record is offered for that plan
    from assistant.engine.intents.mention import nearest_in_plans

    def plan(pid, place, text):
        item = Item(pid, "1", "加强思想建设", ["一、党建"], f"1. 加强思想建设\n{text}", seq=0)
        return Plan(id=pid, title=f"{place}教育局2021年工作要点", issuer=f"{place}教育局", year=2021,
                    source=f"{pid}.txt", place=place, items=[item])

    env = _env([plan("alpha-2021", "甲市", "实施银龄讲学计划。"), plan("beta-2021", "乙县", "组织宣讲学习活动。"),
                plan("gamma-2021", "丙区", "开展银龄计划活动。")])
    q = read(env, "银龄讲学计划，哪几个地方的要点里有提？")
    near = nearest_in_plans(q, env, [p for p in env.plans if p.id != "alpha-2021"])
    assert set(near) == {"gamma-2021"}


def test_retrieval_is_given_the_plan_terms_the_tokenizer_cut_apart():
    # jieba cuts "对控辍保学" into 对控 / 辍保学; the reader completes the plans' term 控辍保学 and
    # retrieval is asked for it too
    item = Item("alpha-2021", "1", "巩固义务教育", ["一、义务教育"], "1. 巩固义务教育\n完善控辍保学机制。", seq=0)
    other = Item("alpha-2021", "2", "加强学校安全管理", ["二、平安校园"], "2. 加强学校安全管理\n开展安全教育。", seq=1)
    plan = Plan(id="alpha-2021", title="甲市教育局2021年工作要点", issuer="甲市教育局", year=2021,
                source="alpha-2021.txt", place="甲市", items=[item, other])
    env = _env([plan])
    asked: list[str] = []
    search = env.search
    env.search = lambda text, scope: asked.append(text) or search(text, scope)
    q = read(env, "甲市对控辍保学有什么要求？")
    assert "控辍保学" in q.topic and "四个" not in read(env, "四个地方对控辍保学的要求").topic
    env.hits(q)
    assert asked and asked[0].endswith(" 控辍保学")


def test_a_follow_up_on_a_follow_up_keeps_the_conversation_topic(env):
    # "学校安全谁牵头？" → "责任科室有哪些？" → "乙县呢？": the topic is still 学校安全
    context = {"question": "责任科室有哪些？", "topic": ["安全"], "plan_id": "alpha-2021"}
    q = read(env, "乙县呢？", context=context)
    assert q.topic == ("安全",) and q.scope.plan_ids == ["beta-2021"] and "question" in q.inherited


def test_a_figure_stated_with_another_verb_answers_how_many():
    # "新增多少学位" asked, "完成300个学位建设任务" written: the noun and the figure are found, not the verb
    texts = ["完成300个学位建设任务。", "新增一批示范学校。", "优化学位布局。"]
    items = [Item("alpha-2021", str(n), f"第{n}项工作", ["一、资源供给"], f"{n}. 第{n}项工作\n{t}", seq=n - 1)
             for n, t in enumerate(texts, 1)]
    env = _env([Plan(id="alpha-2021", title="甲市教育局2021年工作要点", issuer="甲市教育局", year=2021,
                     source="alpha-2021.txt", place="甲市", items=items)])
    q = read(env, "甲市要新增多少学位？")
    assert q.topic == ("新增", "学位")
    ans = REGISTRY["fact"].answer(q, env)
    assert ans.supported and "300个学位" in ans.answer and [c.id for c in ans.citations] == ["alpha-2021:1"]


def test_who_leads_asked_after_which_item_is_a_second_ask_about_that_item(env):
    q = read(env, "甲市讲学前教育的是哪一项，牵头的是谁？")
    assert len(q.asks) == 2
    assert len(read(env, "甲市学前教育由哪个科室牵头，配合的有哪些？").asks) == 1  # one ask of units


def test_a_latin_word_the_plans_lack_is_asked_about(env):
    q = read(env, "甲市要点有没有提到AI教育？")
    assert "AI" in q.unknown
    ans = REGISTRY["exists"].answer(q, env)
    assert not ans.supported and "AI" in ans.answer


def test_a_run_of_items_is_listed_by_title(env):
    q = read(env, "甲市要点第2到3项的标题是什么？")
    assert q.scope.item_range == (2, 3) and q.scope.item_number is None
    ans = REGISTRY["item"].answer(q, env)
    assert [c.id for c in ans.citations] == ["alpha-2021:2", "alpha-2021:3"] and "推进学前教育普惠发展" in ans.answer
    ans = REGISTRY["item"].answer(read(env, "甲市要点第2至第9条"), env)
    assert "全文共3项" in ans.answer and len(ans.citations) == 2


def test_the_plans_parts_as_a_whole_and_the_last_item_of_a_part(env):
    from assistant.engine.core import PLAN_PARTS

    for ask in ("甲市要点有哪几个部分", "甲市要点的六个部分分别是什么", "各部分的标题是什么", "分为哪些部分"):
        assert PLAN_PARTS.search(ask), ask
    for ask in ("第二部分有哪些", "学校安全在哪个部分", "这部分一共几项"):
        assert not PLAN_PARTS.search(ask), ask
    ans = REGISTRY["section_items"].answer(read(env, "甲市第一部分最后一项是什么？"), env)
    assert [c.id for c in ans.citations] == ["alpha-2021:2"]


def test_a_unit_name_leaves_no_pieces_in_the_topic(env):
    q = read(env, "甲市安信办和基教科牵头的学校安全工作有哪些？")
    assert not {"教科", "基教", "信办"} & set(q.topic + q.unknown) and "安全" in q.topic


def test_a_units_items_narrowed_to_what_is_named_outright(env):
    ans = REGISTRY["unit_items"].answer(read(env, "甲市基教科牵头或参与的工作里哪些和学前教育有关？"), env)
    assert ans.supported and [c.id for c in ans.citations] == ["alpha-2021:2"]
    ans = REGISTRY["unit_items"].answer(read(env, "甲市基教科牵头或参与的工作里哪些和体育有关？"), env)
    assert not ans.supported and "没有讲" in ans.answer
    ans = REGISTRY["unit_items"].answer(read(env, "甲市基教科牵头或参与了哪些工作？"), env)
    assert len(ans.citations) == 3


def test_a_principal_asking_what_is_required_of_their_school_type_gets_its_clauses(env):
    ans = REGISTRY["obligation"].answer(read(env, "我是甲市一所幼儿园的园长，今年对我们有什么要求？"), env)
    assert ans.supported and [c.id for c in ans.citations] == ["alpha-2021:2"] and "对幼儿园的相关要求" in ans.answer


def test_the_plans_overall_goal_is_read_from_its_preamble_and_a_topics_goal_from_its_items():
    preamble = Item("alpha-2021", None, "总体要求", [], "今年工作聚焦“保安全、提质量”的总目标，推动教育高质量发展。",
                    seq=0, kind="preamble")
    item = Item("alpha-2021", "1", "推进学前教育普惠发展", ["一、学前教育"], "1. 推进学前教育普惠发展\n普惠性幼儿园覆盖率达到80%。", seq=1)
    env = _env([Plan(id="alpha-2021", title="甲市教育局2021年工作要点", issuer="甲市教育局", year=2021,
                     source="alpha-2021.txt", place="甲市", items=[preamble, item])])
    ans = REGISTRY["summary"].answer(read(env, "甲市今年工作的总目标是啥？"), env)
    assert ans.supported and "保安全、提质量" in ans.answer and [c.id for c in ans.citations] == [preamble.id]
    ans = REGISTRY["summary"].answer(read(env, "甲市学前教育的总体目标是什么？"), env)
    assert "alpha-2021:1" in [c.id for c in ans.citations] and "相关的有" in ans.answer  # the items, not the preamble's goal



def test_a_section_answers_for_its_topic_only_when_most_of_its_items_speak_of_it():
    from assistant.engine.intents.topics import section_spread

    items = [Item("alpha-2021", str(n), f"第{n}项", ["一、资源供给"], f"{n}. 第{n}项", seq=n - 1) for n in range(1, 7)]
    plan = Plan(id="alpha-2021", title="甲市教育局2021年工作要点", issuer="甲市教育局", year=2021,
                source="alpha-2021.txt", place="甲市", items=items)
    hits = [Hit(plan, i, 1.0, {}) for i in items]
    assert section_spread(hits[:3], 6) == []  # three of six: those items, not the whole section
    assert len(section_spread(hits[:4], 6)) == 6


def test_the_next_or_previous_item_is_the_one_beside_the_item_in_context(env):
    context = {"question": "甲市第2项讲什么？", "plan_id": "alpha-2021", "item_id": "alpha-2021:2"}
    assert read(env, "下一项呢？", context=context).scope.item_number == "3"
    q = read(env, "上一条呢？", context=context)
    assert q.scope.item_number == "1" and q.scope.plan_ids == ["alpha-2021"]
    ans = REGISTRY["item"].answer(q, env)
    assert [c.id for c in ans.citations] == ["alpha-2021:1"]


def test_what_is_asked_of_the_item_in_context_keeps_that_item_as_subject(env):
    context = {"question": "甲市第2项讲什么？", "plan_id": "alpha-2021", "item_id": "alpha-2021:2"}
    q = read(env, "这一项有哪些数字目标？", context=context)
    assert q.topic == () and env.context_item(q) is not None
    assert not REGISTRY["deadline"].matches(q, env)  # not every dated item of the plan
    item = Item("alpha-2021", "1", "加强学校安全管理", ["一、平安校园"], "1. 加强学校安全管理\n定期开展安全检查。", seq=0)
    plans = [Plan(id="alpha-2021", title="甲市教育局2021年工作要点", issuer="甲市教育局", year=2021,
                  source="alpha-2021.txt", place="甲市", items=[item])]
    q = read(_env(plans), "期限是什么时候？", context={**context, "item_id": "alpha-2021:1"})
    assert "定期" not in q.topic + q.unknown  # a kind of value stays itself, never its synonym 定期
