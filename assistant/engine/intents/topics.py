"""Intents answered from what the items say about a topic: facts, summaries, mentions, comparisons,
deadlines and a school's obligations. Every answer quotes the sentences it rests on."""
from __future__ import annotations

import re
from dataclasses import replace

from ...models import Item, Plan
from ...retrieval import Hit
from ...text import TIME_RE, best_sentences, sentences
from ..contract import Answer, Citation, Kind, marker
from ..evidence import flat, record_text
from ..query import Query
from ..words import is_plain_verb
from ..render import body, focus, gist, has_figure, join_quotes, label
from .base import REGISTRY, Env, Intent, cite, not_found, refuse, register
from .mention import mentions, render_mentions

# The form of the value asked for (a figure, a time), read from the ask's question words.
WANTS_NUMBER = re.compile(r"多少|(?<!哪)几[个所套台名人项成倍]|比例|比是|普职比|占比|率(?:是|要|达|定)|控制在|控到|数量|金额|规模|"
                          r"面积|多大|多高|百分|标准|多少钱|(?<!哪)几|涨")
WANTS_TIME = re.compile(r"什么时候|啥时候|何时|时间|截止|哪年|几月|期限|时限|多久|节点|频次|频率")
# A length of time asked for ("每天锻炼时间", "培训时长"): a figure in hours or days, not a date.
DURATION = re.compile(r"多长时间|时长|几(?:个)?小时|多少分钟|多少小时|(?:每天|每日|每周|天天).*时间|"
                      r"(?:锻炼|活动|运动|睡眠|学习|作业|培训|研修)(?:的)?时间")
# How often something is done ("多长时间报告一次", "多久开展一次"): stated as 每半年 / 每学期 / 2次.
FREQUENCY = re.compile(r"(?:多长时间|多久|隔多长|隔多久|几[天周月年]).{0,30}一次|频次|频率|多久一次")
FREQUENCY_STATED = re.compile(r"每(?:[一二三四五六七八九十两半\d]*个?)(?:学年|学期|季度|季|年|月|周|天|日)|"
                              r"[\d一二三四五六七八九十两]+次|定期")
# The measure a figure must carry to answer "多少钱 / 多少人 / 几所 / 比例": a figure in another
# measure ("3所" for an investment) does not state the asked value.
MEASURES = (
    (re.compile(r"多少钱|金额|投资|资金|经费|补助|津贴|租金|工资|(?:多少|几)(?:万|亿)?元|费用|标准是每"), r"(?:万|亿)?元"),
    (re.compile(r"(?:多少|几)(?:个)?(?:新)?(?:人|名|位|老师|教师|学生|干部|校长|人员)|人数|人次"), r"(?:万)?(?:人|名|人次)|[%％]"),
    (re.compile(r"年龄|几岁|多大年纪|多大岁数"), r"周岁|岁"),
    # a rate is a percentage; a proportion may also be written as a ratio (普职比 55:45)
    (re.compile(r"百分|率(?:是|要|达|定|为)|率多少|(?:覆盖|入园|巩固|普及|入学|合格|优良)率|"
                r"[\u4e00-\u9fff]率[^，。？?]{0,12}(?:多少|几)"), r"[%％‰]|百分之|成"),
    (re.compile(r"比例|占比|比是|[\u4e00-\u9fff]{2}比"), r"[%％‰]|百分之|成|\s*[:：]\s*\d+"),
    (DURATION, r"小时|分钟|天|周|学时|课时"),
    (re.compile(r"(?:多少|几)所"), r"所"), (re.compile(r"(?:多少|几)套"), r"套"),
    (re.compile(r"(?:多少|几)(?:个)?学位"), r"个|学位"), (re.compile(r"面积|平方米"), r"平方米|亩"),
)


def asked_measure(text: str) -> str | None:
    """The measure pattern a figure must carry for this ask, when the ask names one."""
    return next((m for pattern, m in MEASURES if pattern.search(text)), None)


def states_value(sentence: str, measure: str | None) -> bool:
    if not has_figure(sentence):
        return False
    if measure is None:
        return True
    stripped = re.sub(r"(?:19|20)\d{2}\s*年(?:底|内|前)?", "", sentence)
    return bool(re.search(r"(?:\d|[一二三四五六七八九十两百千万])[\d.,，]*\s*(?:万|亿)?(?:" + measure + ")", stripped)
                or (measure.startswith("[%") and re.search(r"[一二三四五六七八九十两]+分之", stripped)))


