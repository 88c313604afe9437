"""Gradio UI over the Assistant facade: chat with history, citation chips and a scope chip; plan
browser; 校长视角; plan management.

Thin by design: answers come from `Assistant.ask`, records from `Assistant.plans/item`. Rendering
is in `web_render.py`, handlers in `web_chat.py` (问答, 计划浏览) and `web_plans.py` (计划管理),
CSS and the page script in `web_assets.py`; the 校长视角 tab in `web_principal.py`. Nothing is
loaded from a CDN, and Gradio's analytics are off.
"""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from .web_assets import I18N, PAGE_HEAD, EarlyLocale  # noqa: E402
from .api_stream import FinishedAnswers  # noqa: E402
from .security import Settings  # noqa: E402
from .web_chat import SEND_LABEL, ChatUI, feedback_record, record_feedback  # noqa: E402,F401
from .web_plans import build_plans_tab  # noqa: E402
from .web_principal import build_principal_tab  # noqa: E402
from .web_render import (EMPTY_DETAIL, chip_html, highlight, item_detail_html, render_answer,  # noqa: E402,F401
                         short_plan_name, stream_prefixes)

EXAMPLES = ["学生资助由哪个科室牵头？", "达州2020年第17项讲什么？", "邵东今年要新增多少学位？",
            "哪些计划提到县管校聘？", "那它的责任科室呢？"]
THEME = gr.themes.Default(font=[gr.themes.Font("system-ui"), "PingFang SC", "Noto Sans CJK SC", "sans-serif"],
                          font_mono=[gr.themes.Font("ui-monospace"), "monospace"]).set(
    # white text on these fills meets WCAG AA (4.5:1) in light and dark mode; the defaults do not
    button_primary_background_fill="#c2410c", button_primary_background_fill_dark="#c2410c",
    button_primary_background_fill_hover="#9a3412", button_primary_background_fill_hover_dark="#9a3412",
    button_cancel_background_fill="#b91c1c", button_cancel_background_fill_dark="#b91c1c",
    button_cancel_background_fill_hover="#991b1b", button_cancel_background_fill_hover_dark="#991b1b")
ACTION_JS = "(action, turns, state) => [window.__assistantAction || action, turns, state]"
# The question box is emptied in the page the moment a question is sent, so that whatever is typed
# while the answer streams stays in the box (the server never writes it). Then the page streams the
# answer itself from /api/ask/stream (web_assets.STREAM_SCRIPT) and hands what came of it to
# ChatUI.respond as its last input (STREAMED_ARG): the stream id, 'stopped', or '' to ask the plain way.
STREAMED_ARG, CONTEXT_ARG, PLAN_ARG = 8, 7, 3  # positions in the ask event's inputs (see build_ui)
ASK_JS = f"""async (...args) => {{
  const box = document.querySelector('#question textarea');
  if (box && args[0] && box.value === args[0]) {{ box.value = ''; box.dispatchEvent(new Event('input', {{bubbles: true}})); }}
  args[{STREAMED_ARG}] = '';
  const question = (args[0] || '').trim();
  if (question && window.__assistantStream) {{
    try {{ args[{STREAMED_ARG}] = await window.__assistantStream(question, args[{PLAN_ARG}] || '', args[{CONTEXT_ARG}] || ''); }}
    catch (e) {{ args[{STREAMED_ARG}] = ''; }}
  }}
  return args;
}}"""


def _export_dir(max_age: float = 3600) -> Path:
    """Where exports are written (system temp, which Gradio may serve); exports over an hour old go."""
    root = Path(tempfile.gettempdir()) / "assistant-export"
    root.mkdir(exist_ok=True)
    for old in root.iterdir():
        try:
            if time.time() - old.stat().st_mtime > max_age:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    return root


def _browser_secret(data_dir: Path) -> str:
    """The key the browser's stored id is encrypted with; kept in the data folder so it survives restarts."""
    path = Path(data_dir) / "browser-secret"
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(24)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(value)
        return value


