"""The engine: read the question, pick an intent per ask, answer each from the records, combine."""
from __future__ import annotations

import re
import time
from typing import Any
from dataclasses import replace

from ..retrieval import Retriever
from ..scope import Scope
from .contract import Answer, Kind
from .evidence import Evidence, Vocabulary
from .intent_model import default_model
from .intents import REGISTRY, Env, refuse
from .intents.units import unlisted_unit_refusal
from .query import Query, read_query
from .tuning import DEFAULT_TUNING, Tuning

STRUCTURAL_KINDS = {Kind.ITEM.value, Kind.SECTION.value, Kind.ENUMERATE.value, Kind.COUNT.value}
FALLBACK = "summary"
# An ask for the plan's parts as a whole ("有哪几个部分", "六个部分分别是什么", "各部分的标题"): structure
# words, read exactly.
PLAN_PARTS = re.compile(r"(?:哪(?:几|些)个?|几个|各|每个|所有|全部|[二三四五六七八九十]个)(?:大)?(?:部分|板块)|"
                        r"(?:部分|板块)(?:的)?(?:标题|名称|分别)|分为(?:哪|几)")


class Engine:
    """Builds Answers from a Retriever's records; derived tables are rebuilt once per index build."""

    def __init__(self, retriever: Retriever, tuning: Tuning = DEFAULT_TUNING, intent_model: Any = None):
        self.r = retriever
        self.tuning = tuning
        self.model = intent_model or default_model()
        self._build: str | None = None

    def _sync(self) -> None:
        if self._build == self.r.manifest.build_id:
            return
        self.vocab = Vocabulary(self.r.plans)
        self.evidence = Evidence(self.vocab, self.tuning)
        self._build = self.r.manifest.build_id

    def env(self) -> Env:
        self._sync()
        return Env(plans=self.r.plans, records=self.r.records, vocab=self.vocab, evidence=self.evidence,
                   tuning=self.tuning, search=lambda text, scope: self.r.search(text, k=10, scope=scope))

    def read(self, question: str, plan: str | None = None, context: dict[str, Any] | None = None) -> Query:
        """The typed reading of a question (exposed for tests and `python -m assistant read`)."""
        self._sync()
        return read_query(question, self.r.plans, self.vocab, self.model, plan_filter=plan, context=context,
                          max_asks=self.tuning.max_asks)

    # ---- entry ----------------------------------------------------------------------------------
    def answer(self, question: str, plan: str | None = None, context: dict[str, Any] | None = None) -> Answer:
        t0 = time.perf_counter()
        env = self.env()
        q = self.read(question, plan, context)
        if q.scope.out_of_corpus:
            ans = self._out_of_corpus(q, env)
        elif len(q.asks) > 1:
            ans = self._multi(q, env)
        else:
            ans = self._one(q, env)
        ans.question = question
        hits = env.hits(q) if q.scope.plan_ids != [] and not q.scope.out_of_corpus else []
        ans.retrieved = [{"plan": h.plan.title, "plan_id": h.plan.id, "item": h.item.number, "id": h.item.id,
                          "score": round(h.score, 6)} for h in hits]
        if ans.kind in STRUCTURAL_KINDS and ans.citations:
            # Read from the records, not ranked by similarity: those records are the candidates.
            ids = {c.id for c in ans.citations}
            ans.retrieved = [{"plan": c.plan, "plan_id": c.plan_id, "item": c.item, "id": c.id, "score": 1.0}
                             for c in ans.citations] + [r for r in ans.retrieved if r["id"] not in ids]
        ans.context = self._context_out(q, ans)
        ans.timings_ms = {"compose": round((time.perf_counter() - t0) * 1000, 2)}
        return ans

    def pick(self, q: Query, env: Env) -> str:
        """The intent for a one-ask query: the model's ranking, first intent whose `matches` holds."""
        if len(q.units) >= 2 and q.role and REGISTRY["unit_items"].matches(q, env):
            return "unit_items"  # two named units with roles: a question about how they share items
        if PLAN_PARTS.search(q.asks[0].text) and not (q.topic or q.unknown or q.scope.section_number or q.last_section):
            return "count"  # "分为哪几个部分": the plan's parts, which Count lists with their sizes
        for name, _prob in q.asks[0].ranked:
            intent = REGISTRY.get(name)
            if intent is not None and intent.matches(q, env):
                return name
        return FALLBACK

    def _one(self, q: Query, env: Env) -> Answer:
        if q.unlisted_units and not q.units:
            return unlisted_unit_refusal(q, env)  # what a unit no plan lists leads: nothing to look up
        return REGISTRY[self.pick(q, env)].answer(q, env)

    def _multi(self, q: Query, env: Env) -> Answer:
        """Every part answered on its own (same scope; later parts may use the first part's item)."""
        parts: list[Answer] = []
        context = dict(q.context)
        for ask in q.asks:
            sub = self.read(ask.text, plan=None, context=context)
            # a part naming its own item ("第17项和第18项分别讲什么") keeps it; the others take the question's
            scope = sub.scope if sub.scope.explicit else replace(
                q.scope, item_number=sub.scope.item_number or q.scope.item_number)
            sub = replace(sub, text=q.text, scope=scope,
                          topic=sub.topic or q.topic, elliptical=sub.elliptical or bool(context.get("item_id")))
            part = self._one(sub, env)
            parts.append(part)
            if part.supported and part.context.get("item_id"):
                context = {**context, "item_id": part.context["item_id"], "plan_id": part.context.get("plan_id")}
        supported = [p for p in parts if p.supported]
        text = "\n".join(p.answer for p in parts)
        cites, seen = [], set()
        for p in parts:
            for c in p.citations:
                if c.id not in seen:
                    seen.add(c.id)
                    cites.append(c)
        ctx = (supported or parts)[0].context
        return Answer(question=q.text, answer=text, supported=bool(supported),
                      kind=Kind.MULTI.value if supported else Kind.OUT_OF_SCOPE.value, citations=cites, context=ctx)

    def _out_of_corpus(self, q: Query, env: Env) -> Answer:
        listing = "、".join(f"{p.title}（{len(p.numbered_items)}项）" for p in env.plans)
        s: Scope = q.scope
        if s.unknown_place:
            what = s.unknown_place + (f"{s.year}年" if s.year else "")
            return refuse(q, f"现有计划中没有{what}的工作要点，无法回答。目前收录的计划有：{listing}。")
        named = "、".join(p.replace("市", "").replace("县", "") for p in s.places) if s.places else ""
        have = [p.title for p in env.plans if not s.places or p.place in s.places]
        return refuse(q, f"现有计划中没有{named}{s.unknown_year}年的工作要点。" + (f"收录的是：{'、'.join(have)}。" if have else ""))

    def _context_out(self, q: Query, ans: Answer) -> dict[str, Any]:
        """What the next turn may refer back to, and what this answer took from the conversation."""
        ctx = dict(ans.context or {})
        pids = {c.plan_id for c in ans.citations}
        if "plan_id" not in ctx:
            ctx["plan_id"] = next(iter(pids)) if len(pids) == 1 else (
                q.scope.plan_ids[0] if q.scope.plan_ids and len(q.scope.plan_ids) == 1 else None)
        if "item_id" not in ctx:
            ctx["item_id"] = ans.citations[0].id if len(ans.citations) == 1 else None
        ctx.setdefault("unit", q.unit)
        # "责任科室有哪些？" after a question about 学生资助 is still about it: the topic carries on
        ctx["topic"] = list(q.topic) or (list(q.context.get("topic") or []) if q.elliptical else [])
        ctx["inherited"] = list(q.inherited)
        return ctx
