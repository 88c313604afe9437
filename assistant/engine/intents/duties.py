"""Intents about what must be done: everything due by a deadline, and a school's obligations."""
from __future__ import annotations

import re
from typing import Any

from ...models import Item, Plan
from ...text import sentences
from ..contract import Answer, Kind, marker
from ..render import body, focus, label
from ..query import Query
from .base import REGISTRY, Env, Intent, cite, refuse, register
from .mention import render_mentions


@register
class Deadline(Intent):
    """"年内要完成哪些事": every item in scope with a deadline of the asked kind, quoting it."""

    name, kind = "deadline", Kind.DEADLINE

    def matches(self, q: Query, env: Env) -> bool:
        """A deadline named ("年内", "6月底前"), or no subject at all ("哪些工作有时间要求"): a question
        about when one thing is due ("迁建哪年完工") asks for a date, which Fact states or says is missing."""
        from ...deadlines import find_deadlines

        named = bool(find_deadlines(q.core)) or any(find_deadlines(t) for t in q.quoted)
        # "这一项有哪些数字目标": no subject of its own, but the item in context is the subject
        return named or (not q.topic and env.context_item(q) is None)

    def answer(self, q: Query, env: Env) -> Answer:
        from ...deadlines import find_deadlines

        # a deadline in quotes ("写了“年内”要完成的") is still the deadline asked about
        asked = find_deadlines(q.core) or [h for term in q.quoted for h in find_deadlines(term)]
        dated = env.vocab.per_record("deadlines", lambda p, i: [
            (s, hits) for s in sentences(body(i)) if (hits := find_deadlines(s))] if i.number is not None else [])
        found = []
        for p in env.scoped(q):
            for n in env.vocab.positions[p.id]:
                for s, hits in dated[n]:
                    if not asked or any(a in h or h in a for a in asked for h in hits):
                        found.append((p, env.vocab.entries[n][1], focus(s, hits, env.weight, 80)))
                        break
        if not found:
            where = "、".join(p.title for p in env.scoped(q))
            return refuse(q, f"{where}中没有写明{'、'.join(asked) or '完成时间'}要完成的工作。")
        topic = f"{'、'.join(asked)}完成的工作" if asked else "有时间要求的工作"
        return render_mentions(q, env, topic, found, Kind.DEADLINE)


# The school type a principal speaks for ("我是一名小学校长", "我们园"): the party whose duties apply.
PARTY_WORDS = (("幼儿园", r"幼儿园|园长|我们园|本园"), ("小学", r"小学"), ("初中", r"初中|初级中学"),
               ("普通高中", r"普通高中|普高|高中"), ("中职", r"中职|职校|职业学校|职业中专"),
               ("特殊教育", r"特殊教育|特教|特校"), ("民办", r"民办"), ("高校", r"高校|大学|学院"))
#: clauses quoted in an obligations answer, shared out among its items (at least two each)
MAX_CLAUSES = 8


def school_party(text: str) -> str | None:
    """The school type named in a question, if any."""
    return next((party for party, pattern in PARTY_WORDS if re.search(pattern, text)), None)


@register
class Obligation(Intent):
    """A principal's "what must my school do": the clauses binding schools of their type on the topic,
    each with its deadline and target, from the obligation records (`assistant.obligations`)."""

    name, kind = "obligation", Kind.OBLIGATION

    def answer(self, q: Query, env: Env) -> Answer:
        from ... import obligations as ob

        party = school_party(q.text)
        duties = env.vocab.per_record("obligations", lambda p, i: ob.extract(p, i) if i.number is not None else [])
        if not q.topic:
            # "我是特殊教育学校的校长，今年对我们有什么要求": the clauses naming their school type
            plans = env.scoped(q)
            named = [(p, i, rows) for p in plans if party and party != ob.SCHOOLS and len(plans) <= env.tuning.max_compared_plans
                     for i in p.numbered_items
                     if (rows := [o for o in duties[env.vocab.index_of(i.id)] if party in o.parties])]
            return _render(q, named, party) if named else REGISTRY["deadline"].answer(q, env)
        order = [(h.plan, h.item) for h in env.relevant(q)][: env.tuning.max_summary_items]
        picked = []
        for p, i in order:
            binding = [o for o in duties[env.vocab.index_of(i.id)] if o.binds(party)]
            # a clause answers when it covers the topic as evidence must (not by a common word like 学校)
            topical = [o for o in binding if env.evidence.cover(q.topic, o.action) >= env.tuning.min_coverage]
            # an item titled by the topic binds schools with all its clauses, the topic's first
            if env.evidence.cover(q.topic, i.title) >= env.tuning.min_coverage:
                topical += [o for o in binding if o not in topical]
            if topical:
                picked.append((p, i, topical))
        if not picked:
            ans = REGISTRY["summary"].answer(q, env)
            ans.kind = Kind.OBLIGATION.value if ans.supported else ans.kind
            return ans
        return _render(q, picked, party)


def _render(q: Query, picked: list[tuple[Plan, Item, list[Any]]], party: str | None) -> Answer:
    """The clauses binding a school, grouped by item (at most MAX_CLAUSES items), each clause with its
    deadline and target; the clauses are shared out among the items, so one item may show them all."""
    picked = picked[:MAX_CLAUSES]
    per_item = max(2, min(MAX_CLAUSES, MAX_CLAUSES // max(1, len(picked))))
    lines, cites = [], []
    for p, i, rows in picked:
        rows = sorted(rows[:per_item], key=lambda o: o.start)
        parts = []
        for o in rows:
            extra = "；".join(x for x in (f"期限：{o.deadline.printed}" if o.deadline else "",
                                         "目标：" + "、".join(t.phrase for t in o.targets) if o.targets else "") if x)
            parts.append(o.action + (f"（{extra}）" if extra else ""))
        lines.append(f"{label(i)}：" + "……".join(parts) + marker(p, i))
        cites.append(cite(p, i, rows[0].action))
    who = party or "学校"
    names = "、".join(dict.fromkeys(c.plan for c in cites))
    text = f"{names}中对{who}的相关要求（{len(lines)}项）：\n" + "\n".join(lines)
    ctx = {"plan_id": cites[0].plan_id if len({c.plan_id for c in cites}) == 1 else None,
           "item_id": cites[0].id if len(cites) == 1 else None}
    return Answer(question=q.text, answer=text, supported=True, kind=Kind.OBLIGATION.value,
                  citations=cites, context=ctx)
