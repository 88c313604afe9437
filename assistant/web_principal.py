"""The 校长视角 tab: a checklist of what a plan requires of a school, built inside `web.build_ui`.

Pick a plan and a school type: the obligations (`obligations.for_plan`) come grouped by when they
are due — month by month, then recurring duties, then undated ones — as cards that read on a phone.
Each card shows the clause, its deadline as printed and as a date, its targets, and links to the
item's own page with the clause marked (`web_item_page`); it can also preview the item in place. Exports: .xlsx, .ics (dated obligations) and CSV.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from collections import OrderedDict
from html import escape

import gradio as gr

from . import obligation_export as export
from . import obligations
from .models import Plan
from .web_item_page import PlanSource
from .obligations import Obligation

ALL_SCHOOLS = ("全部学校", "")
RECURRING_GROUP, UNDATED_GROUP = "周期性任务", "未注明期限"
CSS = """
.ob-summary { margin:4px 0 10px; color:var(--body-text-color-subdued); }
.ob-group { margin:14px 0 6px; font-size:1.05em; font-weight:600; border-bottom:1px solid var(--border-color-primary); }
.ob-group .ob-count { font-weight:400; color:var(--body-text-color-subdued); font-size:0.9em; }
.ob-card { border:1px solid var(--border-color-primary); border-radius:10px; padding:10px 12px; margin:8px 0;
  background:var(--background-fill-primary); max-width:100%; box-sizing:border-box; overflow-wrap:anywhere; }
.ob-meta { display:flex; flex-wrap:wrap; gap:6px; margin-bottom:6px; }
.ob-tag { font-size:0.85em; padding:0 8px; border-radius:999px; background:var(--primary-100);
  color:var(--primary-700); border:1px solid var(--primary-300); line-height:1.7; }
.ob-tag.ob-party { background:var(--neutral-100); color:var(--neutral-700); border-color:var(--neutral-300); }
.ob-action { margin:0 0 6px; line-height:1.7; }
.ob-targets { margin:0 0 6px; font-size:0.95em; }
.ob-links { display:flex; flex-wrap:wrap; gap:4px 14px; align-items:baseline; text-align:left; }
.ob-link { color:var(--link-text-color, var(--primary-600)); text-decoration:underline; }
.ob-source summary { cursor:pointer; color:var(--link-text-color, var(--primary-600)); }
.ob-source .ob-item-text { white-space:pre-wrap; line-height:1.7; margin-top:6px; font-size:0.95em; }
.ob-source mark { background:#fde68a; padding:0 1px; }
.ob-empty { color:var(--body-text-color-subdued); }
"""


# ---- rendering (pure) ----------------------------------------------------------------------
def group_key(ob: Obligation) -> tuple[int, str, str]:
    """(order, sort key, heading): months first, then recurring duties, then undated obligations."""
    d = ob.deadline
    if d is not None and d.due is not None:
        day = d.start if d.kind == "period" and d.start else d.due
        return 0, day.strftime("%Y-%m"), f"{day.year}年{day.month}月"
    if d is not None and d.kind == "recurring":
        return 1, "", RECURRING_GROUP
    return 2, "", UNDATED_GROUP


def grouped(rows: list[Obligation]) -> OrderedDict[str, list[Obligation]]:
    """Obligations by heading, headings in time order; within a month by due date, then text order."""
    keyed = sorted(((group_key(ob), i, ob) for i, ob in enumerate(rows)),
                   key=lambda t: (t[0][0], t[0][1], t[2].due or t[0][1], t[1]))
    out: OrderedDict[str, list[Obligation]] = OrderedDict()
    for (_, _, heading), _, ob in keyed:
        out.setdefault(heading, []).append(ob)
    return out


def _item_text(plan: Plan, ob: Obligation) -> str:
    item = plan.item(ob.number) if ob.number else None
    text = item.text if item else ob.action
    if item is None:
        return escape(text)
    return (escape(text[:ob.start]) + "<mark>" + escape(text[ob.start:ob.end]) + "</mark>"
            + escape(text[ob.end:]))


def card_html(plan: Plan, ob: Obligation) -> str:
    """One obligation as a card: deadline and party tags, the clause, targets, the item to open."""
    tags = []
    if ob.deadline:
        label = ob.deadline.label()
        shown = ob.deadline.printed + (f" · {label}" if label and label != ob.deadline.printed else "")
        tags.append(f"<span class='ob-tag ob-due'>{escape(shown)}</span>")
    tags += [f"<span class='ob-tag ob-party'>{escape(p)}</span>" for p in ob.parties]
    targets = ""
    if ob.targets:
        targets = "<div class='ob-targets'>目标：" + "；".join(
            f"<b>{escape(t.phrase)}</b>" for t in ob.targets) + "</div>"
    where = f"第{ob.number}项" if ob.number else "正文"
    return (f"<article class='ob-card' data-item='{escape(ob.item_id)}' data-quote='{ob.start}-{ob.end}'>"
            f"<div class='ob-meta'>{''.join(tags)}</div><p class='ob-action'>{escape(ob.action)}</p>{targets}"
            f"<div class='ob-links'><a class='ob-link' href='{escape(ob.link)}' target='_blank' rel='noopener'>"
            f"打开{where}「{escape(ob.item_title)}」，标出本句</a>"
            f"<details class='ob-source'><summary class='ob-open'>在此预览</summary>"
            f"<div class='ob-item-text'>{_item_text(plan, ob)}</div>"
            f"<div class='ob-cite'>〔{escape(ob.link_text)}〕</div></details></div></article>")


def checklist_html(plan: Plan | None, rows: list[Obligation], party: str = "", query: str = "") -> str:
    """The whole checklist: a summary line, then one heading per due month / recurring / undated."""
    if plan is None:
        return "<div class='ob-empty'>请选择计划。</div>"
    who = party or "全部学校"
    summary = f"{escape(plan.title)} · {escape(who)}：共 {len(rows)} 项要求"
    if query:
        summary += f"（含「{escape(query)}」）"
    dated = sum(1 for ob in rows if ob.due)
    summary += f"，其中 {dated} 项有明确日期。"
    if not rows:
        return f"<div class='ob-summary'>{summary}</div><div class='ob-empty'>没有符合条件的要求。</div>"
    parts = [f"<div class='ob-summary'>{summary}</div>"]
    for heading, obs in grouped(rows).items():
        parts.append(f"<h4 class='ob-group'>{escape(heading)} <span class='ob-count'>{len(obs)} 项</span></h4>")
        parts += [card_html(plan, ob) for ob in obs]
    return "<div class='ob-list'>" + "".join(parts) + "</div>"


def site_base(headers: dict[str, str]) -> str:
    """http(s)://host the request came to (a proxy's X-Forwarded-Proto/Host win), or "" when unknown."""
    host = headers.get("x-forwarded-host") or headers.get("host") or ""
    proto = (headers.get("x-forwarded-proto") or "http").split(",")[0].strip()
    if not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", host) or proto not in ("http", "https"):
        return ""
    return f"{proto}://{host}"


# ---- the tab -------------------------------------------------------------------------------
class PrincipalUI:
    """Event handlers of the tab, bound to one Assistant (methods, so tests can call them directly)."""

    def __init__(self, assistant: PlanSource, export_dir: Callable[[], Path]):
        self.assistant = assistant
        self.export_dir = export_dir  # a callable giving the folder exports are written to

    def _plans(self) -> dict[str, Plan]:
        return {p.id: p for p in self.assistant.plans()}

    def rows(self, plan_id: str, party: str | None, query: str = "") -> tuple[Plan | None, list[Obligation]]:
        """The plan and its obligations for the party, narrowed by the search words."""
        plan = self._plans().get(plan_id or "")
        if plan is None:
            return None, []
        return plan, obligations.search(obligations.for_plan(plan, party or None), query)

    def checklist(self, plan_id: str, party: str | None, query: str = "",
                  request: gr.Request | None = None) -> tuple[str, str | None, str | None, str | None]:
        """Checklist HTML and the three export files (.xlsx, .ics, .csv) of what it shows.

        The exports' links are absolute, on the address the page was opened at (`request`).
        """
        base = site_base(dict(request.headers) if request is not None else {})
        party = party if party in obligations.PARTIES else ""
        plan, rows = self.rows(plan_id, party, query)
        html = checklist_html(plan, rows, party, (query or "").strip())
        if plan is None:
            return html, None, None, None
        folder = self.export_dir() / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True)
        label = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", party or "全部学校")
        stem = f"{plan.id}-{label}"
        xlsx, ics, csv = folder / f"{stem}.xlsx", folder / f"{stem}.ics", folder / f"{stem}.csv"
        xlsx.write_bytes(export.to_xlsx(rows, base))
        ics.write_bytes(export.to_ics(rows, name=f"{plan.title}·{party or '学校'}", base=base))
        csv.write_text(export.to_csv(rows, base), encoding="utf-8-sig")
        return html, str(xlsx), str(ics), str(csv)


