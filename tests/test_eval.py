"""The evaluation harness: scorer math on handcrafted rows, the gold file, and an end-to-end run.

The end-to-end part builds a real index of the shipped corpus in a temp folder (once per module),
runs the bm25 baseline and the runner's CLI on a few gold questions and scores them.
"""
import json
from collections import Counter

import pytest

from eval import score
from eval.__main__ import ask_with_history, main as run_main, run_system
from eval.ragas_eval import REFUSAL_REFERENCE, ragas_row
from eval.systems import Records, RetrieverSystem

GOLD = score.load_gold()
GOLD_BY_ID = {g["id"]: g for g in GOLD}


def gold_row(**kw):
    row = {"id": "t1", "question": "q", "kind": "item", "plan_id": "p", "expected": [{"plan_id": "p", "item": "3"}],
           "must_contain": [], "must_not_contain": [], "supported": True}
    row.update(kw)
    return row


def answer(text="", supported=True, cites=(), retrieved=(), total=None, **kw):
    data = {"id": "t1", "answer": text, "supported": supported,
            "citations": [{"plan_id": p, "item": i} for p, i in cites],
            "retrieved": [{"plan_id": p, "item": i} for p, i in retrieved]}
    if total is not None:
        data["timings_ms"] = {"total": total}
    data.update(kw)
    return data


# ---- scorer: pass / fail -------------------------------------------------------------------------


def test_pass_when_everything_holds():
    r = score.score_row(gold_row(must_contain=[["信息化"]]),
                        answer("推进教育信息化", cites=[("p", "3")], retrieved=[("p", "3")], total=12.5))
    assert r["pass"] and r["failures"] == []
    assert (r["citation_precision"], r["citation_recall"]) == (1.0, 1.0)
    assert (r["rank"], r["hit@1"], r["hit@5"], r["rr"]) == (1, True, True, 1.0)
    assert r["latency_ms"] == 12.5 and r["false_refusal"] is False and r["refusal_correct"] is None


def test_must_contain_alternatives_and_groups():
    gold = gold_row(must_contain=[["营养改善", "营养餐"], ["食堂"]])
    assert score.score_row(gold, answer("实施营养餐计划，办好食堂", cites=[("p", "3")]))["pass"]
    r = score.score_row(gold, answer("实施营养餐计划", cites=[("p", "3")]))
    assert not r["pass"] and r["failures"] == ["missing 食堂"]


def test_must_not_contain_fails():
    r = score.score_row(gold_row(must_not_contain=["体卫艺科", "安信办"]),
                        answer("牵头：体卫艺科", cites=[("p", "3")]))
    assert not r["pass"] and r["failures"] == ["contains 体卫艺科"]


def test_text_compared_after_nfkc_and_whitespace_removal():
    gold = gold_row(must_contain=[["10000"], ["〔2020〕1号"]])
    assert score.score_row(gold, answer("新增学位 １０ ０００ 个，文号 〔2020〕 1号", cites=[("p", "3")]))["pass"]


def test_supported_mismatch_fails():
    r = score.score_row(gold_row(), answer("无法回答", supported=False))
    assert not r["pass"] and r["false_refusal"] is True
    assert r["failures"][0] == "supported=False (gold True)"


def test_missing_expected_citation_fails_and_pr_math():
    gold = gold_row(expected=[{"plan_id": "p", "item": "1"}, {"plan_id": "p", "item": "2"},
                              {"plan_id": "p", "item": "3"}])
    r = score.score_row(gold, answer("x", cites=[("p", "1"), ("p", "2"), ("p", "4"), ("q", "1"), ("p", "1")]))
    assert not r["pass"] and r["failures"] == ["uncited p:3"]
    assert r["citation_precision"] == pytest.approx(2 / 4)  # duplicates count once
    assert r["citation_recall"] == pytest.approx(2 / 3)


def test_citing_nothing_is_precision_zero():
    r = score.score_row(gold_row(), answer("x"))
    assert (r["citation_precision"], r["citation_recall"]) == (0.0, 0.0)


def test_items_compared_as_strings_and_null_matches_null():
    gold = gold_row(expected=[{"plan_id": "p", "item": None}, {"plan_id": "p", "item": "17"}])
    r = score.score_row(gold, answer("x", cites=[("p", None), ("p", 17)], retrieved=[("p", 17)]))
    assert r["pass"] and r["citation_recall"] == 1.0 and r["rank"] == 1
    r = score.score_row(gold, answer("x", cites=[("p", "17"), ("p", "None")]))
    assert not r["pass"] and r["failures"] == ["uncited p:null"]  # the string "None" is not null


