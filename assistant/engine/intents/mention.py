"""Finding the records that name a topic, and listing them within the answer's token budget (used by
the mention, existence and deadline intents)."""
from __future__ import annotations

import re
from dataclasses import replace

from ...keyword import tokenize
from ...models import Item, Plan
from ...text import best_sentences, sentences
from ..contract import Answer, Kind, marker
from ..evidence import flat
from ..query import Query
from ..synonyms import same_sense_synonyms
from ..render import answer_tokens, body, focus, label
from .base import Env, cite


def mentions(q: Query, env: Env) -> tuple[str, list[tuple[Plan, Item, str]]]:
    """Every record in scope that names the topic: a quoted term verbatim, or nearly all its words.
    The scene's words (`q.optional`) are dropped when no record names them with the rest."""
    if q.alternatives and not q.quoted:
        return _either(q, env)
    topic, found = _mentions(q, env)
    required = tuple(w for w in q.topic if w not in q.optional)
    if not found and q.optional and required:
        return _mentions(replace(q, topic=required, optional=()), env)
    return topic, found


def _either(q: Query, env: Env) -> tuple[str, list[tuple[Plan, Item, str]]]:
    """The records naming any of the topic's alternatives, in corpus order."""
    found: dict[str, tuple[Plan, Item, str]] = {}
    for alt in q.alternatives:
        known = tuple(w for w in alt if env.vocab.known(w))
        unknown = tuple(w for w in alt if not env.vocab.known(w))
        if not known:
            continue  # an alternative in words no plan uses names nothing
        _, named = mentions(replace(q, topic=known, unknown=unknown, optional=(), alternatives=()), env)
        for p, i, s in named:
            found.setdefault(i.id, (p, i, s))
    ordered = sorted(found.values(), key=lambda r: env.vocab.index_of(r[1].id))
    return "或".join("".join(a) for a in q.alternatives), ordered


