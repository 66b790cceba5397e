"""Public datasets for ``benchmarks/classify.py`` (read from ``../shared/data``, never copied).

- BANKING77 test set: 3,080 banking queries, 77 intents (clustering).
- CLINC150: in-scope train (15,000) and test (4,500), 150 intents (intent accuracy).
- US airline tweets: the negative tweets with a ``negativereason`` (tagging, 10 classes).
- A speed corpus of distinct texts from all of the above plus NLU++ (banking, hotels).
"""

from __future__ import annotations

import csv
import glob
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class Labelled:
    """Texts and one label each."""

    texts: list[str]
    labels: list[str]

    def subset(self, rows: np.ndarray | list[int]) -> Labelled:
        return Labelled([self.texts[i] for i in rows], [self.labels[i] for i in rows])


def _need(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path}: dataset not found (expected under {DATA})")
    return path


def _csv(path: Path) -> list[dict[str, str]]:
    with _need(path).open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        return list(csv.DictReader(handle))


def banking77(split: str = "test") -> Labelled:
    rows = _csv(DATA / "banking77" / f"{split}.csv")
    return Labelled([r["text"] for r in rows], [r["category"] for r in rows])


def clinc150(split: str) -> Labelled:
    """``train`` / ``val`` / ``test`` in-scope queries (out-of-scope ones left out)."""
    data = json.loads(_need(DATA / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    pairs = data[split]
    return Labelled([t for t, _ in pairs], [label for _, label in pairs])


def airline_complaints() -> Labelled:
    """Negative tweets with their negative reason (the label set of the tagging task)."""
    rows = _csv(DATA / "twitter_us_airline_sentiment" / "Tweets.csv")
    keep = [r for r in rows if r["airline_sentiment"] == "negative" and r["negativereason"]]
    return Labelled([r["text"] for r in keep], [r["negativereason"] for r in keep])


AIRLINES = ("United", "US Airways", "USAirways", "American", "AmericanAir", "American Airlines",
            "Southwest", "SouthwestAir", "Delta", "JetBlue", "Virgin America", "VirginAmerica",
            "Virgin")  # fmt: skip
"""The airline names a user would list in ``models/stopwords.txt`` for these tweets."""


def airline_of_complaints() -> list[str]:
    """The airline each of ``airline_complaints()``'s tweets is about (same order)."""
    rows = _csv(DATA / "twitter_us_airline_sentiment" / "Tweets.csv")
    keep = [r for r in rows if r["airline_sentiment"] == "negative" and r["negativereason"]]
    return [r["airline"] for r in keep]


def split(data: Labelled, test_fraction: float = 0.2, seed: int = 0) -> tuple[Labelled, Labelled]:
    """Stratified train / test split."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(data.texts))
    train, test = train_test_split(
        rows, test_size=test_fraction, random_state=seed, stratify=data.labels
    )
    return data.subset(sorted(train)), data.subset(sorted(test))


def few_shot(data: Labelled, per_class: int, seed: int) -> Labelled:
    """``per_class`` random examples of every label (fewer where a label has fewer)."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(data.labels)
    rows: list[int] = []
    for label in sorted(set(data.labels)):
        where = np.flatnonzero(labels == label)
        rows += rng.choice(where, size=min(per_class, len(where)), replace=False).tolist()
    return data.subset(sorted(rows))


def speed_corpus(n: int = 50_000) -> list[str]:
    """``n`` distinct texts: BANKING77, CLINC150 (all splits), airline tweets, NLU++."""
    texts: list[str] = []
    for name in ("train", "test"):
        texts += banking77(name).texts
    data = json.loads(_need(DATA / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    for pairs in data.values():
        texts += [t for t, _ in pairs]
    texts += [r["text"] for r in _csv(DATA / "twitter_us_airline_sentiment" / "Tweets.csv")]
    for path in sorted(glob.glob(str(DATA / "nlupp" / "*" / "fold*.json"))):
        texts += [x["text"] for x in json.loads(Path(path).read_text(encoding="utf-8"))]
    distinct = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
    if len(distinct) < n:
        raise ValueError(f"only {len(distinct)} distinct texts in {DATA}; asked for {n}")
    rng = np.random.default_rng(0)
    return [distinct[i] for i in sorted(rng.choice(len(distinct), size=n, replace=False))]


def write_csv(texts: list[str], path: Path, column: str = "text") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([column])
        writer.writerows([t] for t in texts)
    return path
