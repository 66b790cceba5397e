"""The default learned tagger: built from the example bank on first use, then cached.

    model = default_model()          # a fitted LearnedTagger; ~30 s the first time
    CombinedTagger(RuleTagger(), model)

Training set: every example of ``models/tag_examples.jsonl`` (closed world over the tags
the bank labels) plus the taxonomy's own comment examples and negative examples (each
labels only its own tag). Features: MiniLM embeddings plus TF-IDF word n-grams
(``LearnedTagger.design``). The model speaks for customers' words (``comment`` and
``customer`` sources); agent turns keep the rules. Per-tag cut-offs and weak tags come
from cross-validation (``classify.learned``).

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

RECIPE = "lr-minilm-ngrams-cv/3"
"""Bumped whenever how the default model is trained changes (invalidates the cache)."""
SOURCES = ("comment", "customer")
"""What the default model tags: texts in the customer's own words."""
DEFAULT_C = 4.0
"""Inverse regularisation of each tag's logistic regression (2 and 8 scored the same on
the dev set; 1 a point lower)."""


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
    """Cache key: bank + taxonomy content, embedder settings, ``RECIPE``."""
    spec = [
        {"name": s.name, "examples": s.examples_for("comment"),
         "negatives": s.negative_examples_for("comment"), "applies": list(s.applies_to)}
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
    model = LearnedTagger(embedder=embedder, C=DEFAULT_C, taxonomy=taxonomy, sources=SOURCES)
    model.fit(data.texts, data.y, data.unknown)
    metadata = {
        "recipe": RECIPE,
        "bank": str(bank.path),
        "bank_digest": bank.digest,
        "taxonomy_version": taxonomy.version,
        "examples": data.origins,
        "tags": model.tags_,
        "weak": model.weak_,
        "thresholds": model.thresholds_,
        "cv": [score.as_dict() for score in model.cv_.values()],
        "seconds": round(time.perf_counter() - began, 1),
    }
    return model, metadata
