"""LearnedTagger / CombinedTagger / model store logic, on a tiny deterministic fake embedder
(fast); the combined negation guard with the real spaCy pipeline (slow)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from classify.learned import LearnedTagger, label_sets, split_sentences
from classify.model_store import cross_validate, read_metadata, training_hash
from classify.taxonomy import TagHit


class HashEmbedder:
    """Bag of words hashed into 64 dims, L2-normalised: similar words -> similar vectors."""

    dim = 64

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str], progress: object = None) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z']+", text.lower()):
                h = int(hashlib.md5(word.encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0 if (h >> 8) % 2 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


WAIT = ["I waited on hold for an hour", "hold music for ages waiting", "waited forever on hold",
        "an hour on hold waiting again", "the hold was endless, I waited and waited"]  # fmt: skip
RUDE = ["the agent was rude and dismissive", "so rude, he hung up on me",
        "rude agent, very dismissive tone", "she was rude to me",
        "dismissive and rude staff"]  # fmt: skip
OTHER = ["my bill is wrong", "I want to change my address", "the app crashed",
         "please update my email", "what are your opening times", "my card expired"]  # fmt: skip


def _data() -> tuple[list[str], list[set[str]]]:
    texts = WAIT + RUDE + OTHER
    y = [{"long-wait"}] * len(WAIT) + [{"agent-rude"}] * len(RUDE) + [set()] * len(OTHER)
    return texts, y


def _fitted(**kw: object) -> LearnedTagger:
    texts, y = _data()
    return LearnedTagger(embedder=HashEmbedder(), C=10.0, **kw).fit(texts, y)  # type: ignore[arg-type]


def test_init_only_stores_params() -> None:
    tagger = LearnedTagger(C=2.0, threshold=0.7)
    assert tagger.C == 2.0 and tagger.threshold == 0.7 and tagger.embedder is None
    assert not hasattr(tagger, "classifiers_")
    with pytest.raises(RuntimeError, match="not fitted"):
        tagger.proba_vectors(np.zeros((1, 4)))


def test_fit_predict_and_hits_carry_method_score_evidence() -> None:
    tagger = _fitted()
    assert tagger.tags_ == ["agent-rude", "long-wait"]
    assert tagger.calibrated_ == {"agent-rude": "none", "long-wait": "none"}  # too few examples
    proba = tagger.predict_proba(["waited on hold forever", "rude dismissive agent"])
    assert proba.shape == (2, 2)
    assert proba[0, 1] > 0.5 > proba[0, 0] and proba[1, 0] > 0.5 > proba[1, 1]
    text = "My bill is fine. But I waited on hold for ages!"
    (hit,) = tagger.tag(text)
    assert hit.tag == "long-wait" and hit.method == "model" and 0.5 <= hit.score <= 1
    assert hit.evidence == "But I waited on hold for ages!"
    assert text[hit.start : hit.end] == hit.evidence
    assert tagger.tag("please change my address") == []


def test_min_examples_skips_rare_tags_and_unknown_excludes_rows() -> None:
    texts, y = _data()
    y = [*y[:-1], {"rare"}]
    tagger = LearnedTagger(embedder=HashEmbedder()).fit(texts, y)
    assert "rare" not in tagger.tags_ and "1 positive" in tagger.skipped_["rare"]
    # A text whose label for long-wait is unknown is left out of that tag's training.
    unknown = [set()] * (len(texts) - 1) + [{"long-wait"}]
    tagger = LearnedTagger(embedder=HashEmbedder()).fit(texts, y, unknown=unknown)
    assert tagger.counts_["long-wait"] == (5, len(texts) - 6)
    with pytest.raises(ValueError, match="no tag has 3 positive"):
        LearnedTagger(embedder=HashEmbedder()).fit(["a", "b"], [{"x"}, set()])
    with pytest.raises(ValueError, match="calibration must be one of"):
        LearnedTagger(embedder=HashEmbedder(), calibration="platt").fit(texts, y)


def test_calibration_used_when_enough_examples() -> None:
    texts, y = _data()
    many = texts * 4  # 20 positives per tag
    tagger = LearnedTagger(embedder=HashEmbedder(), calibration="sigmoid").fit(many, y * 4)
    assert tagger.calibrated_ == {"agent-rude": "sigmoid", "long-wait": "sigmoid"}
    plain = LearnedTagger(embedder=HashEmbedder(), calibration=None).fit(many, y * 4)
    assert set(plain.calibrated_.values()) == {"none"}


def _taxonomy(rude_sources: list[str]):  # type: ignore[no-untyped-def]
    from classify.taxonomy import parse_taxonomy

    def spec(sources: list[str]) -> dict:
        return {"description": "d", "applies_to": sources, "patterns": [[{"LOWER": "x"}]],
                "examples": ["a", "b", "c"]}  # fmt: skip

    return parse_taxonomy(
        {
            "version": "t",
            "tags": {"long-wait": spec(["comment", "agent"]), "agent-rude": spec(rude_sources)},
        }
    )


def test_taxonomy_applies_to_filters_sources() -> None:
    tagger = _fitted(taxonomy=_taxonomy(["comment", "customer"]))
    assert tagger.tag("the agent was rude", source="customer")[0].tag == "agent-rude"
    assert tagger.tag("the agent was rude", source="agent") == []  # not an agent-turn tag
    assert tagger.tag("waited on hold for an hour", source="agent")[0].tag == "long-wait"
    with pytest.raises(ValueError, match="valid sources"):
        tagger.tag("x", source="survey")


def test_save_load_roundtrip_with_metadata(tmp_path: Path) -> None:
    tagger = _fitted()
    path = tagger.save(tmp_path / "m" / "tagger.joblib", {"taxonomy_version": "1.2"})
    assert read_metadata(path) == {"taxonomy_version": "1.2"}
    loaded = LearnedTagger.load(path)
    assert loaded.tags_ == tagger.tags_ and loaded.fingerprint_ == tagger.fingerprint_
    texts = ["waited on hold", "so rude"]
    assert np.allclose(loaded.predict_proba(texts), tagger.predict_proba(texts))
    with pytest.raises(FileNotFoundError, match="qa text train"):
        LearnedTagger.load(tmp_path / "missing.joblib")
    (tmp_path / "bad.joblib").write_text("not a model")
    with pytest.raises(ValueError, match="not a callqa model"):
        LearnedTagger.load(tmp_path / "bad.joblib")


def test_cross_validate_reports_per_tag_scores() -> None:
    texts, y = _data()
    tagger = _fitted()
    X = HashEmbedder().encode(texts)
    scores = {s.tag: s for s in cross_validate(tagger, X, y, folds=3)}
    assert set(scores) == {"agent-rude", "long-wait"}
    assert scores["long-wait"].positives == 5 and scores["long-wait"].folds == 3
    assert 0.5 <= (scores["long-wait"].f1 or 0) <= 1


def test_out_of_fold_probabilities_are_kept_for_rule_trust_and_not_saved(tmp_path: Path) -> None:
    texts, y = _data()
    tagger = _fitted()
    X = tagger.design(HashEmbedder().encode(texts), texts)
    again: dict[str, np.ndarray] = {}
    cross_validate(tagger, X, y, folds=tagger.cv_folds, tune=True, out_of_fold=again)
    assert set(tagger.oof_) == set(again) == {"agent-rude", "long-wait"}
    for tag, proba in again.items():  # the very predictions the cut-offs were chosen on
        assert len(proba) == len(texts) and np.allclose(tagger.oof_[tag], proba)
    loaded = LearnedTagger.load(tagger.save(tmp_path / "tagger.joblib"))
    assert not hasattr(loaded, "oof_")


def test_helpers() -> None:
    assert split_sentences("One. Two!  Three?") == [(0, 4), (5, 9), (11, 17)]
    assert split_sentences("no punctuation") == [(0, 14)]
    assert split_sentences("   ") == []
    assert label_sets(["a; b", "", "c"]) == [{"a", "b"}, set(), {"c"}]
    assert training_hash(["x", "y"], [{"a"}, set()]) == training_hash(["y", "x"], [set(), {"a"}])


# ------------------------------------------------------------- combined (real spaCy, slow)


class FixedModel(LearnedTagger):
    """A 'model' that is certain about one tag for every text (to test the guard)."""

    def __init__(self, tag: str, score: float = 0.95) -> None:
        super().__init__(embedder=HashEmbedder())
        self.classifiers_ = {tag: None}
        self.tags_ = [tag]
        self.fingerprint_ = "fixed"
        self.score = score

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.full((len(texts), 1), self.score)


@pytest.mark.slow
def test_combined_keeps_rules_adds_model_and_guards_negation() -> None:
    from classify import RuleTagger
    from classify.combined import CombinedTagger

    rules = RuleTagger().fit()
    combined = CombinedTagger(rules, FixedModel("re-explain")).fit()
    assert combined.version.endswith("+model:fixed")
    negated, explicit, novel, other = combined.tag_many(
        [
            "I did not have to repeat anything.",
            "I had to explain everything again.",
            "Same story to a second person, from the top.",
            "I did not have to repeat anything. Then I told it all over to the next guy.",
        ]
    )
    assert negated == []  # negated main clause: the model may not add re-explain there
    assert [(h.tag, h.method, h.score) for h in explicit] == [("re-explain", "rule", 1.0)]
    assert [(h.tag, h.method) for h in novel] == [("re-explain", "model")]
    assert novel[0].evidence == "Same story to a second person, from the top."
    # Another sentence of the same text may still support the tag on its own.
    assert [(h.method, h.evidence) for h in other] == [
        ("model", "Then I told it all over to the next guy.")
    ]
    # A phrase the rules matched and suppressed as negated is never re-added by the model.
    rude = CombinedTagger(rules, FixedModel("agent-rude")).fit()
    assert rude.tag("Nobody was rude to me.") == []
    assert rude.tag("The agent was not rude at all, just a bit slow.") == []
    assert [h.tag for h in rude.tag("The agent treated me like dirt.")] == ["agent-rude"]
    # applies_to: the model may not add a tag to a source the taxonomy excludes.
    off = next(n for n in rules.taxonomy_.names if n not in rules.taxonomy_.tags_for("agent"))
    guarded = CombinedTagger(rules, FixedModel(off)).fit()
    assert guarded.tag("Nothing to see here.", source="agent") == []
    assert [h.tag for h in guarded.tag("Nothing to see here.", source="comment")] == [off]
    rules_only = CombinedTagger(rules, None).fit()
    assert rules_only.tag("I had to explain everything again.") == rules.tag(
        "I had to explain everything again."
    )
    assert all(isinstance(h, TagHit) for h in explicit)


@pytest.mark.slow
def test_combined_rule_floors_and_learned_negation_wording() -> None:
    from classify import RuleTagger
    from classify.combined import CombinedTagger

    rules = RuleTagger().fit()
    text = "I had to explain everything again."
    assert [h.tag for h in rules.tag(text)] == ["re-explain"]
    # A rule hit counts unless the model's probability for the tag is under its floor.
    for score, kept in ((0.1, False), (0.3, True), (0.9, True)):
        model = FixedModel("re-explain", score=score)
        model.rule_floors_ = {"re-explain": 0.3}
        hits = CombinedTagger(rules, model).fit().tag(text)
        assert [(h.tag, h.method) for h in hits] == ([("re-explain", "rule")] if kept else [])
    # A model without floors (trained elsewhere) keeps every rule hit.
    low = CombinedTagger(rules, FixedModel("re-explain", score=0.1)).fit()
    assert [h.method for h in low.tag(text)] == ["rule"]
    # Negation guard (b): off for a tag the model's own texts word with negations.
    negated = "They did not get back to me."
    assert rules.tag(negated) == []
    guarded = FixedModel("broken-callback")
    assert CombinedTagger(rules, guarded).fit().tag(negated) == []
    worded = FixedModel("broken-callback")
    worded.negation_ok_ = {"broken-callback": True}
    hits = CombinedTagger(rules, worded).fit().tag(negated)
    assert [(h.tag, h.method, h.evidence) for h in hits] == [("broken-callback", "model", negated)]
