"""Inputs of the hardening probe (eval/probe.py): hostile /api/ask bodies, batch lines, route probes,
hostile corpus entries and questions about items that do not exist.

Every generator is deterministic for a given `random.Random`, so a run can be repeated exactly.
Nothing here talks to the server; eval/probe.py sends, checks and counts.
"""
from __future__ import annotations

import copy
import json
import os
import random
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import cn2an

# ---- /api/ask bodies ------------------------------------------------------------------------------


@dataclass
class Body:
    """One request to POST /api/ask: raw bytes and the headers they go with."""

    family: str
    content: bytes | Callable[[], Any]  # a callable yields chunks (sent with chunked transfer encoding)
    content_type: str | None = "application/json"


# A full, valid body: every nested field of the request schema is present, so each can be broken.
# The only history turn is an answer object (a plain-string turn is answered again, which is slow).
BASE_BODY: dict = {
    "question": "达州2020年第17项由哪个科室牵头？",
    "plan": "dazhou-2020",
    "history": [{
        "question": "达州2020年第17项讲什么？",
        "answer": {
            "answer": "第17项「深入推进教育信息化建设和应用」〔达州市教育局2020年工作要点·第17项〕",
            "supported": True,
            "kind": "item",
            "citations": [{
                "plan": "达州市教育局2020年工作要点", "plan_id": "dazhou-2020", "item": "17",
                "section": ["三、扩大公平优质教育资源供给"], "title": "深入推进教育信息化建设和应用",
                "lead_units": ["市电教技装中心"], "responsible_units": ["机关各科室"],
                "quote": "“三通两平台”建设短板得到改善", "id": "dazhou-2020:17"}],
            "context": {"plan_id": "dazhou-2020", "item_id": "dazhou-2020:17", "section": "三",
                        "unit": "市电教技装中心", "topic": ["信息化"], "inherited": ["plan"]},
        },
    }],
}


