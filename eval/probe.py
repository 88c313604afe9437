"""Rerun of the hardening probe (issue 10) against the real server and CLI; prints the figures.

    .venv/bin/python -m eval.probe [--seed 10] [--bodies 2300] [--lines 2300] [--workers 3] [--verbose]

In a temp folder: a copy of the shipped corpus with hostile entries planted in it (symlinks to
/etc/passwd and out of the folder, a FIFO, a device, odd names), indexed with `python -m assistant
index`; then `app.py` on a free 127.0.0.1 port over that index and corpus, and `python -m assistant
ask --batch` over the same index. Five parts:

  (a) hostile POST /api/ask bodies: no 5xx, every error a JSON object with an `error` field;
  (b) ask --batch lines, good and bad mixed: one result line per non-blank input line, each bad line
      its own error object;
  (c) route probes (unknown routes, wrong methods, Host rebinding, traversal, file= routes,
      HEAD/OPTIONS): status distribution, no 5xx, no file from outside the corpus in any response;
  (d) the hostile corpus entries: nothing outside the corpus indexed, every skip reported;
  (e) questions about items that do not exist: never supported, never another item cited.

Exit status 0 when every figure meets its bound, 1 otherwise. Takes two to four minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.probe_cases import (  # noqa: E402
    MISSING_TEMPLATES, PLAN_SHAPED_SECRET, UNKNOWN_PLACE_QUESTIONS, BatchLine, Body, Entry, RouteProbe,
    batch_lines, malformed_bodies, missing_item_numerals, plant_hostile_entries, random_bodies, route_probes,
    systematic_bodies)

PASSWD_MARKER = "root:x:0:"
APP_MARKER = "GIL_SWITCH_S"  # a name only app.py's source holds
ENV_MARKER_NAME = "PROBE_ENV_MARKER"  # set in the server's environment: /proc/self/environ must not leak


@dataclass
class Figure:
    """One line of the final table: what was measured, the value, and whether it meets the bound."""

    part: str
    what: str
    value: Any
    ok: bool | None = None  # None: informative, no bound


@dataclass
class Run:
    """The temp folders and markers of one probe run."""

    tmp: Path
    corpus: Path
    index: Path
    outside: Path
    secret_marker: str
    env_marker: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, part: str, what: str, value: Any, ok: bool | None = None) -> None:
        self.figures.append(Figure(part, what, value, ok))

    def leaks(self, text: str) -> list[str]:
        """Which foreign contents (outside the corpus) a response or record carries."""
        markers = {"/etc/passwd": PASSWD_MARKER, "secret outside the corpus": self.secret_marker,
                   "app.py source": APP_MARKER, "server environment": self.env_marker}
        return [name for name, marker in markers.items() if marker in text]


# ---- setup -----------------------------------------------------------------------------------------


def prepare(tmp: Path) -> tuple[Run, list[Entry]]:
    """The corpus copy with hostile entries, and a plan-shaped secret just outside it."""
    run = Run(tmp=tmp, corpus=tmp / "plans", index=tmp / "index", outside=tmp / "outside",
              secret_marker=f"PROBE-SECRET-{uuid.uuid4().hex[:12]}", env_marker=f"PROBE-ENV-{uuid.uuid4().hex[:12]}")
    run.outside.mkdir()
    (run.outside / "secret.txt").write_text(PLAN_SHAPED_SECRET.format(marker=run.secret_marker), encoding="utf-8")
    shutil.copytree(ROOT / "corpus" / "plans", run.corpus)
    return run, plant_hostile_entries(run.corpus, run.outside)


def cli(args: list[str], timeout: float, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT, input=stdin, capture_output=True,
                          timeout=timeout, env=_clean_env())


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(run: Run, port: int) -> tuple[subprocess.Popen, Path]:
    """`app.py` over the probe's index and corpus (it checks the index is current, as on any start)."""
    log = run.tmp / "server.log"
    env = _clean_env()
    env.update({"ASSISTANT_DATA_DIR": str(run.tmp / "data"), ENV_MARKER_NAME: run.env_marker,
                "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--index", str(run.index),
                             "--corpus", str(run.corpus)], cwd=ROOT, env=env, stdout=open(log, "wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc, log
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("server did not start within 240 s")


# ---- (d) corpus entries ------------------------------------------------------------------------------


def probe_corpus(run: Run, entries: list[Entry]) -> None:
    """Index the planted corpus with the real CLI; check sources, contents and the skip report."""
    started = time.perf_counter()
    try:
        done = cli(["index", "--corpus", str(run.corpus), "--index", str(run.index), "--json"], timeout=600)
    except subprocess.TimeoutExpired:  # a FIFO or /dev/zero opened would hang here
        run.add("d", "index build finished", "no (hung > 600 s)", False)
        raise SystemExit("index build hung") from None
    run.add("d", "index build exit status", done.returncode, done.returncode == 0)
    report = json.loads(done.stdout.decode().strip().splitlines()[-1])
    reported = "\n".join(report["errors"]) + "\n" + done.stderr.decode(errors="replace")
    regular = {p.name for p in run.corpus.iterdir() if p.is_file() and not p.is_symlink()}
    items = cli(["items", "--index", str(run.index), "--corpus", str(run.corpus), "--json"], timeout=300)
    records = [json.loads(line) for line in items.stdout.decode().splitlines() if line.strip()]
    records = [r for chunk in records for r in (chunk if isinstance(chunk, list) else [chunk])]
    plans = cli(["plans", "--corpus", str(run.corpus), "--json"], timeout=300)
    plan_rows = [p for line in plans.stdout.decode().splitlines() if line.strip()
                 for p in (lambda v: v if isinstance(v, list) else [v])(json.loads(line))]
    foreign_sources = [p["source"] for p in plan_rows if p["source"] not in regular]
    leaked = [r["id"] for r in records if run.leaks(json.dumps(r, ensure_ascii=False))]
    must_skip = [e for e in entries if e.must_skip]
    unreported = [e.name for e in must_skip if e.name not in reported]
    run.add("d", "hostile entries planted (links, FIFO, device, folder, odd names)", len(entries))
    run.add("d", f"  of which must be skipped: {', '.join(sorted({e.kind for e in must_skip}))}", len(must_skip))
    run.add("d", "plans indexed (4 shipped, and odd-named text files inside the folder)", report["plans"])
    run.add("d", "records indexed", report["records"])
    run.add("d", "plans read from a file that is not a regular file in the folder", len(foreign_sources),
            not foreign_sources)
    run.add("d", "records holding foreign contents (/etc/passwd, the outside secret)", len(leaked), not leaked)
    run.add("d", "must-skip entries the index report does not name", len(unreported), not unreported)
    run.add("d", "index build seconds", round(time.perf_counter() - started, 1))
    run.notes += [f"(d) not reported: {name}" for name in unreported]
    run.notes += [f"(d) foreign plan source: {s}" for s in foreign_sources]
    run.notes += [f"(d) foreign contents in record {rid}" for rid in leaked]
    if not any(e.kind == "character device" for e in entries):
        run.notes.append("(d) no device node planted: creating one needs root")


def probe_server_corpus(run: Run, url: str, log: Path, entries: list[Entry]) -> dict[str, set[str]]:
    """What the running server serves: plans and items (checked for foreign contents), and its start log."""
    plans = httpx.get(f"{url}/api/plans", timeout=30).json()
    numbers: dict[str, set[str]] = {}
    leaked = 0
    for plan in plans:
        records = httpx.get(f"{url}/api/plans/{plan['id']}/items", timeout=30).json()
        numbers[plan["id"]] = {r["item"] for r in records if r["item"]} | {f"#{r['id']}" for r in records}
        leaked += sum(bool(run.leaks(json.dumps(r, ensure_ascii=False))) for r in records)
    text = log.read_text(errors="replace")
    unreported = [e.name for e in entries if e.must_skip and e.name not in text]
    run.add("d", "plans the server serves", len(plans))
    run.add("d", "served records holding foreign contents", leaked, leaked == 0)
    run.add("d", "must-skip entries the server's start log does not name", len(unreported), not unreported)
    return numbers


# ---- (a) bodies --------------------------------------------------------------------------------------


def send_body(client: httpx.Client, url: str, body: Body) -> tuple[int, bytes]:
    headers = {"content-type": body.content_type} if body.content_type else {}
    content = body.content() if callable(body.content) else body.content
    try:
        r = client.post(f"{url}/api/ask", content=content, headers=headers, timeout=180)
    except httpx.HTTPError as exc:
        return -1, repr(exc).encode()
    return r.status_code, r.content


def is_json_error(raw: bytes) -> bool:
    try:
        data = json.loads(raw)
    except ValueError:
        return False
    return isinstance(data, dict) and isinstance(data.get("error"), str) and bool(data["error"])


def foreign_citations(raw: bytes, items: dict[str, set[str]]) -> int:
    """Citations of a 200 answer that name no record the server holds."""
    data = json.loads(raw)
    return sum(1 for c in data.get("citations", [])
               if f"#{c.get('id')}" not in items.get(c.get("plan_id"), set()))


def probe_bodies(run: Run, url: str, items: dict[str, set[str]], rng: random.Random, total: int,
                 workers: int, verbose: bool) -> None:
    bodies = systematic_bodies() + malformed_bodies()
    bodies += random_bodies(rng, max(0, total - len(bodies)))
    started = time.perf_counter()
    with httpx.Client() as client, ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda b: send_body(client, url, b), bodies))
    statuses: Counter = Counter()
    families: Counter = Counter()
    server_errors, non_json, bad_cites, failures = 0, 0, 0, 0
    for body, (status, raw) in zip(bodies, results):
        statuses[status] += 1
        families[body.family.split(" ")[0]] += 1
        if status == -1:
            failures += 1
            run.notes.append(f"(a) no response ({body.family}): {raw[:120]!r}")
        elif status >= 500:
            server_errors += 1
            run.notes.append(f"(a) {status} ({body.family}): {_preview(body)} -> {raw[:160]!r}")
        elif status >= 400 and not is_json_error(raw):
            non_json += 1
            run.notes.append(f"(a) non-JSON {status} ({body.family}): {_preview(body)} -> {raw[:160]!r}")
        elif status == 200:
            bad_cites += foreign_citations(raw, items)
    run.add("a", "hostile POST /api/ask bodies sent", len(bodies))
    run.add("a", "  systematic (each wrong value at each nested field) / malformed / random",
            f"{len(systematic_bodies())} / {len(malformed_bodies())} / {len(bodies) - len(systematic_bodies()) - len(malformed_bodies())}")
    run.add("a", "status distribution", _dist(statuses))
    run.add("a", "5xx responses", server_errors, server_errors == 0)
    run.add("a", "error responses that are not a JSON object with `error`", non_json, non_json == 0)
    run.add("a", "connections dropped without a response", failures, failures == 0)
    run.add("a", "citations (in 200 answers) of a record the server does not hold", bad_cites, bad_cites == 0)
    run.add("a", "seconds", round(time.perf_counter() - started, 1))
    if verbose:
        print(f"(a) families: {_dist(families)}", file=sys.stderr)


