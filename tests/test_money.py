"""``qa.why.money``: the event behind a driver, and the price of an extra call (exact values)."""

from __future__ import annotations

import pytest

from qa.why.money import MONTH_DAYS, Prices, price_line
from qa.why.results import OK, RECORDED, Driver, DriverAnalysis
from qa.why.sensitivity import with_quality

# 300 handled calls in 30.44 days: 300 a month; AHT 600 s; 30 per agent hour.
PRICES = Prices(MONTH_DAYS, 300, cost_per_call=150.0, cost_per_agent_hour=30.0,
                currency="USD", aht_seconds=600.0)  # fmt: skip


def _driver(outcome: str, effect: float, prevalence: float = 0.14, kind: str = "said") -> Driver:
    n_with = round(100 * prevalence)
    driver = Driver("re-explain", OK, n_with, 100 - n_with, prevalence, kind=kind,
                    adjusted_effect=effect, adjusted_ci_low=effect / 2,
                    adjusted_ci_high=effect * 1.5)  # fmt: skip
    analysis = DriverAnalysis(outcome, 100, 0.0, (driver,), model="ols-hc3")
    return with_quality(analysis, assume_recall=0.7).drivers[0]


def test_a_said_tag_is_priced_for_the_event_it_marks() -> None:
    handle = _driver("aht", 400.0)
    line = price_line(None, handle, PRICES)
    assert line is not None
    # Event prevalence 0.14 / 0.7 = 0.2; attenuation 1 - 0.3 * 0.2 / 0.86.
    factor = 1 - 0.3 * 0.2 / 0.86
    assert line.handle_prevalence == pytest.approx(0.2)
    assert line.handle_effect_seconds == pytest.approx(400 / factor)
    assert line.extra_agent_hours == pytest.approx(0.2 * 400 / factor * 300 / 3600)
    assert line.cost == pytest.approx(line.extra_agent_hours * 30)
    assert "20.0% of calls (14.0% tagged among the 100 calls with words;" in line.line
    assert "recall 0.70 assumed, precision 1.00)" in line.line


def test_a_recorded_feature_is_the_event() -> None:
    line = price_line(None, _driver("aht", 400.0, kind=RECORDED), PRICES)
    assert line is not None
    assert line.handle_prevalence == pytest.approx(0.14)
    assert line.cost == pytest.approx(0.14 * 400 * 300 / 3600 * 30)
    assert "tagged" not in line.line


def test_an_extra_call_costs_its_handle_time() -> None:
    line = price_line(_driver("repeat", 0.1, kind=RECORDED), None, PRICES)
    assert line is not None
    assert PRICES.cost_per_extra_call == pytest.approx(600 / 3600 * 30)
    assert line.extra_calls == pytest.approx(0.14 * 0.1 * 300)
    assert line.cost == pytest.approx(line.extra_calls * 5.0)
    assert "an extra call takes the AHT, 10.0 min of an agent, 5.00 USD" in line.line
    # No price of an agent hour: the cost per call, said so.
    no_hour = Prices(MONTH_DAYS, 300, 150.0, None, "USD", 600.0)
    line = price_line(_driver("repeat", 0.1, kind=RECORDED), None, no_hour)
    assert line is not None and line.cost == pytest.approx(0.14 * 0.1 * 300 * 150)
    assert "the cost per call, 150 USD (no agent-hour price)" in line.line