def fact_quotes(q: Query, env: Env, item: Item, want_number: bool, want_time: bool,
                measure: str | None = None, frequency: bool = False) -> list[str]:
    """The sentences of an item that carry the asked value; with a measure, one that states it; asked
    how often, one that states a frequency."""
    # an elliptical ask about the item in context ("分别在哪几个县区？") is about the topic asked before
    words = list(q.topic) or (list(q.context.get("topic") or []) if q.elliptical else [])
    quotes = best_sentences(item.text, words, want_number, want_time, limit=2, weight=env.weight)
    # the title restated says nothing the item label does not: quote what the body says
    quotes = [x for x in quotes if flat(x).rstrip("。") != flat(item.title).rstrip("。")] or \
        best_sentences(body(item), words, want_number, want_time, limit=2, weight=env.weight) or \
        sentences(body(item))[:2]
    states = (lambda x: states_value(x, measure)) if measure else \
        (lambda x: bool(FREQUENCY_STATED.search(x))) if frequency else None
    if states is not None and not any(states(x) for x in quotes):
        stating = [x for x in sentences(item.text) if states(x)]
        # topic coverage first; characters shared with the ask break ties ("新老师" ~ "新教师")
        asked = set(re.sub(r"多少|几|什么|要|是|的|了|吗|呢|[，。？?]", "", q.asks[0].text))
        scored = sorted(((env.evidence.cover(q.topic, x), len(asked & set(x)), n, x) for n, x in enumerate(stating)),
                        key=lambda t: (-t[0], -t[1], t[2]))
        if measure and scored and (scored[0][0] > 0 or scored[0][1] >= 2):
            quotes = [scored[0][3]]
        elif frequency and scored and scored[0][0] >= env.tuning.min_coverage:
            # "定期" and "每月" are common: the sentence stating one must itself speak of the topic
            quotes = [scored[0][3]]
    return quotes


@register
class Fact(Intent):
    """A figure, date, frequency or target, quoted from the sentence that states it."""

    name, kind = "fact", Kind.FACT

    def matches(self, q: Query, env: Env) -> bool:
        return bool(q.topic or q.unknown or env.context_item(q) or env.numbered(q))

    def answer(self, q: Query, env: Env) -> Answer:
        ask = q.asks[0].text
        # a length of time ("每天锻炼时间" is hours) is a figure, not a date
        frequency = bool(FREQUENCY.search(ask))
        duration = bool(DURATION.search(ask)) and not frequency
        want_number = (bool(WANTS_NUMBER.search(ask)) or duration) and not frequency
        want_time = bool(WANTS_TIME.search(ask)) and not re.search(r"多少|几", ask) and not duration and not frequency
        measure = asked_measure(ask) if want_number else None
        candidates: list[tuple[Plan, Item]] = list(env.numbered(q))
        ctx = env.context_item(q)
        if ctx and ctx not in candidates:
            candidates.append(ctx)
        relevant = env.relevant(q)
        candidates += [(h.plan, h.item) for h in relevant[:5] if (h.plan, h.item) not in candidates]
        nouns = tuple(w for w in q.topic if not is_plain_verb(w))
        if measure and nouns and len(nouns) < len(q.topic) and not env.numbered(q) and not any(
                states_value(x, measure) for _, i in candidates for x in fact_quotes(q, env, i, True, False, measure)):
            # "要新增多少学位": the plan may state the figure with another verb (完成33730个学位建设);
            # every noun of the ask is found, and the figure with its measure (checked below)
            reduced = replace(q, topic=nouns)
            more = [(h.plan, h.item) for h in env.relevant(reduced)[:5] if (h.plan, h.item) not in candidates
                    and env.evidence.cover(nouns, record_text(h.item), q.unknown) >= 1.0]
            if more:
                q, candidates = reduced, candidates + more
        if not candidates:
            return not_found(q, env)
        best, best_quotes, best_score = None, [], -1.0
        for rank, (p, i) in enumerate(candidates):
            quotes = fact_quotes(q, env, i, want_number, want_time, measure, frequency)
            if not quotes:
                continue
            score = env.evidence.cover(q.topic, "".join(quotes)) - 0.15 * rank
            if want_number and any(states_value(x, measure) for x in quotes):
                score += 1.0  # a figure was asked for: candidates that state one come first
            if want_time and any(TIME_RE.search(x) for x in quotes):
                score += 1.0
            if frequency and any(FREQUENCY_STATED.search(x) for x in quotes):
                score += 1.0
            if score > best_score:
                best, best_quotes, best_score = (p, i), quotes, score
        if best is None:
            best, best_quotes = candidates[0], [candidates[0][1].title]
        plan, item = best
        ctx_out = {"plan_id": plan.id, "item_id": item.id}
        stated = (any(states_value(x, measure) for x in best_quotes) if want_number else
                  any(TIME_RE.search(x) for x in best_quotes) if want_time else
                  any(FREQUENCY_STATED.search(x) for x in best_quotes) if frequency else True)
        if not stated or env.cover(q, item) < env.tuning.min_coverage and not (ctx or env.numbered(q)):
            # The asked value is not stated: say so, and what the closest item does say.
            what = "具体数字" if want_number else "具体时间" if want_time else "频次" if frequency else "相关内容"
            topic = "、".join(list(q.unknown) + list(q.topic)[:4]) or "这个问题"
            quote = focus(best_quotes[0], q.topic, env.weight, 80) if best_quotes else item.title
            if env.cover(q, item) < env.tuning.min_coverage and not stated:
                return not_found(q, env)
            return Answer(question=q.text, supported=False, kind=Kind.FACT.value, context=ctx_out,
                          citations=[cite(plan, item, quote)],
                          answer=f"{plan.title}没有写明{topic}的{what}，无法回答。最接近的是{label(item)}：{quote}{marker(plan, item)}")
        focused = [focus(x, q.topic, env.weight, env.tuning.focus_chars, prefer_figures=want_number) for x in best_quotes]
        quote = join_quotes(item, focused) if len(focused) > 1 else focused[0]
        text = f"据{plan.title}{label(item)}：{quote}{marker(plan, item)}"
        return Answer(question=q.text, answer=text, supported=True, kind=Kind.FACT.value,
                      citations=[cite(plan, item, quote)], context=ctx_out)