def build_principal_tab(assistant: PlanSource, export_dir: Callable[[], Path]) -> PrincipalUI:
    """Add the 校长视角 tab to the Blocks being built (call inside `gr.Blocks()`)."""
    ui = PrincipalUI(assistant, export_dir)
    plans = assistant.plans()
    first_plan = plans[0].id if plans else ""
    with gr.Tab("校长视角", id="principal"):
        gr.Markdown("选择计划和学校类型，按完成时间查看学校要做的事：每条是原文中的一句要求，注明期限、目标和出处。")
        with gr.Row(equal_height=True):
            p_plan = gr.Dropdown([(p.title, p.id) for p in plans], value=first_plan, label="计划", scale=3,
                                 min_width=200, elem_id="principal-plan")
            p_party = gr.Dropdown([ALL_SCHOOLS] + [(p, p) for p in obligations.PARTIES], value="",
                                  label="学校类型", scale=2, min_width=140, elem_id="principal-party")
            p_query = gr.Textbox(label="搜索要求", placeholder="如：安全、体育、6月底前", scale=3, min_width=200,
                                 elem_id="principal-search")
        first = ui.checklist(first_plan, "", "")
        with gr.Row():
            p_xlsx = gr.DownloadButton("导出 Excel", value=first[1], elem_id="principal-xlsx", min_width=100)
            p_ics = gr.DownloadButton("导出日历 .ics", value=first[2], elem_id="principal-ics", min_width=100)
            p_csv = gr.DownloadButton("导出 CSV", value=first[3], elem_id="principal-csv", min_width=100)
        p_list = gr.HTML(first[0], elem_id="principal-list", css_template=CSS, padding=False)
        gr.on([p_plan.change, p_party.change, p_query.submit], ui.checklist, [p_plan, p_party, p_query],
              [p_list, p_xlsx, p_ics, p_csv], api_name="principal")
    return ui
