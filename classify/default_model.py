"""The default learned tagger: built from the example bank on first use, then cached.

    model = default_model()          # a fitted LearnedTagger; 30-60 s the first time
    CombinedTagger(RuleTagger(), model)

Training set: every example of ``models/tag_examples.jsonl`` (closed world over the tags
the bank labels) plus the taxonomy's own comment examples and negative examples (each
labels only its own tag). Features: MiniLM embeddings plus TF-IDF word n-grams
(``LearnedTagger.design``), class-balanced logistic regression with sigmoid-calibrated
probabilities (``CALIBRATION``, which says why). The model
speaks for customers' words (``comment`` and ``customer`` sources); agent turns keep the
rules. Per-tag cut-offs and weak tags come from cross-validation (``classify.learned``).

Two more things are learned from the bank for ``CombinedTagger`` (``rule_trust``), since the
bank, not the taxonomy's handful of examples, shows how each tag is worded (retraining,
``qa.stages.retrain.train``, learns them the same way from its own examples,
``fit_with_rule_trust``):

- ``rule_floors_``: per tag, the model probability below which a rule hit on a customer's
  text is dropped, the floor (0 ... the tag's cut-off) that maximises the tag's F1 of "model
  reaches its cut-off, or a rule hits and the model reaches the floor" on out-of-fold
  probabilities. A rule pattern that keeps firing on the bank's near misses gets a floor;
  one the model agrees with keeps 0 (every hit counts).
- ``negation_ok_``: per tag, whether the bank's texts carrying it negate a main clause at
  least ``classify.combined.NEGATION_OK_SHARE`` of the time ("nobody ever called back"),
  so the negation guard must not block those sentences.

The fitted model is cached next to the ONNX export (``classify.onnx_export.cache_dir``)
under a key of the bank's and the taxonomy's content, the embedder settings and
``RECIPE``, so editing the bank or the taxonomy rebuilds it and nothing else does. The
file is written atomically: two processes that build it at once both succeed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classify.example_bank import ExampleBank, load_bank
from classify.taxonomy import Taxonomy, load_taxonomy

RECIPE = "lr-minilm-ngrams-cv-ruletrust/7"
"""Bumped whenever how the default model is trained changes (invalidates the cache)."""
SOURCES = ("comment", "customer")
"""What the default model tags: texts in the customer's own words."""
DEFAULT_C = 4.0
"""Inverse regularisation of each tag's logistic regression (8 and 16 scored the same on
the dev sets; 1 and 2 up to a point lower)."""
CALIBRATION: str | None = "sigmoid"
"""Probability calibration of the default model (sigmoid, ``CalibratedClassifierCV``). Without
it the dev sets scored the same within noise (0.926 / 0.892 against 0.924 / 0.889) and the
build took half the time, but the demo's money line of ``re-explain`` moved from -7 % to
-10.5 % of its built-in cost (``tests/test_demo_money.py``): the rate correction assumes a
recall that the calibrated model's cut-offs keep closer to. First build with it: ~44 s on 2
idle cores."""
_PARSED: dict[str, dict[str, tuple[frozenset[str], bool]]] = {}
"""``rule_trust``'s parse, per text: the rule tags found and whether a main clause is
negated; for the last set of rule patterns only (the key). Parsing is most of its time."""
FLOOR_GRID: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(18))
"""Rule floors tried per tag (0 ... 0.85, never above the tag's cut-off)."""
MIN_FLOOR_GAIN = 0.005
"""Cross-validated F1 a rule floor must add on the bank over trusting every rule hit (floor
0) to be kept. A floor that buys less is within the folds' noise, and it costs recall on
wording the bank does not have, which the rules were written for."""


@dataclass(frozen=True)
class TrainingSet:
    """Texts, their tags, and per text the tags it says nothing about."""

    texts: list[str]
    y: list[set[str]]
    unknown: list[set[str]]
    origins: dict[str, int]


