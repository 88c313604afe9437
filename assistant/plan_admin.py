"""Managing the plans of a corpus folder: upload (staged, checked, parsed), accept, delete, correct.

Shared by the REST routes (`api_plans.py`) and the browser panel (`web_plans.py`). Rules:

- an upload is staged under `<data>/uploads/<id>/` and parsed there; nothing reaches the corpus
  folder until it is accepted, and then by an atomic rename of a file written inside the folder;
- size and type limits, and the bytes must be what the suffix says (a .docx is a Word zip, a .pdf
  starts with %PDF, a text file decodes as Chinese text) — the client's content type is not trusted;
- file names are rebuilt from safe characters; nothing is ever written outside the corpus folder;
- a deleted plan's file is moved to `<data>/deleted/`, not unlinked, so a mistake loses nothing;
- corrected metadata (title, issuer, year) lives in a sidecar `<file>.meta.json` beside the plan,
  read by `corpus.load_plan`, so every rebuild keeps it.

Index updates after a change reuse the stored vectors of unchanged chunks (`IndexStore.build`):
only the changed plan's chunks are embedded. One change runs at a time (a lock).
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import threading
import time
import unicodedata
import uuid
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any, Callable

from .loaders import PlanFileError, decode_bytes, read_docx, read_pdf
from .models import Plan
from .parser import parse_plan

if TYPE_CHECKING:
    from .service import Assistant

UPLOAD_SUFFIXES = (".txt", ".md", ".docx", ".pdf")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a plan is tens of KB, a scanned-free PDF a few MB at most
MAX_NAME_CHARS = 60
MIN_CJK = 20  # fewer Chinese characters than this cannot be a work plan
SIDECAR_SUFFIX = ".meta.json"
META_FIELDS = ("title", "issuer", "year")
_UPLOAD_ID_RE = re.compile(r"^[0-9a-f]{32}$")


class AdminError(ValueError):
    """A request that cannot be carried out; `status` is the HTTP status the API answers with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class ParseReport:
    """What the parser read from an uploaded file, shown before the plan is accepted."""

    upload_id: str
    file_name: str
    plan_id: str
    title: str
    issuer: str
    year: int | None
    doc_number: str
    sections: list[str]
    item_count: int
    record_count: int
    items_with_units: int
    unit_coverage: float  # share of numbered items naming a lead or responsible unit
    warnings: list[str] = field(default_factory=list)
    status: str = "pending"  # pending | accepted

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def safe_name(original: str) -> str:
    """A file name safe in the corpus folder: no folders, no leading dot, only word characters, -, _ and .

    CJK is kept (the name may carry the place and year the parser falls back on).
    """
    base = PureWindowsPath(PurePosixPath(original or "").name).name
    base = unicodedata.normalize("NFKC", base)
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = "." + suffix.lower() if suffix else ""
    if suffix not in UPLOAD_SUFFIXES:
        raise AdminError(f"unsupported file type '{suffix or '(none)'}': upload .txt, .md, .docx or .pdf", 415)
    stem = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", stem).strip("._-")[:MAX_NAME_CHARS] or "plan"
    return stem + suffix


def sniff_text(data: bytes, name: str) -> str:
    """The text of an uploaded file, after checking the bytes are what the suffix claims."""
    suffix = Path(name).suffix.lower()
    if not data:
        raise AdminError("empty file", 400)
    if len(data) > MAX_UPLOAD_BYTES:
        raise AdminError(f"file too large ({len(data)} bytes; at most {MAX_UPLOAD_BYTES})", 413)
    try:
        if suffix == ".docx":
            if not data.startswith(b"PK\x03\x04") or not _is_word_zip(data):
                raise AdminError(f"{name}: not a Word document (.docx is a zip holding word/document.xml)", 415)
            text = read_docx(Path(name), io.BytesIO(data))
        elif suffix == ".pdf":
            if not data.lstrip()[:5] == b"%PDF-":
                raise AdminError(f"{name}: not a PDF (no %PDF- header)", 415)
            text = read_pdf(Path(name), io.BytesIO(data))
        else:
            if data.startswith((b"PK\x03\x04", b"%PDF-", b"\x7fELF", b"MZ")):
                raise AdminError(f"{name}: binary content in a text file", 415)
            text = decode_bytes(data, name)
    except PlanFileError as exc:
        raise AdminError(str(exc), 422) from exc
    if not text.strip():
        raise AdminError(f"{name}: no text in file", 422)
    if sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") < MIN_CJK:
        raise AdminError(f"{name}: no Chinese plan text found (a 工作要点 is written in Chinese)", 422)
    return text