def test_retrieval_rank_hits_and_reciprocal_rank():
    gold = gold_row(expected=[{"plan_id": "p", "item": "3"}, {"plan_id": "p", "item": "9"}])
    r = score.score_row(gold, answer(retrieved=[("p", "1"), ("q", "3"), ("p", "9"), ("p", "3")]))
    assert (r["rank"], r["hit@1"], r["hit@5"]) == (3, False, True) and r["rr"] == pytest.approx(1 / 3)
    r = score.score_row(gold, answer(retrieved=[("p", str(n)) for n in (10, 11, 12, 13, 14, 3)]))
    assert (r["rank"], r["hit@1"], r["hit@5"]) == (6, False, False) and r["rr"] == pytest.approx(1 / 6)
    r = score.score_row(gold, answer(retrieved=[]))
    assert (r["rank"], r["hit@5"], r["rr"]) == (None, False, 0.0)


def test_refusal_questions():
    gold = gold_row(kind="out_of_scope", expected=[], supported=False, must_not_contain=["基教科"])
    ok = score.score_row(gold, answer("计划中没有益阳的内容，无法回答", supported=False))
    assert ok["pass"] and ok["refusal_correct"] is True
    assert ok["citation_precision"] is None and ok["rr"] is None and ok["false_refusal"] is None
    bad = score.score_row(gold, answer("基教科牵头", supported=True, cites=[("p", "3")]))
    assert not bad["pass"] and bad["refusal_correct"] is False


def test_error_and_missing_answers_fail():
    r = score.score_row(gold_row(), {"id": "t1", "error": "RuntimeError: boom", "answer": "", "supported": None})
    assert not r["pass"] and r["error"] == "RuntimeError: boom" and r["supported"] is None
    r = score.score_row(gold_row(), None)
    assert not r["pass"] and r["error"] == "no answer"


