"""Which intent a question's ask is: a classifier trained on labelled exemplar questions.

The exemplars (`assistant/data/intents.tsv`) are written with placeholders for the particulars
(某地, 某科室, 第N项, “某事”), and a question is masked the same way before it is classified, so the
model learns how people ask, not what they ask about. Two models are available and compared by
`eval/bench.py --intents` on the labelled dev questions:

- `ngram` (default): TF-IDF over character 1–3-grams + logistic regression (scikit-learn). Question
  words and their order carry the intent; it is fast (≈0.2 ms) and needs no extra embedding call.
- `e5`: k-nearest exemplars by multilingual-e5 cosine similarity (the embedder the index uses).

Measured end to end on the dev set's tuning half (`python -m eval.sweep --intent-models`): n-gram
93.0% pass, 2.4% false answers; e5 kNN 85.6% pass, 14.6% false answers. The n-gram model is kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

EXEMPLARS = Path(__file__).resolve().parent.parent / "data" / "intents.tsv"
NGRAM_RANGE = (1, 3)  # character n-grams: 1 for 几/谁/哪, 2–3 for 多少/哪些/第几/属于
REGULARISATION_C = 8.0  # logistic regression C: the exemplars are few and clean, so fit them closely
KNN_K = 5


@dataclass(frozen=True)
class Exemplar:
    intent: str
    text: str


def load_exemplars(path: Path = EXEMPLARS) -> list[Exemplar]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        intent, _, text = line.partition("\t")
        out.append(Exemplar(intent.strip(), text.strip()))
    return out


class NgramIntentModel:
    """Character n-gram logistic regression over the exemplars."""

    name = "ngram"

    def __init__(self, exemplars: list[Exemplar]):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.vectorizer = TfidfVectorizer(analyzer="char", ngram_range=NGRAM_RANGE, sublinear_tf=True)
        x = self.vectorizer.fit_transform([e.text for e in exemplars])
        self.model = LogisticRegression(C=REGULARISATION_C, max_iter=2000)
        self.model.fit(x, [e.intent for e in exemplars])

    def rank(self, masked: str) -> list[tuple[str, float]]:
        """Intents with their probabilities, best first."""
        probs = self.model.predict_proba(self.vectorizer.transform([masked]))[0]
        order = probs.argsort()[::-1]
        return [(str(self.model.classes_[i]), float(probs[i])) for i in order]


class E5IntentModel:
    """k nearest exemplars by e5 cosine similarity, votes weighted by similarity."""

    name = "e5"

    def __init__(self, exemplars: list[Exemplar], embedder: Any):
        import numpy as np

        self.embedder = embedder
        self.intents = [e.intent for e in exemplars]
        vecs = np.array(embedder.embed_documents([e.text for e in exemplars]), dtype="float32")
        self.matrix = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)

    def rank(self, masked: str) -> list[tuple[str, float]]:
        import numpy as np

        q = np.array(self.embedder.embed_query(masked), dtype="float32")
        sims = self.matrix @ (q / np.linalg.norm(q))
        votes: dict[str, float] = {}
        for i in sims.argsort()[::-1][:KNN_K]:
            votes[self.intents[i]] = votes.get(self.intents[i], 0.0) + float(sims[i])
        total = sum(votes.values()) or 1.0
        return sorted(((k, v / total) for k, v in votes.items()), key=lambda kv: -kv[1])


@lru_cache(maxsize=1)
def default_model() -> NgramIntentModel:
    """The n-gram model, trained once per process (≈50 ms)."""
    return NgramIntentModel(load_exemplars())