def _preview(body: Body) -> str:
    raw = body.content if isinstance(body.content, bytes) else b"<chunked>"
    return repr(raw[:100]) + (f"… ({len(raw)} bytes)" if len(raw) > 100 else "")


def _dist(counter: Counter) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items(), key=lambda kv: str(kv[0])))


# ---- (c) routes --------------------------------------------------------------------------------------


def raw_request(port: int, probe: RouteProbe) -> tuple[int, dict[str, str], bytes]:
    """Send the request byte for byte (no client-side path normalisation); read until the server closes."""
    headers = {"Host": f"127.0.0.1:{port}", "Connection": "close", **probe.headers}
    if probe.body:
        headers["Content-Length"] = str(len(probe.body))
    head = f"{probe.method} {probe.target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head.encode("utf-8", "surrogateescape") + b"\r\n" + probe.body)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    head_raw, _, body = raw.partition(b"\r\n\r\n")
    lines = head_raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines and lines[0].startswith("HTTP/") else -1
    parsed = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, parsed, body


def probe_routes(run: Run, port: int, verbose: bool) -> None:
    probes = route_probes(run.corpus, run.index, run.outside / "secret.txt", ROOT)
    statuses: Counter = Counter()
    server_errors, leaks, foreign_host_ok, cors_grants, non_json_api = 0, 0, 0, 0, 0
    for probe in probes:
        try:
            status, headers, body = raw_request(port, probe)
        except OSError as exc:
            status, headers, body = -1, {}, repr(exc).encode()
        statuses[status] += 1
        text = body.decode("utf-8", "replace")
        found = run.leaks(text)
        if status >= 500 or status == -1:
            server_errors += 1
            run.notes.append(f"(c) {status}: {probe.method} {probe.target} {probe.headers} -> {body[:160]!r}")
        if found:
            leaks += 1
            run.notes.append(f"(c) LEAK {found}: {probe.method} {probe.target}")
        host = probe.headers.get("Host")
        if host is not None and host not in ("localhost", "[::1]") and 200 <= status < 300:
            foreign_host_ok += 1
            run.notes.append(f"(c) answered for Host {host!r}: {probe.method} {probe.target} {status}")
        origin = probe.headers.get("Origin")
        if origin and headers.get("access-control-allow-origin") in (origin, "*"):
            cors_grants += 1
            run.notes.append(f"(c) CORS grant to {origin}: {probe.method} {probe.target}")
        if (probe.target.startswith("/api") and status >= 400 and probe.method != "HEAD"
                and not is_json_error(body)):
            non_json_api += 1
            run.notes.append(f"(c) non-JSON /api error {status}: {probe.method} {probe.target} -> {body[:120]!r}")
        if verbose:
            print(f"(c) {status} {probe.method} {probe.target} {probe.headers or ''}", file=sys.stderr)
    run.add("c", "route probes sent", len(probes))
    run.add("c", "status distribution", _dist(statuses))
    run.add("c", "5xx responses (or no response)", server_errors, server_errors == 0)
    run.add("c", "responses carrying a file from outside the corpus", leaks, leaks == 0)
    run.add("c", "2xx answers to a foreign Host header", foreign_host_ok, foreign_host_ok == 0)
    run.add("c", "CORS grants to a foreign Origin", cors_grants, cors_grants == 0)
    run.add("c", "/api error responses that are not JSON with `error`", non_json_api, non_json_api == 0)


