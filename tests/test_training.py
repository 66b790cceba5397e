"""qa.stages.retrain: examples from the taxonomy, labels and reviewer decisions; retraining from
the database changes later predictions (fake embedder, so fast)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from classify.learned import LearnedTagger
from classify.model_store import MODEL_FILE, read_metadata
from classify.taxonomy import load_taxonomy
from qa.stages import retrain as training
from qa.store.schema import Call, Survey, Tag
from qa.store.writes import Evidence, record_tag_decision
from tests.test_learned import HashEmbedder

NEW_PHRASING = [
    "the fee on my statement is wrong",
    "wrong fee charged on my statement",
    "a wrong fee appeared on my statement",
    "statement shows a fee that is wrong",
]


def _call(session: Session, n: int, comment: str) -> int:
    call = Call(external_id=f"C{n}", started_at=datetime(2024, 5, n + 1))
    session.add(call)
    session.add(Survey(call_external_id=f"C{n}", csat=1, comment=comment))
    session.flush()
    assert call.id is not None
    return call.id


def test_taxonomy_examples_are_closed_world_and_rule_labels_add_tags() -> None:
    taxonomy = load_taxonomy()
    examples = {ex.text: ex for ex in training.taxonomy_examples(taxonomy)}
    spec = taxonomy["re-explain"]
    first = examples[spec.examples[0]]
    assert "re-explain" in first.tags and first.known is None  # a negative for all others
    negative = examples[spec.negative_examples[0]]
    assert negative.tags == frozenset() and "re-explain" in negative.known


def test_merge_lets_a_human_override_the_taxonomy() -> None:
    tax = training.Example("same text", frozenset({"a"}), None, "taxonomy")
    human = training.Example("same text", frozenset({"c"}), frozenset({"a", "c"}), "human")
    (merged,) = training.merge([tax, human])
    assert merged.tags == frozenset({"c"}) and merged.known is None
    assert merged.origin == "taxonomy+human"
    labels = training.Example("same text", frozenset({"b"}), frozenset({"b"}), "labels")
    (merged,) = training.merge([human, labels])
    assert merged.tags == {"b", "c"} and merged.known == {"a", "b", "c"}


def test_human_examples_use_evidence_machine_hits_or_comment(engine) -> None:
    with Session(engine) as s:
        a = _call(s, 1, "Nobody had my notes, I told it all over again.")
        b = _call(s, 2, "")
        c = _call(s, 3, "They billed me twice.")
        # a: confirmed with no evidence -> the machine hit's evidence
        s.add(Tag(call_id=a, tag="re-explain", source="comment", method="rule",
                  evidence="I told it all over again."))  # fmt: skip
        record_tag_decision(session=s, call_id=a, tag="re-explain", present=True)
        # b: added, nothing to learn from (no comment, no machine hit)
        record_tag_decision(session=s, call_id=b, tag="billing", present=True)
        # c: rejected, falls back to the survey comment; plus one with explicit evidence
        record_tag_decision(session=s, call_id=c, tag="transfer", present=False)
        twice = Evidence("comment", None, 10, 25, "billed me twice")
        record_tag_decision(session=s, call_id=c, tag="billing", present=True, evidence=twice)
        s.commit()
        examples, unused = training.human_examples(s, known_tags={"billing", "re-explain"})
        rare, _ = training.human_examples(s)
    got = {ex.text: (set(ex.tags), set(ex.known)) for ex in examples}
    # "billing" is known only from one call's decisions: too few to learn, left out
    assert "billed me twice" not in {ex.text for ex in rare}
    assert got == {
        "I told it all over again.": ({"re-explain"}, {"re-explain"}),
        "They billed me twice.": (set(), {"transfer"}),
        "billed me twice": ({"billing"}, {"billing"}),
    }
    assert unused == 1


def test_label_examples_skip_blank_texts() -> None:
    got = training.label_examples(["a", " ", "c"], [{"x"}, {"y"}, set()])
    assert [(e.text, set(e.tags), set(e.known)) for e in got] == [
        ("a", {"x"}, {"x", "y"}),
        ("c", set(), {"x", "y"}),
    ]


def test_reviewer_decisions_change_later_predictions(engine, tmp_path: Path) -> None:
    """A new phrasing, confirmed by reviewers on several calls, is learned on retrain."""
    taxonomy = load_taxonomy()
    probe = "my statement has a wrong fee on it"
    models = tmp_path / "models"
    before = training.retrain(engine, models_dir=models, taxonomy=taxonomy,
                              embedder=HashEmbedder(), folds=3)  # fmt: skip
    assert "billing-error" not in before.metadata["tags"]
    with Session(engine) as s:
        for n, text in enumerate(NEW_PHRASING, start=1):
            call_id = _call(s, n, text)
            record_tag_decision(session=s, call_id=call_id, tag="billing-error", present=True,
                                evidence=Evidence("comment", None, 0, len(text), text))  # fmt: skip
        s.commit()
    after = training.retrain(engine, models_dir=models, taxonomy=taxonomy,
                             embedder=HashEmbedder(), folds=3)  # fmt: skip
    assert after.path == models / MODEL_FILE and after.examples["human"] == 4
    meta = read_metadata(after.path)
    assert meta["taxonomy_version"] == taxonomy.version and "billing-error" in meta["tags"]
    assert {s["tag"] for s in meta["cv"]} >= {"billing-error", "re-explain"}
    # Trained like the default model: its calibration, rule floors and negation reading.
    from classify.default_model import CALIBRATION

    # Tags with too few examples on a side are never calibrated.
    used = set(meta["calibration"].values())
    assert (CALIBRATION or "none") in used and used <= {CALIBRATION or "none", "none"}
    assert set(meta["rule_floors"]) <= set(meta["tags"]) and "re-explain" in meta["rule_floors"]
    assert all(0 <= f <= 0.85 for f in meta["rule_floors"].values())
    assert meta["negation_ok"]["broken-callback"] is True
    model = LearnedTagger.load(after.path)
    assert [h.tag for h in model.tag(probe)] == ["billing-error"]
    assert model.fingerprint_ != before.metadata["fingerprint"]

    # A reviewer rejecting the tag on texts like the probe takes it away again.
    with Session(engine) as s:
        rejected = ["statement fee on it looks wrong but it is right",
                    "my statement has a fee on it", "a fee on my statement is fine",
                    "the statement fee on it is right", "has my statement a fee on it"]  # fmt: skip
        for n, text in enumerate(rejected, start=10):
            call_id = _call(s, n, text)
            record_tag_decision(session=s, call_id=call_id, tag="billing-error", present=False,
                                evidence=Evidence("comment", None, 0, len(text), text))  # fmt: skip
        s.commit()
    model = LearnedTagger.load(
        training.retrain(
            engine, models_dir=models, taxonomy=taxonomy, embedder=HashEmbedder(), folds=3
        ).path
    )
    assert model.predict_proba([probe])[0, model.tags_.index("billing-error")] < 0.9


def test_train_rejects_empty_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no training examples"):
        training.train([], models_dir=tmp_path, embedder=HashEmbedder())
