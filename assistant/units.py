"""Unit (科室/单位) labels, splitting and normalisation through the alias table in data/units.json."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "units.json"

LEAD_ROLES = ("牵头", "主责")
RESPONSIBLE_ROLES = ("责任", "配合", "协办", "参与")

# "牵头科室 (单位):", "责任单位(单位)：", "牵头单位：", "配合科室:" …
UNIT_LABEL_RE = re.compile(
    r"(?P<role>牵头|主责|责任|配合|协办|参与)"
    r"(?:科室|单位|处室|部门|股室)?"
    r"\s*(?:[(（]\s*(?:单位|科室|部门|处室)\s*[)）])?"
    r"\s*[:：]"
)
# An item paragraph that ends in "（牵头单位：基教科；责任单位：法规科、计财科）".
INLINE_UNITS_RE = re.compile(
    r"[(（]\s*(?P<body>(?:牵头|主责|责任|配合|协办|参与)[^()（）]*?[:：][^()（）]*?)\s*[)）]\s*[。.；;]?\s*$"
)
_SPLIT_RE = re.compile(r"[、，,；;/]+")
_TRAILING_PUNCT = "。.，,；;、 \u3000"


@dataclass
class UnitSegment:
    """One labelled unit list as printed, e.g. role 'lead', raw '法规科、计财科'."""

    role: str  # "lead" | "responsible"
    raw: str
    label: str


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], frozenset[str]]:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return dict(data["aliases"]), frozenset(data["known"])


def role_of(label_role: str) -> str:
    return "lead" if label_role in LEAD_ROLES else "responsible"


def find_segments(text: str) -> list[UnitSegment]:
    """All labelled unit lists in a line, in order (a line may carry lead and responsible)."""
    matches = list(UNIT_LABEL_RE.finditer(text))
    segments = []
    for m, nxt in zip(matches, matches[1:] + [None]):
        raw = text[m.end(): nxt.start() if nxt else len(text)]
        segments.append(UnitSegment(role_of(m.group("role")), raw.strip(" \u3000;；"), m.group(0)))
    return segments


def is_unit_line(line: str) -> bool:
    """True when a line starts with a unit label."""
    return UNIT_LABEL_RE.match(line) is not None


def split_inline_units(paragraph: str) -> tuple[str, list[UnitSegment]]:
    """Strip an inline unit ending from a paragraph; returns (text, segments)."""
    m = INLINE_UNITS_RE.search(paragraph)
    if not m:
        return paragraph, []
    segments = find_segments(m.group("body"))
    if not segments:
        return paragraph, []
    text = paragraph[: m.start()].rstrip()
    if text and text[-1] not in "。！？!?；;":
        text += "。"
    return text, segments


def normalise_unit(name: str) -> str:
    """Canonical unit name: whitespace and stray punctuation removed, aliases applied."""
    name = re.sub(r"\s+", "", name).strip(_TRAILING_PUNCT)
    aliases, _ = _table()
    return aliases.get(name, name)


def split_units(raw: str) -> list[str]:
    """'法规科、 计财科、市教科' -> ['法规科', '计财科', '市教科所'] (order kept, no duplicates)."""
    units: list[str] = []
    for part in _SPLIT_RE.split(raw):
        unit = normalise_unit(part)
        if unit and unit not in units:
            units.append(unit)
    return units


def is_known_unit(name: str) -> bool:
    _, known = _table()
    return name in known


def all_known_units() -> frozenset[str]:
    return _table()[1]


def all_aliases() -> dict[str, str]:
    return dict(_table()[0])
