"""Typed records for plans and their items."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Item:
    """One citable record of a plan: a numbered item, or text outside numbered items.

    `number` is the item number as printed ("23"), or None for a preamble, an
    unnumbered section's text or a closing paragraph (`kind` says which).
    """

    plan_id: str
    number: str | None
    title: str
    section: list[str]
    text: str
    kind: str = "item"  # "item" | "preamble" | "text"
    problem: str = ""  # 问题描述
    goals: str = ""  # 目标任务
    measures: str = ""  # 工作措施
    lead_units: list[str] = field(default_factory=list)
    responsible_units: list[str] = field(default_factory=list)
    lead_units_raw: str = ""
    responsible_units_raw: str = ""
    start: int = 0  # character offsets into the decoded source text
    end: int = 0
    seq: int = 0  # position among the plan's records, from 0

    @property
    def id(self) -> str:
        """Stable id: `plan_id:number` for items, `plan_id:pN` for unnumbered text."""
        if self.number is not None:
            return f"{self.plan_id}:{self.number}"
        return f"{self.plan_id}:p{self.seq}"

    @property
    def has_units(self) -> bool:
        return bool(self.lead_units or self.responsible_units)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["id"] = self.id
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Item":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Plan:
    """A parsed work plan (工作要点) with its metadata and records."""

    id: str
    title: str  # e.g. 达州市教育局2020年工作要点
    issuer: str  # e.g. 达州市教育局
    year: int | None
    source: str  # file name within the corpus
    co_issuers: list[str] = field(default_factory=list)
    full_title: str = ""  # the title line as printed, whitespace folded
    place: str = ""  # e.g. 达州市
    doc_number: str = ""  # e.g. 达市教〔2020〕1号
    issue_date: str = ""  # ISO date, possibly partial: 2020-04-02, 2022-12
    recipients: str = ""
    header: str = ""  # the notice text before the title, kept verbatim (cleaned)
    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    content_hash: str = ""

    @property
    def numbered_items(self) -> list[Item]:
        return [i for i in self.items if i.number is not None]

    def item(self, number: str) -> Item | None:
        for i in self.items:
            if i.number == number:
                return i
        return None

    @property
    def sections(self) -> list[str]:
        """Top-level section headings in order."""
        seen: list[str] = []
        for i in self.items:
            if i.section and i.section[0] not in seen:
                seen.append(i.section[0])
        return seen

    @property
    def has_units(self) -> bool:
        return any(i.has_units for i in self.items)

    def to_dict(self, with_items: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if with_items:
            data["items"] = [i.to_dict() for i in self.items]
        else:
            data.pop("items")
            data["item_count"] = len(self.numbered_items)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Plan":
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in data.items() if k in known and k != "items"}
        plan = cls(**kwargs)
        plan.items = [Item.from_dict(i) for i in data.get("items", [])]
        return plan
