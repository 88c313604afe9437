"""HTTP load test: answers per second and latency of POST /api/ask under concurrent clients.

    .venv/bin/python eval/load.py [--index DIR] [--workers 0,1,2,3] [--clients 1,8] [--seconds 20]
                                  [--query-cache 1024,0]

Starts the real server (`app.py --no-build`) over a copy of the given index (default: a fresh build
of the shipped corpus in a temp folder) once per worker count, drives it with C clients that each
send one question at a time (the dev set's single-turn questions, in a fixed shuffled order), and
prints answers/s, p50/p95/p99 latency, errors, and the server's resident memory. The questions repeat
(204 in turn), so with the servers' query-vector cache (ASSISTANT_QUERY_CACHE, assistant/retrieval.py)
every question after the warm-up is one seen before; `--query-cache 0` rows embed every question, as
for questions never asked before. Not a test: the
figures depend on the machine and what else runs on it (the load average is printed); the goal on
2 cores is ≥ 60 answers/s with 8 clients at p95 ≤ 200 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.score import percentile, table  # noqa: E402

GOAL_RATE, GOAL_P95_MS = 60.0, 200.0


def questions(limit: int | None = None) -> list[str]:
    """Single-turn dev-set questions of every kind (follow-ups need their history: left out)."""
    rows = [json.loads(line) for line in (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    out = [r["question"] for r in rows if r.get("kind") != "follow_up"]
    random.Random(14).shuffle(out)
    return out[:limit] if limit else out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (the answer workers), in MB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(c) for c in children)
    return total / 1024


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live descendants."""
    ticks, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
            todo.extend(int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split())
        except OSError:
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


class Server:
    """app.py on a free loopback port over an index folder, stopped with its process group."""

    def __init__(self, index: Path, workers: int | None, extra_env: dict[str, str] | None = None,
                 extra_args: list[str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = Path(tempfile.mkdtemp(prefix="load-server-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env.update({"ASSISTANT_DATA_DIR": str(self.tmp / "data"), **(extra_env or {})})
        args = [sys.executable, str(ROOT / "app.py"), "--port", str(self.port), "--index", str(index), "--no-build"]
        if workers is not None:
            args += ["--workers", str(workers)]
        self.log = self.tmp / "server.log"
        self.proc = subprocess.Popen(args + (extra_args or []), cwd=ROOT, env=env, stdout=open(self.log, "wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            self.stop()
            raise SystemExit("server did not start")
        # /healthz answers before the workers have warmed up only if they failed: wait for the log line.
        while workers and "ready" not in self.log.read_text(errors="replace") and self.proc.poll() is None:
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


async def drive(url: str, qs: list[str], clients: int, seconds: float) -> dict:
    """C clients, each asking one question at a time for `seconds`; latencies of the answered ones."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        async def client(n: int) -> None:
            i = n * 7
            while time.perf_counter() < stop_at:
                q = qs[i % len(qs)]
                i += 1
                started = time.perf_counter()
                try:
                    r = await http.post("/api/ask", json={"question": q})
                    ok = r.status_code == 200
                    key = str(r.status_code)
                except httpx.HTTPError as exc:
                    ok, key = False, type(exc).__name__
                if ok:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors[key] = errors.get(key, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.perf_counter() - began
    return {"answers": len(latencies), "rate": len(latencies) / elapsed, "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95), "p99": percentile(latencies, 99), "errors": errors}


def measure(index: Path, workers: int | None, clients_list: list[int], seconds: float, qs: list[str],
            query_cache: str | None = None) -> list[dict]:
    """One server with `workers`; a warm-up pass, then one timed run per client count."""
    server = Server(index, workers, extra_env=None if query_cache is None else {"ASSISTANT_QUERY_CACHE": query_cache})
    try:
        asyncio.run(drive(server.url, qs, 2, min(5.0, seconds)))  # warm every worker and code path
        rows = []
        for clients in clients_list:
            cpu_before, server_before = os.times(), tree_cpu_s(server.proc.pid)
            result = asyncio.run(drive(server.url, qs, clients, seconds))
            cpu, server_cpu = os.times(), tree_cpu_s(server.proc.pid) - server_before
            result.update(workers=workers, clients=clients, query_cache=query_cache or "default", rss_mb=rss_mb(server.proc.pid),
                          load_cpu_s=(cpu.user + cpu.system) - (cpu_before.user + cpu_before.system),
                          cpu_ms_per_answer=1000 * server_cpu / max(1, result["answers"]),
                          load_average=os.getloadavg()[0])
            rows.append(result)
        return rows
    finally:
        server.stop()


def build_shipped_index(tmp: Path) -> Path:
    from assistant.store import IndexStore

    IndexStore(tmp / "index").build(progress=False)
    return tmp / "index"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eval/load.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=None, help="index folder (copied; default: build the shipped corpus)")
    parser.add_argument("--workers", default="0,1,2,3", help="worker counts to compare (comma-separated)")
    parser.add_argument("--clients", default="1,8", help="concurrent client counts (comma-separated)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each timed run")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "load.md", help="Markdown copy of the table")
    parser.add_argument("--query-cache", default="1024,0",
                        help="query vectors each server process keeps (comma-separated runs; 0: embed every question)")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="load-"))
    try:
        if args.index:
            shutil.copytree(args.index, tmp / "index")
            index = tmp / "index"
        else:
            print("building the shipped corpus' index in a temp folder …", file=sys.stderr, flush=True)
            index = build_shipped_index(tmp)
        qs = questions()
        rows = []
        for cache in args.query_cache.split(","):
            for workers in [int(w) for w in args.workers.split(",")]:
                print(f"server with --workers {workers}, query cache {cache} …", file=sys.stderr, flush=True)
                rows += measure(index, workers, [int(c) for c in args.clients.split(",")], args.seconds, qs, cache)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    out = [f"# HTTP load (`make load`)\n\nMeasured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. POST /api/ask, {len(qs)} dev-set questions in turn, {args.seconds:.0f} s per run; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f} at the end (other processes count).\n"]
    out.append(table(["query cache", "workers", "clients", "answers/s", "p50 ms", "p95 ms", "p99 ms", "errors", "server RSS MB",
                 "server CPU ms/answer", "load avg", "client CPU s"],
                [[r["query_cache"], str(r["workers"]), str(r["clients"]), f"{r['rate']:.1f}", f"{r['p50']:.0f}", f"{r['p95']:.0f}",
                  f"{r['p99']:.0f}", str(sum(r["errors"].values()) or 0), f"{r['rss_mb']:.0f}",
                  f"{r['cpu_ms_per_answer']:.1f}", f"{r['load_average']:.1f}", f"{r['load_cpu_s']:.1f}"]
                 for r in rows], markdown=True))
    out.append("\nserver CPU ms/answer: CPU time of the server and its workers per answer, whatever else ran: "
          f"{os.cpu_count()} idle cores give at most {os.cpu_count()}000 / that answers/s with enough workers.")
    for cache in args.query_cache.split(","):
        best = [r for r in rows if r["clients"] >= 8 and r["query_cache"] == cache]
        if best:
            top = max(best, key=lambda r: r["rate"])
            met = top["rate"] >= GOAL_RATE and top["p95"] <= GOAL_P95_MS
            out.append(f"\ngoal (≥ {GOAL_RATE:.0f} answers/s with 8 clients, p95 ≤ {GOAL_P95_MS:.0f} ms), query cache {cache}: "
                  f"{'met' if met else 'NOT met'} by --workers {top['workers']} ({top['rate']:.1f}/s, "
                  f"p95 {top['p95']:.0f} ms)")
    text = "\n".join(out) + "\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
