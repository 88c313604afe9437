"""The 计划管理 tab: upload a plan, read its parse report, accept it (index updated with a progress
bar), correct a plan's title / issuer / year, delete a plan. The work is in `plan_admin.py`."""
from __future__ import annotations

from html import escape
from pathlib import Path

import gradio as gr

from .api_plans import plan_admin_for
from .plan_admin import AdminError, ParseReport


def report_html(report: ParseReport) -> str:
    """The parse report shown before a plan is accepted."""
    warnings = "".join(f"<li class='warn'>{escape(w)}</li>" for w in report.warnings) or "<li>无</li>"
    sections = "".join(f"<li>{escape(s)}</li>" for s in report.sections) or "<li>（未识别到部分标题）</li>"
    return (f"<div class='upload-report' data-upload='{escape(report.upload_id)}'>"
            f"<h3>解析结果：{escape(report.file_name)}</h3><dl>"
            f"<dt>标题</dt><dd data-field='title'>{escape(report.title)}</dd>"
            f"<dt>发文单位</dt><dd data-field='issuer'>{escape(report.issuer or '（未识别）')}</dd>"
            f"<dt>年份</dt><dd data-field='year'>{report.year or '（未识别）'}</dd>"
            f"<dt>文号</dt><dd>{escape(report.doc_number or '（无）')}</dd>"
            f"<dt>计划编号</dt><dd>{escape(report.plan_id)}</dd>"
            f"<dt>条目数</dt><dd data-field='items'>{report.item_count}（共 {report.record_count} 条记录）</dd>"
            f"<dt>单位覆盖</dt><dd>{report.items_with_units} 项列出牵头/责任单位（{report.unit_coverage:.0%}）</dd>"
            f"</dl><p class='muted'>部分：</p><ul>{sections}</ul><p class='muted'>提示：</p><ul>{warnings}</ul>"
            "<p>确认无误后点“加入索引”；标题、单位或年份有误，可在加入后于下方更正。</p></div>")


class PlansUI:
    """Handlers of the 计划管理 tab."""

    def __init__(self, assistant, data_dir: Path):
        self.assistant = assistant
        self.admin = plan_admin_for(assistant, data_dir)

    def choices(self) -> list[tuple[str, str]]:
        return [(f"{p.title}（{p.id}）", p.id) for p in self.assistant.plans()]

    def plans_html(self) -> str:
        rows = "".join(f"<tr><td>{escape(p.title)}</td><td>{escape(p.id)}</td><td>{len(p.numbered_items)}</td>"
                       f"<td>{escape(p.source)}</td></tr>" for p in self.assistant.plans())
        return ("<table class='browse-table' id='plans-list'><thead><tr><th scope='col'>标题</th><th scope='col'>编号</th>"
                f"<th scope='col'>条目</th><th scope='col'>文件</th></tr></thead><tbody>{rows}</tbody></table>")

    def upload(self, file_path: str | None):
        """A file picked: check and parse it; show the report and the accept button."""
        if not file_path:
            return "", "", gr.update(visible=False), gr.update(visible=False)
        path = Path(file_path)
        try:
            report = self.admin.stage(path.read_bytes(), path.name)
        except AdminError as exc:
            return (f"<p class='warn' role='alert'>无法使用这个文件：{escape(str(exc))}</p>", "",
                    gr.update(visible=False), gr.update(visible=False))
        return report_html(report), report.upload_id, gr.update(visible=True), gr.update(visible=True)

    def accept(self, upload_id: str, progress=gr.Progress()):
        """Add the staged plan to the corpus and update the index, with a progress bar."""
        if not upload_id:
            return "<p class='warn'>请先上传文件。</p>", "", *self._refreshed()
        progress(0, desc="正在加入索引…")
        try:
            result = self.admin.accept(upload_id, lambda done, total: progress((done, total), desc="正在嵌入新计划"))
        except AdminError as exc:
            return f"<p class='warn' role='alert'>{escape(str(exc))}</p>", upload_id, *self._refreshed()
        build = result["build"]
        status = (f"<p role='status' id='accept-status'>已加入：{escape(result['plan'] or result['file'])}。"
                  f"新嵌入 {build['embedded']} 段，复用 {build['reused']} 段，用时 {build['seconds']} 秒。</p>")
        return status, "", *self._refreshed()

    def discard(self, upload_id: str):
        try:
            self.admin.discard(upload_id)
        except AdminError:
            pass
        return "<p role='status'>已放弃这次上传。</p>", "", gr.update(visible=False), gr.update(visible=False)

    def pick(self, plan_id: str):
        """A plan picked for correction: its current title, issuer and year in the fields."""
        plan = next((p for p in self.assistant.plans() if p.id == plan_id), None)
        if plan is None:
            return "", "", None, gr.update(visible=False)
        return plan.title, plan.issuer, plan.year, gr.update(visible=False)

    def correct(self, plan_id: str, title: str, issuer: str, year, progress=gr.Progress()):
        plan = next((p for p in self.assistant.plans() if p.id == plan_id), None)
        if plan is None:
            return "<p class='warn' role='alert'>请先选择计划。</p>", *self._refreshed()
        changes = {k: v for k, v in (("title", title), ("issuer", issuer)) if v and v != getattr(plan, k)}
        if year not in (None, "") and int(year) != plan.year:
            changes["year"] = int(year)
        if not changes:
            return "<p role='status'>没有改动。</p>", *self._refreshed()
        progress(0, desc="正在更新索引…")
        try:
            self.admin.correct(plan_id, changes, lambda done, total: progress((done, total), desc="正在更新索引"))
        except AdminError as exc:
            return f"<p class='warn' role='alert'>无法更正：{escape(str(exc))}</p>", *self._refreshed()
        return f"<p role='status'>已更正 {escape(plan_id)}：{escape('、'.join(changes))}。</p>", *self._refreshed()

    def delete(self, plan_id: str, confirmed: bool, progress=gr.Progress()):
        if not plan_id:
            return "<p class='warn' role='alert'>请先选择计划。</p>", *self._refreshed()
        if not confirmed:
            return "<p class='warn' role='alert'>请先勾选“确认删除”。</p>", *self._refreshed()
        progress(0, desc="正在删除…")
        try:
            self.admin.delete(plan_id)
        except AdminError as exc:
            return f"<p class='warn' role='alert'>无法删除：{escape(str(exc))}</p>", *self._refreshed()
        return f"<p role='status'>已删除 {escape(plan_id)}（文件已移到数据目录的 deleted/）。</p>", *self._refreshed()

    def _refreshed(self):
        return gr.update(visible=False), gr.update(visible=False), self.plans_html(), gr.update(choices=self.choices())