def training_set(bank: ExampleBank, taxonomy: Taxonomy) -> TrainingSet:
    """The bank (closed world over its tags) + the taxonomy's comment examples."""
    labels: dict[str, tuple[set[str], set[str]]] = {}  # text -> (tags, tags known)
    # Only the taxonomy's tags are learned: a custom taxonomy without one of the bank's
    # tags simply ignores that tag's labels.
    every = set(taxonomy.names)
    for ex in bank:
        labels[ex.text] = (set(ex.tags) & every, set(bank.tags) & every)
    origins = {"bank": len(bank), "taxonomy": 0}
    for spec in taxonomy:
        for text, present in [(t, True) for t in spec.examples_for("comment")] + [
            (t, False) for t in spec.negative_examples_for("comment")
        ]:
            tags, known = labels.setdefault(text, (set(), set()))
            if not known:
                origins["taxonomy"] += 1
            if spec.name not in known or present:
                known.add(spec.name)
                if present:
                    tags.add(spec.name)
    texts = list(labels)
    return TrainingSet(
        texts=texts,
        y=[labels[t][0] for t in texts],
        unknown=[every - labels[t][1] for t in texts],
        origins=origins,
    )


def model_key(bank: ExampleBank, taxonomy: Taxonomy, embedder: Any) -> str:
    """Cache key: bank + taxonomy content (patterns too: the rule floors depend on
    them), embedder settings, ``RECIPE``."""
    spec = [
        {"name": s.name, "examples": s.examples_for("comment"),
         "negatives": s.negative_examples_for("comment"), "applies": list(s.applies_to),
         "patterns": [list(map(repr, ps)) for ps in (s.patterns, *s.source_patterns.values())]}
        for s in taxonomy
    ]  # fmt: skip
    settings = {k: v for k, v in sorted(vars(embedder).items()) if not k.endswith("_")}
    h = hashlib.sha256(f"{RECIPE}\x00{bank.digest}\x00".encode())
    h.update(json.dumps(spec, sort_keys=True).encode())
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def default_model_path(key: str, cache: Path | None = None) -> Path:
    from classify.onnx_export import cache_dir

    return (cache or cache_dir()) / f"default-tagger-{key}.joblib"


def default_model(
    *,
    taxonomy: Taxonomy | None = None,
    bank_path: str | Path | None = None,
    embedder: Any = None,
    cache: Path | None = None,
    announce: Callable[[str], Any] | None = None,
) -> Any:
    """The default ``LearnedTagger``: loaded from the cache, else built and cached.

    ``announce(message)`` is called before a build (it takes several seconds), so a CLI
    can say why it is slow the first time.
    """
    from classify.embeddings import Embedder
    from classify.learned import LearnedTagger

    taxonomy = taxonomy if taxonomy is not None else load_taxonomy()
    bank = load_bank(bank_path)
    embedder = embedder if embedder is not None else Embedder()
    path = default_model_path(model_key(bank, taxonomy, embedder), cache)
    if path.is_file():
        try:
            return LearnedTagger.load(path, embedder=embedder)
        except (ValueError, TypeError):
            pass  # unreadable (e.g. an older library's pickle): rebuild below
    if announce is not None:
        announce(
            f"building the default tagging model from {len(bank)} bank examples "
            f"(first use only; cached in {path.parent})"
        )
    model, metadata = build_default_model(bank, taxonomy, embedder)
    model.save(path, metadata)
    return model


def build_default_model(
    bank: ExampleBank, taxonomy: Taxonomy, embedder: Any
) -> tuple[Any, dict[str, Any]]:
    """Fit the default ``LearnedTagger`` (no caching) and describe it."""
    from classify.learned import LearnedTagger

    began = time.perf_counter()
    data = training_set(bank, taxonomy)
    model = LearnedTagger(
        embedder=embedder, C=DEFAULT_C, calibration=CALIBRATION, taxonomy=taxonomy, sources=SOURCES
    )
    fit_with_rule_trust(model, data, taxonomy)
    metadata = {
        "recipe": RECIPE,
        "bank": str(bank.path),
        "bank_digest": bank.digest,
        "taxonomy_version": taxonomy.version,
        "examples": data.origins,
        "tags": model.tags_,
        "weak": model.weak_,
        "thresholds": model.thresholds_,
        "rule_floors": model.rule_floors_,
        "negation_ok": model.negation_ok_,
        "cv": [score.as_dict() for score in model.cv_.values()],
        "seconds": round(time.perf_counter() - began, 1),
    }
    return model, metadata


