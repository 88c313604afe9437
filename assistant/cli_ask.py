"""`python -m assistant ask`: one question, or a JSONL batch with the model loaded once."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def _answer_line(assistant, row: dict) -> dict:
    from .service import QuestionError

    rid = row.get("id")
    try:
        question = row.get("question")
        history = row.get("history")
        if history is not None and not isinstance(history, list):
            raise QuestionError("history must be a list")
        answer = assistant.ask(question, history=history, plan=row.get("plan"))
        return {"id": rid, **answer.to_dict()}
    except QuestionError as exc:
        return {"id": rid, "error": str(exc)}


def cmd_ask(args) -> int:
    from .service import Assistant, QuestionError
    from .store import IndexUnavailable

    try:
        assistant = Assistant.open(args.index, chroma_url=args.chroma_url)
    except IndexUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.batch:
        source = sys.stdin if str(args.batch) == "-" else open(args.batch, encoding="utf-8")
        with source:
            for lineno, line in enumerate(source, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError("not a JSON object")
                except ValueError as exc:
                    out = {"id": None, "line": lineno, "error": f"bad input line: {exc}"}
                else:
                    out = _answer_line(assistant, row)
                sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
                sys.stdout.flush()
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


def register(sub, common) -> None:
    p = sub.add_parser("ask", help="answer a question (or a JSONL batch) with citations")
    common(p)
    p.add_argument("question", nargs="?")
    p.add_argument("--plan", help="restrict to one plan id")
    p.add_argument("--batch", type=Path, help="JSONL file of {id, question[, history, plan]} ('-' for stdin)")
    p.set_defaults(func=cmd_ask)