def build_plans_tab(assistant, data_dir: Path) -> tuple[PlansUI, list]:
    """Add the 计划管理 tab; returns the handlers and the event listeners other tabs refresh after."""
    ui = PlansUI(assistant, data_dir)
    with gr.Tab("计划管理", id="plans"):
        gr.Markdown("上传新的工作要点（.txt、.md、.docx 或 .pdf，最大 10 MB），先看解析结果，确认后加入索引。")
        upload = gr.File(label="上传计划文件", file_types=[".txt", ".md", ".docx", ".pdf"], type="filepath",
                         elem_id="plan-upload")
        report = gr.HTML("", elem_id="upload-report")
        upload_id = gr.State("")
        with gr.Row():
            accept = gr.Button("加入索引", variant="primary", visible=False, elem_id="upload-accept")
            discard = gr.Button("放弃", visible=False, elem_id="upload-discard")
        status = gr.HTML("", elem_id="plans-status")
        gr.Markdown("## 已有计划")
        plans = gr.HTML(ui.plans_html(), elem_id="plans-table")
        with gr.Row():
            pick = gr.Dropdown(ui.choices(), value=None, label="选择计划", elem_id="plan-pick", scale=3)
        with gr.Row():
            title = gr.Textbox(label="标题", elem_id="meta-title", scale=3)
            issuer = gr.Textbox(label="发文单位", elem_id="meta-issuer", scale=2)
            year = gr.Number(label="年份", precision=0, elem_id="meta-year", scale=1)
        with gr.Row():
            save = gr.Button("保存更正", elem_id="meta-save")
            confirm = gr.Checkbox(False, label="确认删除", elem_id="delete-confirm")
            delete = gr.Button("删除计划", variant="stop", elem_id="plan-delete")
        refreshed = [accept, discard, plans, pick]
        upload.upload(ui.upload, upload, [report, upload_id, accept, discard], api_visibility="private")
        accept_event = accept.click(ui.accept, upload_id, [status, upload_id, *refreshed], api_visibility="private")
        discard.click(ui.discard, upload_id, [status, upload_id, accept, discard], api_visibility="private")
        pick.change(ui.pick, pick, [title, issuer, year, discard], api_visibility="private")
        save_event = save.click(ui.correct, [pick, title, issuer, year], [status, *refreshed],
                                api_visibility="private")
        delete_event = delete.click(ui.delete, [pick, confirm], [status, *refreshed], api_visibility="private")
    return ui, [accept_event, save_event, delete_event]
