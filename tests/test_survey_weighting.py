"""Response-weighted survey KPIs on a generated center whose truth is known
(``tests.survey_population``): transferred calls answer more often and score lower.

Seeds 1-3 were used while building the method; seed 11 is held out (never tuned on).
"""

from __future__ import annotations

import re

import pytest

from qa.metrics.kpis import compute_kpis
from qa.metrics.response import response_weights
from qa.metrics.response_model import ResponseFeatures, make_response_model
from qa.metrics.weighted import WEIGHTED_KEYS, compare, weighted_kpis, weighted_mean
from tests.survey_population import COMMENT_TAG, population

DEV_SEEDS = (1, 2, 3)
HELD_OUT_SEED = 11


@pytest.fixture(scope="module", params=[*DEV_SEEDS, HELD_OUT_SEED])
def fitted(request: pytest.FixtureRequest):
    pop = population(request.param)
    response = response_weights(pop.calls, pop.surveys, pop.transcript_tags)
    return pop, compute_kpis(pop.calls, pop.surveys), response


def test_weighted_csat_mean_lands_on_the_all_caller_truth(fitted) -> None:
    pop, raw, response = fitted
    weighted = weighted_kpis(pop.calls, pop.surveys, response)
    truth = pop.truth["csat_mean"]
    assert raw["csat_mean"] < truth - 0.2  # respondents are the unhappy transferred callers
    assert weighted["csat_mean_weighted"] == pytest.approx(truth, abs=0.05)
    assert weighted["csat_mean_weighted_ci_low"] < truth < weighted["csat_mean_weighted_ci_high"]
    assert weighted["csat_pct_weighted"] == pytest.approx(pop.truth["csat_pct"], abs=0.02)
    assert weighted["nps_weighted"] == pytest.approx(pop.truth["nps"], abs=2.5)
    assert weighted["ces_mean_weighted"] == pytest.approx(pop.truth["ces_mean"], abs=0.05)
    # fewer effective answers than answers, but most of them
    assert 0.5 * response.n_respondents < weighted["survey_ess"] < response.n_respondents


def test_model_is_calibrated_and_says_who_answers(fitted) -> None:
    _, _, response = fitted
    assert response.modelled and response.note == ""
    assert len(response.calibration) == 5
    assert all(abs(b.predicted - b.observed) < 0.04 for b in response.calibration)
    assert re.fullmatch(
        r"transferred calls answer (2\.9|3\.0)x as often as the rest \(5\d% vs (19|20)%\)",
        response.reason,
    )
    assert response.max_weight == pytest.approx(5 * response.n_handled / response.n_respondents)
    assert max(response.weights.values()) <= response.max_weight
    assert not any(f.startswith(f"tag={COMMENT_TAG}") for f in response.features)


def test_raw_and_weighted_differ_beyond_the_interval(fitted) -> None:
    pop, raw, response = fitted
    rows = {r.key: r for r in compare(raw, weighted_kpis(pop.calls, pop.surveys, response))}
    assert set(rows) == {"csat_mean", "csat_pct", "nps", "ces_mean"}
    assert all(r.differs for r in rows.values())
    assert rows["nps"].label == "NPS" and rows["nps"].raw == raw["nps"]


