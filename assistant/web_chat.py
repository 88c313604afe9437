"""Event handlers of the 问答 and 计划浏览 tabs, bound to one Assistant (methods, so tests call them).

Conversations are saved after every answer in the SQLite store (`conversations.py`) under the
session's owner — the login name when auth is on, else the browser's own id — and rebuilt from
their turns on reload. Votes are kept on the turn and in `<data>/feedback.jsonl`, one line per
answer (a changed vote replaces its line).
"""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from .api_stream import FinishedAnswers
from .conversations import store_for
from .engine.contract import marker
from .models import Item, Plan
from .plan_admin import write_atomic
from .schemas import MAX_HISTORY_TURNS
from .service import QuestionError
from .web_render import (EMPTY_DETAIL, answer_tools_html, browse_rows, browse_table_html, item_detail_html,
                         override_note, render_answer, scope_chip_html, sort_rows, stream_prefixes, verification_note)

STREAM_DELAY = float(os.environ.get("ASSISTANT_STREAM_DELAY", "0.03"))  # seconds between streamed clauses
BUSY_LABEL, SEND_LABEL = "回答中…", "发送"
BUSY_NOTE = "正在回答。可以继续输入，内容会保留；回答完成后再发送。"
STOPPED_NOTE = "已停止回答。"
# What a streamed question sends back of each earlier answer (the fields /api/ask reads from a history turn).
HISTORY_KEYS = ("answer", "supported", "kind", "citations", "context")
Turn = dict[str, Any]  # one stored turn: question, answer (the contract as a dict) or error, plan, vote …
Message = dict[str, Any]  # one Gradio chat message
Outputs = tuple[Any, ...]  # the values (or gr.skip/gr.update) of an event's outputs
_feedback_lock = threading.Lock()


def feedback_record(turn: Turn, liked: bool | None, index: int, key: str = "", comment: str = "") -> dict[str, Any]:
    """One answer's feedback line; `key` names the answer (conversation:turn) so a new vote replaces it."""
    answer = turn.get("answer") or {}
    return {"key": key or f"message:{index}", "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "message_index": index, "liked": liked, "comment": comment, "question": turn.get("question", ""),
            "plan": turn.get("plan") or None, "answer": answer.get("answer", turn.get("error", "")),
            "kind": answer.get("kind"), "supported": answer.get("supported"),
            "citations": [c.get("id") for c in answer.get("citations", [])]}


def record_feedback(data_dir: Path, record: dict[str, Any]) -> Path:
    """Write a feedback line into <data_dir>/feedback.jsonl, replacing the earlier line of the same answer."""
    path = Path(data_dir) / "feedback.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _feedback_lock:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        kept = []
        for line in lines:
            try:
                if json.loads(line).get("key") == record["key"]:
                    continue
            except ValueError:
                pass  # a damaged line is kept as it is, never dropped
            kept.append(line)
        kept.append(json.dumps(record, ensure_ascii=False))
        write_atomic(path, ("\n".join(kept) + "\n").encode("utf-8"))
    return path


