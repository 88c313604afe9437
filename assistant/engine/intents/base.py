"""The intent interface, the per-question environment every intent reads, and the registry."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ...keyword import tokenize
from ...models import Item, Plan
from ...retrieval import Hit
from ..contract import Answer, Citation, Kind
from ..evidence import Evidence, Vocabulary, record_text
from ..query import Query
from ..tuning import Tuning


@dataclass
class Env:
    """What an intent may consult: the records, retrieval, the vocabulary and the tuning."""

    plans: list[Plan]
    records: dict[str, tuple[Plan, Item]]
    vocab: Vocabulary
    evidence: Evidence
    tuning: Tuning
    search: Callable[[str, Any], list[Hit]]  # (text, scope) -> hits
    _hits: dict[tuple[Any, ...], list[Hit]] = field(default_factory=dict)

    def hits(self, q: Query) -> list[Hit]:
        """Retrieval for the query's search text within its scope (cached per text). Topic words the
        text's own tokens miss are added to it: "对控辍保学" is cut by the tokenizer into 对控 and
        辍保学, which no record's tokens match, while the reader found the plans' term 控辍保学."""
        text = q.search_text
        tokens = set(tokenize(text))
        missed = [w for w in q.topic if w not in tokens]
        if missed:
            text += " " + " ".join(missed)
        key = (text, tuple(q.scope.plan_ids or ()) if q.scope.plan_ids is not None else None, q.scope.item_number)
        if key not in self._hits:
            self._hits[key] = [] if q.scope.plan_ids == [] else self.search(text, q.scope)
        return self._hits[key]

    def scoped(self, q: Query) -> list[Plan]:
        if q.scope.plan_ids is None:
            return list(self.plans)
        # in corpus order, looked up by id (no pass over every plan)
        at = sorted({self.vocab.plan_index[i] for i in q.scope.plan_ids if i in self.vocab.plan_index})
        return [self.plans[n] for n in at]

    def relevant(self, q: Query, threshold: float | None = None) -> list[Hit]:
        """Hits that speak of the topic; the scene's words (`q.optional`) may be missing from them."""
        found = self.evidence.relevant(self.hits(q), q.topic, q.unknown, threshold)
        required = tuple(w for w in q.topic if w not in q.optional)
        if not found and q.optional and required:
            found = self.evidence.relevant(self.hits(q), required, q.unknown, threshold)
        return found

    def weight(self, word: str) -> float:
        return self.vocab.weight(word)

    def cover(self, q: Query, item: Item) -> float:
        """How well a chosen record covers the topic (compounds found in parts earn part credit)."""
        return self.evidence.cover(q.topic, record_text(item), q.unknown, partial=True)

    def context_item(self, q: Query) -> tuple[Plan, Item] | None:
        """The item the conversation was about, when this question refers back to it."""
        if q.elliptical and q.context.get("item_id") in self.records:
            plan, item = self.records[q.context["item_id"]]
            if q.scope.plan_ids is None or plan.id in q.scope.plan_ids:
                return plan, item
        return None

    def numbered(self, q: Query) -> list[tuple[Plan, Item]]:
        """Items named by number (第N项) or as the last item, in the plans in scope."""
        out = []
        for p in self.scoped(q):
            named = p.item(q.scope.item_number) if q.scope.item_number else None
            if named is not None:
                out.append((p, named))
            elif q.last_item and p.numbered_items:
                out.append((p, p.numbered_items[-1]))
        return out


class Intent:
    """One kind of question: `matches` says whether this intent can take the query, `answer` answers it."""

    name: str = ""
    kind: Kind = Kind.SUMMARY

    def matches(self, q: Query, env: Env) -> bool:
        return True

    def answer(self, q: Query, env: Env) -> Answer:
        raise NotImplementedError


def refuse(q: Query, text: str, citations: list[Citation] | None = None) -> Answer:
    return Answer(question=q.text, answer=text, supported=False, kind=Kind.OUT_OF_SCOPE.value,
                  citations=citations or [])


def not_found(q: Query, env: Env) -> Answer:
    where = "、".join(p.title for p in env.scoped(q)) or "现有计划"
    words = list(q.unknown) + [w for w in q.topic if w not in q.unknown]
    topic = "、".join(words[:6]) if words else "这个问题"
    return refuse(q, f"在{where}中没有找到关于{topic}的内容，计划里没有写，无法回答。")


def cite(plan: Plan, item: Item, quote: str) -> Citation:
    return Citation.of(plan, item, quote)


REGISTRY: dict[str, Intent] = {}


def register(cls: type[Intent]) -> type[Intent]:
    """Class decorator: one instance per intent, looked up by name."""
    REGISTRY[cls.name] = cls()
    return cls
