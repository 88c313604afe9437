"""Loading a folder of plan files: every readable plan parsed, every unreadable one reported."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .loaders import SUPPORTED_SUFFIXES, PlanFileError, file_kind, read_plan_file
from .models import Plan
from .parser import parse_plan

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "plans"


@dataclass
class Corpus:
    """The plans of a corpus folder, and the files that could not be used."""

    plans: list[Plan] = field(default_factory=list)
    errors: list[PlanFileError] = field(default_factory=list)

    def plan(self, plan_id: str) -> Plan | None:
        return next((p for p in self.plans if p.id == plan_id), None)


NOT_PLANS = {"README", "NOTES"}


def _is_candidate(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES and path.stem.upper() not in NOT_PLANS


def scan_folder(folder: Path) -> tuple[list[Path], list[PlanFileError]]:
    """Plan files of a folder (sorted by name), and the entries skipped with the reason.

    Only regular files that live in the folder itself are read. A symlink is never followed (it
    could publish any file the service can read), nor is a FIFO or device opened. Hidden files and
    notes like README are skipped silently; a skipped symlink is reported whatever its name.
    """
    root = folder.resolve()
    files: list[Path] = []
    skipped: list[PlanFileError] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if not _utf8_name(path):
            # Such a name could not be written to the index's JSON nor to an API response: report it, skip it.
            skipped.append(PlanFileError(_printable(path), "file name is not valid UTF-8 (rename the file)"))
            continue
        try:
            mode = path.lstat().st_mode
        except OSError as exc:  # vanished while listing
            skipped.append(PlanFileError(path, f"cannot read ({exc.strerror})"))
            continue
        if stat.S_ISLNK(mode):
            skipped.append(PlanFileError(path, "symbolic link (not followed: only regular files inside the "
                                               "corpus folder are read)"))
        elif not _is_candidate(path):
            continue
        elif not stat.S_ISREG(mode):
            skipped.append(PlanFileError(path, f"not a regular file ({file_kind(mode)})"))
        elif path.resolve().parent != root:  # cannot happen without links; kept as a last guard
            skipped.append(PlanFileError(path, "outside the corpus folder"))
        else:
            files.append(path)
    return files, skipped


def _utf8_name(path: Path) -> bool:
    """False for a name with bytes that are not UTF-8 (Python holds them as lone surrogates)."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(path: Path) -> Path:
    """The path with the undecodable bytes of its name written as \\xNN, so that it can be reported."""
    return path.with_name(os.fsencode(path.name).decode("utf-8", "backslashreplace"))


def plan_files(folder: Path) -> list[Path]:
    """Plan files in a folder (sorted by name): regular files only; see scan_folder."""
    return scan_folder(folder)[0]


def load_plan(path: Path) -> Plan:
    """Read and parse one plan file; PlanFileError when it cannot be read or holds no plan."""
    from .plan_admin import apply_sidecar, read_sidecar

    text = read_plan_file(path)
    plan = parse_plan(text, path.name)
    apply_sidecar(plan, read_sidecar(path))  # title / issuer / year corrected by hand survive every rebuild
    if not plan.numbered_items and not any(i.text for i in plan.items):
        raise PlanFileError(path, "no plan text found (no sections, items or paragraphs)")
    return plan


def load_corpus(folder: Path | str | None = None) -> Corpus:
    """Parse every plan file of a folder; a bad file is recorded in `errors`, the rest still load."""
    folder = Path(folder) if folder else DEFAULT_CORPUS
    if not folder.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {folder}")
    corpus = Corpus()
    files, corpus.errors = scan_folder(folder)
    for path in files:
        try:
            corpus.plans.append(load_plan(path))
        except PlanFileError as exc:
            corpus.errors.append(exc)
        except Exception as exc:  # a hostile file must not stop the others (parsers raise many types)
            corpus.errors.append(PlanFileError(path, f"cannot parse ({exc.__class__.__name__}: {exc})"))
    corpus.errors.sort(key=lambda e: Path(e.path).name)
    _dedupe_ids(corpus.plans)
    return corpus


def _dedupe_ids(plans: list[Plan]) -> None:
    """Two plans of the same place and year keep distinct ids: -2, -3 in file-name order."""
    seen: dict[str, int] = {}
    for plan in plans:
        base = plan.id
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            plan.id = f"{base}-{seen[base]}"
            for item in plan.items:
                item.plan_id = plan.id
            plan.warnings.append(f"plan id '{base}' already used by another file; this plan is '{plan.id}'")