def _mentions(q: Query, env: Env) -> tuple[str, list[tuple[Plan, Item, str]]]:
    terms = [t for term in q.quoted for t in re.split(r"[（）()／/]|或者|或", term) if len(t) >= 2]
    topic = "、".join(q.quoted) if q.quoted else "、".join(list(q.topic) + list(q.unknown))
    named: list[tuple[Plan, Item, str | None]] = []  # record, and the quoted term it holds
    for p, i in mention_candidates(q, env, terms):
        if terms:  # a quoted term is looked for in the item itself, not its section heading
            f = flat(i.title + i.text)
            term = next((t for t in terms if flat(t) in f), None)
        else:
            term = None
        if term or (not terms and q.topic and env.evidence.cover(q.topic, env.vocab.flat_text(i.id), q.unknown,
                                                                 flattened=True) >= env.tuning.mention_coverage):
            named.append((p, i, term))
    # few records leave room to quote more of each ("各写了啥措施"); more than fit the answer are listed
    # without quotes (render_mentions), so only those that may be shown are quoted
    fewest, most, shared = env.tuning.mention_quote_chars
    width = max(fewest, min(most, shared // max(1, len(named))))
    if len(named) > most_listed(env):
        return topic, [(p, i, i.title) for p, i, _ in named]
    found = []
    for p, i, term in named:
        if term:
            sents, words = [x for x in sentences(body(i)) if flat(term) in flat(x)][:2], [term, *q.topic]
        else:
            sents, words = best_sentences(body(i), list(q.topic), limit=1, weight=env.weight), list(q.topic)
        found.append((p, i, "……".join(focus(x, words, env.weight, width) for x in sents) or i.title))
    return topic, found


def nearest_in_plans(q: Query, env: Env, plans: list[Plan]) -> dict[str, tuple[Item, str]]:
    """For plans naming none of the topic outright, the record naming most of it (研学旅行 for 研学实践,
    银龄计划 for 银龄讲学计划) with its best sentence, when it covers at least
    `Tuning.near_mention_coverage` of the topic's weight. Only for a few plans (at most
    `Tuning.max_compared_plans`): a closest wording is worth reading beside a handful of plans, and
    the candidates are the records holding the topic's rarest words, never a pass over every record."""
    if q.quoted or not q.topic or not plans or len(plans) > env.tuning.max_compared_plans:
        return {}
    ids, vocab, threshold = {p.id for p in plans}, env.vocab, env.tuning.near_mention_coverage
    total = sum(map(env.weight, q.topic)) + env.tuning.unknown_word_weight * sum(map(env.weight, q.unknown))
    best: dict[str, tuple[float, Item, str]] = {}
    for p, i in mention_candidates(q, env, [], coverage=threshold):
        if p.id not in ids or env.evidence.cover(q.topic, vocab.flat_text(i.id), q.unknown, flattened=True) < threshold:
            continue
        sents = best_sentences(body(i), list(q.topic), limit=1, weight=env.weight)
        if not sents:
            continue
        # the sentence must name the words as words: "讲学" inside "宣讲学习" names nothing
        words = set(tokenize(sents[0]))
        c = sum(env.weight(w) for w in q.topic if w in words or words & set(same_sense_synonyms(w))) / total
        if c >= threshold and c > best.get(p.id, (0.0,))[0]:
            best[p.id] = (c, i, sents[0])
    return {pid: (i, focus(s, list(q.topic), env.weight, env.tuning.mention_quote_chars[0]))
            for pid, (_, i, s) in best.items()}


def most_listed(env: Env) -> int:
    """More mentions than this cannot fit the answer's token budget even without quotes: each line
    costs at least its item label and citation marker (`MENTION_TOKENS_AT_LEAST`)."""
    return env.tuning.answer_token_budget // MENTION_TOKENS_AT_LEAST


# A lower bound on the cl100k tokens a listed mention costs: "第N项" and its marker 〔plan title·第N项〕
# (32 at least on the shipped plans; 10 leaves room for any title), so the bound never drops one that fits.
MENTION_TOKENS_AT_LEAST = 10


def mention_candidates(q: Query, env: Env, terms: list[str], coverage: float | None = None) -> list[tuple[Plan, Item]]:
    """The records in scope that can name the topic, found through the text index: those holding a
    quoted term, or at least one of the rarest topic words whose weight a mention cannot do without
    (a record lacking all of them covers less than `coverage`, by default `mention_coverage`)."""
    vocab, scope = env.vocab, {p.id for p in env.scoped(q)}
    if terms:
        return vocab.records(vocab.text_index.containing_any(flat(t) for t in terms), scope)
    weight, share = vocab.weight, env.tuning.mention_coverage if coverage is None else coverage
    total = sum(weight(w) for w in q.topic) + env.tuning.unknown_word_weight * sum(weight(w) for w in q.unknown)
    # words the plans lack may still be found in halves: they cannot prune, so they stay in `rest`
    known = sorted((w for w in q.topic if vocab.known(w)), key=vocab.df)
    rest = sum(weight(w) for w in q.topic)
    required: list[str] = []
    for w in known:
        if rest < share * total:
            break
        required.append(w)
        rest -= weight(w)
    if rest >= share * total:
        return [] if not q.topic else vocab.records(range(len(vocab.entries)), scope)
    # a record may name a required word by a synonym, which `cover` credits
    named = (x for w in required for x in ((w, *same_sense_synonyms(w)) if env.tuning.synonym_credit else (w,)))
    return vocab.records(vocab.text_index.containing_any(flat(x) for x in named), scope)


def render_mentions(q: Query, env: Env, topic: str, found: list[tuple[Plan, Item, str]], kind: Kind) -> Answer:
    plans = env.scoped(q)
    for with_quotes in (True, False):
        if with_quotes and len(found) > most_listed(env):
            continue  # cannot fit with quotes
        shown = found[: most_listed(env)]
        hit_plans = {p.id for p, _, _ in found}
        # items are counted as items (项); a preamble passage among them makes them places (处)
        unit = "项" if all(i.number is not None for _, i, _ in found) else "处"
        while shown:
            by_plan: dict[str, list[tuple[Plan, Item, str]]] = {}
            for p, i, s in shown:
                by_plan.setdefault(p.id, []).append((p, i, s))
            lines = []
            for rows in by_plan.values():
                p = rows[0][0]
                parts = [f"{label(i)}：{s}{marker(p, i)}" if with_quotes else f"{label(i)}{marker(p, i)}" for _, i, s in rows]
                lines.append(f"{p.title}：" + "；".join(parts))
            head = (f"{len(hit_plans)}份计划提到{topic}：" if kind == Kind.CROSS_PLAN else f"提到{topic}的共{len(found)}{unit}：")
            text = head + "\n" + "\n".join(lines)
            if len(shown) < len(found):
                text += f"\n（共{len(found)}处，篇幅所限只列出前{len(shown)}处；请指明计划或换个更具体的说法。）"
            missing = [p for p in plans if p.id not in hit_plans]
            near: list[tuple[Plan, Item, str]] = []
            if kind == Kind.CROSS_PLAN and missing and len(plans) > 1 and len(shown) == len(found):
                # a plan wording the topic in part ("研学旅行" for 研学实践) is shown as such, not as silent
                nearest = nearest_in_plans(q, env, missing)
                near = [(p, *nearest[p.id]) for p in missing if p.id in nearest]
                for p, i, s in near:
                    text += f"\n{p.title}没有原文写到{topic}，最接近的是{label(i)}：{s}{marker(p, i)}"
                silent = [p.title for p in missing if all(p.id != n[0].id for n in near)]
                if silent:
                    text += f"\n{'、'.join(silent)}未提及。"
            if answer_tokens(text) <= env.tuning.answer_token_budget:
                return Answer(question=q.text, answer=text, supported=True, kind=kind.value,
                              citations=[cite(p, i, s) for p, i, s in shown + near])
            if with_quotes:
                break
            shown = shown[: max(1, len(shown) * 3 // 4)] if len(shown) > 1 else []
    raise AssertionError("unreachable: one mention always fits the budget")
