"""Intents answered from the plans' structure: items, sections, counts, plan metadata, clarification."""
from __future__ import annotations

from dataclasses import replace

import re

from ...models import Item, Plan
from ...text import trim
from ..contract import HEADER_LABEL, Answer, Kind, header_citation, marker
from ..evidence import flat
from ..query import Query
from ..render import DATE_LINE, body, date_cn, label, section_ordinal
from .base import REGISTRY, Env, Intent, cite, not_found, refuse, register


def describe(q: Query, plan: Plan, item: Item, kind: Kind = Kind.ITEM) -> Answer:
    """An item in full: number, section, title, its gist, and its units when the plan lists them."""
    section = f"（{item.section[-1]}）" if item.section else ""
    gist = trim(item.goals or item.measures or body(item), 160)
    text = f"{plan.title}第{item.number}项{section}是「{item.title}」"
    if gist:
        text += f"：{gist}"
    if not text.endswith(("。", "……")):
        text += "。"
    if item.has_units:
        text += (f"牵头科室（单位）：{'、'.join(item.lead_units) or '未列'}；"
                 f"责任科室（单位）：{'、'.join(item.responsible_units) or '未列'}。")
    text += marker(plan, item)
    quote = gist.rstrip("…") if gist and gist.rstrip("…") in item.text else item.title
    return Answer(question=q.text, answer=text, supported=True, kind=kind.value,
                  citations=[cite(plan, item, quote)], context={"plan_id": plan.id, "item_id": item.id})


def range_refusal(q: Query, env: Env, number: str) -> Answer:
    plans = env.scoped(q)
    if len(plans) == 1:
        p = plans[0]
        n = len(p.numbered_items)
        return refuse(q, f"{p.title}共{n}项（第1—{n}项），没有第{number}项。")
    listing = "、".join(f"{p.title}（{len(p.numbered_items)}项）" for p in plans)
    return refuse(q, f"现有计划都没有第{number}项。收录的计划有：{listing}。")


@register
class ItemLookup(Intent):
    """"达州2020年第17项讲什么": the item named by number (or the one the conversation is about)."""

    name, kind = "item", Kind.ITEM

    def matches(self, q: Query, env: Env) -> bool:
        return bool(q.scope.item_number or q.scope.item_range or q.last_item or env.context_item(q))

    def answer(self, q: Query, env: Env) -> Answer:
        if q.scope.item_range:
            return _item_run(q, env, *q.scope.item_range)
        found = env.numbered(q)
        ctx = env.context_item(q)
        if not found and not (q.scope.item_number or q.last_item) and ctx is not None:
            found = [ctx]
        if not found:
            return range_refusal(q, env, q.scope.item_number or "?")
        if len(found) == 1:
            return _in_named_section(q, env, *found[0]) or describe(q, *found[0])
        lines = [f"{p.title}第{i.number}项：{i.title}{marker(p, i)}" for p, i in found]
        text = f"问题没有指明计划，各计划的第{found[0][1].number}项分别是：\n" + "\n".join(lines)
        return Answer(question=q.text, answer=text, supported=True, kind=Kind.ITEM.value,
                      citations=[cite(p, i, i.title) for p, i in found])


def _item_run(q: Query, env: Env, first: int, last: int) -> Answer:
    """"第30到33项的标题": the items numbered first to last in each plan in scope, by title."""
    lines, cites = [], []
    for p in env.scoped(q):
        run = [i for i in p.numbered_items if i.number and i.number.isdigit() and first <= int(i.number) <= last]
        if run:
            short = f"（全文共{len(p.numbered_items)}项）" if int(run[-1].number or 0) < last else ""
            lines.append(f"{p.title}第{first}—{last}项{short}：\n" + "\n".join(f"第{i.number}项 {i.title}{marker(p, i)}" for i in run))
            cites += [cite(p, i, i.title) for i in run]
    if not lines:
        return range_refusal(q, env, f"{first}—{last}")
    plan_ids = {c.plan_id for c in cites}
    return Answer(question=q.text, answer="\n".join(lines), supported=True, kind=Kind.ITEM.value, citations=cites,
                  context={"plan_id": next(iter(plan_ids)) if len(plan_ids) == 1 else None, "item_id": None})


