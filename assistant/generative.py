"""Generative mode: a chat model phrases the answer from numbered evidence; nothing unverified leaves.

    --llm openai:<model>@<base_url>     any OpenAI-compatible server (vLLM, Ollama, a provider, llama_cpp.server);
                                        key in ASSISTANT_LLM_API_KEY
    --llm gguf:/path/model.gguf         a local file through llama-cpp-python

The evidence is what the extractive engine chose (reader → retrieval → the intent's records): the
model only writes, from those records numbered [1]…[n], within a token budget. Each sentence is
checked as soon as it is complete (`claims.py`): a sentence that fails is dropped; if the first
sentence that states something fails, or none survives, or the model errs, the extractive answer
is returned instead (`fallback: true`). Structural answers (item and section look-ups, unit roles,
enumerations, counts, deadline and obligation lists), clarifications and refusals stay extractive:
their lists and numbers come from the records, not from a model.
"""
from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .claims import MARKER_RE as CLAIM_MARKER_RE
from .claims import Checked, Evidence, check, cited, sentences, strip_markers
from .engine.contract import Answer, Citation, marker, verify_citations

GENERATIVE_KINDS = {"fact", "summary", "compare", "exists", "cross_plan"}
EVIDENCE_TOKENS = 1500  # what the model reads (cl100k tokens), so a small local context suffices
ANSWER_TOKENS = 400  # what it may write (ASSISTANT_LLM_MAX_TOKENS overrides it)
SYSTEM_PROMPT = (
    "你是教育局工作要点问答助手。只根据用户给出的编号证据回答，不使用任何其他知识。"
    "每一句话末尾都要用[编号]标明依据，例如[1]；数字、日期、科室名称必须与证据原文完全一致。"
    "证据没有说明的内容不要写。用简洁的中文回答，不超过4句话。")


@dataclass
class VerifiedCitation(Citation):
    verified: bool = True  # every sentence citing it passed verification (extractive citations always do)


@dataclass
class GenerativeAnswer(Answer):
    """The answer contract plus how it was written: `mode`, `fallback` and the generation's record."""

    mode: str = "extractive"  # "generative" | "extractive"
    fallback: bool = False
    fallback_reason: str | None = None
    generation: dict[str, Any] = field(default_factory=dict)


def answer_tokens(max_tokens: int | None = None) -> int:
    """The most tokens the model may write: `max_tokens`, else ASSISTANT_LLM_MAX_TOKENS, else ANSWER_TOKENS."""
    value = max_tokens if max_tokens is not None else os.environ.get("ASSISTANT_LLM_MAX_TOKENS") or ANSWER_TOKENS
    try:
        tokens = int(value)
    except ValueError:
        raise ValueError(f"ASSISTANT_LLM_MAX_TOKENS must be a whole number, not {value!r}") from None
    if tokens < 1:
        raise ValueError(f"the model's max output tokens must be at least 1, not {tokens}")
    return tokens


def chat_model(spec: str, api_key: str | None = None, max_tokens: int | None = None) -> tuple[Any, str]:
    """A LangChain chat model (and its display name) from `openai:<model>@<base_url>` or `gguf:<path>`.

    It writes at most `answer_tokens(max_tokens)` tokens (default 400)."""
    kind, _, rest = spec.partition(":")
    tokens = answer_tokens(max_tokens)
    if kind == "openai" and rest:
        from langchain_openai import ChatOpenAI

        model, _, base_url = rest.partition("@")
        if not model:
            raise ValueError("--llm openai:<model>@<base_url>: the model name is missing")
        key = api_key or os.environ.get("ASSISTANT_LLM_API_KEY") or "not-needed"  # local servers ignore it
        # `max_tokens`, not `max_completion_tokens` (what ChatOpenAI sends): vLLM, Ollama and llama_cpp.server
        # read it, and llama_cpp.server ignores the other, so the cap never reached it and the model wrote on
        return ChatOpenAI(model=model, base_url=base_url or None, api_key=key, temperature=0,
                          extra_body={"max_tokens": tokens}, timeout=180, max_retries=1), model
    if kind == "gguf" and rest:
        from .llm_gguf import GGUFChat

        if not os.path.isfile(rest):
            raise ValueError(f"--llm gguf: no such model file: {rest}")
        return GGUFChat(model_path=rest, max_tokens=tokens), os.path.basename(rest)
    raise ValueError(f"--llm must be openai:<model>@<base_url> or gguf:/path/model.gguf, not {spec!r}")


def _tokens(text: str) -> list[int]:
    from .api_openai import _encoding

    return list(_encoding().encode(text, disallowed_special=()))


