"""Tagging quality: the default tagger and its alternatives on written comment sets.

    .venv/bin/python benchmarks/tagging.py                       # dev, dev2, dev3, held-out
    .venv/bin/python benchmarks/tagging.py --sets dev,dev2,dev3 --methods rules,lr,combined
    .venv/bin/python benchmarks/tagging.py --methods setfit   # pip install -e ".[setfit]" first

The sets are survey comments labelled by ``models/TAGGING_GUIDE.md``, each by its own writer,
who saw neither the example bank nor the other sets:

- ``dev``, ``dev2``, ``dev3``: lines of the example bank (``models/tag_examples.jsonl``,
  ``group``). Each is scored *left out*: every model is trained on the bank without that
  set's lines, so a set is never scored by a model that learned from it. They choose
  between methods, by the mean of their macro-F1; the shipped model learns from all three.
- ``heldout``: ``benchmarks/data/tag_heldout.jsonl``, in no training data, written before
  anyone saw a tagger's output on it, only reported (once per round of changes), scored
  by the model trained on the whole bank (the shipped default).

Methods (every model learns from the same training data, ``classify.default_model.training_set``):

- ``rules``: the taxonomy's spaCy patterns with negation (``RuleTagger``, via the prefilter);
- ``lr``: logistic regression per tag on MiniLM embeddings + word n-grams, per-tag
  cross-validated cut-offs (the default model, ``LearnedTagger``), model only;
- ``knn``: similarity-weighted vote of the k nearest bank examples (cosine on MiniLM),
  per-tag cut-offs by leave-one-out on the bank, model only;
- ``setfit``: SetFit (contrastive fine-tuning of the same MiniLM, then a logistic head per
  tag), model only;
- ``combined``: what ``qa text tag`` runs: rules + ``lr`` with the negation guards and
  the rule floors (``CombinedTagger``); ``rules+knn`` / ``rules+setfit``: rule hits united with that
  model's (no guards).

Prints one Markdown table: macro-F1 and per-tag F1 per method and set.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "benchmarks"]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

DATA = REPO / "benchmarks" / "data"
HELDOUT = DATA / "tag_heldout.jsonl"
BANK_SETS = ("dev", "dev2", "dev3")
"""Comment sets kept in the example bank (``group``), each scored left out."""
METHODS = ("rules", "lr", "knn", "setfit", "combined", "rules+knn", "rules+setfit")
Predict = Callable[[list[str]], list[set[str]]]


@dataclass(frozen=True)
class Labelled:
    texts: list[str]
    gold: list[set[str]]


def load_set(path: Path) -> Labelled:
    """A ``{"text", "tags"}`` JSONL set."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return Labelled([r["text"] for r in rows], [set(r["tags"]) for r in rows])


def bank_set(bank: object, name: str) -> Labelled:
    """The bank lines of comment set ``name`` (``ExampleBank.groups``)."""
    lines = bank.groups().get(name, ())  # type: ignore[attr-defined]
    if not lines:
        raise SystemExit(f"no lines of set {name!r} in the example bank")
    return Labelled([ex.text for ex in lines], [set(ex.tags) for ex in lines])