def _is_word_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "word/document.xml" in zf.namelist()
    except zipfile.BadZipFile:
        return False


def report_for(plan: Plan, upload_id: str, file_name: str, existing: list[Plan]) -> ParseReport:
    """The parse report of a plan, with warnings about what accepting it would do."""
    numbered = plan.numbered_items
    with_units = sum(1 for i in numbered if i.has_units)
    warnings = list(plan.warnings)
    if not numbered:
        warnings.insert(0, "no numbered items found: is this a 工作要点?")
    clash = next((p for p in existing if p.id == plan.id), None)
    if clash is not None:
        warnings.insert(0, f"a plan with id '{plan.id}' exists ({clash.source}); accepting adds a second plan "
                           f"'{plan.id}-2' — delete the old one first to replace it")
    return ParseReport(upload_id=upload_id, file_name=file_name, plan_id=plan.id, title=plan.title,
                       issuer=plan.issuer, year=plan.year, doc_number=plan.doc_number, sections=plan.sections,
                       item_count=len(numbered), record_count=len(plan.items), items_with_units=with_units,
                       unit_coverage=round(with_units / len(numbered), 3) if numbered else 0.0, warnings=warnings)


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to `path` through a temp file in the same folder, fsync, then rename over it."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_sidecar(plan_file: Path) -> dict[str, Any]:
    """Corrected metadata for a plan file ({} when none, or when the sidecar is unreadable)."""
    path = plan_file.with_name(plan_file.name + SIDECAR_SUFFIX)
    if not path.is_file() or path.is_symlink():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if k in META_FIELDS} if isinstance(data, dict) else {}


def apply_sidecar(plan: Plan, meta: dict[str, Any]) -> Plan:
    """Overlay corrected title / issuer / year on a parsed plan (its id and items stay as parsed)."""
    from .plan_meta import place_of

    if isinstance(meta.get("title"), str) and meta["title"].strip():
        plan.title = meta["title"].strip()
    if isinstance(meta.get("issuer"), str) and meta["issuer"].strip():
        plan.issuer = meta["issuer"].strip()
        plan.place = place_of(plan.issuer)
    if isinstance(meta.get("year"), int) and not isinstance(meta.get("year"), bool):
        plan.year = meta["year"]
    if meta:
        plan.warnings = [w for w in plan.warnings if "file name" not in w and "names no" not in w]
        plan.warnings.append("title/issuer/year corrected by hand (" + ", ".join(sorted(meta)) + ")")
    return plan