# ---- (e) missing items -------------------------------------------------------------------------------


def missing_item_questions(plans: list[dict], numbers: dict[str, set[str]]) -> list[tuple[str, str | None]]:
    """(question, plan id it names or None for an unknown place/year) about items that do not exist."""
    out: list[tuple[str, str | None]] = []
    for plan in plans:
        numbered = [int(n) for n in numbers[plan["id"]] if n.isdigit()]
        if not numbered:  # an odd-named text file of the probe's corpus: a plan without items
            continue
        full = _place(plan)
        short = full[:-1] if full[-1] in "市县区" and len(full) > 2 else full
        for numeral, _ in missing_item_numerals(max(numbered)):
            for i, template in enumerate(MISSING_TEMPLATES):
                place = full if i == 1 else short
                out.append((template.format(place=place, year=plan["year"], n=numeral), plan["id"]))
    out += [(q, None) for q in UNKNOWN_PLACE_QUESTIONS]
    return out


def _place(plan: dict) -> str:
    """The plan's place ("达州市"), from its `place` field or else from its title."""
    found = re.search(r"([\u4e00-\u9fff]{2,4}?[市县区州])", re.sub(r"^\d{4}年", "", plan.get("title", "")))
    return plan.get("place") or (found.group(1) if found else plan["id"].split("-")[0])


