"""LangChain integration over the session's real index: langchain-tests' standard retriever suite,
then what our Documents carry, and the assistant as a Runnable in LCEL pipelines."""
from __future__ import annotations

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda
from langchain_tests.integration_tests import RetrieversIntegrationTests
from pydantic import ValidationError

from assistant.langchain_adapters import AssistantRunnable, ItemRetriever
from assistant.service import QuestionError

STUDENT_AID = "学生资助由哪个科室牵头？"


class TestItemRetrieverStandard(RetrieversIntegrationTests):
    """LangChain's own contract for retrievers (k in the constructor and per call, sync and async)."""

    @pytest.fixture(autouse=True)
    def _index(self, assistant):
        self._retriever = assistant.retriever  # the properties below run on this same test instance

    @property
    def retriever_constructor(self) -> type[ItemRetriever]:
        return ItemRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"index": self._retriever}

    @property
    def retriever_query_example(self) -> str:
        return "如何推进教育信息化建设？"


@pytest.fixture(scope="module")
def retriever(assistant) -> ItemRetriever:
    return ItemRetriever(index=assistant.retriever, k=4)


@pytest.fixture(scope="module")
def runnable(assistant) -> AssistantRunnable:
    return AssistantRunnable(assistant=assistant)


def test_documents_are_items_with_their_plan_and_units(retriever, assistant):
    docs = retriever.invoke(STUDENT_AID)
    assert 1 <= len(docs) <= 4
    top = docs[0]
    assert top.id == top.metadata["id"] == "dazhou-2020:21"
    plan, item = assistant.item("dazhou-2020:21")
    assert top.page_content == item.text
    assert {k: top.metadata[k] for k in ("plan_id", "plan", "year", "item", "title", "section", "lead_units",
                                         "responsible_units", "citation")} == {
        "plan_id": "dazhou-2020", "plan": "达州市教育局2020年工作要点", "year": 2020, "item": "21",
        "title": "提高资助工作精准管理能力", "section": ["三、扩大公平优质教育资源供给"],
        "lead_units": ["市后勤与资助中心"], "responsible_units": ["计财科", "基教科", "职成科", "扶贫办"],
        "citation": "〔达州市教育局2020年工作要点·第21项〕"}
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)


def test_plan_filter_and_exact_item_lookup(retriever):
    docs = retriever.invoke("第17项讲什么？", plan="dazhou-2020", k=2)
    assert docs[0].metadata["id"] == "dazhou-2020:17"
    assert {d.metadata["plan_id"] for d in docs} == {"dazhou-2020"}
    scoped = ItemRetriever(index=retriever.index, plan="shaodong-2020", k=5).invoke("新增学位")
    assert scoped and {d.metadata["plan_id"] for d in scoped} == {"shaodong-2020"}
    assert "shaodong-2020:7" in {d.id for d in scoped}


def test_bad_retriever_input_is_a_clear_error(retriever):
    with pytest.raises(ValueError, match="unknown plan id 'nowhere-1999'"):
        retriever.invoke(STUDENT_AID, plan="nowhere-1999")
    with pytest.raises(ValueError, match="k must be an integer"):
        retriever.invoke(STUDENT_AID, k=0)
    with pytest.raises(ValueError, match="non-empty"):
        retriever.invoke("   ")
    with pytest.raises(ValidationError):
        ItemRetriever(index=retriever.index, k=0)


def test_the_index_hands_out_the_same_retriever(assistant):
    lc = assistant.retriever.as_langchain_retriever(k=2)
    assert isinstance(lc, ItemRetriever) and [d.id for d in lc.invoke(STUDENT_AID)][0] == "dazhou-2020:21"


def test_retriever_in_an_lcel_pipeline(retriever):
    cite = RunnableLambda(lambda docs: [d.metadata["citation"] for d in docs])
    assert (retriever | cite).invoke(STUDENT_AID)[0] == "〔达州市教育局2020年工作要点·第21项〕"


def test_runnable_answers_like_the_api(runnable, assistant):
    out = runnable.invoke(STUDENT_AID)
    expected = assistant.ask(STUDENT_AID).to_dict()
    assert out["answer"] == expected["answer"] and out["citations"] == expected["citations"]
    assert out["supported"] is True and [c["id"] for c in out["citations"]] == ["dazhou-2020:21"]


def test_runnable_takes_history_and_plan(runnable):
    follow = runnable.invoke({"question": "那它的责任科室呢？", "history": [STUDENT_AID]})
    assert "计财科" in follow["answer"] and "dazhou-2020:21" in {c["id"] for c in follow["citations"]}
    scoped = runnable.invoke({"question": "要新增多少学位？", "plan": "shaodong-2020"})
    assert {c["plan_id"] for c in scoped["citations"]} == {"shaodong-2020"}


def test_runnable_composes_batches_and_reports_to_callbacks(runnable):
    class Seen(BaseCallbackHandler):
        def __init__(self):
            self.ends: list = []

        def on_chain_end(self, outputs, **kwargs):
            self.ends.append(outputs)

    seen = Seen()
    chain = runnable | RunnableLambda(lambda a: a["answer"])
    texts = chain.batch([STUDENT_AID, "达州2020年第17项讲什么？"], config={"callbacks": [seen]})
    assert "第21项" in texts[0] and "深入推进教育信息化建设和应用" in texts[1]
    assert any(isinstance(o, dict) and o.get("citations") for o in seen.ends), "the answer reached the callbacks"


async def test_runnable_ainvoke(runnable):
    out = await runnable.ainvoke(STUDENT_AID)
    assert [c["id"] for c in out["citations"]] == ["dazhou-2020:21"]


@pytest.mark.parametrize("bad, says", [("", "empty"), ({"question": "x", "planz": "a"}, "unknown input keys"),
                                       ({"question": STUDENT_AID, "plan": "nowhere-1999"}, "unknown plan id"),
                                       (42, "input must be"), ({"question": STUDENT_AID, "history": "x"}, "list")])
def test_runnable_bad_input_is_a_clear_error(runnable, bad, says):
    with pytest.raises(QuestionError, match=says):
        runnable.invoke(bad)


def test_documents_are_langchain_documents(retriever):
    assert all(isinstance(d, Document) for d in retriever.invoke("县管校聘"))
