"""Driver analysis recovers known effects from synthetic data (``tests/synthetic.py``).

The intervals are calibrated, not tuned: with the default effects, 10 of the seeds 0-11
pass every check below (each check is a 95 % statement). ``SEED`` is fixed so the suite is
deterministic.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from qa.why.change import compare_facts, decompose, resolve_periods
from qa.why.data import frame_from_facts
from qa.why.drivers import INSUFFICIENT, OK, analyse, analyse_by
from tests.synthetic import combine, make_synthetic

SEED = 1


@pytest.fixture(scope="module")
def synthetic():  # type: ignore[no-untyped-def]
    return make_synthetic(n_calls=2000, seed=SEED)


@pytest.fixture(scope="module")
def analyses(synthetic):  # type: ignore[no-untyped-def]
    out = {}
    for outcome in ("csat", "ces", "nps", "fcr", "repeat"):
        data = frame_from_facts(synthetic.calls, synthetic.surveys, synthetic.tags, outcome=outcome)
        out[outcome] = analyse(data)
    return out


def _by_tag(analysis):  # type: ignore[no-untyped-def]
    return {d.tag: d for d in analysis.drivers}


@pytest.mark.parametrize(
    ("outcome", "tag", "true_effect"),
    [
        ("csat", "re-explain", -1.0),
        ("csat", "transfer", -0.5),
        ("ces", "re-explain", 2.0),
        ("ces", "transfer", 1.0),
        ("fcr", "transfer", -0.30),
        ("repeat", "broken-callback", 0.25),
    ],
)
def test_adjusted_interval_covers_true_effect(analyses, outcome, tag, true_effect) -> None:  # type: ignore[no-untyped-def]
    driver = _by_tag(analyses[outcome])[tag]
    assert driver.status == OK
    assert driver.adjusted_ci_low <= true_effect <= driver.adjusted_ci_high
    assert driver.significant
    assert driver.q_value < 0.05
    assert driver.impact == pytest.approx(driver.prevalence * driver.adjusted_effect)


def test_models_per_outcome(analyses) -> None:  # type: ignore[no-untyped-def]
    assert analyses["csat"].model == "ols-hc3"
    assert analyses["fcr"].model == "logit-ame"
    assert analyses["repeat"].model == "logit-ame"
    assert analyses["csat"].controls == ("queue", "team", "call_seconds")


@pytest.mark.parametrize("outcome", ["fcr", "csat", "ces"])
def test_confounded_tag_is_not_significant_after_adjustment(analyses, outcome) -> None:  # type: ignore[no-untyped-def]
    """long-wait has no effect but rides along with transfer: the raw difference shows an
    effect, the regression on all tags at once does not."""
    long_wait = _by_tag(analyses[outcome])["long-wait"]
    assert long_wait.p_value < 0.05  # unadjusted: confounded by transfer
    assert not (long_wait.ci_low <= 0 <= long_wait.ci_high)
    assert long_wait.adjusted_ci_low <= 0 <= long_wait.adjusted_ci_high
    assert long_wait.adjusted_p_value >= 0.05
    assert not long_wait.significant


def test_no_effect_tags_are_not_significant(analyses) -> None:  # type: ignore[no-untyped-def]
    for outcome in ("csat", "fcr"):
        drivers = _by_tag(analyses[outcome])
        assert not drivers["rushed"].significant
        assert not drivers["broken-callback"].significant


def test_rare_tag_listed_as_insufficient(analyses) -> None:  # type: ignore[no-untyped-def]
    for analysis in analyses.values():
        rude = _by_tag(analysis)["agent-rude"]
        assert rude.status == INSUFFICIENT
        assert rude.n_with < analysis.min_n
        assert rude.effect is None and rude.q_value is None and rude.impact is None
        # listed, among the insufficient ones at the end (with call:after-abandon, the rare
        # structured driver: a call after an abandoned contact)
        insufficient = tuple(d for d in analysis.drivers if d.status == INSUFFICIENT)
        assert rude in insufficient and analysis.drivers[-len(insufficient) :] == insufficient
        assert rude.to_dict()["status"] == "insufficient"


def test_sorted_most_harmful_first(analyses) -> None:  # type: ignore[no-untyped-def]
    for outcome, analysis in analyses.items():
        impacts = [d.impact for d in analysis.drivers if d.impact is not None]
        lower_is_better = outcome in ("ces", "repeat")
        assert impacts == sorted(impacts, reverse=lower_is_better)
    assert analyses["csat"].drivers[0].tag == "re-explain"
    # transfer and its recorded twin call:transferred mark the same calls here: equal impact
    assert {d.tag for d in analyses["fcr"].drivers[:2]} == {"transfer", "call:transferred"}
    assert analyses["repeat"].drivers[0].tag == "broken-callback"
    assert analyses["ces"].drivers[0].tag == "re-explain"


def test_nps_is_in_nps_points(analyses, synthetic) -> None:  # type: ignore[no-untyped-def]
    from qa.metrics.kpis import compute_kpis

    kpis = compute_kpis(synthetic.calls, synthetic.surveys)
    assert analyses["nps"].mean == pytest.approx(kpis["nps"])
    assert analyses["csat"].mean == pytest.approx(kpis["csat_mean"])
    assert analyses["fcr"].mean == pytest.approx(kpis["fcr_survey_rate"])
    assert analyses["repeat"].mean == pytest.approx(kpis["repeat_contact_rate"])
    assert _by_tag(analyses["nps"])["re-explain"].adjusted_effect < -20


def test_by_team_drops_the_team_control(synthetic) -> None:  # type: ignore[no-untyped-def]
    data = frame_from_facts(synthetic.calls, synthetic.surveys, synthetic.tags, outcome="csat")
    groups = analyse_by(data, "team")
    assert [g.group for g in groups] == ["A", "B", "C"]
    assert sum(g.analysis.n for g in groups) == len(data.frame)
    for g in groups:
        assert "team" not in g.analysis.controls
        assert _by_tag(g.analysis)["re-explain"].adjusted_ci_high < 0
    agents = analyse_by(data, "agent", min_n=20)
    assert agents[0].label.startswith("Agent ")


# --- change over time ------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_periods():  # type: ignore[no-untyped-def]
    """Week 1: re-explain on 20 % of calls; week 2: 45 %, and talk time 20 % shorter."""
    week1 = make_synthetic(1500, seed=11, start=datetime(2024, 3, 4), days=7, id_prefix="A")
    week2 = make_synthetic(
        1500, seed=12, start=datetime(2024, 3, 11), days=7, id_prefix="B",
        prevalence={"re-explain": 0.45}, talk_scale=0.8,
    )  # fmt: skip
    return combine(week1, week2)


def test_change_is_attributed_to_the_prevalence_shift(two_periods) -> None:  # type: ignore[no-untyped-def]
    change = compare_facts(
        two_periods.calls, two_periods.surveys, two_periods.tags,
        outcome="csat", compare="2024-03-11..2024-03-18",
    )  # fmt: skip
    assert change.before.since == datetime(2024, 3, 4)
    assert change.delta < -0.15
    top = change.terms[0]
    assert top.tag == "re-explain"
    assert top.prevalence_after - top.prevalence_before > 0.2
    assert top.prevalence_part == pytest.approx(
        (top.prevalence_after - top.prevalence_before) * top.effect_before
    )
    assert top.prevalence_part / change.delta > 0.6  # most of the drop
    # the decomposition is exact: terms + residual = delta
    assert sum(t.total for t in change.terms) + change.residual == pytest.approx(change.delta)
    assert any("more re-explain calls" in line for line in change.summary)
    assert change.paradox and "AHT down" in change.paradox[0]
    assert change.to_dict()["terms"][0]["tag"] == "re-explain"


def test_no_paradox_when_aht_rises(two_periods) -> None:  # type: ignore[no-untyped-def]
    change = compare_facts(
        two_periods.calls, two_periods.surveys, two_periods.tags,
        outcome="fcr", compare="2024-03-04..2024-03-11",  # week 1 vs the empty week before
    )  # fmt: skip
    assert change.n_before == 0 and change.mean_before is None
    assert change.terms == () and change.paradox == ()


def test_decompose_exact_on_tiny_frames() -> None:
    """Hand-checkable: one tag, effect -1 in both periods, prevalence 0.25 -> 0.5."""
    import pandas as pd

    from qa.why.data import DriverData

    def frame(tagged: int) -> DriverData:
        rows = [(4.0, 1)] * tagged + [(5.0, 0)] * (8 - tagged)
        rows = [(y - 0.5 * (i % 2), t) for i, (y, t) in enumerate(rows)]  # some noise
        return DriverData("csat", pd.DataFrame(rows, columns=["y", "x"]), ("x",))

    before, after = frame(2), frame(4)
    terms, residual, _ = decompose(before, after, min_n=1)
    delta = after.frame["y"].mean() - before.frame["y"].mean()
    assert terms[0].prevalence_before == 0.25 and terms[0].prevalence_after == 0.5
    assert terms[0].total + residual == pytest.approx(delta)


def test_resolve_periods() -> None:
    before, after = resolve_periods("last_week", data_end=datetime(2024, 3, 17, 15, 0))
    assert after.since == datetime(2024, 3, 11) and after.until == datetime(2024, 3, 18)
    assert before.since == datetime(2024, 3, 4) and before.until == datetime(2024, 3, 11)
    before, after = resolve_periods(
        "LAST_MONTH", data_end=datetime(2024, 3, 17), until=datetime(2024, 3, 31)
    )
    assert after.since == datetime(2024, 3, 1) and before.since == datetime(2024, 1, 31)
    for bad in ("yesterday", "2024-03-10..2024-03-01", "2024-13-01..2024-03-02"):
        with pytest.raises(ValueError, match="--compare"):
            resolve_periods(bad, data_end=datetime(2024, 3, 17))


# --- structured drivers and mis-tagging (issue 11) ---------------------------------------------


@pytest.fixture(scope="module")
def missed_transfers():  # type: ignore[no-untyped-def]
    """The issue-11 export: the tagger finds a third of the transfers (92 of 280 there);
    the phone system records all of them (``transferred``), and long waits still ride along."""
    return make_synthetic(n_calls=2000, seed=SEED, tag_recall={"transfer": 0.33})


def test_tag_misses_do_not_change_the_true_events(synthetic, missed_transfers) -> None:  # type: ignore[no-untyped-def]
    assert missed_transfers.calls == synthetic.calls
    assert missed_transfers.surveys == synthetic.surveys
    tagged = sum("transfer" in t for t in missed_transfers.tags.values())
    transferred = sum(c.transferred for c in missed_transfers.calls)
    assert 0.25 < tagged / transferred < 0.42


@pytest.mark.parametrize(("outcome", "true_effect"), [("csat", -0.5), ("fcr", -0.30)])
def test_structured_drivers_recover_what_the_tags_miss(
    missed_transfers, outcome, true_effect
) -> None:  # type: ignore[no-untyped-def]
    s = missed_transfers
    tags_only = _by_tag(analyse(frame_from_facts(
        s.calls, s.surveys, s.tags, outcome=outcome, call_drivers=None
    )))  # fmt: skip
    # the bug: with two thirds of the transfers untagged, long-wait takes the blame
    assert tags_only["long-wait"].significant
    drivers = _by_tag(analyse(frame_from_facts(s.calls, s.surveys, s.tags, outcome=outcome)))
    recorded = drivers["call:transferred"]
    assert recorded.kind == "recorded"
    assert recorded.adjusted_ci_low <= true_effect <= recorded.adjusted_ci_high
    assert recorded.significant and recorded.q_value < 0.05
    long_wait = drivers["long-wait"]
    assert long_wait.adjusted_ci_low <= 0 <= long_wait.adjusted_ci_high
    assert not drivers["call:wait>120s"].significant  # long-wait's recorded twin: no effect


def test_sensitivity_at_the_true_recall_covers_the_true_effect() -> None:
    """re-explain tagged on half its calls: the adjusted interval misses the true -1.0, the
    interval corrected at recall 0.5 covers it (11 of seeds 0-11; the raw one 6 of 12)."""
    s = make_synthetic(n_calls=2000, seed=SEED, tag_recall={"re-explain": 0.5})
    data = frame_from_facts(s.calls, s.surveys, s.tags, outcome="csat")
    driver = _by_tag(analyse(data, assume_recall=0.5))["re-explain"]
    assert not driver.adjusted_ci_low <= -1.0 <= driver.adjusted_ci_high
    corrected = driver.sensitivity
    assert corrected.source == "assumed" and corrected.recall == 0.5
    assert corrected.low <= -1.0 <= corrected.high
    assert "if this tag's recall is 0.50 (assumed" in corrected.line