def wrong_claim(answer: dict, plan_id: str | None) -> str | None:
    """Why an answer about a missing item is wrong: it is supported, or it cites an item (any item is
    another item than the one asked, which does not exist); citing the named plan's header is fine."""
    if answer.get("supported"):
        return "supported: true"
    cited = [c["id"] for c in answer.get("citations", []) if not (c["id"].endswith(":header") and
                                                                   c.get("plan_id") == plan_id)]
    return f"cites {', '.join(cited)}" if cited else None


def probe_missing_items(run: Run, url: str, numbers: dict[str, set[str]], workers: int) -> None:
    plans = httpx.get(f"{url}/api/plans", timeout=30).json()
    questions = missing_item_questions(plans, numbers)

    def ask(question: str) -> dict:
        r = client.post(f"{url}/api/ask", json={"question": question}, timeout=180)
        return r.json() if r.status_code == 200 else {"supported": False, "citations": [], "status": r.status_code}

    with httpx.Client() as client, ThreadPoolExecutor(workers) as pool:
        answers = list(pool.map(ask, [q for q, _ in questions]))
    wrong = 0
    kinds: Counter = Counter()
    for (question, plan_id), answer in zip(questions, answers):
        kinds[answer.get("kind", answer.get("status"))] += 1
        why = wrong_claim(answer, plan_id)
        if why:
            wrong += 1
            run.notes.append(f"(e) {question} -> {why}: {str(answer.get('answer', ''))[:160]}")
    run.add("e", "questions about items that do not exist (each plan's range +, Chinese numerals, unknown places)",
            len(questions))
    run.add("e", "answers by kind", _dist(kinds))
    run.add("e", "answers supported:true or citing an item other than the one asked", wrong, wrong == 0)


# ---- (b) batch ---------------------------------------------------------------------------------------


