"""CPU-amplification benchmark: a normal question's latency, idle and while clients flood the server
with maximal /api/ask bodies (a 500-character question and the most history turns allowed, each a
500-character question the engine would answer again).

    .venv/bin/python eval/flood.py [--index DIR] [--clients 16] [--samples 20] [--seconds 30]

Starts the real server (`app.py`) on a free port over a copy of the given index (default: a fresh
build of the shipped corpus in a temp folder), prints the figures, and stops it. Not a test: the
numbers depend on the machine; the goal is flood p50 within 3x of idle p50.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARM_UP = ["学生资助由哪个科室牵头？", "邵东今年要新增多少学位？", "哪些计划提到县管校聘？", "基教科牵头哪些任务？"]
# Distinct everyday questions, so neither phase gains from anything a previous one left warm.
NORMAL = [(f"达州2020年第{n}项讲什么？" if n % 2 else f"达州2020年第{n}项由哪个科室牵头？") for n in range(1, 39)]
FILLER = "请详细说明各地教育局在学前教育、义务教育、高中教育、职业教育和教师队伍建设方面的具体任务、牵头科室、完成时限和量化指标，"


def maximal_body() -> dict:
    from assistant.schemas import MAX_HISTORY_TURNS
    from assistant.service import MAX_QUESTION_CHARS

    text = (FILLER * 10)[:MAX_QUESTION_CHARS]
    return {"question": text, "history": [text] * MAX_HISTORY_TURNS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index: Path, port: int, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(log.parent / "data")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--index", str(index),
                             "--no-build"], cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("server did not start")


def timed_normal(client: httpx.Client, url: str, questions: list[str]) -> list[float]:
    out = []
    for question in questions:
        started = time.perf_counter()
        r = client.post(url + "/api/ask", json={"question": question}, timeout=120)
        r.raise_for_status()
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"p50 {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   max {ms[-1]:7.1f} ms"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--index", type=Path, help="an index folder to copy (default: build one)")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--samples", type=int, default=19, help="normal questions timed per phase (at most 19)")
    p.add_argument("--seconds", type=float, default=60, help="longest flood phase")
    p.add_argument("--verbose", action="store_true", help="list each flood-phase question with its latency")
    args = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="assistant-flood-"))
    index = tmp / "index"
    if args.index:
        shutil.copytree(args.index, index)
    else:
        from assistant.store import IndexStore

        print("building an index of the shipped corpus …", file=sys.stderr)
        IndexStore(index).build(progress=False)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(index, port, tmp / "server.log")
    try:
        body = json.dumps(maximal_body(), ensure_ascii=False).encode()
        with httpx.Client() as client:
            timed_normal(client, url, WARM_UP)
            idle = timed_normal(client, url, NORMAL[:args.samples])
            flood_questions = NORMAL[args.samples:2 * args.samples]
            one = time.perf_counter()
            heavy = client.post(url + "/api/ask", content=body, headers={"content-type": "application/json"},
                                timeout=120)
            heavy_ms = (time.perf_counter() - one) * 1000

            stop = threading.Event()
            statuses: Counter = Counter()

            def flood():
                with httpx.Client() as c:
                    while not stop.is_set():
                        try:
                            r = c.post(url + "/api/ask", content=body, headers={"content-type": "application/json"},
                                       timeout=120)
                            statuses[r.status_code] += 1
                        except httpx.HTTPError as exc:
                            statuses[type(exc).__name__] += 1

            threads = [threading.Thread(target=flood, daemon=True) for _ in range(args.clients)]
            for t in threads:
                t.start()
            time.sleep(2)  # let the flood build up
            flood_ms: list[float] = []
            deadline = time.monotonic() + args.seconds
            for question in flood_questions:
                if time.monotonic() > deadline:
                    break
                flood_ms += timed_normal(client, url, [question])
            stop.set()
            for t in threads:
                t.join(timeout=130)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)

    ratio = statistics.median(flood_ms) / statistics.median(idle)
    print(f"maximal body: {len(body)} bytes, one alone answered in {heavy_ms:.0f} ms (status {heavy.status_code})")
    print(f"normal question, idle:                     {summary(idle)}   (n={len(idle)})")
    print(f"normal question, {args.clients} clients flooding:      {summary(flood_ms)}   (n={len(flood_ms)})")
    print(f"flood p50 / idle p50: {ratio:.2f}x   (goal: within 3x)")
    print(f"flood responses: {dict(statuses)}")
    if args.verbose:
        for question, ms in zip(flood_questions, flood_ms):
            print(f"  {ms:7.1f} ms  {question}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
