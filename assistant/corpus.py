"""Loading a folder of plan files: every readable plan parsed, every unreadable one reported."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .loaders import SUPPORTED_SUFFIXES, PlanFileError, read_plan_file
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


def plan_files(folder: Path) -> list[Path]:
    """Plan files in a folder (sorted by name); hidden files and notes like README skipped."""
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUPPORTED_SUFFIXES
        and p.stem.upper() not in {"README", "NOTES"}
    )


def load_plan(path: Path) -> Plan:
    """Read and parse one plan file; PlanFileError when it cannot be read or holds no plan."""
    text = read_plan_file(path)
    plan = parse_plan(text, path.name)
    if not plan.numbered_items and not any(i.text for i in plan.items):
        raise PlanFileError(path, "no plan text found (no sections, items or paragraphs)")
    return plan


def load_corpus(folder: Path | str | None = None) -> Corpus:
    """Parse every plan file of a folder; a bad file is recorded in `errors`, the rest still load."""
    folder = Path(folder) if folder else DEFAULT_CORPUS
    if not folder.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {folder}")
    corpus = Corpus()
    for path in plan_files(folder):
        try:
            corpus.plans.append(load_plan(path))
        except PlanFileError as exc:
            corpus.errors.append(exc)
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
