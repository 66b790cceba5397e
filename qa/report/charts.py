"""Charts for the HTML report, as inline ``data:image/png;base64`` URIs (matplotlib, Agg).

PNG rather than SVG: matplotlib's SVG carries namespace URLs, and the report must not
reference anything outside itself. Every function returns ``None`` when there is nothing
to draw, so the report can say so instead of showing an empty frame.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from qa.why.drivers import DriverAnalysis

INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
BLUE, RED, GREEN, AMBER = "#2563eb", "#dc2626", "#16a34a", "#d97706"


def _figure(width: float, height: float, rows: int = 1, cols: int = 1, **margins: float):  # type: ignore[no-untyped-def]
    # The object-oriented API with the Agg canvas: no pyplot state, safe in a server thread.
    # Fixed margins rather than constrained layout, which costs a second full draw.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(
        **{
            "left": 0.06,
            "right": 0.98,
            "top": 0.93,
            "bottom": 0.1,
            "hspace": 0.45,
            "wspace": 0.15,
            **margins,
        }
    )
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def _style(ax: Axes, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=10.5, color=INK, fontweight="bold")
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#9ca3af")
    ax.tick_params(colors=MUTED, labelsize=8.5)


def to_data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _dates(rows: Sequence[dict[str, Any]]) -> list[date]:
    return [date.fromisoformat(str(row["group"])) for row in rows]


def _series(ax: Axes, days: list[date], values: list[float | None], color: str) -> None:
    points = [(d, v) for d, v in zip(days, values, strict=True) if v is not None]
    if points:
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, color=color, linewidth=1.8, marker="o", markersize=3.5)
    else:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", color=MUTED)


def _threshold(ax: Axes, value: float, label: str) -> None:
    ax.axhline(value, color=RED, linewidth=1, linestyle=(0, (4, 3)))
    ax.annotate(
        label,
        xy=(1, value),
        xycoords=("axes fraction", "data"),
        ha="right",
        va="bottom",
        fontsize=8,
        color=RED,
    )


def trend_chart(
    daily: Sequence[dict[str, Any]], csat_threshold: float = 4.0, abandon_threshold: float = 0.08
) -> str | None:
    """Daily CSAT mean, AHT, volume and abandonment (2 x 2), from ``compute_kpis_by`` rows."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.ticker import PercentFormatter

    if not daily:
        return None
    days = _dates(daily)
    fig, (csat, aht, volume, abandon) = _figure(11, 5.6, 2, 2)
    _style(csat, "CSAT mean (1-5)")
    _series(csat, days, [r["csat_mean"] for r in daily], BLUE)
    csat.set_ylim(1, 5.2)
    _threshold(csat, csat_threshold, f"trigger < {csat_threshold:g}")
    _style(aht, "Average handle time (minutes)")
    _series(
        aht,
        days,
        [None if r["aht_seconds"] is None else r["aht_seconds"] / 60 for r in daily],
        "#7c3aed",
    )
    aht.set_ylim(bottom=0)
    _style(volume, "Calls offered per day")
    handled = [r["calls_handled"] for r in daily]
    dropped = [r["calls_offered"] - r["calls_handled"] for r in daily]
    volume.bar(days, handled, color=BLUE, width=0.7, label="handled")
    volume.bar(days, dropped, bottom=handled, color=RED, width=0.7, label="abandoned")
    volume.legend(frameon=False, fontsize=8, loc="upper left", ncols=2)
    volume.set_ylim(0, max(r["calls_offered"] for r in daily) * 1.25 + 1)
    _style(abandon, "Abandonment rate")
    _series(abandon, days, [r["abandonment_rate"] for r in daily], RED)
    abandon.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    highest = max(r["abandonment_rate"] or 0.0 for r in daily)
    abandon.set_ylim(bottom=0, top=max(abandon_threshold * 2, highest) * 1.1)
    _threshold(abandon, abandon_threshold, f"trigger > {abandon_threshold:.0%}")
    for ax in (csat, aht, volume, abandon):
        if len(set(days)) == 1:  # one day: give the axis a width, or the date locator warns
            ax.set_xlim(days[0] - timedelta(days=1), days[0] + timedelta(days=1))
        locator = AutoDateLocator(maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    return to_data_uri(fig)


def impact_chart(analysis: DriverAnalysis, top: int = 10) -> str | None:
    """Horizontal bars: each tested tag's impact (prevalence x adjusted effect), with the
    adjusted 95 % interval scaled by prevalence; solid when the interval excludes zero."""
    drivers = [d for d in analysis.tested() if d.impact is not None][:top]
    if not drivers:
        return None
    scale = 100.0 if analysis.binary else 1.0  # rates in percentage points
    height = 0.42 * len(drivers) + 1.1
    longest = max(len(d.tag) for d in drivers)
    fig, (ax,) = _figure(
        6.2,
        height,
        left=min(0.5, 0.05 + 0.0125 * longest),
        right=0.96,
        top=1 - 0.35 / height,
        bottom=0.62 / height,
    )
    _style(ax, "Impact on the average: prevalence x adjusted effect")
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.grid(axis="y", visible=False)
    names = [d.tag for d in drivers][::-1]
    values = [d.impact * scale for d in drivers][::-1]
    bad_if_positive = analysis.lower_is_better
    colors = []
    for d in drivers[::-1]:
        harmful = (d.impact > 0) == bad_if_positive
        colors.append(RED if harmful else GREEN)
    alphas = [1.0 if d.significant else 0.35 for d in drivers[::-1]]
    bars = ax.barh(names, values, color=colors, height=0.6)
    for bar, alpha in zip(bars, alphas, strict=True):
        bar.set_alpha(alpha)
    errors = [[], []]
    for d, value in zip(drivers[::-1], values, strict=True):
        lo, hi = d.adjusted_ci_low, d.adjusted_ci_high
        prevalence = d.prevalence or 0.0
        if lo is None or hi is None:
            errors[0].append(0.0)
            errors[1].append(0.0)
        else:
            errors[0].append(max(0.0, value - lo * prevalence * scale))
            errors[1].append(max(0.0, hi * prevalence * scale - value))
    ax.errorbar(values, names, xerr=errors, fmt="none", ecolor=INK, elinewidth=1, capsize=3)
    ax.axvline(0, color="#9ca3af", linewidth=1)
    unit = "percentage points" if analysis.binary else "points"
    ax.set_xlabel(f"{unit} (faded: 95 % interval includes 0)", fontsize=8.5, color=MUTED)
    return to_data_uri(fig)


def k_curve_chart(
    curve: Sequence[tuple[int, float]], k: int, criterion: str, floor: float | None = None
) -> str | None:
    """How the number of themes was chosen: the criterion's value per k (eigenvalues for the
    eigenvalue criteria, silhouette otherwise), the floor as a dashed line and the chosen k
    marked; None without a curve (k was given)."""
    if not curve:
        return None
    fig, (ax,) = _figure(7.0, 2.6, left=0.09, bottom=0.17)
    xs = [point[0] for point in curve]
    ys = [point[1] for point in curve]
    ax.plot(xs, ys, color=BLUE, linewidth=1.6)
    label = "eigenvalue" if criterion.startswith("eigen") else "silhouette"
    _style(ax, f"k chosen: {k} ({criterion})")
    ax.set_xlabel("number of themes k", fontsize=8.5, color=MUTED)
    ax.set_ylabel(label, fontsize=8.5, color=MUTED)
    if floor is not None and criterion == "eigen-floor":
        _threshold(ax, floor, f"floor {floor:g}")
    ax.axvline(k, color=GREEN, linewidth=1.2)
    return to_data_uri(fig)