def summary_items(q: Query, env: Env) -> list[tuple[Plan, Item]]:
    """The items a summary of the topic quotes, best first: named items, the section the question
    names, items titled by the topic, then the relevant ones (at most `max_summary_items`)."""
    t = env.tuning
    chosen: list[tuple[Plan, Item]] = list(env.numbered(q))
    ctx = env.context_item(q)
    if ctx and not q.topic:
        chosen.append(ctx)
    from .structure import section_named

    section = section_named(q, env) if len(env.scoped(q)) == 1 else None
    if section is not None and not chosen:
        plan, heading = section
        chosen = [(plan, i) for i in plan.numbered_items if i.section and i.section[0] == heading][: t.max_summary_items]
    relevant = env.relevant(q)
    titled = [h for h in relevant if env.evidence.cover(q.topic, h.item.title) >= 0.5]
    named = [h for h in titled if env.evidence.cover(q.topic, h.item.title) >= 0.9]
    if len(named) == 1:
        titled = named  # one item is titled by the whole topic ("提升特殊教育发展水平"): that item
    for h in titled + [h for h in relevant if h not in titled]:
        # items whose titles name the topic say it best; others only fill when none do
        if len(chosen) >= t.max_summary_items or (h not in titled and (titled or len(chosen) >= t.summary_fill)):
            break
        if (h.plan, h.item) not in chosen:
            chosen.append((h.plan, h.item))
    if section is None and not env.numbered(q):
        spread = section_spread(relevant, t.max_summary_items)
        # one item titled by the whole topic is the answer, unless its own section is about the topic too
        if len(named) != 1 or (named[0].plan, named[0].item) in spread:
            chosen += [pi for pi in spread if pi not in chosen]
    return chosen


