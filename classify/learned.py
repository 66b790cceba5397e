"""A learned tagger: sentence embeddings -> one-vs-rest logistic regression per tag.

    tagger = LearnedTagger().fit(texts, [{"re-explain"}, set(), {"long-wait", "transfer"}])
    tagger.tag("I had to go over the whole story a second time")
    # [TagHit(tag='re-explain', ..., method='model', score=0.87)]

sklearn conventions: ``__init__`` stores its arguments, ``fit`` returns ``self``, fitted
state ends in ``_``. Each tag gets its own binary classifier, so a text may carry several
tags. Probabilities are calibrated (``CalibratedClassifierCV``, cross-validated) when the
tag has at least ``CALIBRATION_MIN`` examples on each side; with fewer (the taxonomy's
handful of examples) the plain, class-balanced logistic-regression probability is used.
``calibrated_`` says which, per tag.

The score of a text is the probability of the whole text; the evidence is the sentence
(regex split, cheap) that scores highest for that tag.

Thresholds (``threshold="cv"``, the default): each tag's cut-off is the one that maximises
its F1 on out-of-fold probabilities (``classify.model_store.cross_validate``), searched on
``classify.model_store.THRESHOLD_GRID``. A tag whose cross-validated F1 at that cut-off
stays below ``min_f1`` is *weak*: it is listed in ``weak_`` with the reason and adds no
hits, so a tag learned from a handful of examples cannot flood the why with noise. A
float ``threshold`` is one fixed cut-off for every tag (no cross-validation at fit time).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classify.labels import tag_targets
from classify.model_store import FALLBACK_THRESHOLD, cross_validate
from classify.taxonomy import TagHit, Taxonomy, check_source

CALIBRATION_MIN = 10
"""Examples needed on each side of a tag before its probabilities are calibrated."""
CALIBRATIONS = ("sigmoid", "isotonic", None)
DEFAULT_MIN_F1 = 0.6
"""Cross-validated F1 below which a tag's model hits are switched off (``weak_``)."""
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"')\]]*|\n|$)")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (stripped, non-empty)."""
    spans = []
    for m in _SENTENCE.finditer(text):
        raw = m.group()
        start = m.start() + len(raw) - len(raw.lstrip())
        end = m.start() + len(raw.rstrip())
        if end > start:
            spans.append((start, end))
    return spans or ([(0, len(text))] if text.strip() else [])


class LearnedTagger:
    """Tags from embeddings + per-tag logistic regression (``method="model"``).

    ``embedder``: anything with ``encode(texts) -> ndarray`` (default
    ``classify.embeddings.Embedder()``). ``C``: inverse regularisation of each logistic
    regression. ``min_examples``: tags with fewer positive examples are not learned (listed
    in ``skipped_``). ``threshold``: the probability from which a tag is reported.
    ``calibration``: ``sigmoid``, ``isotonic`` or None. ``taxonomy``: when given, a tag is
    only reported for the sources its ``applies_to`` names. ``sources``: the sources the
    examples speak for (None: every source); the model says nothing about other sources
    (a model learned from customers' words is not run on agent turns). ``min_f1``: see the
    module docstring (used with ``threshold="cv"``, cross-validated over ``cv_folds`` folds).
    ``ngrams``: add TF-IDF word uni- and bigrams of the text to its embedding (see the
    module docstring).

    The default model and retrained ones (``classify.default_model.fit_with_rule_trust``)
    also carry ``rule_floors_`` and ``negation_ok_``, learned from their examples for
    ``CombinedTagger``; a tagger without them (fitted with ``fit`` alone) leaves every rule
    hit and the taxonomy's negation reading as they are.
    """

    method = "model"

    def __init__(
        self,
        embedder: Any = None,
        C: float = 1.0,
        min_examples: int = 3,
        threshold: float | str = "cv",
        calibration: str | None = "sigmoid",
        taxonomy: Taxonomy | None = None,
        sources: tuple[str, ...] | None = None,
        min_f1: float = DEFAULT_MIN_F1,
        ngrams: bool = True,
        cv_folds: int = 5,
    ):
        self.embedder = embedder
        self.C = C
        self.min_examples = min_examples
        self.threshold = threshold
        self.calibration = calibration
        self.taxonomy = taxonomy
        self.sources = sources
        self.min_f1 = min_f1
        self.ngrams = ngrams
        self.cv_folds = cv_folds

    # ------------------------------------------------------------------ fitting

    def fit(
        self,
        texts: Sequence[str],
        y: Sequence[Collection[str]],
        unknown: Sequence[Collection[str]] | None = None,
    ) -> LearnedTagger:
        """Learn one classifier per tag from ``texts`` and their tag sets ``y``.

        A text is a positive for the tags in its set and a negative for every other tag,
        except the tags in ``unknown[i]`` (e.g. a reviewer rejected one tag on a text and
        said nothing about the others): those tags skip that text.
        """
        self.check_fit(texts, y, unknown)
        X = self._embed(texts)
        return self.fit_vectors(X, y, unknown, texts=texts)

    def check_fit(
        self,
        texts: Sequence[str],
        y: Sequence[Collection[str]],
        unknown: Sequence[Collection[str]] | None = None,
    ) -> None:
        """The checks of ``fit`` (settings, lengths), for a caller that embeds the texts
        itself and then calls ``fit_vectors``; raises ``ValueError``."""
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {CALIBRATIONS}, got {self.calibration!r}")
        if not (self.threshold == "cv" or isinstance(self.threshold, (int, float))):
            raise ValueError(f"threshold must be 'cv' or a number, got {self.threshold!r}")
        for source in self.sources or ():
            check_source(source)
        if len(texts) != len(y) or (unknown is not None and len(unknown) != len(texts)):
            raise ValueError(
                f"texts ({len(texts)}), y ({len(y)}) and unknown must have the same length"
            )

    def fit_vectors(
        self,
        X: np.ndarray,
        y: Sequence[Collection[str]],
        unknown: Sequence[Collection[str]] | None = None,
        texts: Sequence[str] | None = None,
    ) -> LearnedTagger:
        """``fit`` on precomputed embeddings (rows of ``X`` in the order of ``y``).

        Word n-grams (``ngrams``) need the ``texts`` too; without them the model uses the
        embeddings alone (and ``proba_vectors`` then needs no texts)."""
        self.vectorizer_ = None
        if self.ngrams and texts is not None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            vectorizer = TfidfVectorizer(
                ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float32
            )
            try:
                self.vectorizer_ = vectorizer.fit(texts)
            except ValueError:  # no word in two texts (a tiny set): embeddings alone
                self.vectorizer_ = None
        X = self.design(X, texts)
        names = sorted({tag for tags in y for tag in tags})
        if self.taxonomy is not None:
            order = {name: i for i, name in enumerate(self.taxonomy.names)}
            names.sort(key=lambda n: (order.get(n, len(order)), n))
        self.classifiers_: dict[str, Any] = {}
        self.calibrated_: dict[str, str] = {}
        self.skipped_: dict[str, str] = {}
        self.counts_: dict[str, tuple[int, int]] = {}
        for tag in names:
            rows, target = tag_targets(tag, y, unknown)
            pos = int(target.sum())
            neg = len(target) - pos
            self.counts_[tag] = (pos, neg)
            if pos < self.min_examples or neg < 1:
                self.skipped_[tag] = (
                    f"{pos} positive / {neg} negative examples; need {self.min_examples} / 1"
                )
                continue
            model, how = self._classifier(pos, neg)
            self.classifiers_[tag] = model.fit(X[rows], target)
            self.calibrated_[tag] = how
        self.tags_ = list(self.classifiers_)
        # Identifies what was learned (the pipeline re-tags when it changes).
        digest = hashlib.sha256(_matrix_bytes(X))
        digest.update(repr(sorted((t, sorted(tags)) for t, tags in enumerate(y))).encode())
        self.fingerprint_ = digest.hexdigest()[:16]
        if not self.tags_:
            raise ValueError(
                f"no tag has {self.min_examples} positive examples and a negative one: "
                + "; ".join(f"{t}: {why}" for t, why in self.skipped_.items())
            )
        self._set_thresholds(X, y, unknown)
        return self

    def _set_thresholds(
        self,
        X: np.ndarray,
        y: Sequence[Collection[str]],
        unknown: Sequence[Collection[str]] | None,
    ) -> None:
        """Per-tag cut-offs, cross-validated scores and weak tags (module docstring)."""
        self.thresholds_: dict[str, float] = {}
        self.weak_: dict[str, str] = {}
        self.cv_: dict[str, Any] = {}
        # Kept for ``rule_trust`` (same folds, same estimator); not saved (``__getstate__``).
        self.oof_: dict[str, np.ndarray] = {}
        if self.threshold != "cv":
            self.thresholds_ = {tag: float(self.threshold) for tag in self.tags_}
            return
        scores = cross_validate(
            self, X, y, unknown, folds=self.cv_folds, tune=True, out_of_fold=self.oof_
        )
        for score in scores:
            self.cv_[score.tag] = score
            self.thresholds_[score.tag] = score.threshold
            if score.f1 is None:
                continue  # too few examples to cross-validate: kept, at the fallback cut-off
            if score.f1 < self.min_f1:
                self.weak_[score.tag] = (
                    f"cross-validated F1 {score.f1:.2f} < {self.min_f1:.2f} "
                    f"({score.positives} positive examples): model hits off, rules only"
                )

    def cutoff(self, tag: str, threshold: float | None = None) -> float:
        """The probability from which ``tag`` is reported (inf: never, a weak tag).

        ``threshold`` overrides the fitted per-tag cut-off (weak tags stay off)."""
        if tag in getattr(self, "weak_", {}):
            return float("inf")
        if threshold is not None:
            return float(threshold)
        fitted = getattr(self, "thresholds_", {})
        if tag in fitted:
            return fitted[tag]
        return float(self.threshold) if self.threshold != "cv" else FALLBACK_THRESHOLD

    def cutoffs(self, threshold: float | None = None) -> np.ndarray:
        """``cutoff`` of every tag, in the order of ``tags_``."""
        return np.array([self.cutoff(tag, threshold) for tag in self.tags_], dtype=np.float64)

    def _classifier(self, pos: int, neg: int) -> tuple[Any, str]:
        """A fresh estimator for one tag and the calibration it uses (``none`` if plain)."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import LogisticRegression

        # Balanced weights: a tag seen in 5 of 60 texts must not be learned as "never".
        # liblinear: ~10x faster than lbfgs on these small binary problems.
        base = LogisticRegression(
            C=self.C, class_weight="balanced", solver="liblinear", max_iter=2000
        )
        if self.calibration is None or min(pos, neg) < CALIBRATION_MIN:
            return base, "none"
        folds = min(5, min(pos, neg) // 2)
        return CalibratedClassifierCV(base, method=self.calibration, cv=folds), self.calibration

    # ---------------------------------------------------------------- predicting

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """n x len(``tags_``) probabilities, column j for ``tags_[j]``."""
        texts = list(texts)
        return self.proba_vectors(self._embed(texts), texts)

    def proba_vectors(self, X: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        """``predict_proba`` on precomputed embeddings (and their ``texts`` when the model
        uses word n-grams)."""
        self._check_fitted()
        out = np.zeros((len(X), len(self.tags_)), dtype=np.float64)
        if not len(X):
            return out
        features = self.design(X, texts)
        for j, tag in enumerate(self.tags_):
            out[:, j] = self.classifiers_[tag].predict_proba(features)[:, 1]
        return out

    def design(self, X: np.ndarray, texts: Sequence[str] | None = None) -> Any:
        """What the per-tag classifiers see: the embeddings, plus the TF-IDF n-grams of
        ``texts`` when the model was fitted with them (a sparse matrix then).

        Why both: MiniLM vectors carry the paraphrases ("passed me on" ~ "transferred"),
        n-grams the small words that flip a tag ("never came", "not my department"); on
        the dev set the pair scored 0.86 macro-F1 where embeddings alone scored 0.77."""
        vectorizer = getattr(self, "vectorizer_", None)  # absent from older saved models
        if vectorizer is None:
            return X
        if texts is None:
            raise ValueError("this model uses word n-grams: pass the texts with the vectors")
        import scipy.sparse as sp

        return sp.hstack([sp.csr_matrix(X), vectorizer.transform(list(texts))]).tocsr()

    def tag(self, text: str, source: str = "comment") -> list[TagHit]:
        """Tags of one text whose probability reaches their cut-off (``cutoff``)."""
        return self.tag_many([text], source)[0]

    def tag_many(
        self, texts: Sequence[str], source: str = "comment", batch_size: int = 64
    ) -> list[list[TagHit]]:
        """``tag`` for many texts (one embedding pass; sentences embedded only for hits)."""
        check_source(source)
        texts = list(texts)
        proba = self.predict_proba(texts) if texts else np.zeros((0, len(self.tags_)))
        spans = [split_sentences(t) for t in texts]
        return self.hits(texts, proba, spans, source)

    def hits(
        self,
        texts: Sequence[str],
        proba: np.ndarray,
        spans: Sequence[Sequence[tuple[int, int]]],
        source: str,
        threshold: float | None = None,
        blocked: Sequence[dict[str, set[int]]] | None = None,
    ) -> list[list[TagHit]]:
        """Turn text probabilities into hits, with the best sentence (of ``spans``) as
        evidence. Shared with ``CombinedTagger``, which passes spaCy's sentences and, per
        text, ``blocked``: tag -> indices of sentences that may not support that tag (seen
        negated). A text with blocked sentences needs an unblocked sentence whose own
        probability reaches the threshold; that probability is then the score."""
        cuts = self.cutoffs(threshold)
        allowed = np.array([self._applies(tag, source) for tag in self.tags_], dtype=bool)
        hot = (proba >= cuts) & allowed
        no_block: dict[str, set[int]] = {}
        block = [blocked[i] if blocked else no_block for i in range(len(texts))]
        # Sentence probabilities are needed to pick evidence in multi-sentence texts and
        # to judge texts with a blocked sentence; computed only for texts with a hit.
        need = [i for i in range(len(texts)) if hot[i].any() and (len(spans[i]) > 1 or block[i])]
        rows: dict[int, int] = {}
        sentences: list[str] = []
        for i in need:
            rows[i] = len(sentences)
            sentences.extend(texts[i][a:b] for a, b in spans[i])
        sent_proba = self.predict_proba(sentences) if sentences else np.zeros((0, 0))
        out: list[list[TagHit]] = [[] for _ in texts]
        for i, text in enumerate(texts):
            for j in np.flatnonzero(hot[i]):
                tag = self.tags_[j]
                score = float(proba[i, j])
                if i in rows:
                    probs = sent_proba[rows[i] : rows[i] + len(spans[i]), j].copy()
                    banned = block[i].get(tag, set())
                    probs[list(banned)] = -1.0
                    best = int(np.argmax(probs))
                    if banned:
                        score = float(probs[best])
                        if score < cuts[j]:
                            continue
                    start, end = spans[i][best]
                elif spans[i]:
                    start, end = spans[i][0]
                else:
                    start, end = 0, len(text)
                out[i].append(
                    TagHit(
                        tag=tag, start=start, end=end, evidence=text[start:end],
                        method=self.method, score=round(score, 4),
                        cutoff=round(float(cuts[j]), 4),
                    )
                )  # fmt: skip
            out[i].sort(key=lambda h: (h.start, self.tags_.index(h.tag)))
        return out

    # ------------------------------------------------------------------- helpers

    def _applies(self, tag: str, source: str) -> bool:
        sources = getattr(self, "sources", None)  # absent from models saved before it existed
        if sources is not None and source not in sources:
            return False
        if self.taxonomy is None or tag not in self.taxonomy:
            return True
        return self.taxonomy[tag].applies(source)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if getattr(self, "embedder_", None) is None:
            if self.embedder is None:
                from classify.embeddings import Embedder

                self.embedder_ = Embedder()
            else:
                self.embedder_ = self.embedder
        return np.asarray(self.embedder_.encode(list(texts)), dtype=np.float32)

    def _check_fitted(self) -> None:
        if not hasattr(self, "classifiers_"):
            raise RuntimeError("LearnedTagger is not fitted; call fit() or load() first")

    def __getstate__(self) -> dict[str, Any]:
        # The working embedder (an ONNX session) is rebuilt on load; ``embedder`` is kept
        # (an ``Embedder`` pickles as its settings only).
        state = dict(self.__dict__)
        state.pop("embedder_", None)
        state.pop("oof_", None)  # fitting's by-product, only needed while fitting
        return state

    def save(self, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
        """Write the fitted tagger and ``metadata`` with joblib, atomically."""
        from classify.model_store import save_model

        self._check_fitted()
        return save_model(self, Path(path), metadata or {})

    @classmethod
    def load(cls, path: str | Path, embedder: Any = None) -> LearnedTagger:
        """A tagger written by ``save``; ``embedder`` replaces the stored embedder settings."""
        from classify.model_store import load_model

        tagger, _meta = load_model(Path(path))
        if not isinstance(tagger, cls):
            raise TypeError(f"{path}: holds a {type(tagger).__name__}, not a LearnedTagger")
        if embedder is not None:
            tagger.embedder = embedder
        return tagger


def _matrix_bytes(X: Any) -> bytes:
    """The content of a dense or sparse matrix, for the fingerprint."""
    if hasattr(X, "tocsr"):
        X = X.tocsr()
        return b"".join(np.ascontiguousarray(a).tobytes() for a in (X.data, X.indices, X.indptr))
    return np.ascontiguousarray(X, dtype=np.float32).tobytes()


def label_sets(column: Iterable[str], sep: str = ";") -> list[set[str]]:
    """Parse a ``tags`` column ("re-explain; long-wait") into tag sets."""
    return [{t.strip() for t in (cell or "").split(sep) if t.strip()} for cell in column]
