"""Turning the text of a 工作要点 into a Plan with exact item records.

Pure functions over text (file access: loaders.py, corpus.py; the title block: plan_meta.py).
The text is read as lines. Each cleaned line is classified (section heading,
sub-section heading, numbered item, unit line, labelled sub-field, plain text),
then a single pass builds records. Numbering continuity tells headings from
numbers that happen to start a wrapped line ("2020年", "3.5%", "一、二年级").
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from . import units as unitlib
from .models import Item, Plan
from .parse_text import clean_line, cn_number, ends_sentence, fold_spaces, join_wrapped  # noqa: F401 (fold_spaces: engine)
from .plan_meta import SECTION_RE, find_title, read_meta, slug_for

SUBSECTION_RE = re.compile(r"^[（(]\s*(?P<num>[一二三四五六七八九十]{1,3})\s*[)）]\s*(?P<title>\S.*)$")
ITEM_RE = re.compile(r"^(?P<num>\d{1,3})\s*(?:[.．](?!\d)|、)\s*(?P<title>\S.*)$")
FIELD_RE = re.compile(
    r"^(?P<label>问题描述|存在问题|目标任务|工作目标|主要目标|工作措施|主要措施|具体措施|完成时限|时间节点)\s*[:：]\s*(?P<value>.*)$"
)
FIELD_ATTR = {"问题描述": "problem", "存在问题": "problem", "目标任务": "goals", "工作目标": "goals", "主要目标": "goals",
              "工作措施": "measures", "主要措施": "measures", "具体措施": "measures"}
UNIT_NAME_RE = re.compile(r"[\u4e00-\u9fff]{1,10}(?:科|室|办|中心|所|站|局|处|部|股|队|会|校|院|组|单位)")
MAX_HEADING = 80
SHORT_TITLE = 40


@dataclass
class Line:
    text: str
    start: int
    end: int
    kind: str = "text"  # section | subsection | item | units | field | text
    num: int = 0
    title: str = ""


@dataclass
class Paragraph:
    text: str
    start: int
    end: int
    label: str = ""  # sub-field label, e.g. 问题描述
    blank_before: bool = False
    after_units: bool = False  # printed after the item's unit lines


@dataclass
class Builder:
    kind: str
    number: str | None
    section: list[str]
    start: int
    end: int
    paragraphs: list[Paragraph] = field(default_factory=list)
    title_line: str = ""  # item heading as printed, without its number
    segments: list[unitlib.UnitSegment] = field(default_factory=list)
    closed: bool = False  # set once unit lines are seen: later text is not the item's


def split_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        end = pos + len(raw)
        lines.append(Line(clean_line(raw), pos, end))
        pos = end
    return lines


def classify(lines: list[Line]) -> None:
    """Mark each line's kind, using numbering continuity for headings and items."""
    last_section = 0
    last_sub = 0
    last_item = 0
    items_in_scope = 0  # items since the last (sub)section heading
    prev_complete = True  # the previous line ended a sentence, a heading or a unit list
    for ln in lines:
        t = ln.text
        if not t:
            ln.kind = "blank"
            continue
        _classify_line(ln, last_section, last_sub, last_item, items_in_scope, prev_complete)
        prev_complete = ln.kind in ("section", "subsection", "units") or ends_sentence(t) or (
            ln.kind == "item" and _is_title_only(ln.title)
        )
        if ln.kind == "section":
            last_section, last_sub, items_in_scope = ln.num, 0, 0
        elif ln.kind == "subsection":
            last_sub, items_in_scope = ln.num, 0
        elif ln.kind == "item":
            last_item, items_in_scope = ln.num, items_in_scope + 1


