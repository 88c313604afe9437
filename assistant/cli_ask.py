"""`python -m assistant ask`: one question, or a JSONL batch with the model loaded once."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .service import Assistant


def _has_surrogate(value: Any) -> bool:
    """A lone surrogate anywhere in a JSON value (text that cannot be encoded)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if any("\ud800" <= ch <= "\udfff" for ch in v):
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def _answer_line(assistant: Assistant, row: dict[str, Any]) -> dict[str, Any]:
    from .service import QuestionError

    rid = row.get("id")
    question: Any = row.get("question")  # checked by Assistant.ask (QuestionError when not text)
    history, plan = row.get("history"), row.get("plan")
    if history is not None and not isinstance(history, list):
        raise QuestionError("history must be a list")
    if plan is not None and not isinstance(plan, str):
        raise QuestionError("plan must be a plan id (text)")
    if _has_surrogate([question, history, plan]):
        raise QuestionError("text contains a lone surrogate (not valid Unicode)")
    answer = assistant.ask(question, history=history, plan=plan)
    return {"id": rid, **answer.to_dict()}


def batch_line(assistant: Assistant, lineno: int, raw: bytes) -> dict[str, Any]:
    """One JSONL input line → one output object: the answer, or an error naming the line (never raises)."""
    from .service import QuestionError

    rid = None
    try:
        try:
            row = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return {"id": None, "line": lineno, "error": f"bad input line: not UTF-8 ({exc.reason} at byte {exc.start})"}
        except RecursionError:
            return {"id": None, "line": lineno, "error": "bad input line: JSON nested too deeply"}
        except ValueError as exc:
            return {"id": None, "line": lineno, "error": f"bad input line: {exc}"}
        if not isinstance(row, dict):
            return {"id": None, "line": lineno, "error": "bad input line: not a JSON object"}
        rid = row.get("id")
        if _has_surrogate(rid) or not isinstance(rid, (str, int, float, bool, type(None))):
            rid = None  # an id that cannot be echoed back as it came
        return _answer_line(assistant, row)
    except QuestionError as exc:
        return {"id": rid, "line": lineno, "error": str(exc)}
    except Exception as exc:  # one bad line never ends the batch
        return {"id": rid, "line": lineno, "error": f"cannot answer this line ({exc.__class__.__name__})"}


def answer_batch(assistant: Assistant, lines: Iterable[bytes], write: Callable[[str], object]) -> int:
    """Answer JSONL byte lines; `write` gets one JSON text per non-blank line, in order. Returns the count."""
    count = 0
    for lineno, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        write(json.dumps(batch_line(assistant, lineno, raw), ensure_ascii=False))
        count += 1
    return count


def _write(text: str) -> None:
    sys.stdout.buffer.write(text.encode("utf-8", "replace") + b"\n")
    sys.stdout.buffer.flush()


def cmd_ask(args: argparse.Namespace) -> int:
    from .service import Assistant, QuestionError
    from .store import IndexUnavailable

    try:
        assistant = Assistant.open(args.index, chroma_url=args.chroma_url)
    except IndexUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.batch:
        # Bytes in, decoded line by line: one undecodable line is that line's error, not the batch's end.
        source = sys.stdin.buffer if str(args.batch) == "-" else open(args.batch, "rb")
        with source:
            answer_batch(assistant, source, _write)
        return 0
    if not args.question:
        print("error: give a question or --batch FILE.jsonl", file=sys.stderr)
        return 2
    try:
        answer = assistant.ask(args.question, plan=args.plan)
    except QuestionError as exc:
        if args.json:
            sys.stdout.write(json.dumps({"question": args.question, "error": str(exc)}, ensure_ascii=False) + "\n")
        else:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
    else:
        print(answer.answer)
        if not answer.supported:
            print("（计划中没有依据）")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("ask", help="answer a question (or a JSONL batch) with citations")
    common(p)
    p.add_argument("question", nargs="?")
    p.add_argument("--plan", help="restrict to one plan id")
    p.add_argument("--batch", type=Path, help="JSONL file of {id, question[, history, plan]} ('-' for stdin)")
    p.set_defaults(func=cmd_ask)