def validate_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Check a metadata correction: known fields only, short non-blank text, a plausible year."""
    unknown = set(meta) - set(META_FIELDS)
    if unknown:
        raise AdminError(f"unknown field(s): {', '.join(sorted(unknown))} (use title, issuer, year)", 422)
    out: dict[str, Any] = {}
    for key in ("title", "issuer"):
        if key in meta and meta[key] is not None:
            value = meta[key]
            if not isinstance(value, str) or not value.strip() or len(value) > 80 or "\x00" in value:
                raise AdminError(f"{key} must be non-blank text of at most 80 characters", 422)
            out[key] = re.sub(r"\s+", "", value)
    if "year" in meta and meta["year"] is not None:
        year = meta["year"]
        if isinstance(year, str) and year.strip().isdigit():
            year = int(year.strip())
        if not isinstance(year, int) or isinstance(year, bool) or not 1949 <= year <= 2100:
            raise AdminError("year must be a whole number between 1949 and 2100", 422)
        out["year"] = year
    if not out:
        raise AdminError("nothing to change: give title, issuer or year", 422)
    return out


class PlanAdmin:
    """Plan management over one corpus folder and one index (through the Assistant's store)."""

    def __init__(self, assistant: Assistant, corpus_dir: Path | None, data_dir: Path):
        self.assistant = assistant
        self.enabled = corpus_dir is not None  # off when the server does not know its corpus folder
        self.corpus_dir = Path(corpus_dir) if corpus_dir is not None else Path("/nonexistent")
        self.uploads = Path(data_dir) / "uploads"
        self.deleted = Path(data_dir) / "deleted"
        self._lock = threading.Lock()

    # ---- staging ---------------------------------------------------------------------------
    def _require_enabled(self) -> None:
        if not self.enabled:
            raise AdminError("plan management is off: this server was opened without building from a corpus "
                             "folder (start it without --no-build, or with --corpus DIR)", 409)

    def stage(self, data: bytes, original_name: str) -> ParseReport:
        """Check and parse an uploaded file; keep it pending under <data>/uploads/<id>/."""
        self._require_enabled()
        name = safe_name(original_name)
        text = sniff_text(data, name)
        try:
            plan = parse_plan(text, name)
        except Exception as exc:  # a hostile file must not take the server down
            raise AdminError(f"{name}: cannot parse ({exc.__class__.__name__})", 422) from exc
        if not plan.items:
            raise AdminError(f"{name}: no plan text found (no sections, items or paragraphs)", 422)
        upload_id = uuid.uuid4().hex
        folder = self.uploads / upload_id
        folder.mkdir(parents=True)
        write_atomic(folder / name, data)
        report = report_for(plan, upload_id, name, self.assistant.plans())
        write_atomic(folder / "report.json", json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8"))
        return report

    def pending(self, upload_id: str) -> tuple[Path, ParseReport]:
        """The staged file and its report; 404 for an unknown or malformed id."""
        if not _UPLOAD_ID_RE.match(upload_id or ""):
            raise AdminError(f"no pending upload '{upload_id}'", 404)
        folder = self.uploads / upload_id
        try:
            report = ParseReport(**json.loads((folder / "report.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise AdminError(f"no pending upload '{upload_id}'", 404) from exc
        return folder / report.file_name, report

    def discard(self, upload_id: str) -> None:
        self.pending(upload_id)
        shutil.rmtree(self.uploads / upload_id, ignore_errors=True)

    # ---- changes to the corpus ---------------------------------------------------------------
    def accept(self, upload_id: str, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Move a staged plan into the corpus folder (a free name) and update the index."""
        self._require_enabled()
        with self._lock:
            staged, report = self.pending(upload_id)
            target = self._free_name(report.file_name)
            write_atomic(target, staged.read_bytes())
            shutil.rmtree(self.uploads / upload_id, ignore_errors=True)
            build = self._update_index(progress)
        plan = next((p for p in self.assistant.plans() if p.source == target.name), None)
        return {"plan": plan.id if plan else None, "file": target.name, "build": build}

    def delete(self, plan_id: str, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Move a plan's file (and sidecar) out of the corpus into <data>/deleted/, then update the index."""
        with self._lock:
            path = self._file_of(plan_id)
            self.deleted.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
            shutil.move(str(path), str(self.deleted / f"{stamp}-{path.name}"))
            if sidecar.is_file():
                shutil.move(str(sidecar), str(self.deleted / f"{stamp}-{sidecar.name}"))
            build = self._update_index(progress)
        return {"deleted": plan_id, "file": path.name, "build": build}

    def correct(self, plan_id: str, meta: dict[str, Any], progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Store corrected title / issuer / year in the plan's sidecar and update the index."""
        changes = validate_meta(meta)
        with self._lock:
            path = self._file_of(plan_id)
            merged = {**read_sidecar(path), **changes}
            write_atomic(path.with_name(path.name + SIDECAR_SUFFIX),
                         json.dumps(merged, ensure_ascii=False, indent=1).encode("utf-8"))
            build = self._update_index(progress)
        return {"plan": plan_id, "metadata": merged, "build": build}

    def _file_of(self, plan_id: str) -> Path:
        self._require_enabled()
        plan = next((p for p in self.assistant.plans() if p.id == plan_id), None)
        if plan is None:
            raise AdminError(f"no plan with id '{plan_id}'", 404)
        path = self.corpus_dir / plan.source
        # The source is a bare file name from our own parse; still, never act outside the folder.
        if path.parent.resolve() != self.corpus_dir.resolve() or path.is_symlink() or not path.is_file():
            raise AdminError(f"the file of plan '{plan_id}' is not in the corpus folder", 409)
        return path

    def _free_name(self, name: str) -> Path:
        stem, suffix = name.rsplit(".", 1)
        candidate, n = self.corpus_dir / name, 2
        while candidate.exists() or candidate.is_symlink():
            candidate, n = self.corpus_dir / f"{stem}-{n}.{suffix}", n + 1
        return candidate

    def _update_index(self, progress: Callable[[int, int], None] | None) -> dict[str, Any]:
        """Bring the index up to date: only new or changed chunks are embedded."""
        retriever = self.assistant.retriever
        report = retriever.store.build(self.corpus_dir, embedder=retriever.embedder,
                                       progress=progress if progress is not None else False)
        retriever.refresh(force=True)
        return {"build_id": report.build_id, "embedded": report.embedded, "reused": report.reused,
                "removed": report.removed, "seconds": round(report.seconds, 2), "errors": report.errors}