def _classify_line(ln: Line, last_section: int, last_sub: int, last_item: int, items_in_scope: int,
                   prev_complete: bool) -> None:
    """One line's kind. A heading's number must continue the numbering; a gap of up to two or a
    repeated number is accepted only where a new paragraph can start (the previous line ended)."""
    t = ln.text
    m = SECTION_RE.match(t)
    if m and len(t) <= MAX_HEADING:
        n = cn_number(m["num"])
        if n == last_section + 1 or (prev_complete and last_section < n <= last_section + 3):
            ln.kind, ln.num, ln.title = "section", n, t
            return
    m = SUBSECTION_RE.match(t)
    if m and len(t) <= MAX_HEADING:
        n = cn_number(m["num"])
        if n == last_sub + 1 or (n == 1 and prev_complete):
            ln.kind, ln.num, ln.title = "subsection", n, t
            return
    m = ITEM_RE.match(t)
    if m:
        n = int(m["num"])
        restart = n == 1 and items_in_scope == 0
        irregular = prev_complete and last_item > 0 and last_item <= n <= last_item + 3
        if n == last_item + 1 or restart or irregular:
            ln.kind, ln.num, ln.title = "item", n, m["title"].strip()
            return
    if unitlib.is_unit_line(t):
        ln.kind = "units"
    elif FIELD_RE.match(t):
        ln.kind = "field"
    else:
        ln.kind = "text"


def _inline_style(lines: list[Line]) -> bool:
    """True when items print title and body on one line ("1.标题。正文…")."""
    items = [ln for ln in lines if ln.kind == "item"]
    if not items:
        return False
    inline = sum(1 for ln in items if "。" in ln.title.rstrip("。"))
    return inline * 2 >= len(items)


def _first_clause(text: str, limit: int = SHORT_TITLE) -> str:
    m = re.match(r"^([^：:]{1,12})[：:]", text)
    if m:
        return m.group(1)
    clause = re.split(r"[，。；：,;:！？]", text, maxsplit=1)[0]
    return clause[:limit]