def _chat_tab(ui: ChatUI, data_dir: Path) -> dict[str, Any]:
    """The 问答 tab: history list, chat, scope chip, input, detail panel (a bottom sheet on phones)."""
    c: dict[str, Any] = {}
    with gr.Tab("问答", id="chat"):
        c["browser"] = gr.BrowserState("", storage_key="assistant-browser", secret=_browser_secret(data_dir))
        c["owner"], c["turns"], c["conv"] = gr.State(""), gr.State([]), gr.State("")
        c["fresh"], c["voted"] = gr.State(False), gr.State(-1)
        with gr.Row(elem_id="chat-row"):
            with gr.Column(scale=1, min_width=200, elem_id="history-col"):
                c["new"] = gr.Button("＋ 新对话", elem_id="new-chat", size="sm")
                c["history"] = gr.Radio([], label="对话记录", elem_id="history")
                c["title"] = gr.Textbox(label="对话名称", elem_id="chat-title", max_length=40)
                with gr.Row():
                    c["rename"] = gr.Button("重命名", size="sm", elem_id="rename-chat")
                    c["delete"] = gr.Button("删除对话", size="sm", variant="stop", elem_id="delete-chat")
                c["export"] = gr.DownloadButton("导出 Word", size="sm", elem_id="export-docx", value=None)
            with gr.Column(scale=3, min_width=300):
                c["plan"] = gr.Dropdown(ui.plan_choices(), value="", label="计划范围", elem_id="plan-filter")
                c["chatbot"] = gr.Chatbot(label="对话", height=460, elem_id="chatbot", buttons=[],
                                          feedback_options=("Like", "Dislike"), layout="bubble",
                                          placeholder="问一个关于工作要点的问题，例如：学生资助由哪个科室牵头？")
                with gr.Row(elem_id="feedback-row"):
                    c["comment"] = gr.Textbox(label="补充意见（可选）", visible=False, elem_id="feedback-comment",
                                              max_length=500, scale=4)
                with gr.Row(elem_id="scope-row"):
                    c["scope"] = gr.HTML(ui.scope_chip("", [], False)[0], elem_id="scope-chip")
                    c["clear_plan"] = gr.Button("× 取消范围", size="sm", visible=False, elem_id="scope-clear-plan", scale=0,
                                                min_width=60)
                    c["clear_ctx"] = gr.Button("× 不接着问", size="sm", visible=False, elem_id="scope-clear-context", scale=0,
                                               min_width=60)
                with gr.Row():
                    c["question"] = gr.Textbox(placeholder="输入问题，回车发送", show_label=False, scale=5,
                                               max_length=500, elem_id="question", submit_btn=False,
                                               label="问题")
                    c["send"] = gr.Button(SEND_LABEL, variant="primary", scale=1, min_width=80, elem_id="send")
                c["state_note"] = gr.Markdown("", elem_id="question-state")
                # what the page's stream sends as history, and what came of the stream (ASK_JS)
                c["context"] = gr.Textbox("[]", visible="hidden", elem_id="stream-context")
                c["streamed"] = gr.Textbox("", visible="hidden", elem_id="stream-result")
                gr.Examples(EXAMPLES, inputs=[c["question"]], label="示例问题")
            with gr.Column(scale=2, min_width=260, elem_id="detail-col"):
                gr.Markdown("## 引用条目")
                c["detail"] = gr.HTML(EMPTY_DETAIL, elem_id="item-detail")
    return c


def _browse_tab(ui: ChatUI) -> dict[str, Any]:
    """计划浏览: one search box, a plan filter, a sortable table (cards on phones), the item beside it."""
    b: dict[str, Any] = {}
    with gr.Tab("计划浏览", id="browse"):
        b["state"] = gr.State({})
        with gr.Row():
            b["query"] = gr.Textbox(label="搜索（标题、原文、单位）", scale=3, elem_id="browse-query")
            b["plan"] = gr.Dropdown(ui.plan_choices(), value="", label="计划", scale=2, elem_id="browse-plan")
        with gr.Row():
            with gr.Column(scale=3, min_width=300):
                b["table"] = gr.HTML(ui.browse()[0], elem_id="browse-table")
            with gr.Column(scale=2, min_width=260):
                b["detail"] = gr.HTML("<div class='detail-empty'>点击表格中的标题查看条目原文。</div>",
                                      elem_id="browse-detail")
    return b


