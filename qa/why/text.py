"""Text for the terminal (and the report): driver tables, change summaries.

Numbers keep their units: rates as percentages, rate differences in points (pp), score
effects in score points, NPS in NPS points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from qa.metrics.display import MISSING
from qa.why.change_model import share
from qa.why.results import BINARY_OUTCOMES, KINDS, OK, SAID, Driver, DriverAnalysis

if TYPE_CHECKING:
    from qa.why.change_model import ChangeDecomposition, ChangeTerm

OUTCOME_LABELS: dict[str, str] = {
    "csat": "CSAT mean (1-5)", "nps": "NPS (-100..100)", "ces": "CES mean (1-7, lower is better)",
    "fcr": "FCR rate (survey)", "repeat": "repeat-contact rate (lower is better)",
    "aht": "handle time, seconds (talk + hold + after-call work)",
}  # fmt: skip
MODEL_LABELS: dict[str, str] = {
    "ols-hc3": "OLS, HC3 robust errors",
    "logit-ame": "logistic regression, average marginal effects",
    "lpm-hc3": "linear probability model, HC3 robust errors",
    "wls-hc3": "weighted least squares for who answers, HC3 robust errors",
    "none": "no regression",
}
LEGEND = "from: " + "; ".join(f"{kind} = {meaning}" for kind, meaning in KINDS.items())
"""The legend under every driver table: where each row's feature comes from."""


def formatters(outcome: str):  # type: ignore[no-untyped-def]
    """(level, difference) formatters: rates as %, rate differences in points (pp)."""
    if outcome in BINARY_OUTCOMES:
        return (lambda v: _num(None if v is None else 100 * v, ".1f") + ("" if v is None else "%"),
                lambda v: _num(None if v is None else 100 * v, "+.1f"))  # fmt: skip
    spec = ".1f" if outcome == "nps" else ".2f"
    return (lambda v: _num(v, spec), lambda v: _num(v, "+" + spec))


def _interval(diff, value, low, high) -> str:  # type: ignore[no-untyped-def]
    if value is None:
        return MISSING
    if low is None or high is None:
        return diff(value)
    return f"{diff(value)} [{diff(low)}, {diff(high)}]"


def driver_rows(drivers: Sequence[Driver], outcome: str) -> list[dict[str, str]]:
    """Display cells (strings) per driver, for the terminal table and the HTML report."""
    level, diff = formatters(outcome)
    rows = []
    for d in drivers:
        rows.append({
            "tag": d.tag,
            "from": d.kind,
            "n with": str(d.n_with),
            "prevalence": _num(None if d.prevalence is None else 100 * d.prevalence, ".1f")
            + ("%" if d.prevalence is not None else ""),
            "with": level(d.mean_with),
            "without": level(d.mean_without),
            "effect [95% CI]": _interval(diff, d.effect, d.ci_low, d.ci_high),
            "q": _num(d.q_value, ".3f"),
            "adjusted [95% CI]": _interval(diff, d.adjusted_effect, d.adjusted_ci_low,
                                           d.adjusted_ci_high),
            "impact": diff(d.impact),
            "note": d.note if d.status == OK else f"insufficient: {d.note}",
        })  # fmt: skip
    return rows


def _render(rows: Sequence[dict[str, str]]) -> str:
    if not rows:
        return "(no tags on the analysed calls)"
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    left = {"tag", "from", "note"}

    def line(cells: dict[str, str]) -> str:
        parts = [cells[c].ljust(widths[c]) if c in left else cells[c].rjust(widths[c])
                 for c in columns]  # fmt: skip
        return "  ".join(parts).rstrip()

    header = line({c: c for c in columns})
    return "\n".join([header, "  ".join("-" * widths[c] for c in columns), *map(line, rows)])


def _rate(value: float | None, low: float | None, high: float | None, n: int) -> str:
    if value is None:
        return f"{MISSING} (no decision measures it)"
    return f"{value:.2f} [{_num(low, '.2f')}, {_num(high, '.2f')}] of {n}"


def quality_lines(drivers: Sequence[Driver]) -> list[str]:
    """One line per tested "said" driver: measured precision / recall (when reviewer
    decisions exist) and its sensitivity line (``qa.why.sensitivity``)."""
    lines = []
    for d in drivers:
        if d.kind != SAID or d.sensitivity is None:
            continue
        q, measured = d.quality, ""
        if q is not None and q.decisions:
            precision = _rate(q.precision, q.precision_low, q.precision_high, q.reviewed)
            recall = _rate(q.recall, q.recall_low, q.recall_high, q.found)
            measured = f"measured precision {precision}, recall {recall}; "
        lines.append(f"{d.tag}: {measured}{d.sensitivity.line}")
    return lines


