"""The 校长视角 tab: what a plan requires of a school, built inside `web.build_ui`.

Kept apart from the chat and browser tabs so that it can grow (checklist, exports) on its own.
"""
from __future__ import annotations

import re
import uuid

import gradio as gr

from . import obligations
from .models import Plan


class PrincipalUI:
    """Event handlers of the tab, bound to one Assistant (methods, so tests can call them directly)."""

    def __init__(self, assistant, export_dir):
        self.assistant = assistant
        self.export_dir = export_dir  # a callable giving the folder exports are written to

    def _plans(self) -> dict[str, Plan]:
        return {p.id: p for p in self.assistant.plans()}

    def party_choices(self, plan_id: str) -> list[tuple[str, str]]:
        """Dropdown choices of obligated parties for one plan."""
        plan = self._plans().get(plan_id)
        names = obligations.parties(plan) if plan else [obligations.SCHOOLS]
        return [("全部条目", obligations.ALL)] + [(n, n) for n in names]

    def on_plan(self, plan_id: str):
        """A new plan picked: its parties in the dropdown."""
        return gr.Dropdown(choices=self.party_choices(plan_id), value=obligations.SCHOOLS)

    def principal(self, plan_id: str, party: str | None, only_quantified: bool):
        """Binding items as table rows, and a CSV file of them for download."""
        plan = self._plans().get(plan_id)
        if plan is None:
            return [], None
        rows = obligations.obligations(plan, party or None, bool(only_quantified))
        folder = self.export_dir() / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True)
        label = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", party or "全部")
        path = folder / f"{plan.id}-{label}.csv"
        path.write_text(obligations.to_csv(rows, plan), encoding="utf-8-sig")
        return [ob.row() for ob in rows], str(path)


def build_principal_tab(assistant, export_dir) -> PrincipalUI:
    """Add the 校长视角 tab to the Blocks being built (call inside `gr.Blocks()`)."""
    ui = PrincipalUI(assistant, export_dir)
    plans = assistant.plans()
    first_plan = plans[0].id if plans else ""
    with gr.Tab("校长视角", id="principal"):
        gr.Markdown("选择计划和责任主体，查看约束该主体的条目，以及原文中的**期限**和**量化指标**。")
        with gr.Row():
            p_plan = gr.Dropdown([(p.title, p.id) for p in plans], value=first_plan, label="计划", scale=3)
            p_party = gr.Dropdown(ui.party_choices(first_plan), value=obligations.SCHOOLS,
                                  label="责任主体", scale=2, allow_custom_value=False)
            p_only = gr.Checkbox(False, label="只看有期限或量化指标的条目", scale=2)
        first_rows, first_csv = ui.principal(first_plan, obligations.SCHOOLS, False)
        p_table = gr.Dataframe(value=first_rows, headers=obligations.HEADERS, interactive=False, wrap=True,
                               max_height=560, elem_id="principal-table",
                               column_widths=["6%", "22%", "12%", "28%", "10%", "12%", "10%"])
        p_csv = gr.DownloadButton("导出 CSV", value=first_csv, elem_id="principal-csv")
        p_plan.change(ui.on_plan, p_plan, p_party, api_visibility="private")
        gr.on([p_plan.change, p_party.change, p_only.change], ui.principal, [p_plan, p_party, p_only],
              [p_table, p_csv], api_name="principal")
    return ui
