"""Gradio UI over the Assistant facade: chat with citation chips, plan browser, 校长视角.

Thin by design: answers come from `Assistant.ask`, records from `Assistant.plans/item`, deadlines
and targets from `obligations`. This module only renders them: the answer streamed clause by clause
with 〔计划·第N项〕 markers turned into chips, a detail panel for the cited item (quote highlighted),
thumbs up/down appended to `<data>/feedback.jsonl`, and a CSV export. Nothing is loaded from a CDN.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from datetime import datetime, timezone
from html import escape
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from .chunks import item_label  # noqa: E402
from .models import Item, Plan  # noqa: E402
from .service import MARKER_RE, QuestionError, marker  # noqa: E402
from .web_principal import build_principal_tab  # noqa: E402

EXAMPLES = ["学生资助由哪个科室牵头？", "达州2020年第17项讲什么？", "邵东今年要新增多少学位？",
            "哪些计划提到县管校聘？", "那它的责任科室呢？"]
STREAM_DELAY = 0.03  # seconds between streamed clauses
_PIECE_RE = re.compile(r"〔[^〔〕]*〕|[^，。；：！？,;:!?\n〔]*[，。；：！？,;:!?\n]?")
_feedback_lock = threading.Lock()

THEME = gr.themes.Default(font=[gr.themes.Font("system-ui"), "PingFang SC", "Noto Sans CJK SC", "sans-serif"],
                          font_mono=[gr.themes.Font("ui-monospace"), "monospace"])
CSS = """
.cite-chip { display:inline-block; margin:0 2px; padding:0 8px; border-radius:999px; font-size:0.85em;
  line-height:1.6; text-decoration:none !important; background:var(--primary-100); color:var(--primary-700) !important;
  border:1px solid var(--primary-300); cursor:pointer; white-space:nowrap; }