def test_aggregate_per_kind_subset_and_percentiles():
    gold = [gold_row(id="a", kind="item"), gold_row(id="b", kind="fact"),
            gold_row(id="c", kind="out_of_scope", expected=[], supported=False),
            gold_row(id="d", kind="fact")]
    answers = [answer(id="a", cites=[("p", "3")], retrieved=[("p", "3")], total=10),
               answer(id="b", cites=[("p", "3"), ("p", "4")], retrieved=[("p", "4"), ("p", "3")], total=30),
               answer(id="c", supported=False, total=20), answer(id="zz")]
    res = score.score_answers(gold, answers)
    o = res["overall"]
    assert (o["n"], o["passed"], o["errors"]) == (4, 3, 1)  # d has no answer
    assert o["pass_rate"] == 0.75
    assert o["citation_precision"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert o["hit@1"] == pytest.approx(1 / 3) and o["mrr"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert o["refusal_accuracy"] == 1.0 and o["false_refusal_rate"] == 0.0  # a missing answer is no refusal
    assert o["latency_p50_ms"] == 20 and o["latency_p95_ms"] == pytest.approx(29)
    assert list(res["by_kind"]) == ["item", "fact", "out_of_scope"]
    assert res["by_kind"]["fact"]["n"] == 2 and res["unknown_ids"] == ["zz"]
    sub = score.score_answers(gold, answers, subset=True)
    assert sub["overall"]["n"] == 3 and sub["overall"]["pass_rate"] == 1.0
    assert score.percentile([], 50) is None and score.mean([None]) is None


def test_cli_scores_a_file(tmp_path, capsys):
    gold_path, answers_path = tmp_path / "gold.jsonl", tmp_path / "sys.jsonl"
    gold_path.write_text(json.dumps(gold_row(must_contain=[["信息化"]]), ensure_ascii=False) + "\n", encoding="utf-8")
    answers_path.write_text(json.dumps(answer("信息化", cites=[("p", "3")]), ensure_ascii=False) + "\n", encoding="utf-8")
    assert score.main([str(answers_path), "--gold", str(gold_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["overall"]["pass_rate"] == 1.0
    assert score.main([str(answers_path), "--gold", str(gold_path), "--rows"]) == 0
    out = capsys.readouterr().out
    assert "100.0%" in out and "per kind" in out


# ---- the gold file ---------------------------------------------------------------------------------


def test_gold_file_is_valid(corpus):
    ids = [g["id"] for g in GOLD]
    assert len(GOLD) == 217 and len(set(ids)) == len(ids)
    assert set(Counter(g["kind"] for g in GOLD)) <= set(score.KINDS)
    plans = {p.id: p for p in corpus.plans}
    for g in GOLD:
        assert isinstance(g["question"], str) and g["question"].strip(), g["id"]
        assert isinstance(g["supported"], bool), g["id"]
        assert all(isinstance(grp, list) and grp and all(isinstance(s, str) and s for s in grp)
                   for grp in g["must_contain"]), g["id"]
        assert all(isinstance(s, str) and s for s in g["must_not_contain"]), g["id"]
        assert g["plan_id"] is None or g["plan_id"] in plans, g["id"]
        if g["kind"] == "follow_up":
            assert g["history"] and all(isinstance(h, str) and h for h in g["history"]), g["id"]
        if not g["supported"]:
            assert g["expected"] == [] and g["kind"] == "out_of_scope", g["id"]
        else:
            assert g["expected"], g["id"]
        for e in g["expected"]:
            plan = plans.get(e["plan_id"])
            assert plan is not None, (g["id"], e)
            if e["item"] is None:
                assert any(i.number is None for i in plan.items), (g["id"], e)
            else:
                assert isinstance(e["item"], str) and plan.item(e["item"]) is not None, (g["id"], e)


# ---- end to end: a real index, the bm25 baseline, the runner ---------------------------------------


@pytest.fixture(scope="module")
def retriever(shipped_index):
    from assistant.retrieval import open_retriever

    return open_retriever(shipped_index)


E2E_IDS = ["q117", "q145", "q001", "q038", "q180", "q194"]


def test_bm25_baseline_through_the_scorer(retriever):
    gold = [GOLD_BY_ID[i] for i in E2E_IDS]
    system = RetrieverSystem("bm25", retriever)
    answers, contexts = run_system(system, gold)
    assert [a["id"] for a in answers] == E2E_IDS
    for a, ctx in zip(answers, contexts):
        assert "error" not in a
        assert {"question", "answer", "supported", "kind", "citations", "retrieved", "timings_ms"} <= set(a)
        assert len(a["retrieved"]) <= 5 and len(ctx) == len(a["retrieved"]) and len(a["citations"]) <= 1
        if a["citations"]:
            assert a["citations"][0]["plan_id"] == a["retrieved"][0]["plan_id"]
    res = score.score_answers(GOLD, answers, subset=True)
    rows = {r["id"]: r for r in res["rows"]}
    assert res["overall"]["n"] == len(E2E_IDS) and res["overall"]["errors"] == 0
    for key in ("pass_rate", "citation_precision", "citation_recall", "hit@1", "hit@5", "mrr"):
        assert 0.0 <= res["overall"][key] <= 1.0
    # 益阳 is not in the corpus: the plan scope leaves nothing to search, so bm25 refuses
    assert rows["q194"]["pass"] and rows["q194"]["refusal_correct"] is True
    # a plain keyword fact: found first and quoted whole
    assert rows["q117"]["pass"] and rows["q117"]["hit@1"]

    records = Records(retriever.plans)
    export = [ragas_row(g, a, c, records) for g, a, c in zip(gold, answers, contexts)]
    assert export[0]["user_input"] == GOLD_BY_ID["q117"]["question"] and export[0]["retrieved_contexts"]
    assert "10000" in export[0]["reference"] and export[0]["reference_contexts"]
    assert export[1]["reference_contexts"][0].startswith("邵东")  # item null: the plan's own text
    assert export[-1]["reference"] == REFUSAL_REFERENCE and export[-1]["reference_contexts"] == []


def test_follow_up_replays_history_through_the_same_system(shipped_index):
    from eval.systems import AssistantSystem

    system = AssistantSystem(shipped_index)
    seen = []
    real_ask = system.ask

    def recording_ask(question, history=None):
        seen.append((question, history))
        return real_ask(question, history)

    system.ask = recording_ask
    gold = GOLD_BY_ID["q193"]  # two earlier turns
    data, contexts = ask_with_history(system, gold)
    assert [q for q, _ in seen] == gold["history"] + [gold["question"]]
    assert seen[0][1] in (None, [])
    final_history = seen[-1][1]
    assert [t["question"] for t in final_history] == gold["history"]
    assert all(isinstance(t["answer"], dict) and "_contexts" not in t["answer"] for t in final_history)
    assert data["question"] and "_contexts" not in data and isinstance(contexts, list)


def test_runner_cli_writes_answers_and_report(shipped_index, tmp_path, capsys):
    out, rep = tmp_path / "runs", tmp_path / "rep"
    assert run_main(["--systems", "bm25", "--kinds", "fact,out_of_scope", "--limit", "3", "--index", str(shipped_index),
                     "--out", str(out), "--report", str(rep), "--no-ragas"]) == 0
    printed = capsys.readouterr().out
    assert "bm25" in printed and "hit@5" in printed
    rows = [json.loads(line) for line in (out / "bm25.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [g["id"] for g in GOLD if g["kind"] in ("fact", "out_of_scope")][:3]
    assert len((out / "bm25.ragas.jsonl").read_text(encoding="utf-8").splitlines()) == 3
    report = json.loads((rep / "report.json").read_text(encoding="utf-8"))
    assert report["systems"]["bm25"]["overall"]["n"] == 3 and report["ragas"]["status"] == "skipped"
    md = (rep / "report.md").read_text(encoding="utf-8")
    assert "| bm25 | 3 |" in md and "Not computed" in md
    assert score.score_file(out / "bm25.jsonl", subset=True)["overall"]["n"] == 3