@register
class Summary(Intent):
    """What a plan says or requires on a topic: the items about it, each with its gist."""

    name, kind = "summary", Kind.SUMMARY

    def matches(self, q: Query, env: Env) -> bool:
        return bool(q.topic or q.unknown or env.context_item(q))

    def answer(self, q: Query, env: Env) -> Answer:
        t = env.tuning
        if (concept := PLAN_LEVEL.search(q.asks[0].text if q.asks else q.core)) and (ans := overview(q, env, concept.group(0))):
            return ans
        chosen = summary_items(q, env)
        if not chosen:
            return not_found(q, env)
        chosen.sort(key=lambda pi: (pi[0].id, pi[1].seq))
        lines, cites = [], []
        wanted = 6 if len(chosen) == 1 else (3 if len(chosen) <= 3 else 2)
        fewest, most, shared = t.mention_quote_chars
        width = max(fewest, min(most, shared // len(chosen)))  # one item: room for its whole requirement
        for p, i in chosen:
            g = gist(i, q.topic, env.weight, sentences_wanted=wanted, limit=width)
            lines.append(f"{label(i)}：{g}{marker(p, i)}")
            cites.append(cite(p, i, g))
        names = "、".join(sorted({p.title for p, _ in chosen}))
        ctx_out = {"plan_id": chosen[0][0].id if len({p.id for p, _ in chosen}) == 1 else None,
                   "item_id": chosen[0][1].id if len(chosen) == 1 else None}
        return Answer(question=q.text, answer=f"{names}中相关的有{len(chosen)}项：\n" + "\n".join(lines),
                      supported=True, kind=Kind.SUMMARY.value, citations=cites, context=ctx_out)


# What a plan states of itself as a whole ("总目标", "总体要求", "指导思想"): said in its preamble.
PLAN_LEVEL = re.compile(r"总(?:体)?目标|总(?:体)?要求|指导思想|总(?:体)?思路|工作主线|总基调")


def overview(q: Query, env: Env, concept: str) -> Answer | None:
    """A plan-level concept asked of the plans in scope (at most `max_compared_plans`): the preamble
    sentence that states it, per plan; None when no preamble states it (then the items answer)."""
    plans = env.scoped(q)
    if len(plans) > env.tuning.max_compared_plans:
        return None
    head = concept.replace("体", "")  # 总体目标 ~ 总目标
    lines, cites = [], []
    for p in plans:
        for i in p.items:
            if i.number is not None:
                continue
            # the sentence stating it, and speaking of what the ask names besides (学前教育的总目标 is
            # not the plan's)
            said = [x for x in sentences(i.text) if (concept in x or head in x.replace("体", ""))
                    and (not q.topic or env.evidence.cover(q.topic, x, q.unknown) >= env.tuning.min_coverage)]
            if said:
                quote = focus(said[0], [concept, head, *q.topic], env.weight, env.tuning.mention_quote_chars[1])
                lines.append(f"{p.title}（{label(i)}）：{quote}{marker(p, i)}")
                cites.append(cite(p, i, quote))
                break
    if not lines:
        return None
    return Answer(question=q.text, answer="\n".join(lines), supported=True, kind=Kind.SUMMARY.value, citations=cites,
                  context={"plan_id": cites[0].plan_id if len(cites) == 1 else None, "item_id": cites[0].id if len(cites) == 1 else None})


def section_spread(relevant: list[Hit], most: int) -> list[tuple[Plan, Item]]:
    """A topic the evidence finds in most of one section's items, two at least ("党建工作的重点"): that
    section's items, when it is small enough to list; the section is how the plan groups the topic."""
    counts: dict[tuple[str, str], int] = {}
    for h in relevant:
        if h.item.section:
            key = (h.plan.id, h.item.section[0])
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        return []
    (plan_id, heading), n = max(counts.items(), key=lambda kv: kv[1])
    if n < 2:
        return []
    plan = next(h.plan for h in relevant if h.plan.id == plan_id)
    members = [(plan, i) for i in plan.numbered_items if i.section and i.section[0] == heading]
    if n * 2 <= len(members):
        return []  # the topic is in a few of the section's items: those items answer, not the section
    return members if len(members) <= most else []


@register
class Mentions(Intent):
    """"哪些计划提到县管校聘", "哪几条提到控辍保学": every record naming the topic."""

    name, kind = "mentions", Kind.CROSS_PLAN

    def matches(self, q: Query, env: Env) -> bool:
        return bool(q.topic or q.quoted)

    def answer(self, q: Query, env: Env) -> Answer:
        topic, found = mentions(q, env)
        kind = Kind.CROSS_PLAN if len(env.scoped(q)) > 1 else Kind.ENUMERATE
        if not found and not q.quoted:
            # No record names the topic outright: the records the evidence vouches for, said as such.
            for h in env.relevant(q)[: env.tuning.max_summary_items]:
                best = best_sentences(body(h.item), list(q.topic), limit=1, weight=env.weight)
                found.append((h.plan, h.item, focus(best[0], q.topic, env.weight, 80) if best else h.item.title))
            if found:
                ans = render_mentions(q, env, topic, found, kind)
                ans.answer = f"没有条目原文写到“{topic}”，相关的有：\n" + ans.answer.split("\n", 1)[1]
                return ans
        if not found:
            return not_found(q, env)
        return render_mentions(q, env, topic, found, kind)


@register
class Exists(Intent):
    """"有没有提到英语教学": yes with the records that say it, or a plain no."""

    name, kind = "exists", Kind.EXISTS

    def matches(self, q: Query, env: Env) -> bool:
        return bool(q.topic or q.quoted or q.unknown)

    def answer(self, q: Query, env: Env) -> Answer:
        ans = mentions_answer(q, env, Kind.CROSS_PLAN if len(env.scoped(q)) > 1 else Kind.ENUMERATE)
        if ans.supported:
            ans.answer = "有。" + ans.answer
        return ans


def mentions_answer(q: Query, env: Env, kind: Kind) -> Answer:
    """The records in scope that name the topic, rendered as `kind`; or a plain "not mentioned" when
    none does, or when a word of the topic is one no plan uses (and nothing was quoted)."""
    topic, found = mentions(q, env)
    if not found or q.unknown and not q.quoted:
        where = "、".join(p.title for p in env.scoped(q))
        return refuse(q, f"{where}中没有提到{topic or '这一内容'}。")
    return render_mentions(q, env, topic, found, kind)


@register
class Compare(Intent):
    """"永顺和邵东对学生每天锻炼时间的要求有什么区别": each plan's answer side by side, each cited."""

    name, kind = "compare", Kind.COMPARE

    def matches(self, q: Query, env: Env) -> bool:
        return len(env.scoped(q)) >= 2 and bool(q.topic or q.quoted)

    def answer(self, q: Query, env: Env) -> Answer:
        sides: list[str] = []
        cites: list[Citation] = []
        silent: list[str] = []
        plans = env.scoped(q)
        if q.scope.plan_ids is None and len(plans) > env.tuning.max_compared_plans:
            # "各地…有什么不同" over a large corpus: the plans the evidence finds the topic in, not
            # every plan (each side costs one search and one answer)
            found = list(dict.fromkeys(h.plan.id for h in env.relevant(q)))[: env.tuning.max_compared_plans]
            plans = [p for p in plans if p.id in found]
        wants_value = bool(WANTS_NUMBER.search(q.search_text) or WANTS_TIME.search(q.search_text))
        named = q.scope.plan_ids is not None
        for p in plans:
            sub = replace(q, scope=replace(q.scope, plan_ids=[p.id]))
            side = REGISTRY["fact"].answer(sub, env) if wants_value else _side_summary(sub, env)
            if side.supported:
                sides.append(f"{p.title}：{side.answer}")
                cites += side.citations
            else:
                silent.append(p.title)
                if named:  # a plan the question names is answered in its place, even to say it is silent
                    sides.append(f"{p.title}：没有写明。")
        if len(silent) == len(plans):
            return not_found(q, env)
        if not named and silent:
            # "各地…怎么写的": the plans that speak of it, then the ones that do not
            sides.append(f"{'、'.join(silent)}未提及。")
        text = "对比如下：\n" + "\n".join(sides)
        # a named plan silent on the topic is said so beside what the others state: the comparison is
        # answered as far as the plans go (`supported` is about the sides that are stated)
        return Answer(question=q.text, answer=text, supported=True, kind=Kind.COMPARE.value, citations=_unique(cites))


def _side_summary(q: Query, env: Env) -> Answer:
    """One plan's side of a comparison: its few items that speak of the topic best, each quoted on
    the topic (a side is read next to the others, so it is shorter than a summary of its own)."""
    t = env.tuning
    ranked = summary_items(q, env)
    # an item titled by the topic speaks for its plan first; then the one covering most of it
    ranked.sort(key=lambda pi: (-env.evidence.cover(q.topic, pi[1].title), -env.cover(q, pi[1])))
    chosen = ranked[: t.compare_side_items]
    if not chosen:
        return not_found(q, env)
    fewest, most, shared = t.mention_quote_chars
    width = max(fewest, min(most, shared // len(chosen)))
    parts, cites = [], []
    for p, i in chosen:
        if env.evidence.cover(q.topic, i.title) >= t.min_coverage:
            # an item about the topic as a whole: what it sets out (its concrete measures), not only
            # the sentences that repeat the topic's words
            g = gist(i, q.topic, env.weight, sentences_wanted=t.compare_side_sentences, limit=width)
        else:
            said = best_sentences(body(i), list(q.topic), limit=2, weight=env.weight)
            g = "……".join(focus(x, q.topic, env.weight, width) for x in said) or gist(i, q.topic, env.weight, limit=width)
        parts.append(f"{label(i)}：{g}{marker(p, i)}")
        cites.append(cite(p, i, g))
    return Answer(question=q.text, answer="；".join(parts), supported=True, kind=Kind.SUMMARY.value, citations=cites)


def _unique(cites: list[Citation]) -> list[Citation]:
    seen, out = set(), []
    for c in cites:
        if c.id not in seen:
            seen.add(c.id)
            out.append(c)
    return out