class Generation:
    """One answer being written: iterate for verified text pieces, then read `.answer`."""

    def __init__(self, owner: GenerativeAssistant, base: Answer):
        self.owner, self.base = owner, base
        self.answer: GenerativeAnswer | None = None
        # Streaming hooks (api_stream.py): every raw model chunk goes to `on_draft` as it arrives, and
        # setting `stop` ends the generation at the next chunk (the model's stream is closed, so a
        # served model stops writing too); the answer then stays None and `cancelled` is True.
        self.on_draft: Callable[[str], None] | None = None
        self.stop = threading.Event()
        self.cancelled = False
        self.chunks = 0  # model chunks read so far

    def __iter__(self) -> Iterator[str]:
        base, owner = self.base, self.owner
        records = owner.assistant.retriever.records
        cites = [c for c in base.citations if c.id in records]
        reason = None if base.kind in GENERATIVE_KINDS else f"{base.kind} answers stay exact"
        if reason is None and not base.supported:
            reason = "the plans do not state the answer"
        if reason is None and not cites:
            reason = "no evidence"
        if reason is not None:
            yield from self._extractive(reason, fallback=False)
            return
        evidence = _evidence(cites, records)
        started = time.perf_counter()
        first_token: float | None = None
        buffer = ""
        held: list[str] = []  # lead-ins waiting for the claim after them
        kept: list[str] = []
        removed: list[dict[str, str]] = []
        used: list[int] = []
        try:
            for text in self._drafts(owner.messages(base.question, evidence)):
                if text and first_token is None:
                    first_token = time.perf_counter()
                buffer += text
                done, buffer = _complete(buffer)
                for sentence in done:
                    verdict = owner.check(sentence, evidence)
                    out = self._take(verdict, evidence, held, kept, removed, used)
                    if out is None:  # the core failed: nothing of the model's has left yet
                        yield from self._extractive(f"first claim failed verification: {verdict.reason}", True,
                                                    removed=removed)
                        return
                    if out:
                        yield out
            if self.cancelled:  # stopped by the client: nothing more is written or checked
                return
            for sentence in sentences(buffer):
                out = self._take(owner.check(sentence, evidence), evidence, held, kept, removed, used)
                if out is None:
                    yield from self._extractive("first claim failed verification", True, removed=removed)
                    return
                if out:
                    yield out
        except Exception as exc:  # noqa: BLE001 — an unreachable or failing model must not lose the answer
            if not kept:
                yield from self._extractive(f"model error: {type(exc).__name__}: {exc}"[:300], True)
                return
        if not kept:
            yield from self._extractive("no sentence passed verification", True, removed=removed)
            return
        by_n = {e.n: e for e in evidence}
        citations: list[Citation] = [
            VerifiedCitation(**vars(next(c for c in cites if c.id == by_n[n].item_id)), verified=True)
            for n in dict.fromkeys(used)]
        timings = dict(base.timings_ms)
        timings["generate"] = round((time.perf_counter() - started) * 1000, 2)
        if first_token is not None:
            timings["first_token"] = round((first_token - started) * 1000, 2)
        answer = GenerativeAnswer(
            question=base.question, answer="".join(kept), supported=True, kind=base.kind, citations=citations,
            retrieved=base.retrieved, timings_ms=timings, context=base.context, mode="generative",
            generation={"model": owner.model_name, "sentences": len(kept) + len(removed), "kept": len(kept),
                        "removed": removed, "evidence": len(evidence)})
        verify_citations(answer, records)  # the contract every surface relies on, as for extractive answers
        self.answer = answer

    def _drafts(self, messages: list[Any]) -> Iterator[str]:
        """The model's text chunks as they arrive (each passed to `on_draft`), until `stop` is set."""
        stream = self.owner.model.stream(messages)
        try:
            for chunk in stream:
                if self.stop.is_set():
                    self.cancelled = True
                    return
                self.chunks += 1
                text = chunk.content if isinstance(chunk.content, str) else ""
                if text and self.on_draft is not None:
                    self.on_draft(text)
                yield text
        finally:
            close = getattr(stream, "close", None)
            if close is not None:  # closes the HTTP stream: a served model stops generating
                close()

    def _take(self, verdict: Checked, evidence: list[Evidence], held: list[str], kept: list[str],
              removed: list[dict[str, str]], used: list[int]) -> str | None:
        """The text to emit for one checked sentence ('' = nothing yet); None when the core failed."""
        if not verdict.states:
            held.append(strip_markers(verdict.text))  # a lead-in leaves only with the claim after it
            return ""
        if not verdict.ok:
            removed.append({"text": verdict.text, "reason": verdict.reason})
            return None if not kept else ""
        used.extend(verdict.cites)
        by_n = {e.n: e for e in evidence}
        rendered = _render(verdict.text, by_n)
        out = "".join(held) + rendered
        held.clear()
        kept.append(out)
        return out

    def _extractive(self, reason: str, fallback: bool, removed: list[dict[str, str]] | None = None) -> Iterator[str]:
        base = self.base
        citations = [VerifiedCitation(**vars(c), verified=True) for c in base.citations]
        self.answer = GenerativeAnswer(**{**vars(base), "citations": citations}, mode="extractive", fallback=fallback,
                                       fallback_reason=reason,
                                       generation={"model": self.owner.model_name, "removed": removed or [],
                                                   "sentences": len(removed or [])})
        yield base.answer