def fit_with_rule_trust(
    model: Any, data: TrainingSet, taxonomy: Taxonomy, rules: Any = None
) -> Any:
    """Fit an unfitted ``LearnedTagger`` on ``data``, then give it ``rule_floors_`` and
    ``negation_ok_`` (``rule_trust``; ``rules``: a fitted ``RuleTagger`` of ``taxonomy``,
    else one is built). The texts are embedded once, for both. Used by the default model and
    by retraining (``qa.stages.retrain.train``), so a retrained model gets the floors too."""
    import numpy as np

    model.check_fit(data.texts, data.y, data.unknown)
    vectors = np.asarray(model._embed(data.texts), dtype=np.float32)
    model.fit_vectors(vectors, data.y, data.unknown, texts=data.texts)
    model.rule_floors_, model.negation_ok_ = rule_trust(model, vectors, data, taxonomy, rules)
    return model


def rule_trust(
    model: Any,
    vectors: Any,
    data: TrainingSet,
    taxonomy: Taxonomy,
    rules: Any = None,
    folds: int = 5,
) -> tuple[dict[str, float], dict[str, bool]]:
    """Per tag: the rule floor and whether its texts are worded with negations (module
    docstring), from the fitted ``model``, its training ``vectors`` and ``data``
    (``rules``: a fitted ``RuleTagger`` of ``taxonomy``, else one is built)."""
    import numpy as np
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from classify.combined import NEGATION, NEGATION_OK_SHARE, negated
    from classify.labels import tag_targets
    from classify.prefilter import RulePrefilter
    from classify.rules import RuleTagger

    if rules is None:
        rules = RuleTagger(taxonomy).fit()
    elif not hasattr(rules, "matchers_"):
        rules.fit()
    # The parse (the slow part) only where it can change something: texts a rule could
    # match (``classify.prefilter``) and texts with a negation word; remembered per text
    # for these rule patterns (a retrain parses the same bank again).
    key = hashlib.sha256(
        repr([(s.name, s.negation, s.patterns_for("comment")) for s in rules.taxonomy_]).encode()
    ).hexdigest()
    if key not in _PARSED:
        _PARSED.clear()
    parsed = _PARSED.setdefault(key, {})
    parse = RulePrefilter(rules).candidates(data.texts, "comment")
    todo = [
        t for i, t in enumerate(data.texts) if t not in parsed and (parse[i] or NEGATION.search(t))
    ]
    for text, doc in zip(todo, rules.nlp_.pipe(todo, batch_size=64), strict=True):
        parsed[text] = (frozenset(h.tag for h in rules.tag_doc(doc, "comment")), negated(doc))
    nothing: tuple[frozenset[str], bool] = (frozenset(), False)
    found = [parsed.get(t, nothing)[0] for t in data.texts]
    denied = [parsed.get(t, nothing)[1] for t in data.texts]
    features: Any = None  # built only if a tag's out-of-fold probabilities must be recomputed
    floors: dict[str, float] = {}
    negation_ok: dict[str, bool] = {}
    for tag in model.tags_:
        rows, target = tag_targets(tag, data.y, data.unknown)
        positives = [denied[i] for i, t in zip(rows, target, strict=True) if t]
        negation_ok[tag] = bool(positives) and bool(np.mean(positives) >= NEGATION_OK_SHARE)
        pos = int(target.sum())
        k = min(folds, pos, len(target) - pos)
        if tag in model.weak_ or k < 2:
            continue  # no model hits to weigh rule hits against: every rule hit counts
        # The out-of-fold probabilities the cut-offs were chosen on (``oof_``: same folds,
        # same estimator), else computed here.
        proba = getattr(model, "oof_", {}).get(tag)
        if proba is None or len(proba) != len(rows) or model.cv_folds != folds:
            if features is None:
                features = model.design(vectors, data.texts)
            estimator, _ = model._classifier(pos, len(target) - pos)
            proba = cross_val_predict(
                clone(estimator), features[rows], target, method="predict_proba",
                cv=StratifiedKFold(n_splits=k, shuffle=True, random_state=0),
            )[:, 1]  # fmt: skip
        hit = np.array([tag in found[i] for i in rows])
        cut = model.cutoff(tag)
        scores: dict[float, float] = {}
        for floor in (f for f in FLOOR_GRID if f <= cut):
            pred = (proba >= cut) | (hit & (proba >= floor))
            scores[floor] = 2 * float(np.sum(pred & (target == 1))) / max(1, int(pred.sum()) + pos)
        best = max(scores, key=lambda f: (scores[f], -f))  # ties: the lower floor
        # Trust every rule hit unless a floor clearly pays on the bank's folds.
        floors[tag] = best if scores[best] >= scores[0.0] + MIN_FLOOR_GAIN else 0.0
    return floors, negation_ok
