"""The corpus loader reads only regular files inside the corpus folder, and reports what it skips.

Real symlinks (to /etc/passwd, to a plan outside the folder, to a folder), a real FIFO and a device
node: none is read, each is named with its reason, and the good plans still load and index.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.corpus import load_corpus, plan_files
from assistant.loaders import PlanFileError, read_plan_file
from assistant.store import IndexStore, source_hashes

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def hostile_corpus(tmp_path, plans_dir):
    """A corpus folder with one real plan and every kind of foreign entry beside it."""
    folder = tmp_path / "plans"
    folder.mkdir()
    shutil.copy(plans_dir / "hengyang-2022.txt", folder / "hengyang-2022.txt")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(plans_dir / "shaodong-2020.txt", outside / "shaodong-2020.txt")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "escape.txt").symlink_to(outside / "shaodong-2020.txt")
    (folder / "relative.md").symlink_to(Path("..") / "outside" / "shaodong-2020.txt")
    (folder / "linked-dir").symlink_to(outside, target_is_directory=True)
    (folder / "dir.txt").symlink_to("/etc", target_is_directory=True)
    os.mkfifo(folder / "pipe.txt")
    (folder / "folder.md").mkdir()
    return folder


SKIPPED = {"passwd.txt": "symbolic link", "escape.txt": "symbolic link", "relative.md": "symbolic link",
           "linked-dir": "symbolic link", "dir.txt": "symbolic link", "pipe.txt": "named pipe",
           "folder.md": "not a regular file (folder)"}


def test_only_regular_files_inside_the_folder_are_loaded_and_the_rest_reported(hostile_corpus):
    corpus = load_corpus(hostile_corpus)  # a FIFO opened for reading would block here forever
    assert [p.source for p in corpus.plans] == ["hengyang-2022.txt"]
    reasons = {Path(e.path).name: e.reason for e in corpus.errors}
    assert set(reasons) == set(SKIPPED), reasons
    for name, reason in SKIPPED.items():
        assert reason in reasons[name], (name, reasons[name])
    assert [p.name for p in plan_files(hostile_corpus)] == ["hengyang-2022.txt"]
    assert set(source_hashes(hostile_corpus)) == {"hengyang-2022.txt"}


def test_reading_a_symlink_or_fifo_directly_is_refused(hostile_corpus):
    """The descriptor is checked, not the name: a file swapped for a link after listing is refused too."""
    with pytest.raises(PlanFileError, match="symbolic link"):
        read_plan_file(hostile_corpus / "passwd.txt")
    with pytest.raises(PlanFileError, match="named pipe"):
        read_plan_file(hostile_corpus / "pipe.txt")


def test_a_device_node_is_not_read(tmp_path):
    folder = tmp_path / "plans"
    folder.mkdir()
    try:
        os.mknod(folder / "zero.txt", 0o600 | 0o020000, os.makedev(1, 5))  # /dev/zero: endless bytes
    except PermissionError:
        pytest.skip("creating a device node needs root")
    corpus = load_corpus(folder)
    assert corpus.plans == []
    assert [(Path(e.path).name, e.reason) for e in corpus.errors] == [("zero.txt", "not a regular file (character device)")]


def test_index_build_skips_and_reports_foreign_files(hostile_corpus, tmp_path):
    index_dir = tmp_path / "index"
    report = IndexStore(index_dir).build(hostile_corpus, progress=False)
    assert report.plans == 1
    assert {e.split(":")[0] for e in report.errors} == set(SKIPPED)
    records = [i for p in IndexStore(index_dir).read_plans() for i in p.items]
    assert records and all("root:" not in i.text for i in records)
    assert {i.plan_id for i in records} == {"hengyang-2022"}
    # Run again: the same skips are reported even though nothing is rebuilt.
    again = subprocess.run([sys.executable, "-m", "assistant", "index", "--corpus", str(hostile_corpus),
                            "--index", str(index_dir), "--json"], cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["unchanged"] is True
    for name in SKIPPED:
        assert f"error: {name}: " in again.stderr, again.stderr


def test_plans_cli_reports_skipped_files(hostile_corpus):
    proc = subprocess.run([sys.executable, "-m", "assistant", "plans", "--corpus", str(hostile_corpus)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("hengyang-2022\t")
    assert "error: passwd.txt: symbolic link (not followed" in proc.stderr
    assert "error: pipe.txt: not a regular file (named pipe)" in proc.stderr


def test_a_file_name_that_is_not_utf8_is_reported_not_indexed(tmp_path, plans_dir):
    """Such a name (e.g. GBK bytes from an archive) once failed the whole build: the manifest could not be written."""
    folder = tmp_path / "plans"
    folder.mkdir()
    shutil.copy(plans_dir / "hengyang-2022.txt", folder / "hengyang-2022.txt")
    shutil.copy(plans_dir / "shaodong-2020.txt", os.fsencode(folder) + b"/\xc9\xdb\xb6\xab.txt")  # 邵东 in GBK
    corpus = load_corpus(folder)
    assert [p.source for p in corpus.plans] == ["hengyang-2022.txt"]
    [error] = corpus.errors
    assert error.reason == "file name is not valid UTF-8 (rename the file)"
    assert Path(error.path).name.startswith("\\xc9") and Path(error.path).name.endswith(".txt")  # bytes as \xNN
    assert set(source_hashes(folder)) == {"hengyang-2022.txt"}
    json.dumps([str(e) for e in corpus.errors], ensure_ascii=False).encode("utf-8")  # reportable as JSON