def _in_named_section(q: Query, env: Env, plan: Plan, item: Item) -> Answer | None:
    """"第六部分第9项" where item 9 is not in part six: the part's own 9th item when it has one
    (some plans number items within each part), else a refusal saying where item 9 is."""
    n = q.scope.section_number
    if not n or not 1 <= n <= len(plan.sections) or (item.section and item.section[0] == plan.sections[n - 1]):
        return None
    heading = plan.sections[n - 1]
    members = [i for i in plan.numbered_items if i.section and i.section[0] == heading]
    k = q.scope.item_number
    if k is not None and k.isdigit() and 1 <= int(k) <= len(members):
        ans = describe(q, plan, members[int(k) - 1])
        ans.answer = f"{heading}的第{k}项即全文第{members[int(k) - 1].number}项。" + ans.answer
        return ans
    span = f"第{members[0].number}—{members[-1].number}项" if members else "没有编号的条目"
    where = f"全文第{item.number}项在{item.section[0] if item.section else '其他部分'}"
    return refuse(q, f"{plan.title}的{heading}共{len(members)}项（{span}），没有第{k}项；{where}：{item.title}{marker(plan, item)}",
                  [cite(plan, item, item.title)])


def best_item(q: Query, env: Env) -> tuple[Plan, Item] | None:
    """The record a topic question is about: a quoted title or term first, else the best evidence."""
    scope = {p.id for p in env.scoped(q)}
    for term in q.quoted:
        holding = [(p, i) for p, i in env.vocab.records(env.vocab.text_index.containing(flat(term)), scope)
                   if i.number is not None]
        for p, i in holding:
            if flat(term) in flat(i.title):
                return p, i
        for p, i in holding:
            if flat(term) in flat(i.text):
                return p, i
    relevant = env.relevant(q)
    titled = [h for h in relevant if env.evidence.cover(q.topic, h.item.title) >= 0.6]
    best = (titled or relevant)[0] if (titled or relevant) else None
    return (best.plan, best.item) if best else None


@register
class ItemFind(Intent):
    """"家长学校是第几条": the number of the item about a topic."""

    name, kind = "item_find", Kind.ITEM

    def matches(self, q: Query, env: Env) -> bool:
        return bool(q.topic or q.quoted or q.unknown)

    def answer(self, q: Query, env: Env) -> Answer:
        found = best_item(q, env)
        if found is None:
            return not_found(q, env)
        plan, item = found
        from ..render import focus
        from ...text import best_sentences

        sent = best_sentences(body(item), list(q.topic), limit=1, weight=env.weight)
        quote = focus(sent[0], q.topic, env.weight, 80) if sent else item.title
        text = f"是{plan.title}第{item.number}项「{item.title}」：{quote}{marker(plan, item)}"
        return Answer(question=q.text, answer=text, supported=True, kind=Kind.ITEM.value,
                      citations=[cite(plan, item, quote)], context={"plan_id": plan.id, "item_id": item.id})


def section_named(q: Query, env: Env) -> tuple[Plan, str] | None:
    """The section a question names: by number, as the last one, by a quoted or worded heading."""
    plans = env.scoped(q)
    if q.scope.section_number or q.last_section:
        if len(plans) != 1:
            return None
        p = plans[0]
        n = len(p.sections) if q.last_section else (q.scope.section_number or 0)
        return (p, p.sections[n - 1]) if 1 <= n <= len(p.sections) else None
    best, best_score = None, 0.0
    for p in plans:
        for heading in p.sections:
            if any(flat(t) in flat(heading) for t in q.quoted):
                return p, heading
            score = env.evidence.cover(q.topic, heading, q.unknown)
            if score > best_score:
                best, best_score = (p, heading), score
    return best if best and best_score >= 0.6 and len(plans) == 1 else None


@register
class SectionItems(Intent):
    """"第五部分包括哪些条目", "最后那部分有哪几条": the items of a section."""

    name, kind = "section_items", Kind.SECTION

    def matches(self, q: Query, env: Env) -> bool:
        return section_named(q, env) is not None or bool(q.scope.section_number)

    def answer(self, q: Query, env: Env) -> Answer:
        found = section_named(q, env)
        plans = env.scoped(q)
        if found is None:
            if len(plans) != 1:
                names = "、".join(p.title for p in plans)
                return Answer(question=q.text, answer=f"请指明是哪份计划的第{q.scope.section_number}部分（现有：{names}）。",
                              supported=False, kind=Kind.CLARIFY.value)
            p = plans[0]
            return refuse(q, f"{p.title}共{len(p.sections)}个部分，没有第{q.scope.section_number}部分。")
        plan, heading = found
        items = [i for i in plan.numbered_items if i.section and i.section[0] == heading]
        if q.last_item and items:
            return describe(q, plan, items[-1])  # "第五部分最后一项"
        lines = [f"第{i.number}项 {i.title}{marker(plan, i)}" for i in items]
        n = plan.sections.index(heading) + 1
        text = f"{plan.title}第{section_ordinal(n)}部分「{heading}」共{len(items)}项：\n" + "\n".join(lines)
        return Answer(question=q.text, answer=text, supported=True, kind=Kind.SECTION.value,
                      citations=[cite(plan, i, i.title) for i in items],
                      context={"plan_id": plan.id, "item_id": None, "section": heading})


