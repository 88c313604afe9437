"""Intents about the units (科室/单位) a plan names per item: who leads, who takes part, what a unit does."""
from __future__ import annotations

import re

from ...models import Item, Plan
from ..contract import Answer, Kind, marker
from ..evidence import record_text
from ..query import Query
from ..words import topic_words
from ..unitrefs import ROLE_LEAD, ROLE_RESP
from ..render import label
from .base import Env, Intent, cite, not_found, refuse, register
from .structure import best_item


def _item_for_units(q: Query, env: Env) -> tuple[Plan, Item] | None:
    found = env.numbered(q)
    if len(found) == 1:
        return found[0]
    ctx = env.context_item(q)
    if ctx and (not q.topic or "item_id" in q.inherited or q.elliptical):
        return ctx
    if q.scope.plan_ids is None:
        # No plan named: prefer a relevant record of a plan that lists units.
        relevant = env.relevant(q)
        with_units = [h for h in relevant[:3] if h.item.has_units]
        if relevant and not relevant[0].item.has_units and with_units:
            return with_units[0].plan, with_units[0].item
    return best_item(q, env)


def unlisted_unit_refusal(q: Query, env: Env) -> Answer:
    """"宣传科牵头了哪几条" where no plan in scope lists a 宣传科: say so, and name the units listed."""
    plans = env.scoped(q)
    names = "、".join(f"“{n}”" for n in q.unlisted_units)
    with_units = [p for p in plans if p.has_units]
    silent = "、".join(p.title for p in plans if not p.has_units)
    if not with_units:
        return refuse(q, f"{silent}没有列出各项工作的牵头或责任科室（单位），也没有提到{names}，无法回答。")
    listed = list(dict.fromkeys(u for p in with_units for i in p.numbered_items
                                for u in i.lead_units + i.responsible_units))
    return refuse(q, f"{'、'.join(p.title for p in with_units)}列出的科室（单位）中没有{names}，无法回答。"
                     f"列出的科室（单位）有：{'、'.join(listed)}。"
                     + (f"{silent}没有列出各项工作的科室（单位）。" if silent else ""))


@register
class UnitRole(Intent):
    """"学生资助由哪个科室牵头", "除了牵头的，还有哪些科室参与": the units of one item."""

    name, kind = "unit_role", Kind.UNIT_ROLE

    def matches(self, q: Query, env: Env) -> bool:
        return bool(q.scope.item_number or q.last_item or q.topic or q.quoted or env.context_item(q) or q.unknown)

    def answer(self, q: Query, env: Env) -> Answer:
        if (q.scope.item_number or q.last_item) and not env.numbered(q):
            from .structure import range_refusal

            return range_refusal(q, env, q.scope.item_number or "?")
        pair = _item_for_units(q, env)
        if pair is None:
            return not_found(q, env)
        plan, item = pair
        head = f"{plan.title}{label(item)}"
        ctx = {"plan_id": plan.id, "item_id": item.id, "unit": item.lead_units[0] if item.lead_units else None}
        citation = [cite(plan, item, item.title)]
        if not plan.has_units:
            return Answer(question=q.text, supported=False, kind=Kind.UNIT_ROLE.value, citations=citation, context=ctx,
                          answer=f"{plan.title}没有列出各项工作的牵头或责任科室（单位），无法确定。"
                                 f"相关的是{label(item)}{marker(plan, item)}。")
        lead = "、".join(item.lead_units) or "未列"
        resp = "、".join(item.responsible_units)
        if q.role in ("responsible", "others") or (q.role == "any" and not item.lead_units):
            if not resp:
                yes_no = bool(re.search(r"吗|有没有|是否|有无", q.core))  # "它有责任科室吗" is answered: no
                return Answer(question=q.text, supported=yes_no, kind=Kind.UNIT_ROLE.value, citations=citation,
                              context=ctx, answer=f"{head}没有列出责任科室（单位），只列了牵头科室（单位）：{lead}。"
                                                  f"{marker(plan, item)}")
            text = f"{head}的责任科室（单位）为{resp}（共{len(item.responsible_units)}个）；牵头科室（单位）为{lead}。"
        else:
            text = f"{head}由{lead}牵头，责任科室（单位）为{resp or '未列'}。"
        return Answer(question=q.text, answer=text + marker(plan, item), supported=True,
                      kind=Kind.UNIT_ROLE.value, citations=citation, context=ctx)


ANY_ROLE = r"都算|或者|或|还是|出现|涉及|有分工|也好|都行|均可"
SEGMENT = r"[、，,；;]|且|并且|同时|而且"


def _role_in(text: str) -> str:

    lead, resp = bool(ROLE_LEAD.search(text)), bool(ROLE_RESP.search(text))
    if re.search(ANY_ROLE, text) or (lead and resp):
        return "any"
    return "lead" if lead else "responsible" if resp else "any"


