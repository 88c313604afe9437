"""A plan's item as its own page, with one passage highlighted: the link an obligation card carries.

    GET /plans/{plan_id}/items/{number}?from=START&to=END#clause

`from`/`to` are character offsets in the item's text (an obligation's `start`/`end`); the passage
between them is wrapped in `<mark id="clause">` and scrolled into view. The page is server-rendered
and addressable: it can be bookmarked, shared and opened on a phone. Offsets that are missing,
not whole numbers, reversed or past the end of the text are ignored (the item is shown unmarked,
with a note); an unknown plan or item is a 404 ({"error": …} like every 404 of the app). It sits outside /api/, so with login on the
UI's session cookie opens it (security.Guard), as it does the chat.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Annotated, Protocol
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse

from .models import Item, Plan
from .obligations import MARK_ID, item_link  # noqa: F401  (the link this page answers)

ROUTE = "/plans/{plan_id}/items/{number}"
# Offsets are a few thousand at most; longer digit strings are refused before int() is tried.
MAX_OFFSET_DIGITS = 7
PAGE_CSS = """
body { font-family: system-ui, "PingFang SC", "Noto Sans CJK SC", sans-serif; margin: 0; color: #1f2937;
  background: #f9fafb; }
main { max-width: 760px; margin: 0 auto; padding: 16px; box-sizing: border-box; }
.plan { color: #6b7280; font-size: 0.95em; margin: 0 0 4px; }
h1 { font-size: 1.3em; margin: 0 0 8px; line-height: 1.4; }
.units { font-size: 0.95em; color: #374151; margin: 0 0 10px; }
.text { white-space: pre-wrap; line-height: 1.8; overflow-wrap: anywhere; background: #fff; padding: 12px;
  border: 1px solid #e5e7eb; border-radius: 10px; }
mark { background: #fde68a; padding: 0 1px; scroll-margin-top: 30vh; }
.note { color: #92400e; font-size: 0.95em; }
nav a { color: #c2410c; }
"""


class PlanSource(Protocol):
    """What the page needs of the Assistant facade."""

    def plans(self) -> list[Plan]:
        """The plans being served."""
        ...


@dataclass(frozen=True)
class Span:
    """A validated passage of an item's text, or the reason none is marked."""

    start: int | None
    end: int | None
    note: str = ""


def parse_span(text: str, start: str | None, end: str | None) -> Span:
    """Check `from`/`to` against the text: a usable span, or none with a note saying why."""
    if start is None and end is None:
        return Span(None, None)
    raw = [(start or "").strip(), (end or "").strip()]
    if not all(v.isascii() and v.isdigit() and len(v) <= MAX_OFFSET_DIGITS for v in raw):
        return Span(None, None, "引用位置不是有效的数字，已显示整项原文。")
    a, b = int(raw[0]), int(raw[1])
    if not 0 <= a < b <= len(text):
        return Span(None, None, "引用位置超出本项原文，已显示整项原文。")
    return Span(a, b)


def item_page(plan: Plan, item: Item, span: Span) -> str:
    """The whole HTML page: plan, section path, number and title, units, the text with the mark."""
    text = item.text or ""
    if span.start is not None and span.end is not None:
        body = (escape(text[:span.start]) + f"<mark id='{MARK_ID}'>" + escape(text[span.start:span.end])
                + "</mark>" + escape(text[span.end:]))
    else:
        body = escape(text)
    units = []
    if item.lead_units:
        units.append("牵头：" + escape("、".join(item.lead_units)))
    if item.responsible_units:
        units.append("责任：" + escape("、".join(item.responsible_units)))
    section = " › ".join(escape(s) for s in item.section)
    note = f"<p class='note' role='status'>{escape(span.note)}</p>" if span.note else ""
    title = f"第{escape(item.number or '')}项 {escape(item.title)}"
    chat = f"/?item={quote(item.id, safe=':')}"
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title} · {escape(plan.title)}</title><style>{PAGE_CSS}</style></head><body><main>"
        f"<nav><a href='/'>← 工作要点问答助手</a> · <a href='{escape(chat)}'>在问答页中查看</a></nav>"
        f"<p class='plan'>{escape(plan.title)}{' · ' + section if section else ''}</p>"
        f"<h1>{title}</h1>{note}"
        + (f"<p class='units'>{'；'.join(units)}</p>" if units else "")
        + f"<div class='text'>{body}</div>"
        f"<p class='plan'>〔{escape(plan.title)}·第{escape(item.number or '')}项〕</p></main>"
        f"<script>const m=document.getElementById('{MARK_ID}');"
        "if(m){m.scrollIntoView({block:'center'});}</script></body></html>")


def item_page_router(assistant: PlanSource) -> APIRouter:
    """The page route (guarded by the app's middleware like the UI, not by the /api header check)."""
    router = APIRouter(tags=["pages"])

    @router.get(ROUTE, response_class=HTMLResponse, include_in_schema=False)
    def plan_item_page(plan_id: str, number: str,
                       start: Annotated[str | None, Query(alias="from")] = None,
                       end: Annotated[str | None, Query(alias="to")] = None) -> HTMLResponse:
        """One item of a plan with the passage from..to highlighted."""
        plan = next((p for p in assistant.plans() if p.id == plan_id), None)
        if plan is None:
            raise HTTPException(404, f"no plan with id '{plan_id}'")
        item = plan.item(number)
        if item is None:
            raise HTTPException(404, f"{plan.title}没有第{number}项")
        return HTMLResponse(item_page(plan, item, parse_span(item.text or "", start, end)))

    return router
