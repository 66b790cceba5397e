"""Effect sizes that survive mis-tagging: a sensitivity correction for "said" drivers.

A tag is a noisy measure of the event it names (E: the customer really was transferred).
With precision PPV = P(E | tagged), recall = P(tagged | E) and p = P(tagged) (the tag's
prevalence in the analysed rows), the event's own prevalence is

    P(E) = p * PPV / recall,    P(E | not tagged) = (1 - recall) * P(E) / (1 - p).

If the outcome depends on E by ``d_true`` and the tag errors are *non-differential* (whether
the tagger catches E has nothing to do with the outcome once E is known) and *independent
of the controls*, the tag's effect is attenuated to

    d_obs = d_true * (PPV - P(E | not tagged)) = d_true * factor,

so ``d_true = d_obs / factor``; the adjusted interval's ends are divided by the same factor
(it is > 0, so their order holds). Example: PPV 1, recall 0.5, p 0.2 -> P(E) 0.4,
P(E | not tagged) 0.25, factor 0.75: an observed -0.75 is a true -1.

The recall and precision used are those measured from reviewer decisions
(``qa.why.quality``) where they exist; else recall is assumed (``qa why --assume-recall``,
default 0.7) and precision taken as 1 (or as measured, when only precision was measured).
A factor of 0.05 or less (or an impossible P(E) above 1) means the tag carries too little
of the event to correct: the line says "too noisy to correct" and gives no interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from qa.why.results import (
    BINARY_OUTCOMES,
    DEFAULT_ASSUME_RECALL,
    OK,
    SAID,
    Driver,
    DriverAnalysis,
    Sensitivity,
    TagQuality,
)
from qa.why.text import formatters

MIN_FACTOR = 0.05
"""At or below this attenuation factor the tag is too noisy to correct."""
MEASURED = "measured"
ASSUMED = "assumed"


def correction_factor(prevalence: float, precision: float, recall: float) -> float | None:
    """``PPV - P(E | not tagged)`` (module docstring); ``None`` when undefined or impossible
    (no rows on one side, recall 0, or an event prevalence above 1)."""
    if not 0 < prevalence < 1 or not 0 < recall <= 1 or not 0 <= precision <= 1:
        return None
    p_event = prevalence * precision / recall
    if p_event > 1:
        return None
    return precision - (1 - recall) * p_event / (1 - prevalence)


def _used(quality: TagQuality | None, assume_recall: float) -> tuple[float, float, str, str]:
    """(recall, precision, source, how they were obtained in words)."""
    q = quality
    if q is not None and q.recall is not None and q.precision is not None:
        how = f"precision {q.precision:.2f}, measured from {q.decisions} decisions"
        return q.recall, q.precision, MEASURED, how
    if q is not None and q.recall is not None:  # recall measured, no reviewed machine hit
        how = f"measured from {q.decisions} decisions; precision 1.00 assumed"
        return q.recall, 1.0, MEASURED, how
    if q is not None and q.precision is not None:
        how = f"assumed; precision {q.precision:.2f} measured from {q.decisions} decisions"
        return assume_recall, q.precision, ASSUMED, how
    return assume_recall, 1.0, ASSUMED, "assumed; precision 1.00 assumed"


def sensitivity(
    driver: Driver, outcome: str, quality: TagQuality | None, assume_recall: float
) -> Sensitivity | None:
    """The corrected adjusted effect of a tested "said" driver (``None`` for other drivers
    or without an adjusted effect)."""
    effect, low, high = driver.adjusted_effect, driver.adjusted_ci_low, driver.adjusted_ci_high
    if driver.kind != SAID or driver.status != OK or effect is None or driver.prevalence is None:
        return None
    recall, precision, source, how = _used(quality, assume_recall)
    factor = correction_factor(driver.prevalence, precision, recall)
    head = f"if this tag's recall is {recall:.2f} ({how}), "
    if factor is None or factor <= MIN_FACTOR:
        shown = "undefined" if factor is None else f"{factor:.2f}"
        line = f"{head}the tag is too noisy to correct (attenuation factor {shown})"
        return Sensitivity(recall, precision, source, None, None, None, None, line)
    _, diff = formatters(outcome)
    c_low = None if low is None else low / factor
    c_high = None if high is None else high / factor
    unit = "pp" if outcome in BINARY_OUTCOMES else "points"
    if c_low is not None and c_high is not None:
        span = f"lies in [{diff(c_low)}, {diff(c_high)}] {unit}"
    else:
        span = f"is about {diff(effect / factor)} {unit}"
    line = f"{head}the true effect {span}"
    return Sensitivity(recall, precision, source, factor, effect / factor, c_low, c_high, line)


def with_quality(
    analysis: DriverAnalysis,
    quality: Mapping[str, TagQuality] | None = None,
    assume_recall: float = DEFAULT_ASSUME_RECALL,
) -> DriverAnalysis:
    """``analysis`` with each "said" driver's measured quality and sensitivity filled in."""
    if not 0 < assume_recall <= 1:
        raise ValueError(f"assumed recall must be in (0, 1], got {assume_recall!r}")
    quality = quality or {}
    drivers = []
    for d in analysis.drivers:
        if d.kind != SAID:
            drivers.append(d)
            continue
        q = quality.get(d.tag)
        corrected = sensitivity(d, analysis.outcome, q, assume_recall)
        drivers.append(replace(d, quality=q, sensitivity=corrected))
    return replace(analysis, drivers=tuple(drivers))