# The kind of thing a 哪-question asks for ("哪几个县区" → 县区, "哪个部分" → 部分).
ASKED_NOUN = re.compile(r"哪(?:一|几|些)?(?:个|所|家|位|种|类|份)?(?:大|小|一)?([\u4e00-\u9fff]{1,2})")
# Words asking how many ("几项", "多少条", "总数"), not which ("哪几个").
HOW_MANY = re.compile(r"(?<!哪)几|多少|数量|总数|总量|数目|一共|总共|共有")
# Nouns naming a part of a plan: what a section question asks for.
STRUCTURE_NOUN = re.compile(r"部分|板块|块|模块|方面|标题|题目|栏目|项|章|节|篇|里|儿|条|点|类|层|级")


@register
class SectionOf(Intent):
    """"师德师风那项属于哪个部分": the section an item belongs to."""

    name, kind = "section_of", Kind.SECTION

    def matches(self, q: Query, env: Env) -> bool:
        # "在哪几个县区" asks for places, not for the part of the plan: the noun after 哪 says what is wanted
        wanted = ASKED_NOUN.search(q.asks[0].text)
        if wanted and not STRUCTURE_NOUN.match(wanted.group(1)):
            return False
        return bool(q.scope.item_number or q.topic or q.quoted or env.context_item(q))

    def answer(self, q: Query, env: Env) -> Answer:
        found = env.numbered(q)
        pair = found[0] if len(found) == 1 else (env.context_item(q) if not q.topic else None) or best_item(q, env)
        if pair is None:
            return not_found(q, env)
        plan, item = pair
        if not item.section:
            return refuse(q, f"{plan.title}{label(item)}不在任何部分之下。{marker(plan, item)}", [cite(plan, item, item.title)])
        heading = item.section[0]
        n = plan.sections.index(heading) + 1 if heading in plan.sections else 0
        where = f"第{section_ordinal(n)}部分「{heading}」" if n else f"「{heading}」"
        sub = f"（{item.section[-1]}）" if len(item.section) > 1 else ""
        text = f"{plan.title}第{item.number}项「{item.title}」属于{where}{sub}。{marker(plan, item)}"
        return Answer(question=q.text, answer=text, supported=True, kind=Kind.SECTION.value,
                      citations=[cite(plan, item, item.title)],
                      context={"plan_id": plan.id, "item_id": item.id, "section": heading})


# A count's question word and what may stand between it and the noun counted ("多少项工作任务").
COUNTED = r"(?:多少|几)(?:个|项|条|件|大|类|方面)?(?:的)?(?:工作|重点|具体|主要|大)?"


@register
class Count(Intent):
    """"一共多少项", "第三部分有几项", "分几个部分"."""

    name, kind = "count", Kind.COUNT

    def matches(self, q: Query, env: Env) -> bool:
        # "哪几个县区" asks which, not how many; "多少个新老师", "几所学校" ask for a figure the plan
        # states (Fact), not for a count of its items
        from .topics import asked_measure

        ask = q.asks[0].text if q.asks else q.core
        return bool(HOW_MANY.search(ask)) and asked_measure(ask) is None

    def answer(self, q: Query, env: Env) -> Answer:
        # "一共多少条任务", "有几大板块": the noun counted names the plan's own units of work, not a topic
        ask = q.asks[0].text if q.asks else q.core
        counted = {w for w in q.topic + q.unknown if re.search(COUNTED + re.escape(w), ask)}
        q = replace(q, topic=tuple(w for w in q.topic if w not in counted),
                    unknown=tuple(w for w in q.unknown if w not in counted))
        plans = env.scoped(q)
        if q.units:
            return REGISTRY["unit_items"].answer(q, env)
        if q.scope.section_number or q.last_section or section_named(q, env):
            ans = SectionItems().answer(q, env)
            ans.kind = Kind.COUNT.value if ans.supported else ans.kind
            return ans
        if (q.topic or q.unknown or q.quoted) and not q.situation:
            # "有几条是关于高校的": the items that speak of it are counted, not the plan's items (what
            # the asker says of their own situation is not what they ask to count)
            from .topics import mentions_answer

            return mentions_answer(q, env, Kind.COUNT)
        # a plan whose file yielded no numbered items cannot be counted (nor cited by its last item)
        empty = [p.title for p in plans if not p.numbered_items]
        plans = [p for p in plans if p.numbered_items]
        if not plans:
            return refuse(q, f"{'、'.join(empty) or '现有计划'}中没有读到编号的工作条目，无法计数。")
        if len(plans) != 1 or empty:
            lines, cites = [], []
            for p in plans:
                last = p.numbered_items[-1]
                lines.append(f"{p.title}：{len(p.sections)}个部分，{len(p.numbered_items)}项{marker(p, last)}")
                cites.append(cite(p, last, last.title))
            lines += [f"{title}：没有读到编号的工作条目" for title in empty]
            return Answer(question=q.text, answer="问题没有指明计划，各计划的规模如下：\n" + "\n".join(lines),
                          supported=True, kind=Kind.COUNT.value, citations=cites)
        plan = plans[0]
        last = plan.numbered_items[-1]
        heads = "；".join(plan.sections)
        text = (f"{plan.title}共{len(plan.numbered_items)}项工作（第1—{last.number}项），分{len(plan.sections)}个部分："
                f"{heads}。{marker(plan, last)}")
        return Answer(question=q.text, answer=text, supported=True, kind=Kind.COUNT.value,
                      citations=[cite(plan, last, last.title)], context={"plan_id": plan.id, "item_id": None})