def format_drivers(rows: Sequence[Driver], outcome: str = "csat") -> str:
    """A driver table for ``rows`` (e.g. ``tag_drivers``' result)."""
    return _render(driver_rows(rows, outcome))


def format_analysis(analysis: DriverAnalysis, title: str = "") -> str:
    """The driver table with a header (outcome, n, model, controls) and the model notes."""
    level, _ = formatters(analysis.outcome)
    unit = "pp" if analysis.binary else "points"
    controls = ", ".join(analysis.controls) or "other tags only"
    model = MODEL_LABELS.get(analysis.model, analysis.model)
    adjusted = "no adjusted effects" if analysis.model == "none" else (
        f"adjusted for {controls} ({model})")  # fmt: skip
    head = (
        f"{title}{OUTCOME_LABELS[analysis.outcome]}: {level(analysis.mean)} over {analysis.n} "
        f"calls; {adjusted}; effects in {unit}; impact = prevalence x adjusted effect, "
        "most harmful first"
    )
    notes = [f"note: {n}" for n in analysis.notes]
    quality = quality_lines(analysis.drivers)
    if quality:
        quality = ["tag quality and mis-tagging (adjusted effect / attenuation factor; "
                   "assumes errors unrelated to the outcome and the controls):",
                   *(f"  {line}" for line in quality)]  # fmt: skip
    table = _render(driver_rows(analysis.drivers, analysis.outcome))
    legend = [LEGEND] if analysis.drivers else []
    return "\n".join([head, table, *legend, *quality, *notes])


def _num(value: float | None, spec: str) -> str:
    return MISSING if value is None else format(value, spec)


# --- change over time ------------------------------------------------------------------------


def change_summary(
    outcome: str,
    mean_b: float,
    mean_a: float,
    terms: Sequence[ChangeTerm],
    residual: float | None,
) -> tuple[str, ...]:
    delta = mean_a - mean_b
    if abs(delta) < 1e-12:
        return (f"{outcome} did not change ({mean_b:.3g}).",)
    lines = [f"{outcome} {'fell' if delta < 0 else 'rose'} from {mean_b:.3g} to {mean_a:.3g} "
             f"({delta:+.3g})."]  # fmt: skip
    for t in terms:
        share = t.total / delta
        if share < 0.1:
            continue
        if abs(t.prevalence_part) >= abs(t.effect_part):
            more = "more" if t.prevalence_after > t.prevalence_before else "fewer"
            why = (f"{more} {t.tag} calls ({t.prevalence_before:.0%} -> "
                   f"{t.prevalence_after:.0%} of calls)")  # fmt: skip
        else:
            sig = "" if t.effect_change_p is None or t.effect_change_p < 0.05 else (
                f"; not significant, p={t.effect_change_p:.2f}")  # fmt: skip
            why = (f"a changed effect of {t.tag} ({t.effect_before:+.3g} -> "
                   f"{t.effect_after:+.3g} per call{sig})")  # fmt: skip
        lines.append(f"{share:.0%} of the change comes from {why}.")
    if not terms:
        lines.append("No tag is common enough in both periods to attribute the change.")
    elif residual is not None and residual / delta >= 0.1:
        lines.append(f"{residual / delta:.0%} is a shift among calls without these tags.")
    return tuple(lines)


def format_change(change: ChangeDecomposition) -> str:
    """Text for the terminal: means, the summary sentences, the term table, the paradox."""
    lines = [f"{change.outcome}: {change.before.label} (n={change.n_before}) vs "
             f"{change.after.label} (n={change.n_after})"]  # fmt: skip
    lines += list(change.summary)
    if change.terms:
        heads = ("prev before", "prev after", "effect before", "effect after", "from prev.")
        lines.append(f"{'tag':<18}" + "".join(f"{h:>14}" for h in heads) + f"{'from effect':>13}"
                     f"{'share':>8}")  # fmt: skip
        delta = change.delta
        for t in change.terms:
            part = share(t.total, delta)
            lines.append(
                f"{t.tag:<18}{t.prevalence_before:>14.1%}{t.prevalence_after:>14.1%}"
                f"{t.effect_before:>+14.3f}{t.effect_after:>+14.3f}{t.prevalence_part:>+14.3f}"
                f"{t.effect_part:>+13.3f}{'' if part is None else f'{part:.0%}':>8}"
            )
        if change.residual is not None:
            lines.append(f"{'(residual)':<18}{'':>70}{change.residual:>+13.3f}")
    lines += [f"warning: {p}" for p in change.paradox]
    lines += [f"note: {n}" for n in change.notes]
    return "\n".join(lines)
