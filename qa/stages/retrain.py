"""Training data for the learned tagger and the retraining entry point (``qa tag --retrain``).

Examples come from four places, each with the tags it has *knowledge* of:

- the example bank (``models/tag_examples.jsonl``, what the default model is built from):
  closed world over the tags the bank labels;
- the taxonomy: each example sentence is a positive for its tag (and for any other tag the
  rule tagger finds in it) and a negative for every other tag, including tags reviewers
  added (they need negatives to be learned); each negative example is a negative for its
  tag;
- reviewer decisions in the database (``Decision`` rows; the winning one per tag and
  scope): a confirmed or added tag is a positive, a rejected one (a rejected rule hit
  included) a negative, for that tag only, on the decision's evidence text, else on the
  evidence of the machine hits it judged, else (a tag added to a call the machine found
  nothing on) on the call's survey comment; a tag only reviewers know needs
  ``MIN_HUMAN_POSITIVES`` confirmed calls before it is learned;
- a labels CSV (``qa text train``): each row is a positive for its tags and a negative for
  every other tag named in the file.

``train`` fits the model the way the default one is fitted (``classify.default_model``:
its ``C`` and ``CALIBRATION``, per-tag cut-offs from cross-validation, and the rule floors
and negation reading ``CombinedTagger`` takes from the model, learned from these examples).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from qa.store.schema import Call, Decision, Survey, Turn


@dataclass(frozen=True)
class Example:
    """One training text: the tags it has (``tags``) out of the tags it is labelled for
    (``known``; None: every tag, so also a negative for tags only reviewers know)."""

    text: str
    tags: frozenset[str]
    known: frozenset[str] | None
    origin: str  # "bank" | "taxonomy" | "human" | "labels"


@dataclass(frozen=True)
class TrainReport:
    """What a training run did: example counts, per-tag CV scores, where the model went."""

    path: Path
    examples: dict[str, int]
    scores: tuple[Any, ...]  # classify.model_store.TagScore, one per learned tag
    skipped: dict[str, str] = field(default_factory=dict)
    weak: dict[str, str] = field(default_factory=dict)
    """Tags whose cross-validated F1 is below the floor: their model hits are off."""
    unused: int = 0  # human decisions with no text to learn from
    seconds: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)


def bank_examples(bank: Any = None) -> list[Example]:
    """Examples from the example bank (default: the shipped one)."""
    from classify.example_bank import ExampleBank, load_bank

    bank = bank if isinstance(bank, ExampleBank) else load_bank(bank)
    known = frozenset(bank.tags)
    return [Example(ex.text, ex.tags, known, "bank") for ex in bank]


def taxonomy_examples(taxonomy: Any, rules: Any = None) -> list[Example]:
    """Examples from the taxonomy's sentences (``rules``, a fitted ``RuleTagger``, adds
    the other tags a sentence really has: "transferred and had to explain again")."""
    found: dict[str, set[str]] = {}
    negatives: dict[str, set[str]] = {}
    for spec in taxonomy:
        for source in spec.applies_to:
            for text in spec.examples_for(source):
                found.setdefault(text, set()).add(spec.name)
            for text in spec.negative_examples_for(source):
                negatives.setdefault(text, set()).add(spec.name)
    if rules is not None:
        texts = list(found)
        for text, hits in zip(texts, rules.tag_many(texts, source="comment"), strict=True):
            found[text].update(hit.tag for hit in hits)
    out = [Example(t, frozenset(tags), None, "taxonomy") for t, tags in found.items()]
    out += [
        Example(t, frozenset(), frozenset(tags), "taxonomy")
        for t, tags in negatives.items()
        if t not in found
    ]
    return out


MIN_HUMAN_POSITIVES = 4
"""A tag that only reviewers' decisions know is learned once this many calls confirm it:
with fewer, a model would tag on noise (one confirmation teaches a whole sentence)."""


def human_examples(
    session: Session, *, known_tags: Iterable[str] = ()
) -> tuple[list[Example], int]:
    """Examples from reviewers' decisions (the winning one per tag and scope); also how
    many decisions had no text to use.

    A rejected rule or model hit is a negative for its tag on that hit's evidence. Tags not
    in ``known_tags`` (the bank's and taxonomy's) with fewer than
    :data:`MIN_HUMAN_POSITIVES` confirmed calls are left out.
    """
    from qa.store.effective import winning
    from qa.store.reads import load_decisions, load_hits

    call_ids = sorted(set(session.exec(select(Decision.call_id).distinct())))
    if not call_ids:
        return [], 0
    decided = load_decisions(session, call_ids)
    hits = load_hits(session, call_ids)
    machine: dict[tuple[int, str], list[str]] = {}
    for call_id, rows in hits.items():
        for row in rows:
            if row.evidence.strip():
                machine.setdefault((call_id, row.tag), []).append(row.evidence)
    turns = {
        (t.call_id, t.index): t.text
        for t in session.exec(select(Turn).where(col(Turn.call_id).in_(call_ids)))
    }
    comments = dict(
        session.exec(
            select(Call.id, Survey.comment)
            .join(Survey, col(Survey.call_external_id) == col(Call.external_id))
            .where(col(Call.id).in_(call_ids))
        ).all()
    )
    known = set(known_tags)
    confirmed: dict[str, set[int]] = {}
    labelled: dict[str, tuple[set[str], set[str]]] = {}  # text -> (positive, negative) tags
    unused = 0
    for call_id in call_ids:
        for d in winning(decided[call_id]).values():
            if d.present:
                confirmed.setdefault(d.tag, set()).add(call_id)
            texts = _decision_texts(d, machine, turns, comments)
            if not texts:
                unused += 1
            for text in texts:
                pos, neg = labelled.setdefault(text, (set(), set()))
                (pos if d.present else neg).add(d.tag)
    few = MIN_HUMAN_POSITIVES
    rare = {t for t, calls in confirmed.items() if t not in known and len(calls) < few}
    examples = []
    for text, (pos, neg) in labelled.items():
        pos, neg = pos - rare, neg - rare
        if pos or neg:
            examples.append(Example(text, frozenset(pos), frozenset(pos | neg), "human"))
    return examples, unused


def _decision_texts(
    d: Decision,
    machine: dict[tuple[int, str], list[str]],
    turns: dict[tuple[int, int], str],
    comments: dict[int, str],
) -> list[str]:
    if d.evidence.strip():
        return [d.evidence.strip()]
    if d.turn_index is not None and turns.get((d.call_id, d.turn_index), "").strip():
        return [turns[(d.call_id, d.turn_index)].strip()]
    judged = machine.get((d.call_id, d.tag))
    if judged:  # a whole-call decision is about what the machine showed
        return list(dict.fromkeys(e.strip() for e in judged))
    comment = (comments.get(d.call_id) or "").strip()
    return [comment] if comment else []


def label_examples(texts: Sequence[str], tag_sets: Sequence[Iterable[str]]) -> list[Example]:
    """Examples from a labels table: closed world over the tags the table names."""
    sets = [frozenset(tags) for tags in tag_sets]
    known = frozenset().union(*sets) if sets else frozenset()
    return [Example(t, s, known, "labels") for t, s in zip(texts, sets, strict=True) if t.strip()]


def merge(examples: Iterable[Example]) -> list[Example]:
    """One example per text: later sources' knowledge wins per tag (a human over the
    taxonomy), tags and knowledge otherwise united."""
    merged: dict[str, Example] = {}
    for ex in examples:
        old = merged.get(ex.text)
        if old is None:
            merged[ex.text] = ex
            continue
        tags = (old.tags - (ex.known or ex.tags)) | ex.tags if ex.known is not None else ex.tags
        known = None if old.known is None or ex.known is None else old.known | ex.known
        merged[ex.text] = Example(ex.text, tags, known, f"{old.origin}+{ex.origin}")
    return list(merged.values())


def train(
    examples: Sequence[Example],
    *,
    models_dir: str | Path | None = None,
    taxonomy: Any = None,
    embedder: Any = None,
    folds: int = 5,
    C: float | None = None,
    calibration: str | None = "default",
    unused: int = 0,
    rules: Any = None,
) -> TrainReport:
    """Fit a ``LearnedTagger`` on ``examples``, cross-validate it per tag, save it (with
    metadata) as ``models_dir/learned-tagger.joblib``.

    Trained the way the default model is (``classify.default_model``): its ``C``, its
    ``CALIBRATION`` (``calibration="default"``; or ``sigmoid``, ``isotonic``, None), and the
    rule floors and negation reading ``CombinedTagger`` takes from the model
    (``fit_with_rule_trust``), learned against the rules of ``taxonomy`` (default: the
    shipped one; ``rules``: its fitted ``RuleTagger``, else one is built)."""
    from classify.default_model import CALIBRATION, DEFAULT_C, SOURCES, TrainingSet
    from classify.default_model import fit_with_rule_trust as fit
    from classify.learned import LearnedTagger
    from classify.model_store import MODEL_FILE, default_models_dir, training_hash
    from classify.taxonomy import load_taxonomy

    began = time.perf_counter()
    examples = merge(examples)
    if not examples:
        raise ValueError("no training examples: give a labels file, a taxonomy or decisions")
    texts = [ex.text for ex in examples]
    y = [set(ex.tags) for ex in examples]
    every = frozenset().union(*(ex.known or ex.tags for ex in examples))
    unknown = [set() if ex.known is None else set(every - ex.known) for ex in examples]
    counts: dict[str, int] = {}
    for ex in examples:
        for origin in ex.origin.split("+"):
            counts[origin] = counts.get(origin, 0) + 1
    # Like the default model: customers' words only, per-tag cut-offs from cross-validation,
    # rule floors and negation reading learned from the same examples.
    tagger = LearnedTagger(
        embedder=embedder, C=DEFAULT_C if C is None else C,
        calibration=CALIBRATION if calibration == "default" else calibration,
        taxonomy=taxonomy, sources=SOURCES, cv_folds=folds,
    )  # fmt: skip
    data = TrainingSet(texts=texts, y=y, unknown=unknown, origins=counts)
    trust = taxonomy if taxonomy is not None else load_taxonomy()
    fit(tagger, data, trust, rules)
    # The cross-validation that chose each tag's cut-off is the one reported.
    scores = tuple(tagger.cv_.values())
    metadata = {
        "created": datetime.now().isoformat(timespec="seconds"),
        "taxonomy_version": getattr(taxonomy, "version", None),
        "training_hash": training_hash(texts, y),
        "fingerprint": tagger.fingerprint_,
        "examples": counts,
        "tags": tagger.tags_,
        "skipped": tagger.skipped_,
        "weak": tagger.weak_,
        "thresholds": tagger.thresholds_,
        "calibration": tagger.calibrated_,
        "rule_floors": tagger.rule_floors_,
        "negation_ok": tagger.negation_ok_,
        "embedder": {k: v for k, v in vars(tagger.embedder_).items() if not k.endswith("_")}
        if hasattr(tagger.embedder_, "model") else type(tagger.embedder_).__name__,
        "cv": [s.as_dict() for s in scores],
    }  # fmt: skip
    where = Path(models_dir) if models_dir is not None else default_models_dir()
    path = tagger.save(where / MODEL_FILE, metadata)
    return TrainReport(
        path=path, examples=counts, scores=scores, skipped=dict(tagger.skipped_),
        weak=dict(tagger.weak_), unused=unused, seconds=time.perf_counter() - began,
        metadata=metadata,
    )  # fmt: skip


def retrain(
    engine: Engine,
    *,
    models_dir: str | Path | None = None,
    taxonomy: Any = None,
    rules: Any = None,
    embedder: Any = None,
    folds: int = 5,
    bank: Any = None,
    use_bank: bool = True,
) -> TrainReport:
    """Train from the example bank, the taxonomy's examples and every reviewer decision
    stored in ``engine`` (for ``qa tag --retrain``); afterwards re-tag with
    ``CombinedTagger(rules, model)``. ``bank``: an ``ExampleBank`` or its path."""
    from classify.taxonomy import Taxonomy, load_taxonomy

    tax = taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)
    examples = bank_examples(bank) if use_bank else []
    examples += taxonomy_examples(tax, rules)
    known = {t for ex in examples for t in (ex.known or ex.tags)}
    with Session(engine) as session:
        human, unused = human_examples(session, known_tags=known)
    return train(
        examples + human, models_dir=models_dir, taxonomy=tax, embedder=embedder,
        folds=folds, unused=unused, rules=rules,
    )  # fmt: skip
