"""Every threshold of the answer engine, named and explained in one place.

Values marked *calibrated* were chosen by `eval/bench.py --sweep` on the tuning half of the dev set
(`eval/gold.jsonl` + `eval/families.jsonl`, `split == "tune"`) and checked on the held-out half; the
others are sizes of the answer, chosen for readability.
"""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Tuning:
    # ---- evidence: is a record about what the question asks? ---------------------------------
    #: IDF-weighted share of the question's topic words (words the plans use) that a record must
    #: contain to count as evidence on its own (calibrated).
    min_coverage: float = 0.5
    #: A record ranked first by retrieval also counts as evidence with less lexical coverage when
    #: its dense (e5) similarity to the question is at least `dense_floor` (calibrated) …
    dense_floor: float = 0.83
    #: … and it still covers this share of the topic words (calibrated) …
    dense_min_coverage: float = 0.4
    #: … and its dense similarity stands out from the next hits' by this much: e5 similarities of
    #: Chinese passages bunch within a few hundredths, so only a lead says "this one" (calibrated).
    dense_margin: float = 0.0
    #: Topic words the plans never use but that name what is asked (nouns of the ask clause, not
    #: chatter) count against the evidence with this share of their IDF: a question about 英语教学
    #: is not answered by a record about 教学 (calibrated).
    unknown_word_weight: float = 0.6
    #: A compound topic word ("体育锻炼") the record lacks whose dictionary parts it holds ("体育")
    #: earns this share of its weight times the IDF-weighted share of parts found (calibrated).
    compound_part_credit: float = 0.5
    #: A topic word the record lacks while it holds a synonym of it (one sense, sharing a character:
    #: "老师" asked, "教师" written) earns this share of the word's weight (calibrated: 0.5 and 1.0 tried).
    synonym_credit: float = 1.0
    #: A mention counts for "which plans mention X" when the record covers this share of X's words.
    mention_coverage: float = 0.7
    #: In "which plans mention X", a plan naming none of X outright is shown with its record covering
    #: this share of X's words, named as words in its best sentence, as the closest it comes
    #: (calibrated: 0.35–0.6 tried, 0.45 the highest with the best tuning-half pass).
    near_mention_coverage: float = 0.45

    # ---- intent ------------------------------------------------------------------------------
    #: Below this probability the intent model's first choice is checked against its second by the
    #: intents' own `matches` (calibrated on the tuning half).
    intent_confident: float = 0.45

    # ---- answer size -------------------------------------------------------------------------
    max_summary_items: int = 6
    summary_fill: int = 3  # relevant items added after section and title matches, up to this many
    answer_token_budget: int = 1200  # cl100k tokens: about a screen of Chinese text
    #: characters quoted per mention in an enumeration: (fewest, most, shared by all the mentions of
    #: one answer): two mentions get 200 characters each, ten get 80.
    mention_quote_chars: tuple[int, int, int] = (80, 200, 400)
    focus_chars: int = 120  # a quoted sentence longer than this is cut to the clauses that matter
    max_history_turns: int = 6  # earlier turns read for context; older ones are ignored
    #: Earlier turns given as bare question strings are answered again to learn their context; only
    #: the last few are (each costs a full answer), since only the latest turn's context is used.
    max_replayed_turns: int = 2
    #: Plans compared side by side when the question names none ("各地…有什么不同"): the ones the
    #: evidence finds the topic in, at most this many (each side is one search and one answer).
    max_compared_plans: int = 6
    #: Items quoted per plan in a comparison: the ones that speak of the topic best.
    compare_side_items: int = 2
    #: Sentences quoted for a side's item when the item is about the topic as a whole (titled by it).
    compare_side_sentences: int = 3
    #: Parts of a multi-part question answered; more are read as one ask (bounds work per request).
    max_asks: int = 4

    def with_(self, **changes: object) -> "Tuning":
        """A copy with some values changed (for sweeps)."""
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULT_TUNING = Tuning()
