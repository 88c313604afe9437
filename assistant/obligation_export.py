"""Obligations as files people open elsewhere: CSV, an Excel workbook, an iCalendar feed (pure: bytes/str out).

One row per obligation in the spreadsheet forms; one all-day event per dated obligation in the
calendar (due date, or the first day of a period such as 秋季学期). Text cells that a spreadsheet
would run as a formula (= + - @ …) are neutralised.
"""
from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime, timedelta, UTC

from .obligations import Obligation

HEADERS = ["计划", "条目", "条目标题", "要求（原文）", "期限（原文）", "期限（日期）", "量化目标", "适用学校", "出处",
           "链接"]
# OWASP's CSV-injection advice: a cell starting with these is run as a formula; a leading quote shows it as text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text, never evaluates."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def row(ob: Obligation, base: str = "") -> list[str]:
    """One obligation as text cells, in HEADERS order; the link is absolute when `base` (http://host) is given."""
    d = ob.deadline
    return [ob.plan_title, ob.number or "", ob.item_title, ob.action, d.printed if d else "",
            d.label() if d else "", "；".join(t.phrase for t in ob.targets), "、".join(ob.parties), ob.link_text,
            base + ob.link]


def to_csv(rows: list[Obligation], base: str = "") -> str:
    """CSV text, header first (write it as UTF-8 with a BOM so that Excel reads it right)."""
    buf = io.StringIO()
    # RFC 4180 line ends: with "\n" alone a bare CR inside a cell would go unquoted and split the row.
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for ob in rows:
        writer.writerow([safe_cell(c) for c in row(ob, base)])
    return buf.getvalue()


def to_xlsx(rows: list[Obligation], base: str = "") -> bytes:
    """An .xlsx workbook: one sheet, header row frozen, the due date as a real date cell, the 出处 cell a
    hyperlink to the item page with the clause marked (absolute when `base` is given)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "学校任务清单"
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    date_col = HEADERS.index("期限（日期）") + 1
    for ob in rows:
        cells = [safe_cell(c) for c in row(ob, base)]
        ws.append(cells)
        if base:  # a spreadsheet opens only absolute links
            source = ws.cell(row=ws.max_row, column=HEADERS.index("出处") + 1)
            source.hyperlink = base + ob.link
            source.style = "Hyperlink"
        if ob.due is not None:  # a date cell sorts and filters as a date; periods keep their text
            target = ws.cell(row=ws.max_row, column=date_col)
            if ob.deadline is not None and ob.deadline.kind == "date":
                target.value = ob.due
                target.number_format = "yyyy-mm-dd"
    for col, width in zip("ABCDEFGHIJ", (22, 6, 22, 60, 12, 24, 30, 14, 30, 40)):
        ws.column_dimensions[col].width = width
    for r in ws.iter_rows(min_row=2):
        for cell in r:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_ics(rows: list[Obligation], name: str = "学校任务", base: str = "") -> bytes:
    """An iCalendar feed of the dated obligations (recurring and undated ones have no date to hold)."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//gongzuoyaodian assistant//obligations//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    stamp = datetime.now(UTC).replace(microsecond=0)
    for ob in rows:
        d = ob.deadline
        if d is None or d.due is None:
            continue
        day = d.start if d.kind == "period" and d.start else d.due
        event = Event()
        # A stable UID: re-importing an updated export replaces events instead of doubling them.
        key = f"{ob.item_id}:{ob.start}-{ob.end}".encode()
        event.add("uid", hashlib.sha1(key).hexdigest()[:20] + "@obligations")
        event.add("dtstamp", stamp)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", f"{d.printed}：{ob.item_title}")
        targets = "；".join(t.phrase for t in ob.targets)
        event.add("description", "\n".join(filter(None, [
            ob.action, f"期限：{d.printed}（{d.label()}）", f"目标：{targets}" if targets else "",
            f"适用：{'、'.join(ob.parties)}", f"出处：{ob.link_text}"])))
        if base:
            event.add("url", base + ob.link)
        cal.add_component(event)
    return bytes(cal.to_ical())