@register
class Meta(Intent):
    """"这个文件哪天印发的？文号多少": the notice printed before the title."""

    name, kind = "meta", Kind.FACT

    def matches(self, q: Query, env: Env) -> bool:
        # a question about the document, not its content: nothing it names is found in the items
        # (文号, 印发日期) or what it names is in the notice itself ("主送哪些单位")
        if not q.topic or not env.relevant(q):
            return True
        notices = "".join(p.header for p in env.scoped(q))
        return env.evidence.cover(q.topic, notices) >= env.tuning.min_coverage

    def answer(self, q: Query, env: Env) -> Answer:
        plans = env.scoped(q)
        if len(plans) != 1:
            lines = [f"{p.title}：{p.doc_number or '无文号'}，{date_cn(p.issue_date) or '未注明日期'}" for p in plans]
            return Answer(question=q.text, answer="请指明是哪份计划。现有：\n" + "\n".join(lines), supported=False,
                          kind=Kind.CLARIFY.value)
        plan = plans[0]
        if not plan.header:
            return refuse(q, f"{plan.title}的文件里没有印发通知（文号、日期、主送单位），无法回答。")
        from ...parse_text import fold_spaces

        facts, quotes = [], []
        issuers = "、".join(plan.co_issuers + [plan.issuer])
        lines = plan.header.splitlines()
        if plan.doc_number:
            facts.append(f"文号{plan.doc_number}")
            quotes.append(next((ln for ln in lines if plan.doc_number in fold_spaces(ln)), ""))
        if plan.issue_date:
            facts.append(f"{issuers}于{date_cn(plan.issue_date)}印发")
            quotes.append(next((ln for ln in lines if DATE_LINE.search(fold_spaces(ln))), ""))
        if plan.recipients:
            facts.append(f"主送{plan.recipients}")
        if not facts:
            return refuse(q, f"{plan.title}的印发通知里没有文号或印发日期。")
        text = f"{plan.title}：" + "，".join(facts) + f"。〔{plan.title}·{HEADER_LABEL}〕"
        quote = "……".join(x for x in quotes if x and x in plan.header)
        return Answer(question=q.text, answer=text, supported=True, kind=Kind.FACT.value,
                      citations=[header_citation(plan, quote)], context={"plan_id": plan.id, "item_id": None})


SUGGESTIONS = ("{plan}共有多少项工作？", "{plan}第1项讲什么？", "{plan}的第一部分包括哪些条目？")


@register
class Clarify(Intent):
    """A question too vague to answer: a short clarification with questions to click."""

    name, kind = "clarify", Kind.CLARIFY

    def matches(self, q: Query, env: Env) -> bool:
        return not q.topic and not q.units and not q.scope.item_number

    def answer(self, q: Query, env: Env) -> Answer:
        plans = env.scoped(q) or env.plans
        plan = plans[0]
        name = re.sub(r"(?:市|县|区)?(?:教育局|教育和体育局).*$", "", plan.issuer) or plan.place
        suggestions = [s.format(plan=name + (str(plan.year) if plan.year else "")) for s in SUGGESTIONS]
        listing = "、".join(p.title for p in plans)
        text = ("这个问题比较宽泛，请说得具体一些：哪份计划、哪方面的工作（例如牵头科室、数量目标、完成时间）？"
                f"现有计划：{listing}。可以这样问：" + "；".join(suggestions))
        return Answer(question=q.text, answer=text, supported=False, kind=Kind.CLARIFY.value,
                      context={"suggestions": suggestions})