def _deep_list(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def _deep_dict(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {"a": value}
    return value


# Values put in place of every field: wrong types, numbers as strings, Chroma operators, lone
# surrogates, control characters, traversal strings, huge and deeply nested values.
WRONG_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, 1e308, "17", "", " ", "x", "\ud800", "a\udfff\ud800b", "\x00\x1b[31m",
    "../../etc/passwd", "dazhou-2020' OR '1'='1", "字" * 600, "字" * 40_000, [], [None], [1, "a", {}],
    {}, {"$ne": None}, {"$gt": ""}, {"$or": [{"plan_id": "x"}]}, {"$in": ["dazhou-2020"]},
    _deep_list(60), _deep_dict(60), _deep_list(900),
]


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON value (keys and list indexes), the root excluded."""
    out: list[tuple] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        out.append(prefix + (key,))
        out.extend(_paths(child, prefix + (key,)))
    return out


def _replaced(doc: Any, path: tuple, new: Any) -> Any:
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return doc


def _removed(doc: Any, path: tuple) -> Any:
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return doc


def _json_bytes(value: Any) -> bytes:
    # ensure_ascii: a lone surrogate travels as a \ud800 escape, which is valid JSON text
    return json.dumps(value).encode()


def systematic_bodies() -> list[Body]:
    """Each wrong value at each field of BASE_BODY; each field removed; an unknown key in each object."""
    out: list[Body] = []
    paths = _paths(BASE_BODY)
    for path in paths:
        label = ".".join(str(p) for p in path)
        for value in WRONG_VALUES:
            out.append(Body(f"field {label}", _json_bytes(_replaced(BASE_BODY, path, value))))
        out.append(Body(f"field {label}", _json_bytes(_removed(BASE_BODY, path))))
    objects = [()] + [p for p in paths if isinstance(_get(BASE_BODY, p), dict)]
    for path in objects:
        for key in ("extra", "$where", "__proto__", "\ud800"):
            doc = copy.deepcopy(BASE_BODY)
            _get(doc, path)[key] = {"$ne": None}
            out.append(Body("unknown key", _json_bytes(doc)))
    # a plain-string history turn and the bound on turns
    for turns in (["学生资助由哪个科室牵头？"], ["\ud800"], [17], [None], ["字" * 501], ["第17项"] * 9):
        out.append(Body("string turns", _json_bytes(dict(BASE_BODY, history=turns))))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def malformed_bodies() -> list[Body]:
    """Bodies that are not the JSON object the schema describes, or not JSON at all."""
    good = _json_bytes(BASE_BODY)
    raw: list[bytes] = [
        b"", b" ", b"null", b"[]", b"[{}]", b'"question"', b"17", b"true", b"{", b"}", b"{}",
        b'{"question": }', b"{'question': 'x'}", b'{"question": "x",}', b'{"question": "x"} trailing',
        b'{"question": "x" /* c */}', b'{"question": NaN}', b'{"question": Infinity}', b'{"question": -Infinity}',
        b'{"question": 1e999}', b'{"question": ' + b"9" * 5000 + b"}", b'{"question": "x", "question": 17}',
        b'{"question": "\\ud800"}', b'{"question": "\\udc00\\ud800"}', b'{"question": "\\u0000"}',
        b'{"question": "\xed\xa0\x80"}', b'{"question": "\xff\xfe"}', b'{"question": "\xc0\xaf"}',
        b'{"question": "\xe5\xad"}', b"\xef\xbb\xbf" + good, b"\xff" + good, good + b"\x00",
        "{\"question\": \"学生资助\"}".encode("utf-16"), "{\"question\": \"学生资助\"}".encode("gbk"),
        b"[" * 100_000 + b"]" * 100_000, b'{"question": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"history": ' + b"[" * 20_000 + b"]" * 20_000 + b', "question": "x"}',
        b'{"question": "' + "字".encode() * 30_000 + b'"}', b'{"question": "x", "pad": "' + b"a" * 70_000 + b'"}',
        b"{" * 50_000, b'{"question": "x"}' * 5000,
    ]
    raw += [good[:cut] for cut in range(1, len(good), max(1, len(good) // 40))]  # truncated anywhere
    out = [Body("malformed JSON", b) for b in raw]
    # numbers as strings and other near-misses of the top-level fields
    for doc in ({"question": 17}, {"question": "17"}, {"question": 17.0}, {"question": ["x"]}, {"question": {"q": 1}},
                {"question": True}, {"question": None}, {"plan": "dazhou-2020"}, {"question": "x", "plan": 2020},
                {"question": "x", "plan": ["dazhou-2020"]}, {"question": "x", "plan": {"$ne": ""}},
                {"question": "x", "history": "学生资助"}, {"question": "x", "history": {"0": "a"}},
                {"question": "x", "history": 3}, {"question": "x", "plan": "nowhere-1999"}, {"question": "   "}):
        out.append(Body("numbers as strings / near misses", _json_bytes(doc)))
    for ctype in (None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                  "application/xml", "application/json; charset=latin-1", "application/json; charset=utf-16",
                  "application/json, text/html", "application/jsonx", "*/*", "application/vnd.api+json",
                  "text/json", "application/json; boundary=\"", "APPLICATION/JSON"):
        out.append(Body("content type", good, ctype))
    out.append(Body("content type", b"question=%E5%AD%A6&plan=x", "application/x-www-form-urlencoded"))
    out.append(Body("content type", b'--x\r\nContent-Disposition: form-data; name="question"\r\n\r\nhi\r\n--x--\r\n',
                    "multipart/form-data; boundary=x"))
    out.append(Body("chunked", lambda: iter([b"a" * 8192] * 16)))  # 128 KB, no Content-Length
    out.append(Body("chunked", lambda: iter([good[:10], good[10:]])))
    return out


def _random_text(rng: random.Random, max_len: int = 40) -> str:
    """Characters from every plane, lone surrogates and controls included."""
    pools = [(0x20, 0x7E), (0x4E00, 0x9FFF), (0xD800, 0xDFFF), (0x0, 0x1F), (0xFF01, 0xFF5E), (0x10000, 0x10FFFF),
             (0x300, 0x36F), (0x202A, 0x202E)]
    chars = []
    for _ in range(rng.randint(0, max_len)):
        lo, hi = rng.choice(pools)
        chars.append(chr(rng.randint(lo, hi)))
    return "".join(chars)


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randint(0, 9 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2 ** 63, -(2 ** 64), rng.randint(-10 ** 6, 10 ** 6)])
    if kind == 3:
        return rng.choice([0.5, -1e-300, 1e300, rng.random()])
    if kind in (4, 5, 6):
        return rng.choice([_random_text(rng), rng.choice(["dazhou-2020", "dazhou-2020:17", "x:header", "17", ""])])
    if kind in (7, 8):
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["$ne", "$gt", "plan_id", "id", _random_text(rng, 8)]): _random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 4))}


def random_bodies(rng: random.Random, count: int) -> list[Body]:
    """BASE_BODY with one to three fields replaced by random values, or random keys added."""
    paths = _paths(BASE_BODY)
    out: list[Body] = []
    for _ in range(count):
        doc = copy.deepcopy(BASE_BODY)
        for path in rng.sample(paths, rng.randint(1, 3)):
            try:
                target = _get(doc, path[:-1])
                if rng.random() < 0.15 and isinstance(target, dict):
                    target[_random_text(rng, 6)] = _random_value(rng)
                else:
                    target[path[-1]] = _random_value(rng)
            except (KeyError, IndexError, TypeError):  # an earlier replacement removed the parent
                continue
        if rng.random() < 0.3:  # a short random question the engine really answers
            doc["question"] = _random_text(rng, 30) or "?"
        out.append(Body("random", _json_bytes(doc)))
    return out


# ---- ask --batch lines -------------------------------------------------------------------------------

GOOD_QUESTIONS = [
    "学生资助由哪个科室牵头？", "达州2020年第17项讲什么？", "邵东今年要新增多少学位？", "哪些计划提到县管校聘？",
    "基教科牵头哪些任务？", "衡阳2022年第3项是什么？", "永顺2023第1项讲什么？", "明厨亮灶归谁管",
    "达州2020年第一百项是什么？", "北京第17项是什么？", "校园安全由哪个科室牵头？", "第二部分包括哪些条目？",
]


@dataclass
class BatchLine:
    """One input line and what must come out of it: 'answer', 'error', 'either' or 'none' (blank)."""

    raw: bytes
    expect: str
    family: str


def _line(value: Any, expect: str, family: str) -> BatchLine:
    return BatchLine(json.dumps(value).encode(), expect, family)


def bad_batch_lines() -> list[BatchLine]:
    """One of each kind of bad line the issue names, and more of the same families."""
    q = "学生资助由哪个科室牵头？"
    lines = [
        _line({"id": "s1", "question": "\ud800"}, "error", "lone surrogate"),
        _line({"id": "s2", "question": q + "\udfff"}, "error", "lone surrogate"),
        _line({"id": "s3", "question": q, "plan": "\ud800"}, "error", "lone surrogate"),
        _line({"id": "s4", "question": q, "history": ["\ud800"]}, "error", "lone surrogate"),
        _line({"id": "\ud800", "question": "\ud800"}, "error", "lone surrogate"),
        _line({"id": "s5", "question": q, "history": [{"question": "a", "answer": {"answer": "\udc00"}}]}, "error",
              "lone surrogate"),
        BatchLine(b'{"id": "u1", "question": "\xff"}', "error", "invalid UTF-8"),
        BatchLine(b'{"id": "u2", "question": "\xed\xa0\x80"}', "error", "invalid UTF-8"),
        BatchLine(b'{"id": "u3", "question": "\xe5\xad"}', "error", "invalid UTF-8"),
        BatchLine(b'{"id": "u4", "question": "\xc0\xaf"}', "error", "invalid UTF-8"),
        BatchLine(b"\xfe\xff\x00{", "error", "invalid UTF-8"),
        BatchLine(b"\xff" * 100, "error", "invalid UTF-8"),
        BatchLine(b"[" * 5000 + b"]" * 5000, "error", "deep nesting"),
        BatchLine(b'{"a":' * 5000 + b"1" + b"}" * 5000, "error", "deep nesting"),
        BatchLine(b'{"id": "d1", "question": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "error", "deep nesting"),
        BatchLine(b'{"id": "d2", "question": "x", "history": ' + b"[" * 3000 + b"]" * 3000 + b"}", "error",
                  "deep nesting"),
        BatchLine(b"[" * 200_000, "error", "deep nesting"),
        BatchLine(b"17", "error", "not an object"), BatchLine(b'"question"', "error", "not an object"),
        BatchLine(b"[]", "error", "not an object"), BatchLine(b"null", "error", "not an object"),
        BatchLine(b"true", "error", "not an object"),
        BatchLine(b'[{"question": "x"}]', "error", "not an object"),
        BatchLine(b"{", "error", "invalid JSON"), BatchLine(b"question: x", "error", "invalid JSON"),
        BatchLine(b"{'question': 'x'}", "error", "invalid JSON"), BatchLine(b'{"question": "x"} {}', "error",
                                                                            "invalid JSON"),
        BatchLine(b'{"id": "n1", "question": ' + b"9" * 5000 + b"}", "error", "invalid JSON"),
        BatchLine(b'{"id": "n2", "question": NaN}', "error", "wrong type"),
        BatchLine(b'{"id": "n3", "question": 1e999}', "error", "wrong type"),
        BatchLine(b"\xef\xbb\xbf" + json.dumps({"id": "b1", "question": q}).encode(), "either", "BOM"),
        BatchLine(json.dumps({"id": "c1", "question": q}).encode() + b"\r", "answer", "CRLF"),
        BatchLine(b'{"id": "z1", "question": "a\x00b"}', "error", "invalid JSON"),
    ]
    for value in (17, None, [], ["x"], {"$ne": 1}, True, ""):
        lines.append(_line({"id": "t-question", "question": value}, "error", "wrong type"))
    for value in (17, ["dazhou-2020"], {"$ne": ""}, True):
        lines.append(_line({"id": "t-plan", "question": q, "plan": value}, "error", "wrong type"))
    for value in ("学生资助", 3, {"0": "a"}, [17], [None], [{"answer": {}}], [{"question": 1}]):
        lines.append(_line({"id": "t-history", "question": q, "history": value}, "either", "wrong type"))
    lines += [_line({"id": "long", "question": "字" * 501}, "error", "too long"),
              _line({"id": "huge", "question": "字" * 300_000}, "error", "too long"),
              _line({"id": "noq"}, "error", "no question"), _line({"id": "blankq", "question": "  "}, "error",
                                                                  "no question"),
              _line({"id": "plan?", "question": q, "plan": "nowhere-1999"}, "either", "unknown plan")]
    return lines


def batch_lines(rng: random.Random, count: int) -> list[BatchLine]:
    """About `count` lines: each bad kind repeated, good questions, blank lines, shuffled."""
    bad = bad_batch_lines()
    blanks = [BatchLine(b, "none", "blank") for b in (b"", b"   ", b"\t", b"\r")]
    out: list[BatchLine] = []
    n_bad = count // 2
    for i in range(n_bad):
        proto = bad[i % len(bad)]
        out.append(BatchLine(proto.raw, proto.expect, proto.family))
    for i in range(count // 25):
        out.append(blanks[i % len(blanks)])
    for i in range(count - len(out)):
        out.append(_line({"id": f"g{i}", "question": rng.choice(GOOD_QUESTIONS)}, "answer", "good"))
    rng.shuffle(out)
    return out


# ---- route probes ------------------------------------------------------------------------------------


@dataclass
class RouteProbe:
    """One raw HTTP request (the target is sent byte for byte, never normalised)."""

    family: str
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def route_probes(corpus: Path, index: Path, outside_secret: Path, root: Path) -> list[RouteProbe]:
    """Unknown routes, wrong methods, foreign Host names, traversal and file= routes, HEAD/OPTIONS."""
    evil = {"Host": "evil.example"}
    probes = [RouteProbe("baseline", "GET", t) for t in ("/healthz", "/api/plans", "/openapi.json", "/docs", "/")]
    probes += [RouteProbe("unknown route", "GET", t) for t in (
        "/api/x", "/api/", "/api", "/api/items", "/api/items/", "/api/items/nope:1", "/api/plans/nope/items",
        "/admin", "/.env", "/.git/config", "/index/CURRENT.json", "/corpus/plans/dazhou-2020.txt", "/app.py")]
    probes += [RouteProbe("traversal", "GET", t) for t in (
        "/api/items/..%2f..%2fetc%2fpasswd", "/api/items/..%2F..%2F..%2F..%2Fetc%2Fpasswd", "/api/items/../../etc/passwd",
        "/api/plans/..%2f..%2fetc/items", "/api/items/%2e%2e%2f%2e%2e%2fapp.py", "/api/items/passwd:p0",
        "/api/items/secret:p0", "/..%2f..%2f..%2fetc%2fpasswd", "/static/../../../../etc/passwd",
        "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd", "/docs-assets/../../app.py", "/docs-assets/..%2f..%2fapp.py",
        "/docs-assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/gradio_api/static/..%2f..%2f..%2fetc%2fpasswd")]
    files = ["/etc/passwd", str(outside_secret), str(corpus / "passwd.txt"), str(corpus / "secret.txt"), "app.py",
             str(root / "app.py"), "../../../../etc/passwd", "%2Fetc%2Fpasswd", str(index / "CURRENT.json"),
             "/proc/self/environ", str(corpus / "dazhou-2020.txt")]
    probes += [RouteProbe("file= route", "GET", f"{prefix}/file={f}") for prefix in ("", "/gradio_api") for f in files]
    probes += [RouteProbe("wrong method", m, t) for m, t in (
        ("GET", "/api/ask"), ("PUT", "/api/ask"), ("DELETE", "/api/ask"), ("PATCH", "/api/plans"),
        ("POST", "/api/plans"), ("DELETE", "/api/items/dazhou-2020:17"), ("POST", "/healthz"), ("TRACE", "/"),
        ("FOO", "/api/plans"))]
    probes += [RouteProbe("Host rebinding", "GET", "/api/plans", {"Host": h}) for h in (
        "evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "127.0.0.1@evil.example", "evil.example:80",
        "", "localhost", "[::1]")]
    probes += [RouteProbe("Host rebinding", "POST", "/api/ask", dict(evil, **{"Content-Type": "application/json"}),
                          b'{"question": "x"}'),
               RouteProbe("Host rebinding", "GET", "/", evil), RouteProbe("Host rebinding", "GET", "/healthz", evil)]
    probes += [RouteProbe("HEAD/OPTIONS", m, t, h) for m, t, h in (
        ("HEAD", "/", {}), ("HEAD", "/api/plans", {}), ("HEAD", "/healthz", {}), ("HEAD", "/api/ask", {}),
        ("OPTIONS", "/api/ask", {}), ("OPTIONS", "*", {}),
        ("OPTIONS", "/api/ask", {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}),
        ("GET", "/api/plans", {"Origin": "http://localhost:9999"}),
        ("GET", "/api/plans", {"Origin": "http://evil.example"}))]
    return probes


# ---- hostile corpus entries --------------------------------------------------------------------------


@dataclass
class Entry:
    """A corpus entry the loader must skip (and report) or may read as an ordinary file."""

    name: str
    kind: str
    must_skip: bool  # True: never read, and named in the skip report


def plant_hostile_entries(corpus: Path, outside: Path) -> list[Entry]:
    """Symlinks to /etc/passwd and out of the folder, a FIFO, a device, a folder, odd file names.

    `outside` holds a plan-shaped secret: if any link to it were followed it would be indexed.
    """
    secret = outside / "secret.txt"
    entries: list[Entry] = []

    def link(name: str, target: str | Path, kind: str) -> None:
        os.symlink(target, corpus / name)
        entries.append(Entry(name, kind, True))

    link("passwd.txt", "/etc/passwd", "symlink to /etc/passwd")
    link("secret.txt", Path("..") / outside.name / "secret.txt", "symlink escaping via ../")
    link("secret-abs.md", secret, "symlink to a file outside (absolute)")
    link("plan-link.txt", corpus / "dazhou-2020.txt", "symlink to a plan inside the folder")
    link("zero.txt", "/dev/zero", "symlink to /dev/zero")
    link("etc.txt", "/etc", "symlink to a folder")
    link("dangling.txt", corpus / "nowhere.txt", "dangling symlink")
    link("loop.txt", "loop.txt", "symlink loop")
    os.mkfifo(corpus / "fifo.txt")
    entries.append(Entry("fifo.txt", "FIFO", True))
    try:  # creating a device node needs root; without it the probe says so
        os.mknod(corpus / "null.txt", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        entries.append(Entry("null.txt", "character device", True))
    except PermissionError:
        pass
    (corpus / "sub.txt").mkdir()  # a folder named like a plan, with the secret inside
    (corpus / "sub.txt" / "plan.txt").write_bytes(secret.read_bytes())
    entries.append(Entry("sub.txt", "folder", True))
    for name, data in (("-rf .txt", b""), ("名 字;$(id).txt", os.urandom(300)), ("a\nb.txt", b"\x00" * 64),
                       ("%2e%2e%2fetc%2fpasswd.txt", b"not a plan"), ("CON.md", "随便写点".encode("gbk")),
                       ("x" * 200 + ".txt", b"\xff\xfe"), ("..txt", b"hidden by its leading dot")):
        (corpus / name).write_bytes(data)
        entries.append(Entry(name, "odd name", False))
    odd = os.fsencode(str(corpus)) + b"/\xff\xfe-bytes.txt"  # a name that is not valid UTF-8
    with open(odd, "wb") as fh:
        fh.write(b"\x00\x01")
    entries.append(Entry(os.fsdecode(b"\xff\xfe-bytes.txt"), "odd name (not UTF-8)", False))
    return entries


PLAN_SHAPED_SECRET = "探针市教育局2019年工作要点\n一、保密\n1.{marker}任务\n牵头单位：基教科\n2.第二项{marker}\n"


# ---- questions about items that do not exist --------------------------------------------------------


def _chinese(n: int) -> str:
    return cn2an.an2cn(n)


def missing_item_numerals(max_item: int) -> list[tuple[str, str]]:
    """(numeral as written, why) for item numbers a plan with items 1..max_item does not have."""
    arabic = [str(max_item + 1), str(max_item + 2), str(max_item + 10), "99", "100", "101", "120", "200", "1000",
              "1001", "0", "-1", "1e9", "1e3", "1.5", "０", "１００"]
    chinese = [_chinese(max_item + 1), _chinese(max_item + 7), "一百", "两百", "二百", "一百零一", "一百一十", "一千",
               "一万", "零", "负一", "九十九", "壹佰"]
    return [(a, "arabic") for a in arabic] + [(c, "chinese") for c in chinese]


MISSING_TEMPLATES = ["{place}{year}年第{n}项是什么？", "{place}{year}年工作要点第{n}项由哪个科室牵头？",
                     "{place}的第{n}条讲什么？"]

UNKNOWN_PLACE_QUESTIONS = [
    "北京第17项是什么？", "北京市第17项是什么？", "北京第一项讲什么？", "上海2020年第3项是什么？", "上海第3项由哪个科室牵头？",
    "天津第5项讲什么？", "重庆第2项是什么？", "深圳第一项讲什么？", "益阳2021年第3项是什么？", "湖北省第3项是什么？",
    "长沙市教育局2020年工作要点第17项由哪个科室牵头？", "成都第1项是什么？", "广州教育局第3项是什么？",
    "杭州2022年第5项讲什么？", "达州2019年第3项是什么？", "衡阳2020年第3项是什么？", "永顺2020年第1项讲什么？",
    "邵东2023年第2项是什么？", "湖南省2023年第1项是什么？", "武汉市第十项是什么？", "南京第二十项由谁牵头？",
]