class ChatUI:
    """Handlers of the chat and browse tabs."""

    def __init__(self, assistant: Any, data_dir: Path, export_dir: Callable[[], Path] | None = None,
                 finished: FinishedAnswers | None = None):
        self.assistant = assistant
        self.data_dir = Path(data_dir)
        self.export_dir = export_dir
        self.store = store_for(self.data_dir)
        self.finished = finished or FinishedAnswers()  # answers the page streamed from /api/ask/stream

    # ---- lookups -------------------------------------------------------------------------
    def _plans(self) -> dict[str, Plan]:
        return {p.id: p for p in self.assistant.plans()}

    def plan_choices(self) -> list[tuple[str, str]]:
        return [("全部计划", "")] + [(p.title, p.id) for p in self.assistant.plans()]

    def markers_for(self, citations: list[dict[str, Any]]) -> dict[str, tuple[Plan, Item]]:
        out: dict[str, tuple[Plan, Item]] = {}
        for c in citations:
            found = self.assistant.item(c.get("id", ""))
            if found is not None:
                out.setdefault(marker(*found), found)
        return out

    # ---- rendering turns -------------------------------------------------------------------
    def answer_html(self, turn: Turn, turn_no: int, text: str | None = None, done: bool = True) -> str:
        """One answer message: the (possibly partial) text with chips; the note and copy links once done."""
        answer = turn.get("answer")
        if turn.get("stopped"):
            return f"<p class='stopped-note'>{STOPPED_NOTE}</p>"
        if not answer:
            return f"⚠️ {escape(turn.get('error') or '出错')}"
        markers = self.markers_for(answer.get("citations", []))
        html = render_answer(answer["answer"] if text is None else text, markers)
        if done:
            plans = self._plans()
            note = override_note(plans.get(turn.get("plan") or ""), answer, plans)
            checked = verification_note(answer)
            html = ((f"<p class='override-note'>{escape(note)}</p>" if note else "") + html
                    + (f"<p class='removed-note'>{escape(checked)}</p>" if checked else "") + answer_tools_html(turn_no))
        return html

    def messages_for(self, turns: list[Turn]) -> list[Message]:
        """Chat messages rebuilt from stored turns (chips, notes and links included)."""
        messages = []
        for n, turn in enumerate(turns):
            messages.append({"role": "user", "content": escape(turn.get("question", ""))})
            messages.append(self.assistant_message(turn, n))
        return messages

    def assistant_message(self, turn: Turn, turn_no: int) -> Message:
        """A finished answer message; a clarification's suggested questions become buttons under it."""
        message: Message = {"role": "assistant", "content": self.answer_html(turn, turn_no)}
        suggestions = ((turn.get("answer") or {}).get("context") or {}).get("suggestions") or []
        if suggestions:
            message["options"] = [{"label": s, "value": s} for s in suggestions]
        return message

    def scope_chip(self, plan_id: str | None, turns: list[Turn], fresh: bool) -> Outputs:
        """The scope line and the visibility of its two remove buttons."""
        plans = self._plans()
        plan = plans.get(plan_id or "")
        context = None
        if turns and not fresh:
            item_id = ((turns[-1].get("answer") or {}).get("context") or {}).get("item_id")
            context = self.assistant.item(item_id) if item_id else None
        return (scope_chip_html(plan, context), gr.update(visible=plan is not None),
                gr.update(visible=context is not None))

    def after_turn(self, plan_id: str | None, turns: list[Turn], fresh: bool) -> Outputs:
        """After the turns or scope changed: the scope chip (and its buttons) and the stream's history."""
        return (*self.scope_chip(plan_id, turns, fresh), self.stream_context(turns, fresh))

    # ---- chat ------------------------------------------------------------------------------
    def stream_context(self, turns: list[Turn], fresh: bool) -> str:
        """The history the page sends with a streamed question (JSON): the last answered turns, none when fresh."""
        if fresh:
            return "[]"
        answered = [t for t in turns or [] if t.get("answer")][-MAX_HISTORY_TURNS:]
        return json.dumps([{"question": t["question"], "answer": {k: t["answer"].get(k) for k in HISTORY_KEYS
                                                                    if t["answer"].get(k) is not None}}
                           for t in answered], ensure_ascii=False)

    def respond(self, question: str, messages: list[Message], turns: list[Turn], plan_id: str | None,
                conv_id: str = "", owner: str = "", fresh: bool = False, context: str = "",
                streamed: str = "") -> Iterator[Outputs]:
        """Ask, then stream the answer clause by clause. Yields (question box, chatbot, turns, conversation
        id, fresh, send button, busy note); the question box is cleared once, then left to the user.

        `context` is the history the page streamed with (stream_context; not read here). `streamed` is what
        the page's own stream of /api/ask/stream left (ASK_JS): `id:<stream id>` when it
        showed the answer (taken from `self.finished`, not asked again), `stopped` when the stop button
        cancelled it, empty when the page could not stream (then the question is asked here)."""
        question = (question or "").strip()
        messages, turns = list(messages or []), list(turns or [])
        if not question:
            yield gr.skip(), messages, turns, conv_id, fresh, gr.skip(), gr.skip()
            return
        busy = gr.update(value=BUSY_LABEL, interactive=False)
        messages.append({"role": "user", "content": escape(question)})
        # The page clears the box as the question is sent (ASK_JS); clearing it from here would race
        # with what the user types next, so the box is never written while the answer streams.
        yield gr.skip(), messages, turns, conv_id, fresh, busy, BUSY_NOTE
        history = [] if fresh else [{"question": t["question"], "answer": t["answer"]} for t in turns if t.get("answer")]
        shown = self.finished.take(streamed[3:], question) if streamed.startswith("id:") else None
        turn: Turn
        if streamed == "stopped":
            turn = {"question": question, "answer": None, "plan": plan_id or None, "stopped": True}
        elif shown is not None:
            turn = {"question": question, "answer": shown, "plan": plan_id or None}
        else:
            try:
                answer = self.assistant.ask(question, history=history, plan=plan_id or None).to_dict()
                turn = {"question": question, "answer": answer, "plan": plan_id or None}
            except QuestionError as exc:
                turn = {"question": question, "answer": None, "plan": plan_id or None, "error": str(exc)}
        turns.append(turn)
        turn_no = len(turns) - 1
        # the page has already shown a model's drafts: the verified answer replaces them at once
        if turn["answer"] and turn["answer"].get("mode") != "generative":
            messages.append({"role": "assistant", "content": ""})
            for prefix in stream_prefixes(turn["answer"]["answer"]):
                messages[-1] = {"role": "assistant", "content": self.answer_html(turn, turn_no, prefix, done=False)}
                yield gr.skip(), messages, turns, conv_id, False, busy, BUSY_NOTE
                time.sleep(STREAM_DELAY)
        if turn["answer"] and turn["answer"].get("mode") != "generative":
            messages[-1] = self.assistant_message(turn, turn_no)
        else:
            messages.append(self.assistant_message(turn, turn_no))
        conv_id = self.save(owner, conv_id, turns)
        yield gr.skip(), messages, turns, conv_id, False, gr.update(value=SEND_LABEL, interactive=True), ""

    def ask_option(self, messages: list[Message], turns: list[Turn], plan_id: str | None, conv_id: str, owner: str,
                   evt: gr.SelectData) -> Iterator[Outputs]:
        """A suggested question clicked under a clarification: asked like a typed one."""
        for out in self.respond(str(evt.value or ""), messages, turns, plan_id, conv_id, owner, False):
            yield out[1:]

    # ---- conversations ---------------------------------------------------------------------
    def save(self, owner: str, conv_id: str, turns: list[Turn]) -> str:
        if not owner or not turns:
            return conv_id
        return self.store.save(owner, conv_id or None, turns).id

    def history(self, owner: str, selected: str = "") -> Any:
        """The history list (radio choices: title, id), newest first."""
        items = self.store.list(owner) if owner else []
        choices = [(c.title, c.id) for c in items]
        return gr.update(choices=choices, value=selected if any(c[1] == selected for c in choices) else None)

    def start(self, browser_id: str, request: gr.Request | None = None) -> Outputs:
        """Page load: who the session is, its conversation list, and its latest conversation restored."""
        if not browser_id:
            browser_id = uuid.uuid4().hex
        user = getattr(request, "username", None) if request is not None else None
        owner = f"user:{user}" if user else f"browser:{browser_id}"
        latest = self.store.list(owner)[:1]
        turns = latest[0].turns if latest else []
        conv_id = latest[0].id if latest else ""
        return (browser_id, owner, self.history(owner, conv_id), self.messages_for(turns), turns, conv_id,
                gr.update(choices=self.plan_choices()), gr.update(choices=self.plan_choices()))

    def open_conversation(self, owner: str, conv_id: str) -> Outputs:
        found = self.store.get(owner, conv_id or "") if owner else None
        turns = found.turns if found else []
        return self.messages_for(turns), turns, (found.id if found else ""), EMPTY_DETAIL, False, \
            (found.title if found else "")

    def new_conversation(self, owner: str) -> Outputs:
        return [], [], "", EMPTY_DETAIL, False, self.history(owner, ""), ""

    def rename(self, owner: str, conv_id: str, title: str) -> Any:
        if conv_id and owner:
            self.store.rename(owner, conv_id, title)
        return self.history(owner, conv_id)

    def delete(self, owner: str, conv_id: str) -> Outputs:
        if conv_id and owner:
            self.store.delete(owner, conv_id)
        return [], [], "", EMPTY_DETAIL, self.history(owner, ""), ""

    # ---- detail, feedback ------------------------------------------------------------------
    def show_item(self, item_id: str, turns: list[Turn] | None = None, terms: list[str] | None = None) -> str:
        """Detail panel HTML for an item id; the quote of the latest answer citing it is highlighted."""
        item_id = (item_id or "").strip()
        found = self.assistant.item(item_id)
        if found is None:
            return EMPTY_DETAIL if not item_id else f"<div class='detail-empty'>没有编号为 {escape(item_id)} 的条目。</div>"
        quote = ""
        for turn in reversed(turns or []):
            cites = (turn.get("answer") or {}).get("citations", [])
            quote = next((c.get("quote", "") for c in cites if c.get("id") == item_id), "")
            if quote:
                break
        plan, item = found
        return item_detail_html(plan, item, quote=quote, terms=terms)

    def vote(self, turns: list[Turn], conv_id: str, owner: str, data: gr.LikeData) -> Outputs:
        """👍/👎 on an answer: one vote per answer, changeable (the turn and its feedback line are replaced)."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn_no = int(index) // 2  # messages alternate user / assistant, one turn each
        turns = list(turns or [])
        if turn_no >= len(turns):
            return turns, -1, gr.update()
        liked = data.liked if isinstance(data.liked, bool) else None  # a second click takes the vote back
        turns[turn_no] = {**turns[turn_no], "vote": liked}
        key = f"{conv_id or 'unsaved'}:{turn_no}"
        record_feedback(self.data_dir, feedback_record(turns[turn_no], liked, int(index), key,
                                                       turns[turn_no].get("comment", "")))
        self.save(owner, conv_id, turns)
        return turns, turn_no, gr.update(visible=liked is not None, value=turns[turn_no].get("comment", ""))

    def comment(self, text: str, turns: list[Turn], voted: int, conv_id: str, owner: str) -> Outputs:
        """An optional comment on the answer just voted on; stored with its vote."""
        turns = list(turns or [])
        if not 0 <= voted < len(turns):
            return turns, gr.update()
        text = (text or "").strip()[:500]
        turns[voted] = {**turns[voted], "comment": text}
        record_feedback(self.data_dir, feedback_record(turns[voted], turns[voted].get("vote"), voted * 2 + 1,
                                                       f"{conv_id or 'unsaved'}:{voted}", text))
        self.save(owner, conv_id, turns)
        gr.Info("已记录意见，谢谢！")
        return turns, gr.update(visible=False)

    # ---- 计划浏览 ----------------------------------------------------------------------------
    def browse(self, query: str = "", plan_id: str | None = "", state: dict[str, Any] | None = None) -> Outputs:
        """The browse table for a search and a plan (the sort and the opened row are kept)."""
        state = {**(state or {}), "query": query or "", "plan": plan_id or ""}
        return self._browse_html(state), state

    def _browse_html(self, state: dict[str, Any]) -> str:
        rows = browse_rows(self.assistant.plans(), state.get("query", ""), state.get("plan", ""))
        rows = sort_rows(rows, state.get("sort", ""), bool(state.get("desc")))
        return browse_table_html(rows, state.get("query", ""), state.get("sort", ""), bool(state.get("desc")),
                                 state.get("opened", ""))

    def action(self, action: str, turns: list[Turn], state: dict[str, Any] | None) -> Outputs:
        """Links in the page (chips, sortable headers, rows, close): (chat detail, browse detail, table, state)."""
        verb, _, value = (action or "").partition(":")
        state = dict(state or {})
        if verb == "cite":
            return self.show_item(value, turns), gr.skip(), gr.skip(), state
        if verb == "close":
            return EMPTY_DETAIL, gr.skip(), gr.skip(), state
        if verb == "close-browse":
            state["opened"] = ""
            return gr.skip(), EMPTY_DETAIL, self._browse_html(state), state
        if verb == "sort":
            state["desc"] = not state.get("desc") if state.get("sort") == value else False
            state["sort"] = value
            return gr.skip(), gr.skip(), self._browse_html(state), state
        if verb == "open":
            state["opened"] = value
            terms = (state.get("query") or "").split()
            return gr.skip(), self.show_item(value, terms=terms), self._browse_html(state), state
        return gr.skip(), gr.skip(), gr.skip(), state

    def export_docx(self, turns: list[Turn], conv_id: str) -> str | None:
        """The conversation as .docx (questions, answers, then the cited items in full)."""
        from .export_docx import conversation_docx

        turns = [t for t in turns or [] if t.get("answer")]
        if not turns or self.export_dir is None:
            return None
        folder = self.export_dir() / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True)
        path = folder / f"对话-{time.strftime('%Y%m%d-%H%M')}.docx"
        conversation_docx(turns, self.assistant.item, path)
        return str(path)
