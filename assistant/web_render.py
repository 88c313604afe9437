"""Pure rendering for the web UI: answer HTML with chips, the detail panel, text a user can reuse
(clean text, Markdown), the scope chip and the 计划浏览 table. No Gradio here, so tests call it directly."""
from __future__ import annotations

import re
from html import escape
from typing import Any

from .chunks import item_label
from .models import Item, Plan
from .engine.contract import MARKER_RE

_PIECE_RE = re.compile(r"〔[^〔〕]*〕|[^，。；：！？,;:!?\n〔]*[，。；：！？,;:!?\n]?")
EMPTY_DETAIL = "<div class='detail-empty'>点击回答中的引用（如「达州市2020·第21项」）查看条目原文。</div>"
Row = dict[str, str]  # one record of the 计划浏览 table: column key -> text
BROWSE_COLUMNS = [("plan", "计划"), ("section", "部分"), ("number", "编号"), ("title", "标题"),
                  ("lead", "牵头单位"), ("responsible", "责任单位")]


def short_plan_name(plan: Plan) -> str:
    """达州市2020 for chips; the full title is in the chip's tooltip."""
    name = plan.place or plan.issuer or plan.title
    return f"{name}{plan.year or ''}"


def item_href(item_id: str) -> str:
    return "#cite=" + item_id.replace("%", "%25").replace(":", "%3A")


def chip_html(plan: Plan, item: Item) -> str:
    """A citation chip; its tooltip starts with the citation written out, which copy-as-text puts back
    (the chat's sanitizer keeps `title` but drops data attributes)."""
    cite = f"〔{plan.title}·{item_label(item)}〕"
    return (f'<a class="cite-chip" href="{escape(item_href(item.id))}" title="{escape(cite)} {escape(item.title)}">'
            f'{escape(short_plan_name(plan))}·{escape(item_label(item))}</a>')


def render_answer(text: str, markers: dict[str, tuple[Plan, Item]]) -> str:
    """Answer text as chat HTML: escaped, each known 〔…〕 marker replaced by a chip; a cut-off marker hidden."""
    open_at = text.rfind("〔")
    if open_at > text.rfind("〕"):
        text = text[:open_at]
    out, pos = [], 0
    for m in MARKER_RE.finditer(text):
        out.append(escape(text[pos:m.start()]))
        found = markers.get(m.group(0))
        out.append(chip_html(*found) if found else escape(m.group(0)))
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def stream_prefixes(text: str) -> list[str]:
    """Growing prefixes of the answer, one clause (or citation marker) more each time; the last is the text."""
    prefixes, pos = [], 0
    for m in _PIECE_RE.finditer(text):
        if not m.group(0):
            continue
        pos = m.end()
        prefixes.append(text[:pos])
    if not prefixes or prefixes[-1] != text:
        prefixes.append(text)
    return prefixes


def verification_note(answer: dict[str, Any]) -> str:
    """A quiet line under a model-phrased answer when verification changed it ('' when nothing was removed)."""
    generation = answer.get("generation") or {}
    removed = len(generation.get("removed") or [])
    if answer.get("fallback") and answer.get("mode") == "extractive" and generation.get("model"):
        if str(answer.get("fallback_reason") or "").startswith("model error"):
            return "模型未能作答，已改用原文摘录。"
        return "模型的表述未通过核对，已改用原文摘录。"
    if removed and answer.get("mode") == "generative":
        return f"已删去 {removed} 句无出处的内容。"
    return ""


def answer_tools_html(turn_no: int) -> str:
    """The links under a finished answer: copy as text, copy as Markdown (handled in the page script)."""
    return (f"<div class='answer-tools' data-turn='{turn_no}'>"
            f"<a href='#copy-text={turn_no}' class='copy-link' data-copy='text'>复制文本</a>"
            f"<a href='#copy-md={turn_no}' class='copy-link' data-copy='md'>复制 Markdown</a></div>")


def answer_text(answer: dict[str, Any]) -> str:
    """The answer as clean text: citations written out in full (they already are in the contract)."""
    return (answer.get("answer") or "").strip()


def answer_markdown(question: str, answer: dict[str, Any]) -> str:
    """One turn as Markdown: the question, the answer, then the cited items with their quotes."""
    lines = [f"**问：** {question}", "", f"**答：** {answer_text(answer)}"]
    cites = answer.get("citations") or []
    if cites:
        lines += ["", "引用："]
        for c in cites:
            where = f"{c.get('plan', '')}·第{c.get('item')}项" if c.get("item") else c.get("plan", "")
            quote = (c.get("quote") or "").strip()
            lines.append(f"- 〔{where}〕{c.get('title', '')}" + (f"：“{quote}”" if quote else ""))
    return "\n".join(lines)


def highlight(text: str, quote: str = "", terms: list[str] | None = None) -> str:
    """Escaped text with the quoted sentence in <mark>; else every search term marked."""
    quote = (quote or "").strip().rstrip("…").rstrip(".").strip()
    for probe in (quote, quote[:20]):
        if len(probe) >= 4:
            at = text.find(probe)
            if at >= 0:
                return (escape(text[:at]) + "<mark>" + escape(text[at:at + len(probe)]) + "</mark>"
                        + escape(text[at + len(probe):]))
    words = [w for w in (terms or []) if w]
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    out, pos = [], 0
    for m in pattern.finditer(text):
        out += [escape(text[pos:m.start()]), "<mark>", escape(m.group(0)), "</mark>"]
        pos = m.end()
    return "".join(out) + escape(text[pos:])