def build_ui(assistant: Any, data_dir: Path, finished: FinishedAnswers | None = None) -> gr.Blocks:
    """The Blocks app (not launched): 问答 / 计划浏览 / 校长视角 / 计划管理 tabs."""
    ui = ChatUI(assistant, data_dir, _export_dir, finished)
    with gr.Blocks(title="工作要点问答助手", analytics_enabled=False) as blocks:
        gr.Markdown("# 工作要点问答助手\n基于教育局年度工作要点原文回答，每句都注明出处。")
        c = _chat_tab(ui, data_dir)
        b = _browse_tab(ui)
        build_principal_tab(assistant, _export_dir)
        _, plan_events = build_plans_tab(assistant, data_dir)
        action = gr.Textbox(visible="hidden", elem_id="ui-action")
        go = gr.Button("go", visible="hidden", elem_id="ui-go")

        scope_out = [c["scope"], c["clear_plan"], c["clear_ctx"], c["context"]]
        ask_in = [c["question"], c["chatbot"], c["turns"], c["plan"], c["conv"], c["owner"], c["fresh"]]
        ask_out = [c["question"], c["chatbot"], c["turns"], c["conv"], c["fresh"], c["send"], c["state_note"]]
        streamed_in = ask_in + [c["context"], c["streamed"]]  # positions: ASK_JS's *_ARG constants
        assert streamed_in[PLAN_ARG] is c["plan"] and streamed_in[STREAMED_ARG] is c["streamed"]
        asked = gr.on([c["send"].click, c["question"].submit], ui.respond, streamed_in, ask_out, api_name="ask",
                      trigger_mode="once", js=ASK_JS)
        after = [ui.after_turn, [c["plan"], c["turns"], c["fresh"]], scope_out]
        history_out = [c["history"]]
        asked.then(*after).then(ui.history, [c["owner"], c["conv"]], history_out).then(
            ui.export_docx, [c["turns"], c["conv"]], c["export"])
        opt = c["chatbot"].option_select(ui.ask_option, ask_in[1:-1], ask_out[1:], api_visibility="private")
        opt.then(*after).then(ui.history, [c["owner"], c["conv"]], history_out)
        c["plan"].change(*after, api_visibility="private")
        c["clear_plan"].click(lambda: "", None, c["plan"], api_visibility="private")
        c["clear_ctx"].click(lambda: True, None, c["fresh"], api_visibility="private").then(*after)

        conv_out = [c["chatbot"], c["turns"], c["conv"], c["detail"], c["fresh"], c["title"]]
        c["history"].input(ui.open_conversation, [c["owner"], c["history"]], conv_out,
                           api_visibility="private").then(*after)
        c["new"].click(ui.new_conversation, c["owner"], conv_out[:5] + [c["history"], c["title"]],
                       api_name="new_conversation").then(*after)
        c["chatbot"].clear(ui.new_conversation, c["owner"], conv_out[:5] + [c["history"], c["title"]],
                           api_visibility="private").then(*after)
        c["rename"].click(ui.rename, [c["owner"], c["conv"], c["title"]], c["history"], api_visibility="private")
        c["delete"].click(ui.delete, [c["owner"], c["conv"]], conv_out[:4] + [c["history"], c["title"]],
                          api_visibility="private").then(*after)
        c["chatbot"].like(ui.vote, [c["turns"], c["conv"], c["owner"]], [c["turns"], c["voted"], c["comment"]],
                          api_visibility="private")
        c["comment"].submit(ui.comment, [c["comment"], c["turns"], c["voted"], c["conv"], c["owner"]],
                            [c["turns"], c["comment"]], api_visibility="private")

        go.click(ui.action, [action, c["turns"], b["state"]], [c["detail"], b["detail"], b["table"], b["state"]],
                 js=ACTION_JS, api_name="action")
        gr.on([b["query"].submit, b["plan"].change], ui.browse, [b["query"], b["plan"], b["state"]],
              [b["table"], b["state"]], api_name="browse")
        for event in plan_events:  # a plan added, corrected or removed: the other tabs' lists follow
            event.then(lambda: (gr.update(choices=ui.plan_choices()), gr.update(choices=ui.plan_choices())),
                       None, [c["plan"], b["plan"]]).then(ui.browse, [b["query"], b["plan"], b["state"]],
                                                          [b["table"], b["state"]])
        start = blocks.load(ui.start, c["browser"], [c["browser"], c["owner"], c["history"], c["chatbot"], c["turns"],
                                                     c["conv"], c["plan"], b["plan"]], api_visibility="private")
        start.then(*after).then(ui.export_docx, [c["turns"], c["conv"]], c["export"]).then(
            ui.browse, [b["query"], b["plan"], b["state"]], [b["table"], b["state"]])
    return blocks


def mount_ui(app: Any, assistant: Any, settings: Settings) -> None:
    """Mount the UI at `/` of the FastAPI app; Gradio's login page guards it when credentials are set."""
    app.add_middleware(EarlyLocale)
    blocks = build_ui(assistant, settings.data_dir, getattr(app.state, "finished_answers", None))
    blocks.queue(default_concurrency_limit=4)
    auth = settings.login_ok if settings.auth_required else None
    gr.mount_gradio_app(app, blocks, path="/", theme=THEME, head=PAGE_HEAD, auth=auth,
                        auth_message="工作要点问答助手：请输入用户名和密码（或以令牌作为密码）。" if auth else None,
                        footer_links=["api"], run_history=False, ssr_mode=False, mcp_server=False,
                        pwa=False, show_error=True, i18n=gr.I18n(**I18N), max_file_size="10mb")
