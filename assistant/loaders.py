"""Reading plan files of every supported format into text (I/O lives here)."""
from __future__ import annotations

import codecs
import io
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

TEXT_SUFFIXES = {".txt", ".md", ".text", ".markdown"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | {".docx", ".pdf"}
MAX_FILE_BYTES = 20 * 1024 * 1024  # a work plan is tens of KB; anything this big is not one


class PlanFileError(Exception):
    """A plan file that cannot be read; the message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{Path(path).name}: {reason}")


def decode_bytes(data: bytes, name: str = "<bytes>") -> str:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 (BOM or not), GB18030/GBK."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8")
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        # UTF-16 without BOM: ASCII and most CJK bytes leave NULs in one lane.
        sample = data[:4096]
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        encoding = "utf-16-le" if odd_nuls >= even_nuls else "utf-16-be"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise PlanFileError(name, f"binary or corrupt file ({exc.reason})") from exc
        if not _looks_chinese(text):
            raise PlanFileError(name, "binary or corrupt file (no Chinese text found)")
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    gb_text: str | None
    try:
        gb_text = data.decode("gb18030")
    except UnicodeDecodeError:
        gb_text = None
    if gb_text is not None and _looks_chinese(gb_text):
        return gb_text
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        decoded = str(best)
        if _looks_chinese(decoded):
            return decoded
    raise PlanFileError(name, "unknown text encoding (tried UTF-8, UTF-16, GB18030 and detection)")


def _looks_chinese(text: str) -> bool:
    """At least a few CJK characters and few control characters: a plausible plan text."""
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
    return cjk >= 2 and controls <= len(text) // 100


def read_docx(path: Path, stream: BinaryIO | None = None) -> str:
    """Paragraphs and table rows of a .docx, in document order, one per line."""
    import docx  # python-docx
    from docx.document import Document as _Document
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document: _Document = docx.Document(stream if stream is not None else str(path))
    except Exception as exc:  # python-docx raises several types for a broken zip/xml
        raise PlanFileError(path, f"not a readable .docx ({exc.__class__.__name__}: {exc})") from exc
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            lines.append(Paragraph(child, document).text)
        elif child.tag == qn("w:tbl"):
            lines.extend(_table_lines(Table(child, document)))
    return "\n".join(lines)


def _table_lines(table: Any) -> list[str]:
    """A plan table (序号|任务|牵头单位|责任单位) becomes item lines with unit labels."""
    rows = [[cell.text.strip() for cell in row.cells] for row in table.rows]
    if not rows:
        return []
    header = rows[0]
    lead_col = next((i for i, h in enumerate(header) if "牵头" in h), None)
    resp_col = next((i for i, h in enumerate(header) if "责任" in h or "配合" in h), None)
    if lead_col is None and resp_col is None:
        return ["\u3000".join(dict.fromkeys(c for c in row if c)) for row in rows]
    out: list[str] = []
    for row in rows[1:]:
        unit_cols = {lead_col, resp_col}
        body = [c for i, c in enumerate(row) if i not in unit_cols and c]
        body = list(dict.fromkeys(body))  # merged cells repeat their text
        if not body:
            continue
        first = body[0]
        rest = body[1:]
        if first.isdigit() and rest:
            out.append(f"{first}.{rest[0]}")
            out.extend(rest[1:])
        else:
            out.extend(body)
        if lead_col is not None and row[lead_col]:
            out.append(f"牵头单位：{row[lead_col]}")
        if resp_col is not None and row[resp_col]:
            out.append(f"责任单位：{row[resp_col]}")
    return out


def read_pdf(path: Path, stream: BinaryIO | None = None) -> str:
    """The text layer of a PDF, page after page."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(stream if stream is not None else str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise PlanFileError(path, f"not a readable PDF ({exc})") from exc
    text = "\n".join(pages)
    if sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") < 2:
        raise PlanFileError(path, "PDF has no text layer (scanned images need OCR first)")
    return text


def file_kind(mode: int) -> str:
    """What a non-regular directory entry is, in words for the skip report."""
    for test, name in ((stat.S_ISLNK, "symbolic link"), (stat.S_ISDIR, "folder"), (stat.S_ISFIFO, "named pipe"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "special file"


def read_regular_bytes(path: Path | str) -> bytes:
    """The bytes of a regular file, never following a symlink nor blocking on a FIFO or device.

    The checks are made on the opened descriptor (O_NOFOLLOW, then fstat), so a file swapped for a
    symlink between listing the folder and reading it is refused too.
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if path.is_symlink():
            raise PlanFileError(path, "symbolic link (not followed)") from exc
        raise PlanFileError(path, f"cannot open ({exc.strerror})") from exc
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise PlanFileError(path, f"not a regular file ({file_kind(info.st_mode)})")
        if info.st_size == 0:
            raise PlanFileError(path, "empty file")
        if info.st_size > MAX_FILE_BYTES:
            raise PlanFileError(path, f"file too large ({info.st_size // (1024 * 1024)} MB; "
                                      f"limit {MAX_FILE_BYTES // (1024 * 1024)} MB)")
        try:
            return fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise PlanFileError(path, f"cannot read ({exc.strerror})") from exc


def read_plan_file(path: Path | str) -> str:
    """The text of one plan file, whatever its supported format; PlanFileError otherwise."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise PlanFileError(path, f"unsupported file type '{suffix or '(none)'}' (use .txt, .md, .docx or .pdf)")
    data = read_regular_bytes(path)
    if suffix == ".docx":
        text = read_docx(path, io.BytesIO(data))
    elif suffix == ".pdf":
        text = read_pdf(path, io.BytesIO(data))
    else:
        text = decode_bytes(data, path.name)
    if not text.strip():
        raise PlanFileError(path, "no text in file")
    return text
