"""Command line: a thin layer over the library (`python -m assistant --help`)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .corpus import DEFAULT_CORPUS, load_corpus
from .models import Item, Plan


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=None) + "\n")


def item_json(plan: Plan, item: Item) -> dict[str, Any]:
    """The public JSON shape of one record (also used by the API)."""
    return {
        "id": item.id,
        "plan": plan.title,
        "plan_id": plan.id,
        "item": item.number,
        "kind": item.kind,
        "title": item.title,
        "section": item.section,
        "text": item.text,
        "problem": item.problem,
        "goals": item.goals,
        "measures": item.measures,
        "lead_units": item.lead_units,
        "responsible_units": item.responsible_units,
        "lead_units_raw": item.lead_units_raw,
        "responsible_units_raw": item.responsible_units_raw,
        "start": item.start,
        "end": item.end,
    }


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "title": plan.title,
        "full_title": plan.full_title,
        "issuer": plan.issuer,
        "co_issuers": plan.co_issuers,
        "place": plan.place,
        "year": plan.year,
        "doc_number": plan.doc_number,
        "issue_date": plan.issue_date,
        "source": plan.source,
        "item_count": len(plan.numbered_items),
        "record_count": len(plan.items),
        "sections": plan.sections,
        "has_units": plan.has_units,
        "warnings": plan.warnings,
    }


def _load_plans(args: argparse.Namespace) -> list[Plan]:
    if getattr(args, "index", None):
        from .store import read_plans

        return read_plans(Path(args.index))
    corpus = load_corpus(args.corpus)
    for err in corpus.errors:
        print(f"error: {err}", file=sys.stderr)
    return corpus.plans


def cmd_plans(args: argparse.Namespace) -> int:
    plans = _load_plans(args)
    if args.json:
        _print_json([plan_json(p) for p in plans])
        return 0
    for p in plans:
        print(f"{p.id}\t{p.issuer}\t{p.year or '-'}\t{len(p.numbered_items)} items\t{len(p.warnings)} warnings\t{p.title}")
        for w in p.warnings:
            print(f"    warning: {w}")
    return 0


def cmd_items(args: argparse.Namespace) -> int:
    plans = _load_plans(args)
    if args.plan:
        plans = [p for p in plans if p.id == args.plan]
        if not plans:
            print(f"error: no plan with id '{args.plan}'", file=sys.stderr)
            return 2
    rows = [(p, i) for p in plans for i in p.items]
    if args.json:
        _print_json([item_json(p, i) for p, i in rows])
        return 0
    for p, i in rows:
        number = i.number or "-"
        units = ""
        if i.lead_units or i.responsible_units:
            units = f"\t牵头:{'、'.join(i.lead_units) or '-'}\t责任:{'、'.join(i.responsible_units) or '-'}"
        print(f"{p.id}\t{number}\t{' > '.join(i.section) or '-'}\t{i.title}{units}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m assistant", description="工作要点问答助手")
    sub = parser.add_subparsers(dest="command", required=True)

    def source_args(p: argparse.ArgumentParser, with_index: bool = True) -> None:
        p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of plan files (default: corpus/plans)")
        if with_index:
            p.add_argument("--index", type=Path, default=None, help="read records back from a built index folder")
        p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("plans", help="one line per plan: id, issuer, year, item count, warnings")
    source_args(p)
    p.set_defaults(func=cmd_plans)

    p = sub.add_parser("items", help="every record of every plan")
    source_args(p)
    p.add_argument("--plan", help="only this plan id")
    p.set_defaults(func=cmd_items)

    _add_later_commands(sub)
    return parser


def _add_later_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Commands over the index and the answerer, registered when those modules exist."""
    try:
        from . import cli_index  # noqa: F401
    except ImportError:
        return
    cli_index.register(sub)
    from . import mcp_server

    mcp_server.register(sub)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