def _roles_wanted(q: Query) -> list[str]:
    """Per named unit, the role asked. One unit: read from the whole question ("除了自己牵头的，还作为
    责任单位参与" asks the responsible role). Several: from each unit's own stretch between
    separators, so "基教科牵头、扶贫办当责任科室" and "牵头科室为基教科且责任科室包括扶贫办" both give
    ["lead", "responsible"]."""

    if len(q.units) == 1:
        if re.search(ANY_ROLE, q.core):
            return ["any"]
        return ["responsible"] if q.role == "others" else [{"lead": "lead", "responsible": "responsible"}.get(q.role or "", "any")]
    segments = re.split(SEGMENT, q.core)
    roles = []
    for unit in q.units:
        own = next((seg for seg in segments if unit in seg), "")
        roles.append(_role_in(own) if own else "any")
    return roles


# "…里哪些和依法治校有关", "涉及教师培训的": the subject a unit's items are narrowed to, said outright.
RELATED_TO = re.compile(r"(?:(?:和|与|跟)(?=[^，,。？?]{2,12}?(?:有关|相关))|涉及|关于)(?P<what>[^，,。？?的]{2,12}?)(?:有关|相关|的|$|[，,。？?])")


@register
class UnitItems(Intent):
    """"基教科牵头哪些任务", "X牵头、Y配合的有哪几条", "它还牵头别的吗": items by unit and role."""

    name, kind = "unit_items", Kind.ENUMERATE

    def matches(self, q: Query, env: Env) -> bool:
        return bool(q.units) or bool(re.search(r"联合牵头|共同牵头", q.core))

    def answer(self, q: Query, env: Env) -> Answer:

        plans = [p for p in env.scoped(q) if p.has_units]
        if not plans:
            names = "、".join(p.title for p in env.scoped(q))
            return refuse(q, f"{names}没有列出各项工作的牵头或责任科室（单位），无法按科室列出任务。")
        if not q.units:
            pairs = [(p, i) for p in plans for i in p.numbered_items if len(i.lead_units) >= 2]
            lines = [f"{label(i)}：{'、'.join(i.lead_units)}共同牵头{marker(p, i)}" for p, i in pairs]
            if not pairs:
                return refuse(q, "没有由两个及以上科室（单位）共同牵头的任务。")
            return Answer(question=q.text, answer=f"由两个及以上科室（单位）共同牵头的共{len(pairs)}项：\n" + "\n".join(lines),
                          supported=True, kind=Kind.ENUMERATE.value, citations=[cite(p, i, i.title) for p, i in pairs])
        roles = _roles_wanted(q)

        def holds(item: Item, unit: str, role: str) -> bool:
            return ((role in ("lead", "any") and unit in item.lead_units)
                    or (role in ("responsible", "any") and unit in item.responsible_units))

        # only the records of the first named unit can qualify (the unit → records map, not a scan)
        pairs = [(p, i) for p, i in env.vocab.records(env.vocab.by_unit.get(q.units[0], []), {p.id for p in plans})
                 if i.number is not None and all(holds(i, u, r) for u, r in zip(q.units, roles))]
        words = {"lead": "牵头", "responsible": "作为责任科室（单位）", "any": "牵头或参与"}
        who = "、".join(f"{u}{words[r]}" for u, r in zip(q.units, roles))
        ctx = {"plan_id": plans[0].id if len(plans) == 1 else None, "item_id": None, "unit": q.units[0]}
        if not pairs:
            return refuse(q, f"{'、'.join(p.title for p in plans)}中没有{who}的任务。")
        narrowed = ""
        related = RELATED_TO.search(q.core)
        named = topic_words(related.group("what"), env.vocab, set()) if related else []
        wanted = [w for w in named if env.vocab.known(w)]
        lacking = tuple(w for w in named if not env.vocab.known(w))  # named there, used by no plan
        if wanted or lacking:
            # "法规科牵头的工作里哪些和依法治校有关": the unit's items that speak of what is named there
            on_topic = [(p, i) for p, i in pairs if env.evidence.cover(wanted, record_text(i), lacking, partial=True)
                        >= env.tuning.min_coverage]
            topic = "、".join([*wanted, *lacking])
            if not on_topic:
                return refuse(q, f"{who}的{len(pairs)}项任务中没有讲{topic}的。")
            pairs, narrowed = on_topic, f"中与{topic}有关的"
        lines = []
        for p, i in pairs:
            tag = ""
            if len(q.units) == 1 and roles[0] == "any":
                tag = "（牵头）" if q.units[0] in i.lead_units else "（责任）"
            lines.append(f"第{i.number}项 {i.title}{tag}{marker(p, i)}")
        head = f"{who}的任务{narrowed}共{len(pairs)}项"
        if "item_id" in q.context and q.elliptical and len(pairs) == 1 and q.context.get("item_id") == pairs[0][1].id:
            head += "，只有这一项"
        if re.search(r"别的|其他|其它|还", q.core) and len(pairs) == 1:
            head += "（仅此一项）"
        text = head + "：\n" + "\n".join(lines)
        kind = Kind.COUNT if re.search(r"几|多少", q.asks[0].text) else Kind.ENUMERATE
        return Answer(question=q.text, answer=text, supported=True, kind=kind.value,
                      citations=[cite(p, i, i.title) for p, i in pairs], context=ctx)