def item_detail_html(plan: Plan, item: Item, quote: str = "", terms: list[str] | None = None) -> str:
    """The detail panel: plan, section path, number and title, units, full text with the quote marked."""
    units = ""
    if item.has_units or plan.has_units:
        units = (f"<dl class='detail-units'><dt>牵头单位</dt><dd>{escape('、'.join(item.lead_units) or '未列')}</dd>"
                 f"<dt>责任单位</dt><dd>{escape('、'.join(item.responsible_units) or '未列')}</dd></dl>")
    path = " › ".join(item.section) or "—"
    return (f"<div class='item-detail' data-item='{escape(item.id)}'>"
            f"<div class='detail-bar'><a class='detail-link' href='/?item={escape(item.id)}'>条目链接</a>"
            f"<a class='detail-close' href='#close-detail' aria-label='关闭条目'>关闭</a></div>"
            f"<div class='detail-plan'>{escape(plan.title)}</div>"
            f"<div class='detail-path'>{escape(path)}</div>"
            f"<h3>{escape(item_label(item))} {escape(item.title)}</h3>{units}"
            f"<div class='detail-text'>{highlight(item.text, quote, terms)}</div></div>")


def scope_chip_html(plan: Plan | None, context_item: tuple[Plan, Item] | None) -> str:
    """What the next answer is scoped to: the plan filter, and/or the item a follow-up would refer to."""
    parts = []
    if plan is not None:
        parts.append(f"<span class='scope-chip' data-kind='plan'>范围：{escape(plan.title)}</span>")
    if context_item is not None:
        p, i = context_item
        parts.append(f"<span class='scope-chip' data-kind='context'>接着问：{escape(short_plan_name(p))}·"
                     f"{escape(item_label(i))} {escape(i.title)}</span>")
    if not parts:
        return "<div class='scope-line scope-none'>范围：全部计划（新问题）</div>"
    return "<div class='scope-line'>" + "".join(parts) + "</div>"


def override_note(filter_plan: Plan | None, answer: dict[str, Any], plans: dict[str, Plan]) -> str:
    """When the question named another plan than the filter, say which plan the answer is from."""
    if filter_plan is None:
        return ""
    cited = [c.get("plan_id") for c in answer.get("citations") or []]
    others = [pid for pid in dict.fromkeys(cited) if pid and pid != filter_plan.id]
    if not others or filter_plan.id in cited:
        return ""
    names = "、".join(plans[p].title if p in plans else p for p in others)
    return f"（注意：问题指明了{names}，本回答未按计划范围「{filter_plan.title}」作答。）"


def browse_rows(plans: list[Plan], query: str = "", plan_id: str = "") -> list[Row]:
    """Every record matching all words of the query (any field or the text), optionally of one plan."""
    words = (query or "").split()
    rows = []
    for plan in plans:
        if plan_id and plan.id != plan_id:
            continue
        for item in plan.items:
            row = {"plan": plan.title, "section": " › ".join(item.section), "number": item.number or "",
                   "title": item.title, "lead": "、".join(item.lead_units),
                   "responsible": "、".join(item.responsible_units), "id": item.id}
            haystack = " ".join(str(v) for v in row.values()) + " " + item.text
            if all(w in haystack for w in words):
                rows.append(row)
    return rows


def sort_rows(rows: list[Row], key: str, descending: bool) -> list[Row]:
    """Rows sorted by one column; item numbers as numbers, records without a number last."""
    def value(r: Row) -> tuple[int, int, str]:
        if key == "number":
            return (0, int(r["number"]), "") if r["number"].isdigit() else (1, 0, "")
        return (0, 0, r.get(key, ""))
    return sorted(rows, key=value, reverse=descending) if key in dict(BROWSE_COLUMNS) else rows


def browse_table_html(rows: list[Row], query: str, sort: str, descending: bool, opened: str = "") -> str:
    """The browse table: a count, sortable headers (links the page script routes), rows as links; cards on phones."""
    words = (query or "").split()
    count = f"<p class='browse-count' role='status'>共 {len(rows)} 条" + (f"（搜索「{escape(query)}」）" if words else "") + "</p>"
    if not rows:
        return count + "<p class='browse-empty'>没有符合条件的条目。换个关键词，或选择“全部计划”。</p>"
    heads = []
    for key, label in BROWSE_COLUMNS:
        state = ("descending" if descending else "ascending") if key == sort else "none"
        arrow = ("▼" if descending else "▲") if key == sort else ""
        heads.append(f"<th scope='col' aria-sort='{state}'><a href='#browse-sort={key}' class='sort-link'>"
                     f"{label}{arrow}</a></th>")
    body = []
    for r in rows:
        cells = []
        for key, label in BROWSE_COLUMNS:
            text = highlight(r[key], terms=words) if key in ("title", "lead", "responsible") else escape(r[key])
            if key == "title":
                text = f"<a href='#browse-open={escape(r['id'])}' class='row-link'>{text or escape(r['id'])}</a>"
            cells.append(f"<td data-label='{label}'>{text}</td>")
        current = " class='opened'" if r["id"] == opened else ""
        body.append(f"<tr data-id='{escape(r['id'])}'{current}>{''.join(cells)}</tr>")
    return (count + "<div class='browse-scroll'><table class='browse-table'><thead><tr>" + "".join(heads)
            + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></div>")
