"""Saving, loading and cross-validating learned taggers.

A saved model is one joblib file holding ``{"format": 1, "model": ..., "metadata": {...}}``;
the metadata (taxonomy version, training-set hash, date, per-tag CV metrics, ...) can be
read without unpickling the model via ``read_metadata``'s sidecar JSON file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classify.labels import tag_targets

FORMAT = 1
MODEL_FILE = "learned-tagger.joblib"
FALLBACK_THRESHOLD = 0.5
"""The cut-off of a tag that could not be cross-validated (or of a model saved before
per-tag thresholds existed)."""
THRESHOLD_GRID: tuple[float, ...] = tuple(round(0.15 + 0.05 * i, 2) for i in range(15))
"""Cut-offs tried per tag (0.15 ... 0.85); ties go to the one nearest 0.5."""


def default_models_dir() -> Path:
    """``models/trained/`` at the repository root (git-ignored)."""
    return Path(__file__).resolve().parents[1] / "models" / "trained"


def save_model(model: Any, path: Path, metadata: dict[str, Any]) -> Path:
    """Write ``model`` + ``metadata`` to ``path`` (and ``path.json``), atomically."""
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "model": model, "metadata": metadata}
    for target, write in (
        (path, lambda tmp: joblib.dump(payload, tmp, compress=3)),
        (_sidecar(path), lambda tmp: Path(tmp).write_text(json.dumps(metadata, indent=2))),
    ):
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{target.name}.")
        os.close(fd)
        try:
            write(tmp)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return path


def load_model(path: Path) -> tuple[Any, dict[str, Any]]:
    """The model and metadata stored by ``save_model``; clear errors for a wrong file."""
    import joblib

    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no trained model there; train one with `qa text train LABELS.csv`"
        )
    try:
        payload = joblib.load(path)
    except Exception as exc:
        raise ValueError(f"{path}: not a callqa model file ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path}: not a callqa model file (format {FORMAT} expected)")
    return payload["model"], payload["metadata"]


def read_metadata(path: Path) -> dict[str, Any]:
    """The metadata of a saved model (from its JSON sidecar; no unpickling)."""
    return json.loads(_sidecar(path).read_text(encoding="utf-8"))


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def training_hash(texts: Sequence[str], y: Sequence[Collection[str]]) -> str:
    """Order-independent hash of a training set (texts and their tag sets)."""
    rows = sorted(f"{t}\x00{';'.join(sorted(tags))}" for t, tags in zip(texts, y, strict=True))
    return hashlib.sha256("\x01".join(rows).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TagScore:
    """Cross-validated quality of one tag (positives = texts that carry it)."""

    tag: str
    positives: int
    negatives: int
    precision: float | None
    recall: float | None
    f1: float | None
    folds: int
    calibration: str
    threshold: float = 0.5
    """The cut-off the scores are measured at (tuned per tag with ``tune=True``)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def cross_validate(
    tagger: Any,
    X: np.ndarray,
    y: Sequence[Collection[str]],
    unknown: Sequence[Collection[str]] | None = None,
    folds: int = 5,
    seed: int = 0,
    tune: bool = False,
    out_of_fold: dict[str, np.ndarray] | None = None,
) -> list[TagScore]:
    """Per-tag precision / recall / F1 from stratified K-fold predictions.

    ``tagger`` is a fitted ``LearnedTagger`` (its settings are reused; it is not changed);
    ``X`` are the training embeddings. Each tag uses ``min(folds, positives, negatives)``
    folds; a tag with fewer than 2 on either side gets None scores. The scores are taken at
    the tagger's cut-off for the tag, or, with ``tune``, at the ``THRESHOLD_GRID`` cut-off
    that maximises the out-of-fold F1 (so that F1 is slightly optimistic: the cut-off was
    chosen on the same predictions).

    ``out_of_fold``: when given, filled with each cross-validated tag's out-of-fold
    probabilities (over the rows ``classify.labels.tag_targets`` keeps for it), so a caller
    that needs the same predictions (``classify.default_model.rule_trust``) need not refit.
    """
    from sklearn.base import clone
    from sklearn.metrics import precision_recall_fscore_support
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    scores = []
    for tag in tagger.tags_:
        rows, target = tag_targets(tag, y, unknown)
        pos = int(target.sum())
        neg = len(target) - pos
        k = min(folds, pos, neg)
        calibration = tagger.calibrated_.get(tag, "none")
        if k < 2:
            cut = FALLBACK_THRESHOLD if tune else tagger.cutoff(tag)
            scores.append(TagScore(tag, pos, neg, None, None, None, 0, calibration, cut))
            continue
        # Each fold refits the same kind of estimator (and calibration) as the tagger.
        estimator, _ = tagger._classifier(int(pos * (k - 1) / k), int(neg * (k - 1) / k))
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        proba = cross_val_predict(
            clone(estimator), X[rows], target, cv=splitter, method="predict_proba"
        )[:, 1]
        if out_of_fold is not None:
            out_of_fold[tag] = proba
        cuts = THRESHOLD_GRID if tune else (tagger.cutoff(tag),)
        best: tuple[float, float, float, float] | None = None  # (f1, -|cut - 0.5|, p, r)
        chosen = cuts[0]
        for cut in cuts:
            p, r, f, _ = precision_recall_fscore_support(
                target, (proba >= cut).astype(int), average="binary", zero_division=0
            )
            key = (float(f), -abs(cut - 0.5), float(p), float(r))
            if best is None or key[:2] > best[:2]:
                best, chosen = key, cut
        assert best is not None
        f1, _, p, r = best
        scores.append(TagScore(tag, pos, neg, p, r, f1, k, calibration, chosen))
    return scores