def test_a_large_center_is_fitted_on_a_sample_and_every_respondent_weighed(monkeypatch) -> None:
    """Beyond MAX_FIT_CALLS the model learns from a seeded sample (here a third of the
    calls) and still lands on the truth, weighing every respondent, the same on a re-run."""
    import qa.metrics.response as response_module

    pop = population(HELD_OUT_SEED)
    handled = sum(1 for c in pop.calls if not c.abandoned)
    monkeypatch.setattr(response_module, "MAX_FIT_CALLS", handled // 3)
    response = response_weights(pop.calls, pop.surveys, pop.transcript_tags)
    again = response_weights(pop.calls, pop.surveys, pop.transcript_tags)
    assert response.weights == again.weights  # seeded
    assert len(response.weights) == response.n_respondents and response.n_handled == handled
    assert sum(b.n for b in response.calibration) == handled // 3
    weighted = weighted_kpis(pop.calls, pop.surveys, response)
    assert weighted["csat_mean_weighted"] == pytest.approx(pop.truth["csat_mean"], abs=0.06)


def test_too_little_to_model_gives_null_keys() -> None:
    pop = population(5, n=60)
    response = response_weights(pop.calls, pop.surveys, pop.transcript_tags)
    assert not response.modelled and "too few calls to model who answers" in response.note
    assert weighted_kpis(pop.calls, pop.surveys, response) == dict.fromkeys(WEIGHTED_KEYS)
    with pytest.raises(ValueError, match="weight cap must be at least 1"):
        response_weights(pop.calls, pop.surveys, cap=0.5)


def test_weighted_mean_formula() -> None:
    m, low, high = weighted_mean([1.0, 3.0], [1.0, 3.0])
    assert m == pytest.approx(2.5)
    se = (1 * 1.5**2 + 9 * 0.5**2) ** 0.5 / 4
    assert (low, high) == pytest.approx((2.5 - 1.959964 * se, 2.5 + 1.959964 * se))
    assert weighted_mean([1.0], [1.0]) is None


def test_features_follow_the_estimator_contract() -> None:
    from sklearn.base import clone

    pop = population(7, n=300)
    records = [(c, frozenset(pop.transcript_tags.get(c.external_id, ()))) for c in pop.calls]
    features = ResponseFeatures(min_tag_calls=3).fit(records)
    names = list(features.get_feature_names_out())
    assert names[:4] == ["talk_seconds", "hold_seconds", "wait_seconds", "transferred"]
    assert "queue=billing" in names and "tag=re-explain" in names
    assert features.transform(records[:7]).shape == (7, len(names))
    assert clone(features).get_params() == {"min_tag_calls": 3}
    with pytest.raises(ValueError, match=r"C \(inverse regularisation strength\) must be > 0"):
        make_response_model(0)
    with pytest.raises(ValueError, match="min_tag_calls must be at least 1"):
        ResponseFeatures(0).fit(records)


def test_weighted_why_describes_all_callers() -> None:
    from qa.why.data import frame_from_facts
    from qa.why.drivers import analyse
    from qa.why.weighting import WEIGHT_COLUMN, check_weightable, with_weights

    pop = population(HELD_OUT_SEED, n=8000)
    response = response_weights(pop.calls, pop.surveys, pop.transcript_tags)
    data = frame_from_facts(pop.calls, pop.surveys, pop.transcript_tags, outcome="csat")
    raw = analyse(data, controls=("queue",))
    weighted = analyse(with_weights(data, response), controls=("queue",), weighted=True)
    assert weighted.model == "wls-hc3" and raw.model == "ols-hc3"
    assert any("weighted for who answers" in note for note in weighted.notes)
    assert raw.mean < pop.truth["csat_mean"] - 0.2
    assert weighted.mean == pytest.approx(pop.truth["csat_mean"], abs=0.06)
    transfers = sum(c.transferred for c in pop.calls if not c.abandoned)
    share = transfers / sum(not c.abandoned for c in pop.calls)
    by_tag = {d.tag: d for d in weighted.drivers}
    raw_by_tag = {d.tag: d for d in raw.drivers}
    assert raw_by_tag["call:transferred"].prevalence > share + 0.15  # respondents: over half
    assert by_tag["call:transferred"].prevalence == pytest.approx(share, abs=0.03)
    assert by_tag["call:transferred"].adjusted_effect == pytest.approx(-1.0, abs=0.15)
    assert by_tag["call:transferred"].ci_low < by_tag["call:transferred"].effect < 0
    assert WEIGHT_COLUMN in with_weights(data, response).frame
    with pytest.raises(ValueError, match="survey outcomes only, not 'repeat'; choose one of"):
        check_weightable("repeat")


def test_tiles_show_the_weighted_figure_when_it_differs() -> None:
    from qa.metrics.weighted import weigh_survey_kpis
    from qa.report.html import kpi_tiles_html
    from qa.report.model import Insights
    from qa.report.weighting_section import weighting_html

    pop = population(HELD_OUT_SEED, n=4000)
    raw = compute_kpis(pop.calls, pop.surveys)
    weighting = weigh_survey_kpis(pop.calls, pop.surveys, pop.transcript_tags, raw)
    insights = Insights(None, None, None, None, raw, None, "", (), (), (), (), None, None,
                        weighting=weighting)  # type: ignore[arg-type]  # fmt: skip
    tiles = kpi_tiles_html(insights)
    csat = re.search(r'data-kpi="csat_mean">.*?</div></div>', tiles).group(0)
    assert f"all callers: {weighting.kpis['csat_mean_weighted']:.2f}" in csat
    section = weighting_html(insights)
    assert "Weighted for who answers, CSAT mean, CSAT 4-5, NPS, CES mean differ" in section
    assert "transferred calls answer" in section and "Hosmer-Lemeshow" in section
