"""Retriever.search fuses only the candidates that can reach the top k (assistant/retrieval.py): its
hits, scores, signals and order must be those of the full fusion over every scored record, which is
written out plainly here (the implementation before that optimisation) and compared on the shared index.
"""
from __future__ import annotations

from typing import Any

import pytest

from assistant.retrieval import BM25_WEIGHT, DENSE_WEIGHT, RRF_K, Filters, Hit, Retriever

QUESTIONS = ["学生资助由哪个科室牵头？", "达州2020年第17项讲什么？", "哪些计划提到县管校聘？", "邵东今年要新增多少学位？",
             "校园安全", "教师", "衡阳2022年第三部分包括哪些条目？", "义务教育均衡发展和控辍保学"]


def full_fusion(r: Retriever, question: str, k: int, mode: str, filters: Filters) -> list[Hit]:
    """Every record with a score ranked and fused, then the top k (no candidate cut)."""
    scope = r.scope(question)
    if filters.plan_ids is None and scope.plan_ids is not None:
        filters.plan_ids = scope.plan_ids
    hits: dict[str, Hit] = {}
    if mode == "hybrid" and scope.item_number:
        for p in r.plans:
            item = p.item(scope.item_number)
            if item is not None and filters.allows(p, item):
                hits[item.id] = Hit(p, item, 1.0, {"exact": f"第{scope.item_number}项"})
    elif mode == "hybrid" and scope.section_number and filters.plan_ids:
        for p in r.plans:
            if p.id in filters.plan_ids and scope.section_number <= len(p.sections):
                heading = p.sections[scope.section_number - 1]
                for item in p.numbered_items:
                    if item.section and item.section[0] == heading and filters.allows(p, item):
                        hits[item.id] = Hit(p, item, 1.0, {"exact": f"第{scope.section_number}部分"})

    def ranks(scores: dict[str, float]) -> dict[str, tuple[int, float]]:
        allowed = sorted(((rid, s) for rid, s in scores.items() if rid in r.records and filters.allows(*r.records[rid])),
                         key=lambda x: -x[1])
        return {rid: (n, s) for n, (rid, s) in enumerate(allowed, start=1)}

    dense = ranks(r.dense(question, filters) if mode in ("hybrid", "dense") else {})
    lexical = ranks(r.keyword.scores(question) if mode in ("hybrid", "bm25") else {})
    fused: dict[str, float] = {}
    for rid, (rank, _) in dense.items():
        fused[rid] = fused.get(rid, 0.0) + DENSE_WEIGHT / (RRF_K + rank)
    for rid, (rank, _) in lexical.items():
        fused[rid] = fused.get(rid, 0.0) + BM25_WEIGHT / (RRF_K + rank)
    if mode == "dense":
        fused = {rid: s for rid, (_, s) in dense.items()}
    elif mode == "bm25":
        fused = {rid: s for rid, (_, s) in lexical.items()}
    for rid, score in fused.items():
        p, item = r.records[rid]
        hit = hits.get(rid) or Hit(p, item, 0.0, {})
        if "exact" not in hit.signals:
            hit.score = score
        if rid in dense:
            hit.signals["dense"] = {"rank": dense[rid][0], "score": round(dense[rid][1], 4)}
        if rid in lexical:
            hit.signals["bm25"] = {"rank": lexical[rid][0], "score": round(lexical[rid][1], 4)}
        hits[rid] = hit
    return sorted(hits.values(), key=lambda h: ("exact" not in h.signals, -h.score, h.item.seq))[:k]


def shown(hits: list[Hit]) -> list[tuple[str, float, dict[str, Any]]]:
    return [(h.item.id, h.score, h.signals) for h in hits]


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_search_equals_the_full_fusion(assistant, mode):
    r = assistant.retriever
    compared = 0
    for question in QUESTIONS:
        for k in (1, 5, 10, 40):
            for make in (Filters, lambda: Filters(year=2020), lambda: Filters(plan_ids=["dazhou-2020", "hengyang-2022"]),
                         lambda: Filters(lead_unit="基教科")):
                got = shown(r.search(question, k=k, mode=mode, filters=make()))
                assert got == shown(full_fusion(r, question, k, mode, make())), (question, k, mode)
                compared += bool(got)
    assert compared > 50, "most searches find something: the comparison is not of empty lists"
