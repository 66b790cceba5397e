"""Inter-rater agreement for QA calibration: do reviewers tag and score calls the same way?

Pure functions over ``Rating`` rows (item, rater, value), one subject (a tag or a scorecard
question) at a time. Reports Krippendorff's alpha (any number of raters, missing ratings
allowed), Cohen's kappa (two raters) or Fleiss' kappa (three or more, over the items every
rater rated), the raw pairwise agreement, and the items the raters disagreed on, so that a
calibration session can start from the calls that split the team.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import krippendorff
import numpy as np
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa

LEVELS = ("nominal", "ordinal")
KINDS = ("tag", "question")

Value = str | int | bool


@dataclass(frozen=True)
class Rating:
    """One rater's answer for one item, e.g. a tag present on call "C-1001" (True)."""

    item: str
    rater: str
    value: Value


@dataclass(frozen=True)
class Agreement:
    """How far the raters of one subject agree; see the module docstring for the measures."""

    subject: str
    kind: str
    level: str
    items: int
    raters: int
    ratings: int
    alpha: float | None
    kappa: float | None
    kappa_kind: str | None
    kappa_items: int
    observed: float | None
    disagreements: tuple[str, ...]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the disagreements as a list)."""
        row = asdict(self)
        row["disagreements"] = list(self.disagreements)
        return row


def _check(name: str, value: str, options: tuple[str, ...]) -> None:
    if value not in options:
        valid = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {valid}; got {value!r}")


def _quiet_float(compute: Callable[[], Any]) -> float | None:
    """Run a statistic, mapping errors and nan to None.

    Degenerate tables (one category, expected agreement 1) make numpy divide 0 by 0; that is
    expected here and reported as None with a note, so the warning must not escape (pytest runs
    with warnings as errors, and callers would see noise for an ordinary outcome).
    """
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            result = float(compute())
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return None
    return None if math.isnan(result) else result


def _codes(values: set[Value], level: str, subject: str) -> dict[Value, float]:
    """Map each distinct value to a number for the matrices the packages take."""
    if level == "ordinal":
        # Ordinal distances depend on the order of the values, so they must be numbers already
        # (numpy's too, as from a DataFrame); strings such as "yes" have no order we could guess.
        for value in values:
            if not isinstance(value, numbers.Real) or math.isnan(value):
                raise ValueError(
                    f"ordinal agreement for {subject!r} needs numeric values; got {value!r}"
                )
        return {value: float(value) for value in values}
    # Nominal: any stable code will do; sorting by str keeps codes the same from run to run.
    ordered = sorted(values, key=lambda v: (str(v), type(v).__name__))
    return {value: float(code) for code, value in enumerate(ordered)}


def _observed(by_item: Mapping[str, Mapping[str, Value]]) -> float | None:
    # Pooled over every pair of raters on the same item, so items with more raters weigh more,
    # as they hold more chances to disagree.
    agree = pairs = 0
    for answers in by_item.values():
        for a, b in combinations(answers.values(), 2):
            pairs += 1
            agree += bool(a == b)  # a plain bool, even for numpy values
    return agree / pairs if pairs else None


def _kappa(
    by_item: Mapping[str, Mapping[str, Value]], raters: list[str], codes: Mapping[Value, float]
) -> tuple[float | None, str | None, int, str]:
    """Cohen's kappa for two raters, Fleiss' for more: (kappa, kind, items used, note)."""
    if len(raters) < 2:
        return None, None, 0, ""
    # Both kappas need a full items x raters table; items someone skipped are left out.
    full = [answers for answers in by_item.values() if len(answers) == len(raters)]
    kind = "cohen" if len(raters) == 2 else "fleiss"
    if len(full) < 2:
        return None, kind, len(full), f"{kind} kappa needs 2+ items rated by every rater"
    if kind == "cohen":
        first, second = raters
        categories = sorted({a[r] for a in full for r in raters}, key=lambda v: codes[v])
        index = {value: i for i, value in enumerate(categories)}
        table = np.zeros((len(categories), len(categories)))
        for answers in full:
            table[index[answers[first]], index[answers[second]]] += 1
        kappa = _quiet_float(lambda: cohens_kappa(table).kappa)
    else:
        data = np.array([[codes[answers[r]] for r in raters] for answers in full])
        kappa = _quiet_float(lambda: fleiss_kappa(aggregate_raters(data)[0]))
    note = "" if kappa is not None else f"{kind} kappa undefined (one value on the items it used)"
    return kappa, kind, len(full), note


def agreement(
    ratings: Iterable[Rating], *, subject: str, kind: str = "tag", level: str = "nominal"
) -> Agreement:
    """Agreement among the raters of one subject (a tag or a scorecard question).

    A rater who rated an item twice counts once, with the last rating. Items rated by only one
    rater are dropped. Alpha, kappa and observed are None where undefined, and ``note`` says
    why. Raises ValueError for an unknown ``kind`` or ``level``, or, for ``ordinal``, a value
    that is not a number.
    """
    _check("kind", kind, KINDS)
    _check("level", level, LEVELS)
    latest: dict[str, dict[str, Value]] = {}
    for rating in ratings:
        # Re-assigning keeps the last value, which is the reviewer's final word after a re-review.
        latest.setdefault(rating.item, {})[rating.rater] = rating.value
    by_item = {item: answers for item, answers in sorted(latest.items()) if len(answers) >= 2}
    raters = sorted({rater for answers in by_item.values() for rater in answers})
    values = {value for answers in by_item.values() for value in answers.values()}
    codes = _codes(values, level, subject)
    disagreements = tuple(
        item for item, answers in by_item.items() if len(set(answers.values())) > 1
    )

    alpha: float | None = None
    if len(by_item) < 2:
        notes = ["fewer than 2 items rated by two or more raters"]
    elif len(values) < 2:
        notes = ["every rating is the same value"]
    else:
        notes = []
        row_of = {rater: row for row, rater in enumerate(raters)}
        # Raters x items, nan where a rater skipped an item: the layout krippendorff expects.
        matrix = np.full((len(raters), len(by_item)), np.nan)
        for column, answers in enumerate(by_item.values()):
            for rater, value in answers.items():
                matrix[row_of[rater], column] = codes[value]
        alpha = _quiet_float(
            lambda: krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
        )
        if alpha is None:
            notes.append("krippendorff's alpha undefined for these ratings")

    kappa, kappa_kind, kappa_items, kappa_note = _kappa(by_item, raters, codes)
    # Too few items or a single value already explain a None kappa; don't say it twice.
    if kappa_note and len(by_item) >= 2 and len(values) >= 2:
        notes.append(kappa_note)
    return Agreement(
        subject=subject,
        kind=kind,
        level=level,
        items=len(by_item),
        raters=len(raters),
        ratings=sum(len(answers) for answers in by_item.values()),
        alpha=alpha,
        kappa=kappa,
        kappa_kind=kappa_kind,
        kappa_items=kappa_items,
        observed=_observed(by_item),
        disagreements=disagreements,
        note="; ".join(notes),
    )


def agreements(
    ratings_by_subject: Mapping[tuple[str, str], Iterable[Rating]],
    *,
    levels: Mapping[str, str] | None = None,
) -> list[Agreement]:
    """Agreement for each ``(kind, subject)`` key, sorted by kind then subject.

    ``levels`` maps a subject to its level ("ordinal" for a 1..5 question); others are nominal.
    """
    levels = levels or {}
    return [
        agreement(ratings, subject=subject, kind=kind, level=levels.get(subject, "nominal"))
        for (kind, subject), ratings in sorted(ratings_by_subject.items(), key=lambda kv: kv[0])
    ]


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_table(rows: Sequence[Agreement]) -> str:
    """A plain-text table, one line per subject, columns aligned; "-" where undefined."""
    header = ("kind", "subject", "items", "raters", "alpha", "kappa", "observed", "disagree")
    body = [
        (
            row.kind,
            row.subject,
            str(row.items),
            str(row.raters),
            _num(row.alpha),
            _num(row.kappa) + (f" ({row.kappa_kind})" if row.kappa is not None else ""),
            _num(row.observed),
            str(len(row.disagreements)),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    # Text columns left-aligned, numbers right-aligned, as a reader scans them.
    lines = [
        "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in [header, *body]
    ]
    return "\n".join(lines)