def f1_table(pred: Sequence[set[str]], gold: Sequence[set[str]], tags: Sequence[str]) -> dict:
    """Per-tag precision / recall / F1 and their macro-F1."""
    out: dict[str, dict[str, float]] = {}
    for tag in tags:
        tp = sum(tag in p and tag in g for p, g in zip(pred, gold, strict=True))
        fp = sum(tag in p and tag not in g for p, g in zip(pred, gold, strict=True))
        fn = sum(tag not in p and tag in g for p, g in zip(pred, gold, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[tag] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    macro = float(np.mean([v["f1"] for v in out.values()]))
    return {"macro_f1": macro, "tags": out}


# --- methods -----------------------------------------------------------------------------


def _tag_sets(hits: Sequence[Sequence[object]]) -> list[set[str]]:
    return [{h.tag for h in row} for row in hits]  # type: ignore[attr-defined]


def rules_method() -> Predict:
    from classify import RuleTagger
    from classify.combined import CombinedTagger

    tagger = CombinedTagger(RuleTagger(), None).fit()
    return lambda texts: _tag_sets(tagger.tag_many(texts, "comment"))


def lr_method(model: object) -> Predict:
    return lambda texts: _tag_sets(model.tag_many(texts, "comment"))  # type: ignore[attr-defined]


def combined_method(model: object) -> Predict:
    from classify import RuleTagger
    from classify.combined import CombinedTagger

    tagger = CombinedTagger(RuleTagger(), model).fit()
    return lambda texts: _tag_sets(tagger.tag_many(texts, "comment"))


def union(a: Predict, b: Predict) -> Predict:
    return lambda texts: [x | y for x, y in zip(a(texts), b(texts), strict=True)]


class KnnTags:
    """Similarity-weighted vote of the ``k`` nearest examples, a cut-off per tag."""

    def __init__(self, embedder: object, k: int = 9):
        self.embedder = embedder
        self.k = k

    def fit(self, texts: list[str], y: list[set[str]], unknown: list[set[str]]) -> KnnTags:
        self.X_ = self.embedder.encode(texts)  # type: ignore[attr-defined]
        self.tags_ = sorted({t for s in y for t in s})
        # +1 positive, -1 negative, 0 unknown: an example says nothing of tags it skips.
        self.Y_ = np.array(
            [[1.0 if t in s else (0.0 if t in u else -1.0) for t in self.tags_]
             for s, u in zip(y, unknown, strict=True)]
        )  # fmt: skip
        scores = self._scores(self.X_, leave_out=True)
        self.cut_ = {}
        for j, tag in enumerate(self.tags_):
            known = self.Y_[:, j] != 0
            target = self.Y_[known, j] > 0
            best = (-1.0, 0.5)
            for cut in np.arange(0.1, 0.91, 0.05):
                pred = scores[known, j] >= cut
                tp = np.sum(pred & target)
                f1 = 2 * tp / max(1, pred.sum() + target.sum())
                best = max(best, (float(f1), float(cut)))
            self.cut_[tag] = best[1]
        return self

    def _scores(self, X: np.ndarray, leave_out: bool = False) -> np.ndarray:
        sims = X @ self.X_.T
        if leave_out:
            np.fill_diagonal(sims, -np.inf)
        idx = np.argsort(-sims, axis=1)[:, : self.k]
        out = np.zeros((len(X), len(self.tags_)))
        for i in range(len(X)):
            w = np.maximum(sims[i, idx[i]], 0.0)
            labels = self.Y_[idx[i]]
            for j in range(len(self.tags_)):
                known = labels[:, j] != 0
                weight = w[known].sum()
                out[i, j] = (w[known] * (labels[known, j] > 0)).sum() / weight if weight else 0
        return out

    def predict(self, texts: list[str]) -> list[set[str]]:
        scores = self._scores(self.embedder.encode(texts))  # type: ignore[attr-defined]
        return [
            {t for j, t in enumerate(self.tags_) if scores[i, j] >= self.cut_[t]}
            for i in range(len(texts))
        ]


def setfit_method(texts: list[str], y: list[set[str]], tags: list[str], seed: int = 0) -> Predict:
    """SetFit on the bank: contrastive fine-tuning of MiniLM, one-vs-rest logistic head."""
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    from classify.embed_backend import model_dir

    model = SetFitModel.from_pretrained(
        str(model_dir()), multi_target_strategy="one-vs-rest", local_files_only=True
    )
    labels = [[1 if t in s else 0 for t in tags] for s in y]
    data = Dataset.from_dict({"text": texts, "label": labels})
    import tempfile

    args = TrainingArguments(
        batch_size=16, num_epochs=1, max_steps=300, seed=seed, report_to="none",
        show_progress_bar=False, output_dir=tempfile.mkdtemp(prefix="setfit-"),
    )  # fmt: skip
    Trainer(model=model, args=args, train_dataset=data).train()

    def predict(batch: list[str]) -> list[set[str]]:
        out = np.asarray(model.predict(batch))
        return [{t for j, t in enumerate(tags) if row[j]} for row in out]

    return predict


# --- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets", default="dev,dev2,dev3,heldout", help="dev, dev2, dev3, heldout [all]"
    )
    parser.add_argument("--methods", default="rules,lr,knn,combined,rules+knn")
    parser.add_argument("--json", type=Path, default=None, help="also write the scores here")
    args = parser.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    bad = set(methods) - set(METHODS)
    if bad:
        parser.error(f"unknown method(s) {sorted(bad)}; valid: {', '.join(METHODS)}")
    from classify.default_model import build_default_model, training_set
    from classify.embeddings import Embedder
    from classify.example_bank import load_bank
    from classify.taxonomy import load_taxonomy

    taxonomy, bank, embedder = load_taxonomy(), load_bank(), Embedder()
    tags = list(taxonomy.names)
    sets = [s for s in args.sets.split(",") if s]
    unknown = set(sets) - {*BANK_SETS, "heldout"}
    if unknown:
        parser.error(f"unknown set(s) {sorted(unknown)}; valid: {', '.join(BANK_SETS)}, heldout")
    built: dict[tuple[str, str], Predict] = {}
    models: dict[str, tuple[object, object]] = {}

    def trained(left_out: str) -> tuple[object, object]:
        """(default model, training set) of the bank less ``left_out`` ("": whole bank)."""
        if left_out not in models:
            data = bank.without(left_out) if left_out else bank
            train = training_set(data, taxonomy)
            began = time.perf_counter()
            model, meta = build_default_model(data, taxonomy, embedder)
            print(f"model without {left_out or 'nothing'}: {len(train.texts)} texts "
                  f"{train.origins}, built in {time.perf_counter() - began:.1f}s; "
                  f"weak: {meta['weak']}", file=sys.stderr)  # fmt: skip
            models[left_out] = (model, train)
        return models[left_out]

    def method(name: str, left_out: str) -> Predict:
        key = (name, left_out)
        if key in built:
            return built[key]
        if name == "rules":
            built[key] = rules_method()
        elif name == "lr":
            built[key] = lr_method(trained(left_out)[0])
        elif name == "combined":
            built[key] = combined_method(trained(left_out)[0])
        elif name == "knn":
            train = trained(left_out)[1]
            knn = KnnTags(embedder).fit(train.texts, train.y, train.unknown)  # type: ignore[attr-defined]
            built[key] = knn.predict
        elif name == "setfit":
            train = trained(left_out)[1]
            built[key] = setfit_method(train.texts, train.y, tags)  # type: ignore[attr-defined]
        else:
            a, b = name.split("+")
            built[key] = union(method(a, left_out), method(b, left_out))
        return built[key]

    results: dict[str, dict[str, dict]] = {}
    sizes: dict[str, int] = {}
    for set_name in sets:
        left_out = "" if set_name == "heldout" else set_name
        labelled = load_set(HELDOUT) if set_name == "heldout" else bank_set(bank, set_name)
        sizes[set_name] = len(labelled.texts)
        for name in methods:
            began = time.perf_counter()
            pred = method(name, left_out)(labelled.texts)
            table = f1_table(pred, labelled.gold, tags)
            table["seconds"] = time.perf_counter() - began
            results.setdefault(set_name, {})[name] = table
            print(f"{set_name} {name}: macro-F1 {table['macro_f1']:.3f}", file=sys.stderr)
    print(f"\ntagging benchmark, {time.strftime('%Y-%m-%d')}, bank {len(bank)} examples\n")
    print("| set | method | macro-F1 | min tag F1 | " + " | ".join(tags) + " |")
    print("| --- | --- | --- | --- | " + " | ".join("---" for _ in tags) + " |")
    for set_name, per_method in results.items():
        n = sizes[set_name]
        for name, table in per_method.items():
            f1s = [table["tags"][t]["f1"] for t in tags]
            where = f"{set_name} ({n}{'' if set_name == 'heldout' else ', left out'})"
            cells = [where, name, f"{table['macro_f1']:.3f}", f"{min(f1s):.2f}"]
            print("| " + " | ".join(cells + [f"{f:.2f}" for f in f1s]) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