.cite-chip:hover { background:var(--primary-200); }
.item-detail .detail-plan { font-weight:600; }
.item-detail .detail-path { color:var(--body-text-color-subdued); font-size:0.9em; margin:2px 0 6px; }
.item-detail h3 { margin:4px 0 8px; }
.item-detail dl { display:grid; grid-template-columns:auto 1fr; gap:2px 10px; margin:0 0 8px; }
.item-detail dt { color:var(--body-text-color-subdued); }
.item-detail dd { margin:0; }
.item-detail .detail-text { white-space:pre-wrap; line-height:1.7; }
.item-detail mark { background:#fde68a; padding:0 1px; }
.detail-empty { color:var(--body-text-color-subdued); }
"""
# Chips are links to #cite=<item id>; a click hands the id to a hidden textbox and presses a hidden button.
HEAD = """<script>
(function () {
  function openCite(id) {
    window.__assistantCite = id;
    var box = document.querySelector('#cite-target textarea, #cite-target input');
    if (box) { box.value = id; box.dispatchEvent(new Event('input', {bubbles: true})); }
    setTimeout(function () {
      var btn = document.querySelector('#cite-open');
      if (btn && btn.tagName !== 'BUTTON') { btn = btn.querySelector('button') || btn; }
      if (btn) { btn.click(); }
    }, 50);
  }
  document.addEventListener('click', function (e) {
    var a = e.target && e.target.closest ? e.target.closest('a.cite-chip, a[href^="#cite="]') : null;
    if (!a) { return; }
    e.preventDefault(); e.stopPropagation();
    openCite(decodeURIComponent((a.getAttribute('href') || '').replace(/^#cite=/, '')));
  }, true);
})();
</script>"""
CITE_JS = "(id, turns) => [window.__assistantCite || id, turns]"


# ---- rendering (pure) ----------------------------------------------------------------------
def short_plan_name(plan: Plan) -> str:
    """达州市2020 for chips; the full title is in the chip's tooltip."""
    name = plan.place or plan.issuer or plan.title
    return f"{name}{plan.year or ''}"


def chip_html(plan: Plan, item: Item) -> str:
    href = "#cite=" + item.id.replace("%", "%25").replace(":", "%3A")
    return (f'<a class="cite-chip" href="{escape(href)}" title="{escape(plan.title)} · {escape(item.title)}">'
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


def highlight(text: str, quote: str) -> str:
    """Escaped text with the quoted sentence wrapped in <mark> (tolerating a trailing …… or a cut quote)."""
    quote = (quote or "").strip().rstrip("…").rstrip(".").strip()
    for probe in (quote, quote[:20]):
        if len(probe) >= 4:
            at = text.find(probe)
            if at >= 0:
                return (escape(text[:at]) + "<mark>" + escape(text[at:at + len(probe)]) + "</mark>"
                        + escape(text[at + len(probe):]))
    return escape(text)


def item_detail_html(plan: Plan, item: Item, quote: str = "") -> str:
    """The detail panel: plan, section path, number and title, units, full text with the quote marked."""
    units = ""
    if item.has_units or plan.has_units:
        units = (f"<dl class='detail-units'><dt>牵头单位</dt><dd>{escape('、'.join(item.lead_units) or '未列')}</dd>"
                 f"<dt>责任单位</dt><dd>{escape('、'.join(item.responsible_units) or '未列')}</dd></dl>")
    path = " › ".join(item.section) or "—"
    return (f"<div class='item-detail' data-item='{escape(item.id)}'>"
            f"<div class='detail-plan'>{escape(plan.title)}</div>"
            f"<div class='detail-path'>{escape(path)}</div>"
            f"<h3>{escape(item_label(item))} {escape(item.title)}</h3>{units}"
            f"<div class='detail-text'>{highlight(item.text, quote)}</div></div>")


EMPTY_DETAIL = "<div class='detail-empty'>点击回答中的引用（如「达州市2020·第21项」）查看条目原文。</div>"


def feedback_record(turn: dict, liked, index: int) -> dict:
    answer = turn.get("answer") or {}
    return {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "message_index": index,
            "liked": liked, "question": turn.get("question", ""), "plan": turn.get("plan") or None,
            "answer": answer.get("answer", turn.get("error", "")), "kind": answer.get("kind"),
            "supported": answer.get("supported"), "citations": [c.get("id") for c in answer.get("citations", [])]}


def append_feedback(data_dir: Path, record: dict) -> Path:
    """Append one JSON line to <data_dir>/feedback.jsonl (created on first use)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "feedback.jsonl"
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _feedback_lock, open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
    return path


def _export_dir(max_age: float = 3600) -> Path:
    """Where CSV exports are written (system temp, which Gradio may serve); exports over an hour old go."""
    root = Path(tempfile.gettempdir()) / "assistant-export"
    root.mkdir(exist_ok=True)
    for old in root.iterdir():
        try:
            if time.time() - old.stat().st_mtime > max_age:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    return root


# ---- the UI --------------------------------------------------------------------------------
class ChatUI:
    """Event handlers bound to one Assistant (kept as methods so tests can call them directly)."""

    def __init__(self, assistant, data_dir: Path):
        self.assistant = assistant
        self.data_dir = Path(data_dir)

    # helpers
    def _plans(self) -> dict[str, Plan]:
        return {p.id: p for p in self.assistant.plans()}

    def plan_choices(self) -> list[tuple[str, str]]:
        return [("全部计划", "")] + [(p.title, p.id) for p in self.assistant.plans()]

    def markers_for(self, citations: list[dict]) -> dict[str, tuple[Plan, Item]]:
        out: dict[str, tuple[Plan, Item]] = {}
        for c in citations:
            found = self.assistant.item(c.get("id", ""))
            if found is not None:
                out.setdefault(marker(*found), found)
        return out

    # chat
    def respond(self, question: str, messages: list, turns: list, plan_id: str | None):
        """Ask, then stream the answer clause by clause (yields textbox, chatbot, turns)."""
        question = (question or "").strip()
        messages, turns = list(messages or []), list(turns or [])
        if not question:
            yield "", messages, turns
            return
        messages.append({"role": "user", "content": escape(question)})
        history = [{"question": t["question"], "answer": t["answer"]} for t in turns if t.get("answer")]
        try:
            answer = self.assistant.ask(question, history=history, plan=plan_id or None).to_dict()
        except QuestionError as exc:
            messages.append({"role": "assistant", "content": f"⚠️ {escape(str(exc))}"})
            turns.append({"question": question, "answer": None, "plan": plan_id or None, "error": str(exc)})
            yield "", messages, turns
            return
        turns.append({"question": question, "answer": answer, "plan": plan_id or None})
        markers = self.markers_for(answer.get("citations", []))
        messages.append({"role": "assistant", "content": ""})
        for prefix in stream_prefixes(answer["answer"]):
            messages[-1] = {"role": "assistant", "content": render_answer(prefix, markers)}
            yield "", messages, turns
            time.sleep(STREAM_DELAY)
        suggestions = (answer.get("context") or {}).get("suggestions") or []
        if suggestions:
            # a clarification: its suggested questions are buttons under the message; a click asks it
            messages[-1] = {**messages[-1], "options": [{"label": s, "value": s} for s in suggestions]}
            yield "", messages, turns

    def ask_option(self, messages: list, turns: list, plan_id: str | None, evt: gr.SelectData):
        """A suggested question clicked under a clarification: asked like a typed one."""
        yield from self.respond(str(evt.value or ""), messages, turns, plan_id)

    def show_item(self, item_id: str, turns: list | None = None) -> str:
        """Detail panel HTML for an item id; the quote of the latest answer citing it is highlighted."""
        found = self.assistant.item((item_id or "").strip())
        if found is None:
            return EMPTY_DETAIL if not item_id else f"<div class='detail-empty'>没有编号为 {escape(item_id)} 的条目。</div>"
        quote = ""
        for turn in reversed(turns or []):
            cites = (turn.get("answer") or {}).get("citations", [])
            quote = next((c.get("quote", "") for c in cites if c.get("id") == item_id), "")
            if quote:
                break
        return item_detail_html(*found, quote=quote)

    def clear(self):
        return [], [], EMPTY_DETAIL, ""

    def feedback(self, turns: list, data: gr.LikeData):
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn_no = int(index) // 2  # messages alternate user / assistant, one turn each
        if not turns or turn_no >= len(turns):
            return
        append_feedback(self.data_dir, feedback_record(turns[turn_no], data.liked, int(index)))
        gr.Info("已记录反馈，谢谢！")

    # plan browser
    def browse(self, query: str = "", plan_id: str | None = "") -> list[list]:
        """Rows of every record (optionally one plan, optionally matching words in any field)."""
        words = (query or "").split()
        rows = []
        for plan in self.assistant.plans():
            if plan_id and plan.id != plan_id:
                continue
            for item in plan.items:
                fields = [plan.title, " › ".join(item.section), item.number or "", item.title,
                          "、".join(item.lead_units), "、".join(item.responsible_units)]
                haystack = " ".join(fields) + " " + item.text
                if all(w in haystack for w in words):
                    rows.append([plan.title, fields[1], int(item.number) if (item.number or "").isdigit() else None,
                                 item.title, fields[4], fields[5], item.id])
        return rows

    def browse_select(self, rows, evt: gr.SelectData) -> str:
        row = evt.row_value if getattr(evt, "row_value", None) else None
        return self.show_item(str(row[-1])) if row else EMPTY_DETAIL


def build_ui(assistant, data_dir: Path) -> gr.Blocks:
    """The Blocks app (not launched): 问答 / 计划浏览 / 校长视角 tabs."""
    ui = ChatUI(assistant, data_dir)
    with gr.Blocks(title="工作要点问答助手", analytics_enabled=False) as blocks:
        gr.Markdown("## 工作要点问答助手\n基于教育局年度工作要点原文回答，每句都注明出处。")
        with gr.Tab("问答", id="chat"):
            turns = gr.State([])
            with gr.Row():
                with gr.Column(scale=3):
                    plan_filter = gr.Dropdown(ui.plan_choices(), value="", label="计划范围", elem_id="plan-filter")
                    chatbot = gr.Chatbot(label="对话", height=480, elem_id="chatbot", buttons=["copy"],
                                         feedback_options=("Like", "Dislike"), layout="bubble",
                                         placeholder="问一个关于工作要点的问题，例如：学生资助由哪个科室牵头？")
                    with gr.Row():
                        question = gr.Textbox(placeholder="输入问题，回车发送", show_label=False, scale=5,
                                              max_length=500, elem_id="question", submit_btn=False)
                        send = gr.Button("发送", variant="primary", scale=1, min_width=80, elem_id="send")
                        clear = gr.Button("清空对话", scale=1, min_width=80, elem_id="clear")
                    gr.Examples(EXAMPLES, inputs=[question], label="示例问题")
                with gr.Column(scale=2):
                    gr.Markdown("#### 引用条目")
                    detail = gr.HTML(EMPTY_DETAIL, elem_id="item-detail")
                    cite_target = gr.Textbox(visible="hidden", elem_id="cite-target")
                    cite_open = gr.Button("open", visible="hidden", elem_id="cite-open")
            ask_inputs = [question, chatbot, turns, plan_filter]
            ask_outputs = [question, chatbot, turns]
            send.click(ui.respond, ask_inputs, ask_outputs, api_name="ask")
            question.submit(ui.respond, ask_inputs, ask_outputs, api_visibility="private")
            clear.click(ui.clear, None, [chatbot, turns, detail, question], api_name="clear")
            chatbot.clear(ui.clear, None, [chatbot, turns, detail, question], api_visibility="private")
            cite_open.click(ui.show_item, [cite_target, turns], detail, js=CITE_JS, api_name="show_item")
            chatbot.like(ui.feedback, [turns], None, api_visibility="private")
            chatbot.option_select(ui.ask_option, [chatbot, turns, plan_filter], ask_outputs, api_visibility="private")

        with gr.Tab("计划浏览", id="browse"):
            with gr.Row():
                browse_query = gr.Textbox(label="搜索（标题、原文、单位）", scale=3, elem_id="browse-query")
                browse_plan = gr.Dropdown(ui.plan_choices(), value="", label="计划", scale=2)
            table = gr.Dataframe(value=ui.browse(), headers=["计划", "部分", "编号", "标题", "牵头单位", "责任单位", "ID"],
                                 datatype=["str", "str", "number", "str", "str", "str", "str"], interactive=False,
                                 wrap=True, max_height=560, elem_id="browse-table", show_search="search",
                                 column_widths=["15%", "22%", "6%", "27%", "10%", "14%", "6%"])
            browse_detail = gr.HTML(EMPTY_DETAIL.replace("点击回答中的引用（如「达州市2020·第21项」）", "点击表格中的一行"))
            gr.on([browse_query.submit, browse_plan.change], ui.browse, [browse_query, browse_plan], table,
                  api_name="browse")
            table.select(ui.browse_select, [table], browse_detail, api_visibility="private")

        build_principal_tab(assistant, _export_dir)
    return blocks


def mount_ui(app, assistant, settings) -> None:
    """Mount the UI at `/` of the FastAPI app; Gradio's login page guards it when credentials are set."""
    blocks = build_ui(assistant, settings.data_dir)
    blocks.queue(default_concurrency_limit=4)
    auth = settings.login_ok if settings.auth_required else None
    gr.mount_gradio_app(app, blocks, path="/", theme=THEME, css=CSS, head=HEAD, auth=auth,
                        auth_message="工作要点问答助手：请输入用户名和密码（或以令牌作为密码）。" if auth else None,
                        footer_links=["api", "settings"], run_history=False, ssr_mode=False, mcp_server=False,
                        pwa=False, show_error=True)