class GenerativeAssistant:
    """An Assistant whose answers a chat model phrases (see the module doc); everything else is delegated."""

    def __init__(self, assistant: Any, model: Any, model_name: str = "llm"):
        self.assistant, self.model, self.model_name = assistant, model, model_name

    def __getattr__(self, name: str) -> Any:  # retriever, plans(), item(), engine …: the wrapped assistant's
        return getattr(self.assistant, name)

    def begin(self, question: str, history: list[Any] | None = None, plan: str | None = None) -> Generation:
        """Choose the evidence now (bad questions raise QuestionError here); write when iterated."""
        return Generation(self, self.assistant.ask(question, history=history, plan=plan))

    def ask(self, question: str, history: list[Any] | None = None, plan: str | None = None) -> GenerativeAnswer:
        run = self.begin(question, history, plan)
        for _ in run:
            pass
        assert run.answer is not None
        return run.answer

    def messages(self, question: str, evidence: list[Evidence]) -> list[Any]:
        from langchain_core.messages import HumanMessage, SystemMessage

        blocks = "\n\n".join(f"[{e.n}] {e.text}" for e in evidence)
        return [SystemMessage(SYSTEM_PROMPT), HumanMessage(f"证据：\n{blocks}\n\n问题：{question}")]

    def check(self, sentence: str, evidence: list[Evidence]) -> Checked:
        plans = self.assistant.plans()
        units = {u for p in plans for i in p.items for u in (*i.lead_units, *i.responsible_units)}
        return check(sentence, {e.n: e for e in evidence}, units, {p.id: (p.title, p.place) for p in plans})


def _evidence(cites: list[Citation], records: dict[str, Any]) -> list[Evidence]:
    """The cited records numbered from 1, each cut to its share of the token budget."""
    from .api_openai import _encoding
    from .chunks import item_label

    unique = list({c.id: c for c in cites}.values())
    share = max(120, EVIDENCE_TOKENS // max(1, len(unique)))
    out = []
    for n, c in enumerate(unique, start=1):
        plan, item = records[c.id]
        units = ""
        if item.lead_units or item.responsible_units:
            units = f"\n牵头：{'、'.join(item.lead_units) or '无'}；责任：{'、'.join(item.responsible_units) or '无'}"
        text = f"{plan.title}·{item_label(item)}「{item.title}」{units}\n{item.text}"
        tokens = _tokens(text)
        if len(tokens) > share:  # keep the quoted sentence even when the item is cut
            text = _encoding().decode(tokens[:share]) + "…" + ("\n" + c.quote if c.quote not in text[:share] else "")
        out.append(Evidence(n=n, plan_id=plan.id, plan_title=plan.title, place=plan.place, item_number=item.number,
                            text=text, units=[*item.lead_units, *item.responsible_units], item_id=c.id,
                            marker=marker(plan, item)))
    return out


def _complete(buffer: str) -> tuple[list[str], str]:
    """Sentences of `buffer` known to be complete (the next one has begun), and the rest."""
    parts = sentences(buffer)
    if len(parts) < 2:
        return [], buffer
    last = parts[-1]
    if re.fullmatch(r"[\[［【\d\s,，、\]］】]*", last):  # the tail may be a marker still being written
        if len(parts) < 3:
            return [], buffer
        return parts[:-2], "".join(parts[-2:])
    return parts[:-1], last


def _render(sentence: str, by_n: dict[int, Evidence]) -> str:
    """[n] markers replaced by the records' 〔计划·第N项〕 markers (the contract's inline citations)."""
    def repl(m: re.Match[str]) -> str:
        return "".join(dict.fromkeys(by_n[n].marker for n in cited(m.group(0))))

    return CLAIM_MARKER_RE.sub(repl, sentence)