def probe_batch(run: Run, rng: random.Random, count: int) -> None:
    lines = batch_lines(rng, count)
    path = run.tmp / "batch.jsonl"
    path.write_bytes(b"\n".join(line.raw for line in lines) + b"\n")
    started = time.perf_counter()
    done = cli(["ask", "--batch", str(path), "--json", "--index", str(run.index)], timeout=1200)
    seconds = time.perf_counter() - started
    out = done.stdout.decode("utf-8", "replace").splitlines()
    expected = [(n, line) for n, line in enumerate(lines, 1) if line.expect != "none"]
    mismatched = 0
    for (lineno, line), text in zip(expected, out):
        problem = _batch_mismatch(lineno, line, text)
        if problem:
            mismatched += 1
            run.notes.append(f"(b) line {lineno} ({line.family}): {problem}")
    families = Counter(line.family for line in lines)
    run.add("b", "ask --batch lines in (good and bad mixed)", len(lines))
    run.add("b", "  by family", _dist(families))
    run.add("b", "non-blank lines in / result lines out",
            f"{len(expected)} / {len(out)}", len(expected) == len(out))
    run.add("b", "lines whose result is not theirs (wrong line number, not an error for a bad line, …)",
            mismatched, mismatched == 0)
    run.add("b", "exit status", done.returncode, done.returncode == 0)
    run.add("b", "seconds", round(seconds, 1))
    if done.returncode != 0:
        run.notes.append(f"(b) stderr: {done.stderr.decode(errors='replace')[-500:]}")


def _batch_mismatch(lineno: int, line: BatchLine, text: str) -> str | None:
    try:
        row = json.loads(text)
    except ValueError:
        return f"result is not JSON: {text[:100]!r}"
    is_error = "error" in row
    if is_error and row.get("line") != lineno:
        return f"error names line {row.get('line')}"
    if line.expect == "error" and not is_error:
        return f"answered: {str(row.get('answer'))[:80]}"
    if line.expect == "answer" and is_error:
        return f"error: {row['error'][:80]}"
    if not is_error and "citations" not in row:
        return "neither an answer nor an error"
    return None


# ---- report ------------------------------------------------------------------------------------------


def print_table(run: Run) -> bool:
    names = {"a": "(a) /api/ask bodies", "b": "(b) ask --batch", "c": "(c) routes", "d": "(d) corpus files",
             "e": "(e) missing items"}
    width = max(len(f.what) for f in run.figures)
    print(f"\n{'part':<20} {'figure':<{width}}  value")
    all_ok = True
    for part in "abcde":
        for f in (f for f in run.figures if f.part == part):
            mark = "" if f.ok is None else ("  ok" if f.ok else "  FAIL")
            all_ok &= f.ok is not False
            print(f"{names[part]:<20} {f.what:<{width}}  {f.value}{mark}")
    if run.notes:
        print("\nnotes:")
        for note in run.notes[:80]:
            print(f"  {note}")
        if len(run.notes) > 80:
            print(f"  … and {len(run.notes) - 80} more")
    print(f"\n{'all bounds met' if all_ok else 'SOME BOUNDS NOT MET'}")
    return all_ok


def guarded(run: Run, part: str, probe: Callable[[], None]) -> None:
    """Run one part; a failure of the probe itself is a failed figure, and the other parts still run."""
    print(f"({part}) …", file=sys.stderr, flush=True)
    try:
        probe()
    except Exception as exc:  # the table must still be printed
        run.add(part, "probe part crashed", f"{exc.__class__.__name__}: {exc}", False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=10)
    p.add_argument("--bodies", type=int, default=2300, help="hostile /api/ask bodies (at least the systematic ones)")
    p.add_argument("--lines", type=int, default=2300, help="ask --batch lines")
    p.add_argument("--workers", type=int, default=3, help="concurrent clients (the heavy lane queues 4)")
    p.add_argument("--keep", action="store_true", help="keep the temp folder (index, logs, batch file)")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)

    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="assistant-probe-"))
    try:
        run, entries = prepare(tmp)
        print(f"(d) indexing a corpus copy with {len(entries)} hostile entries …", file=sys.stderr)
        probe_corpus(run, entries)
        port = free_port()
        proc, log = start_server(run, port)
        url = f"http://127.0.0.1:{port}"
        try:
            items = probe_server_corpus(run, url, log, entries)
            guarded(run, "a", lambda: probe_bodies(run, url, items, rng, args.bodies, args.workers, args.verbose))
            guarded(run, "c", lambda: probe_routes(run, port, args.verbose))
            guarded(run, "e", lambda: probe_missing_items(run, url, items, args.workers))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
        guarded(run, "b", lambda: probe_batch(run, rng, args.lines))
        return 0 if print_table(run) else 1
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
