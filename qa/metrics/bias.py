"""Survey bias: are the calls that got a survey answer like the calls that did not?

Survey scores describe respondents, not callers. When respondents had, say, longer calls or
more transfers than everyone else, every survey-based KPI and driver is skewed. Among the
handled calls of a period this compares surveyed with not-surveyed calls on:

* call metrics (talk, hold, wait seconds): Mann-Whitney U, two-sided; medians shown;
* shares (transferred, each tag with enough support): two-proportion test as a 2x2
  chi-square without continuity correction (the square of the two-proportion z), or
  Fisher's exact test when an expected count is below 5;
* the team and queue mix: chi-square test of independence.

Like with like: every feature must exist for both groups. ``tags`` must therefore be tags
from transcripts (agent or customer turns: ``qa.metrics.transcript_tags``), never from
survey comments - a comment exists only on an answered survey, so every comment tag would
look like bias.

p-values are Benjamini-Hochberg adjusted across all tests of the period (``q_value``); a
row is flagged when ``q < alpha`` (default 0.05).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from statistics import median

from qa.metrics.base import CallFact, SurveyFact

METRICS = ("talk_seconds", "hold_seconds", "wait_seconds")
LABELS = {
    "talk_seconds": "talk time",
    "hold_seconds": "hold time",
    "wait_seconds": "queue wait",
    "transferred": "transferred",
    "team": "team mix",
    "queue": "queue mix",
}


@dataclass(frozen=True)
class BiasRow:
    """One comparison between surveyed and not-surveyed calls."""

    feature: str  # a metric, "transferred", a tag name, or "team" / "queue"
    kind: str  # metric | share | tag | mix
    test: str  # mann-whitney | chi-square | fisher
    surveyed: float | None  # median (metric) or share (share / tag); None for a mix
    not_surveyed: float | None
    p_value: float
    q_value: float | None = None
    significant: bool = False

    @property
    def difference(self) -> float | None:
        if self.surveyed is None or self.not_surveyed is None:
            return None
        return self.surveyed - self.not_surveyed

    def describe(self) -> str:
        """A sentence such as ``talk time: median 420 s surveyed vs 300 s not (q=0.003)``."""
        name = LABELS.get(self.feature, f"tag {self.feature}")
        q = f"(q={self.q_value:.3g})" if self.q_value is not None else ""
        if self.kind == "metric":
            return (
                f"{name}: median {self.surveyed:.0f} s surveyed vs "
                f"{self.not_surveyed:.0f} s not {q}"
            )
        if self.kind == "mix":
            return f"{name} differs between surveyed and not-surveyed calls {q}"
        return (
            f"{name}: {self.surveyed:.0%} of surveyed calls vs "
            f"{self.not_surveyed:.0%} of the rest {q}"
        )


@dataclass(frozen=True)
class BiasReport:
    """All comparisons of one period, and the warnings they raise."""

    n_surveyed: int
    n_not_surveyed: int
    alpha: float
    rows: tuple[BiasRow, ...]
    note: str = ""  # why nothing was tested, when nothing was

    @property
    def response_rate(self) -> float | None:
        total = self.n_surveyed + self.n_not_surveyed
        return self.n_surveyed / total if total else None

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(row.describe() for row in self.rows if row.significant)


def _share_test(a: Sequence[bool], b: Sequence[bool]) -> tuple[str, float]:
    from scipy.stats import chi2_contingency, fisher_exact

    table = [[sum(a), len(a) - sum(a)], [sum(b), len(b) - sum(b)]]
    if min(sum(col) for col in zip(*table, strict=True)) == 0:
        return "chi-square", 1.0  # nobody (or everybody) has it: no evidence either way
    expected = chi2_contingency(table, correction=False).expected_freq
    if expected.min() < 5:
        return "fisher", float(fisher_exact(table).pvalue)
    return "chi-square", float(chi2_contingency(table, correction=False).pvalue)


def _mix_test(a: Sequence[str], b: Sequence[str]) -> float | None:
    from scipy.stats import chi2_contingency

    levels = sorted(set(a) | set(b))
    if len(levels) < 2:
        return None
    table = [[a.count(level) for level in levels], [b.count(level) for level in levels]]
    return float(chi2_contingency(table, correction=False).pvalue)


def survey_bias(
    calls: Sequence[CallFact],
    surveys: Sequence[SurveyFact],
    tags: Mapping[str, set[str]] | None = None,
    *,
    alpha: float = 0.05,
    min_group: int = 5,
    min_tag_calls: int = 5,
) -> BiasReport:
    """Compare surveyed and not-surveyed handled ``calls``; BH-adjusted across all tests.

    ``tags``: call external id -> its transcript tags (see the module docstring). Nothing
    is tested when either group has fewer than ``min_group`` calls; a tag is
    tested when at least ``min_tag_calls`` handled calls carry it.
    """
    from scipy.stats import false_discovery_control, mannwhitneyu

    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    tags = tags or {}
    answered = {s.call_external_id for s in surveys}
    handled = [c for c in calls if not c.abandoned]
    yes = [c for c in handled if c.external_id in answered]
    no = [c for c in handled if c.external_id not in answered]
    if min(len(yes), len(no)) < min_group:
        note = (
            f"too few calls to compare ({len(yes)} surveyed, {len(no)} not; "
            f"at least {min_group} each needed)"
        )
        return BiasReport(len(yes), len(no), alpha, (), note)

    rows: list[BiasRow] = []
    for metric in METRICS:
        a, b = [getattr(c, metric) for c in yes], [getattr(c, metric) for c in no]
        if len(set(a) | set(b)) > 1:  # a constant metric (no holds at all) says nothing
            p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
            rows.append(BiasRow(metric, "metric", "mann-whitney", median(a), median(b), p))
    shares = {"transferred": lambda c: c.transferred}
    names = sorted({t for c in handled for t in tags.get(c.external_id, ())})
    for name in names:
        if sum(1 for c in handled if name in tags.get(c.external_id, ())) >= min_tag_calls:
            shares[name] = lambda c, name=name: name in tags.get(c.external_id, ())
    for feature, has in shares.items():
        a_flags, b_flags = [has(c) for c in yes], [has(c) for c in no]
        test, p = _share_test(a_flags, b_flags)
        kind = "share" if feature == "transferred" else "tag"
        rows.append(
            BiasRow(feature, kind, test, sum(a_flags) / len(yes), sum(b_flags) / len(no), p)
        )
    for feature in ("team", "queue"):
        p = _mix_test([getattr(c, feature) for c in yes], [getattr(c, feature) for c in no])
        if p is not None:
            rows.append(BiasRow(feature, "mix", "chi-square", None, None, p))

    q_values = false_discovery_control([r.p_value for r in rows]) if rows else []
    adjusted = tuple(
        replace(r, q_value=float(q), significant=bool(q < alpha))
        for r, q in zip(rows, q_values, strict=True)
    )
    return BiasReport(len(yes), len(no), alpha, adjusted)