def parse_plan(text: str, source: str, plan_id: str | None = None) -> Plan:
    """Parse the decoded text of a plan file into a Plan (pure: no I/O)."""
    lines = split_lines(text)
    block = find_title([ln.text for ln in lines])
    meta = read_meta([ln.text for ln in lines], block, source)
    warnings = list(meta.warnings)
    header_lines = [ln.text for ln in lines[: block.first if block else 0] if ln.text]
    pid = plan_id or slug_for(meta.place, meta.year, source.rsplit(".", 1)[0])

    body = lines[block.last + 1:] if block else lines
    classify(body)
    items = _build_records(body, pid, _inline_style(body), warnings)
    for seq, item in enumerate(items):
        item.seq = seq
    plan = Plan(
        id=pid, title=meta.title, issuer=meta.issuer, year=meta.year, source=source, co_issuers=meta.co_issuers,
        full_title=meta.full_title, place=meta.place, doc_number=meta.doc_number, issue_date=meta.issue_date,
        recipients=meta.recipients, header="\n".join(header_lines), items=items,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
    plan.warnings = warnings + validate(plan)
    return plan


def _build_records(lines: list[Line], plan_id: str, inline_style: bool, warnings: list[str]) -> list[Item]:
    section: list[str] = []
    builders: list[Builder] = []
    current: Builder | None = None
    blank_seen = False
    pending_units: Builder | None = None  # the builder whose last line was a unit line

    def new_text_builder(kind: str, ln: Line) -> Builder:
        b = Builder(kind=kind, number=None, section=list(section), start=ln.start, end=ln.end)
        builders.append(b)
        return b

    for ln in lines:
        if ln.kind == "blank":
            blank_seen = True
            continue
        if ln.kind in ("section", "subsection"):
            heading, rest = _split_heading(ln.title)
            section = [heading] if ln.kind == "section" else section[:1] + [heading]
            current, pending_units = None, None
            if rest:
                current = new_text_builder("text", ln)
                current.paragraphs.append(Paragraph(rest, ln.start, ln.end))
            blank_seen = False
            continue
        if ln.kind == "item":
            current = Builder(kind="item", number=str(ln.num), section=list(section), start=ln.start, end=ln.end,
                              title_line=ln.title)
            builders.append(current)
            current.paragraphs.append(Paragraph(ln.title, ln.start, ln.end))
            pending_units, blank_seen = None, False
            continue
        if ln.kind == "units":
            target = current if current is not None and current.kind == "item" else None
            if target is None:
                warnings.append(f"unit line outside any item ignored for units but kept as text: {ln.text[:40]}")
                ln.kind = "text"
            else:
                target.segments.extend(unitlib.find_segments(ln.text))
                target.end = ln.end
                target.closed = True
                pending_units = target
                blank_seen = False
                continue
        if pending_units is not None and ln.kind == "text" and _continues_unit_list(pending_units, ln.text):
            seg = pending_units.segments[-1]
            seg.raw = join_wrapped(seg.raw, ln.text.strip(" ;；"))
            pending_units.end = ln.end
            blank_seen = False
            continue
        pending_units = None
        # Field or plain text.
        label, value = "", ln.text
        fm = FIELD_RE.match(ln.text) if ln.kind == "field" else None
        if fm:
            label, value = fm["label"], fm["value"].strip()
        if current is None:
            # Text outside any item: a preamble before the first heading, else a section's
            # unnumbered text before its first item. One record per run of such paragraphs.
            kind = "preamble" if not section and not any(b.kind == "item" for b in builders) else "text"
            current = new_text_builder(kind, ln)
            current.paragraphs.append(Paragraph(value, ln.start, ln.end, label, blank_seen))
            blank_seen = False
            continue
        if current.closed:
            # Text after an item's unit lines and before the next item or heading continues the item
            # (a page break, a note); only after the plan's last item can it be a closing paragraph.
            current.paragraphs.append(Paragraph(value, ln.start, ln.end, label, blank_seen, after_units=True))
            current.end, current.closed, blank_seen = ln.end, False, False
            continue
        last = current.paragraphs[-1] if current.paragraphs else None
        if last is not None and not label and not ends_sentence(last.text) and not (
            current.kind == "item" and len(current.paragraphs) == 1 and _is_title_only(last.text)
        ):
            last.text = join_wrapped(last.text, value)
            last.end = current.end = ln.end
        else:
            current.paragraphs.append(Paragraph(value, ln.start, ln.end, label, blank_seen))
            current.end = ln.end
        blank_seen = False

    builders = _split_closing_paragraphs(builders, inline_style)
    return [_finish(b, plan_id, warnings) for b in builders if b.paragraphs and any(p.text for p in b.paragraphs)]


def _split_heading(title: str) -> tuple[str, str]:
    """'一、总体要求。坚持……' -> ('一、总体要求', '坚持……'); a plain heading has no rest."""
    if "。" in title[:-1]:
        head, _, rest = title.partition("。")
        return head, rest.strip()
    return title.rstrip("。"), ""


def _is_title_only(text: str) -> bool:
    """An item heading printed on a line of its own ("13.加快推进区域教育交流合作")."""
    return "。" not in text and len(text) <= SHORT_TITLE and not text.endswith(("，", "、", ",", "；"))


def _continues_unit_list(builder: Builder, text: str) -> bool:
    """A wrapped unit list: the previous list ends in 、 or the line is a short run of unit names."""
    if not builder.segments:
        return False
    if unitlib.is_unit_line(text) or "。" in text[:-1] or len(text) > 40:
        return False
    prev = builder.segments[-1].raw.rstrip()
    if prev.endswith(("、", ",", "，")):
        return True
    if prev.endswith("。") or not re.fullmatch(r"[\u4e00-\u9fff、，, ]{1,40}[。]?", text):
        return False
    # Every name must look like a unit, the first one possibly finishing a name cut at the line end
    # (市教科 / 所): a sentence printed after the list is the item's text, not more units.
    names = [n for n in re.split(r"[、，, 。]+", text) if n]
    if not names:
        return False
    names[0] = re.split(r"[、，,]", prev)[-1].strip() + names[0]
    return all(unitlib.is_known_unit(n) or UNIT_NAME_RE.fullmatch(n) for n in names)


def _split_closing_paragraphs(builders: list[Builder], inline_style: bool) -> list[Builder]:
    """Paragraphs after the plan's last item that are not the item's become closing records.

    Only the last item of the plan can be followed by a closing remark (衡阳's "统筹做好统战……"):
    text between item N and item N+1 is item N's, whatever the page breaks. A closing paragraph is
    one after the item's unit lines or, in one-paragraph-per-item plans, one after a blank line.
    """
    last = max((i for i, b in enumerate(builders) if b.kind == "item"), default=None)
    if last is None or len(builders[last].paragraphs) < 2:
        return builders
    b = builders[last]
    cut = next((i for i, p in enumerate(b.paragraphs) if i >= 1 and not p.label
                and (p.after_units or (inline_style and p.blank_before))), None)
    if cut is None:
        return builders
    tail = b.paragraphs[cut:]
    b.paragraphs = b.paragraphs[:cut]
    b.end = b.paragraphs[-1].end
    closing = [Builder(kind="text", number=None, section=list(b.section), start=p.start, end=p.end, paragraphs=[p])
               for p in tail]
    return builders[:last + 1] + closing + builders[last + 1:]


def _finish(b: Builder, plan_id: str, warnings: list[str]) -> Item:
    paragraphs = [p for p in b.paragraphs if p.text]
    fields: dict[str, list[str]] = {}
    for p in paragraphs:
        if p.label in FIELD_ATTR:
            fields.setdefault(FIELD_ATTR[p.label], []).append(p.text)
    # Inline unit endings: "……。（牵头单位：基教科；责任单位：法规科）"
    if b.kind == "item" and not b.segments and paragraphs:
        last = paragraphs[-1]
        stripped, segs = unitlib.split_inline_units(last.text)
        if segs:
            last.text = stripped
            b.segments.extend(segs)
    text_lines = [f"{p.label}：{p.text}" if p.label else p.text for p in paragraphs]
    text = "\n".join(t for t in text_lines if t)
    if b.kind == "item":
        head = paragraphs[0].text if paragraphs else ""
        title = head.split("。", 1)[0].strip() if "。" in head else head
        if len(title) > 60:
            title = _first_clause(title, 60)
    else:
        title = _first_clause(paragraphs[0].text) if paragraphs else ""
    item = Item(
        plan_id=plan_id, number=b.number, title=title, section=b.section, text=text, kind=b.kind,
        problem="\n".join(fields.get("problem", [])), goals="\n".join(fields.get("goals", [])),
        measures="\n".join(fields.get("measures", [])), start=b.start, end=b.end,
    )
    _assign_units(item, b.segments, warnings)
    return item


def _assign_units(item: Item, segments: list[unitlib.UnitSegment], warnings: list[str]) -> None:
    leads = [s for s in segments if s.role == "lead"]
    resps = [s for s in segments if s.role == "responsible"]
    if not leads and len(resps) >= 2:
        # A first 责任 line where no 牵头 line exists is the lead line, mislabelled.
        leads, resps = [resps[0]], resps[1:]
        warnings.append(
            f"item {item.number}: first unit line is labelled '{leads[0].label}' but no 牵头 line exists; read as lead units"
        )
    item.lead_units_raw = "；".join(s.raw for s in leads)
    item.responsible_units_raw = "；".join(s.raw for s in resps)
    for s in leads:
        item.lead_units += [u for u in unitlib.split_units(s.raw) if u not in item.lead_units]
    for s in resps:
        item.responsible_units += [u for u in unitlib.split_units(s.raw) if u not in item.responsible_units]


def validate(plan: Plan) -> list[str]:
    """Numbering gaps, duplicates and disorder, empty items, unknown or missing units."""
    out: list[str] = []
    numbered = plan.numbered_items
    if not numbered:
        out.append("no numbered items found")
    prev = 0
    seen: set[str] = set()
    for item in numbered:
        n = int(item.number or 0)  # numbered_items all have a number
        if item.number in seen:
            out.append(f"item {n}: duplicate number")
        elif n == 1 and prev > 0:
            pass  # numbering restarts in a new section
        elif n < prev:
            out.append(f"item {n}: out of order after item {prev}")
        elif n > prev + 1:
            missing = ", ".join(str(k) for k in range(prev + 1, n))
            out.append(f"numbering gap: item(s) {missing} missing before item {n}")
        seen.add(item.number or "")
        prev = n
        body = item.text[len(item.title):].strip("。 \n")
        if not body and not (item.problem or item.goals or item.measures):
            out.append(f"item {n}: no text beyond its title")
    if plan.has_units:
        counts: dict[str, int] = {}
        for item in numbered:
            for u in set(item.lead_units + item.responsible_units):
                counts[u] = counts.get(u, 0) + 1
        for item in numbered:
            if not item.lead_units:
                out.append(f"item {item.number}: no lead unit (牵头) given")
            if not item.responsible_units:
                out.append(f"item {item.number}: no responsible units (责任) given")
            for u in item.lead_units + item.responsible_units:
                if not unitlib.is_known_unit(u) and counts.get(u, 0) < 2:
                    out.append(f"item {item.number}: unknown unit name '{u}'")
    return out
