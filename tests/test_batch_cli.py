"""`ask --batch`: every non-blank input line gets exactly one output line, in order, whatever it holds.

Real CLI in a subprocess over a real index; input as raw bytes (invalid UTF-8, lone surrogates as
JSON escapes, nesting far past the recursion limit).
"""
from __future__ import annotations

import json
import subprocess
import sys

from web_support import ROOT, built_index

GOOD = json.dumps({"id": "good", "question": "学生资助由哪个科室牵头？"}, ensure_ascii=False).encode()


def run_batch(lines: list[bytes], tmp_path, stdin: bool = False) -> list[dict]:
    data = b"\n".join(lines) + b"\n"
    args = [sys.executable, "-m", "assistant", "ask", "--index", str(built_index()), "--json", "--batch"]
    if stdin:
        proc = subprocess.run(args + ["-"], cwd=ROOT, input=data, capture_output=True, timeout=300)
    else:
        path = tmp_path / "q.jsonl"
        path.write_bytes(data)
        proc = subprocess.run(args + [str(path)], cwd=ROOT, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-2000:]
    return [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]


BAD = [
    (b'{"id": "bytes", "question": "\xff\xfe\xe5\xad"}', None, "not UTF-8"),
    (b'{"id": "sq", "question": "\\ud800\xe5\xad\xa6\xe7\x94\x9f"}', "sq", "surrogate"),
    (b'{"id": "sp", "question": "\xe5\xad\xa6\xe7\x94\x9f\xe8\xb5\x84\xe5\x8a\xa9", "plan": "\\udfff"}', "sp", "surrogate"),
    (b'{"id": "sh", "question": "\xe9\x82\xa3\xe5\xae\x83\xe5\x91\xa2", "history": ["\\ud83d"]}', "sh", "surrogate"),
    (b"[" * 5000 + b"]" * 5000, None, "nested too deeply"),
    (b'{"id": "deep", "question": ' + b"[" * 100000 + b"]" * 100000 + b"}", None, "nested too deeply"),
    (b'{"id": "hist", "question": "x", "history": "not a list"}', "hist", "history must be a list"),
    (b'{"id": "plan", "question": "x", "plan": {"$ne": 1}}', "plan", "plan must be"),
    (b'"just a string"', None, "not a JSON object"),
    (b'{"id": "nq"}', "nq", "question"),
    (b"\x00\x01\x02", None, "bad input line"),
]


def test_every_bad_line_is_its_own_error_and_the_batch_goes_on(tmp_path):
    lines, expected = [], []
    for raw, rid, says in BAD:
        lines += [GOOD, raw, b"", b"   "]  # blank lines produce nothing
        expected += [("good", None), (rid, says)]
    lines.append(GOOD)
    expected.append(("good", None))
    rows = run_batch(lines, tmp_path)
    assert len(rows) == len(expected), rows
    numbers = [n for n, raw in enumerate(lines, 1) if raw.strip()]
    for row, (rid, says), lineno in zip(rows, expected, numbers):
        assert row.get("id") == rid, row
        if says is None:
            assert row["citations"] and "error" not in row, row
        else:
            assert says in row["error"], row
            assert row["line"] == lineno, row


def test_invalid_utf8_does_not_lose_the_lines_before_it_on_stdin(tmp_path):
    lines = [GOOD] * 30 + [b"\xff"] + [GOOD] * 5
    rows = run_batch(lines, tmp_path, stdin=True)
    assert len(rows) == 36
    assert rows[30] == {"id": None, "line": 31, "error": rows[30]["error"]} and "not UTF-8" in rows[30]["error"]
    assert all(r["id"] == "good" for i, r in enumerate(rows) if i != 30)
