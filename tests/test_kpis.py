"""Exact, hand-computed tests of the KPI engine (``qa.metrics.kpis``) and its loader
(``qa.metrics.facts``)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from qa.metrics.base import KPI_KEYS, WORKFORCE_KEYS, CallFact, KpiOptions, SurveyFact
from qa.metrics.contacts import ContactFlags, contact_flags
from qa.metrics.display import format_table, to_csv
from qa.metrics.facts import load_facts
from qa.metrics.kpis import GROUPINGS, compute_kpis, compute_kpis_by, filter_calls
from qa.store.engine import make_engine, session_scope
from qa.store.schema import Call, Survey

T0 = datetime(2026, 11, 2, 9, 0)  # a Monday, ISO week 2026-W45


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def call(
    external_id: str,
    started_at: datetime,
    customer_id: str = "",
    *,
    agent_id: str = "a1",
    agent_name: str = "Ann",
    team: str = "red",
    queue: str = "billing",
    wait: float = 0.0,
    talk: float = 0.0,
    hold: float = 0.0,
    acw: float = 0.0,
    abandoned: bool = False,
    transferred: bool = False,
    direction: str = "inbound",
) -> CallFact:
    return CallFact(
        external_id=external_id,
        started_at=started_at,
        customer_id=customer_id,
        agent_id=agent_id,
        agent_name=agent_name,
        team=team,
        queue=queue,
        wait_seconds=wait,
        talk_seconds=talk,
        hold_seconds=hold,
        acw_seconds=acw,
        abandoned=abandoned,
        transferred=transferred,
        direction=direction,
    )


def survey(
    call_external_id: str,
    csat: int | None = None,
    nps: int | None = None,
    ces: int | None = None,
    fcr: bool | None = None,
) -> SurveyFact:
    return SurveyFact(call_external_id, csat=csat, nps=nps, ces=ces, fcr=fcr)


def end_of_data(hours: float = 500.0) -> CallFact:
    """A call of an unrelated customer far in the future: makes earlier calls observable."""
    return call("end", at(hours), "ZZZ")


ALL_NONE = dict.fromkeys(KPI_KEYS[2:])


# --- the result shape --------------------------------------------------------------------


def test_kpi_keys_are_exactly_the_spec() -> None:
    assert KPI_KEYS == (
        "calls_offered",
        "calls_handled",
        "aht_seconds",
        "asa_seconds",
        "service_level",
        "abandonment_rate",
        "transfer_rate",
        "repeat_contact_rate",
        "fcr_rate",
        "fcr_survey_rate",
        "csat_pct",
        "csat_mean",
        "nps",
        "ces_mean",
        "occupancy",
        "utilization",
        "schedule_adherence",
        "cost",
        "cost_per_call",
    )
    assert list(compute_kpis([call("c", T0)], [])) == list(KPI_KEYS)


def test_options_defaults_and_frozen() -> None:
    options = KpiOptions()
    assert (options.window_hours, options.service_level_seconds) == (48.0, 20.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.window_hours = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        call("c", T0).abandoned = True  # type: ignore[misc]


# --- every formula on one hand-computed set ------------------------------------------------


def formula_calls() -> list[CallFact]:
    return [
        # handle 100+20+30 = 150; repeated by c2 one hour later (same customer A)
        call("c1", at(0), "A", wait=10, talk=100, hold=20, acw=30),
        # handle 200+0+40 = 240; wait exactly T = 20 s is within service level
        call("c2", at(1), "A", wait=20, talk=200, acw=40, transferred=True),
        # handle 300+10+20 = 330; wait 30 s misses service level
        call("c3", at(2), "B", wait=30, talk=300, hold=10, acw=20),
        call("c4", at(3), "D", wait=50, abandoned=True),
        # abandoned after 5 s: quick, but still not "answered within T"
        call("c5", at(4), "C", wait=5, abandoned=True),
    ]


def formula_surveys() -> list[SurveyFact]:
    return [
        survey("c1", csat=5, nps=10, ces=2, fcr=True),
        survey("c2", csat=3, nps=7, ces=4, fcr=False),
        survey("c3", csat=4, nps=3, ces=None, fcr=True),
        survey("c4", csat=1, nps=0, ces=6, fcr=None),
        survey("not-a-loaded-call", csat=5, nps=10, ces=1, fcr=True),  # joins nothing
    ]


def test_every_formula() -> None:
    calls = formula_calls()
    kpis = compute_kpis(calls, formula_surveys(), history=[*calls, end_of_data()])
    assert kpis == {
        "calls_offered": 5,
        "calls_handled": 3,
        "aht_seconds": 240.0,  # (150 + 240 + 330) / 3
        "asa_seconds": 20.0,  # (10 + 20 + 30) / 3
        "service_level": 0.4,  # c1, c2 answered within 20 s / 5 offered
        "abandonment_rate": 0.4,  # 2 / 5
        "transfer_rate": 1 / 3,  # c2 / 3 handled
        "repeat_contact_rate": 1 / 3,  # c1 repeated / c1, c2, c3 observable
        "fcr_rate": 0.5,  # first contacts c1 (repeated), c3 (not) -> 1 / 2
        "fcr_survey_rate": 2 / 3,  # yes, no, yes
        "csat_pct": 0.5,  # 5, 3, 4, 1 -> 2 / 4
        "csat_mean": 3.25,  # 13 / 4
        "nps": -25.0,  # 10 7 3 0: 1 promoter, 2 detractors, 4 answers
        "ces_mean": 4.0,  # (2 + 4 + 6) / 3, blank skipped
        **dict.fromkeys(WORKFORCE_KEYS),  # no agent states, schedule or costs given
    }


def test_service_level_threshold_is_configurable() -> None:
    calls = formula_calls()
    assert compute_kpis(calls, [], KpiOptions(service_level_seconds=10))["service_level"] == 0.2
    assert compute_kpis(calls, [], KpiOptions(service_level_seconds=30))["service_level"] == 0.6
    assert compute_kpis(calls, [], KpiOptions(service_level_seconds=60))["service_level"] == 0.6


def test_values_are_not_rounded() -> None:
    calls = [call("x", T0, talk=1), call("y", at(1), talk=1), call("z", at(2), talk=2)]
    assert compute_kpis(calls, [])["aht_seconds"] == 4 / 3
    assert (
        compute_kpis(calls, [survey("x", nps=9), survey("y", nps=8), survey("z", nps=8)])["nps"]
        == 100 / 3
    )


# --- empty and degenerate inputs ------------------------------------------------------------


def test_empty_input_is_all_none_except_counts() -> None:
    expected = {"calls_offered": 0, "calls_handled": 0, **ALL_NONE}
    assert compute_kpis([], []) == expected
    # surveys without calls join nothing
    assert compute_kpis([], [survey("c1", csat=5, nps=10, ces=1, fcr=True)]) == expected
    assert compute_kpis_by([], [], "team") == []


def test_all_abandoned() -> None:
    calls = [
        call("c1", at(0), "A", wait=5, abandoned=True),
        call("c2", at(1), "A", wait=50, abandoned=True),
        call("c3", at(2), "B", wait=10, abandoned=True, transferred=True),
    ]
    kpis = compute_kpis(calls, [survey("c1", csat=2)], history=[*calls, end_of_data()])
    assert kpis == {
        **ALL_NONE,
        "calls_offered": 3,
        "calls_handled": 0,
        "service_level": 0.0,  # a real zero: 0 of 3 offered answered in time
        "abandonment_rate": 1.0,
        "csat_pct": 0.0,
        "csat_mean": 2.0,
    }


def test_missing_scores_count_only_where_answered() -> None:
    calls = [call("c1", T0), call("c2", at(1)), call("c3", at(2))]
    surveys = [
        survey("c1", csat=5, nps=None, ces=3, fcr=None),  # blank NPS
        survey("c2", csat=None, nps=9, ces=None, fcr=False),
        survey("c3"),  # nothing answered at all
    ]
    kpis = compute_kpis(calls, surveys)
    assert (kpis["csat_pct"], kpis["csat_mean"]) == (1.0, 5.0)
    assert kpis["nps"] == 100.0  # one answer, a promoter
    assert kpis["ces_mean"] == 3.0
    assert kpis["fcr_survey_rate"] == 0.0

    only_blank = compute_kpis(calls, [survey("c3")])
    for key in ("fcr_survey_rate", "csat_pct", "csat_mean", "nps", "ces_mean"):
        assert only_blank[key] is None, key


def test_nps_only_passives_is_zero_not_none() -> None:
    calls = [call("c1", T0), call("c2", at(1))]
    assert compute_kpis(calls, [survey("c1", nps=7), survey("c2", nps=8)])["nps"] == 0.0


def test_nps_bounds_and_category_edges() -> None:
    calls = [call(f"c{i}", at(i)) for i in range(11)]
    promoters = [survey("c0", nps=9), survey("c1", nps=10)]
    detractors = [survey("c2", nps=0), survey("c3", nps=6)]
    assert compute_kpis(calls, promoters)["nps"] == 100.0
    assert compute_kpis(calls, detractors)["nps"] == -100.0
    every_score = [survey(f"c{i}", nps=i) for i in range(11)]  # 0-6 detract, 7-8 pass, 9-10 promote
    assert compute_kpis(calls, every_score)["nps"] == 100 * (2 - 7) / 11


def test_csat_pct_edges() -> None:
    calls = [call(f"c{i}", at(i)) for i in range(1, 6)]
    kpis = compute_kpis(calls, [survey(f"c{i}", csat=i) for i in range(1, 6)])
    assert kpis["csat_pct"] == 0.4  # 4 and 5 of 1..5
    assert kpis["csat_mean"] == 3.0


# --- repeat contacts and first-contact resolution -----------------------------------------


def test_repeat_chain_a_b_c() -> None:
    # One customer: A at 0 h, B at 40 h, C at 80 h (each 40 h after the previous).
    calls = [call("A", at(0), "cust"), call("B", at(40), "cust"), call("C", at(80), "cust")]
    calls.append(end_of_data(200))
    assert contact_flags(calls) == {
        "A": ContactFlags(repeated=True, first_contact=True, observable=True, counted=True),
        "B": ContactFlags(repeated=True, first_contact=False, observable=True, counted=True),
        "C": ContactFlags(repeated=False, first_contact=False, observable=True, counted=True),
        # the last call in the data: its window has not elapsed
        "end": ContactFlags(repeated=False, first_contact=True, observable=False, counted=True),
    }
    kpis = compute_kpis(calls, [])
    assert kpis["repeat_contact_rate"] == 2 / 3  # A, B repeated; C not; "end" unobservable
    assert kpis["fcr_rate"] == 0.0  # the only observable first contact, A, was repeated


def test_window_is_configurable() -> None:
    calls = [call("A", at(0), "cust"), call("B", at(40), "cust"), call("C", at(80), "cust")]
    calls.append(end_of_data(200))

    narrow = compute_kpis(calls, [], KpiOptions(window_hours=24))
    # 40 h gaps exceed 24 h: nothing repeated, every call a first contact
    assert (narrow["repeat_contact_rate"], narrow["fcr_rate"]) == (0.0, 1.0)

    wide = compute_kpis(calls, [], KpiOptions(window_hours=72))
    # A, B repeated; C has B (and no one later); only A is a first contact
    assert (wide["repeat_contact_rate"], wide["fcr_rate"]) == (2 / 3, 0.0)

    # a 60 h gap: default 48 h sees two resolved first contacts, 72 h one repeat
    pair = [call("P", at(0), "p"), call("Q", at(60), "p"), end_of_data(300)]
    default = compute_kpis(pair, [])
    assert (default["repeat_contact_rate"], default["fcr_rate"]) == (0.0, 1.0)
    wide = compute_kpis(pair, [], KpiOptions(window_hours=72))
    assert (wide["repeat_contact_rate"], wide["fcr_rate"]) == (0.5, 0.0)


def test_window_edges_are_inclusive() -> None:
    # exactly W later is a repeat, and exactly W earlier stops a first contact
    calls = [call("A", at(0), "c"), call("B", at(48), "c"), end_of_data()]
    flags = contact_flags(calls)
    assert flags["A"].repeated and flags["A"].first_contact
    assert not flags["B"].repeated and not flags["B"].first_contact
    # one second more and they no longer link
    calls = [call("A", at(0), "c"), call("B", at(48) + timedelta(seconds=1), "c"), end_of_data()]
    flags = contact_flags(calls)
    assert not flags["A"].repeated and flags["B"].first_contact


def test_same_instant_calls_are_one_contact() -> None:
    # One definition (qa.metrics.contacts): a customer cannot call twice at once, so rows of
    # one customer at the same instant are one contact (legs), counted once on its first row.
    # (Before the unification qa kpis counted them as two first contacts.)
    calls = [call("A", T0, "c"), call("B", T0, "c"), end_of_data()]
    flags = contact_flags(calls)
    assert flags["A"] == ContactFlags(False, True, True, counted=True)
    assert flags["B"] == ContactFlags(False, True, True, counted=False)
    kpis = compute_kpis(calls, [])
    assert (kpis["repeat_contact_rate"], kpis["fcr_rate"]) == (0.0, 1.0)  # 0/1, 1/1
    assert kpis["calls_handled"] == 3  # both rows still count as handled calls


def test_observability_at_the_data_end() -> None:
    calls = [
        call("A", at(0), "a"),  # 0 + 48 <= 50: observable, not repeated
        call("D", at(2), "d"),  # 2 + 48 == 50: observable (window just elapsed)
        call("B", at(30), "b"),  # 30 + 48 > 50: window still open, left out
        call("C", at(50), "c"),  # the latest call in the data
    ]
    flags = contact_flags(calls)
    assert [flags[c].observable for c in "ADBC"] == [True, True, False, False]
    kpis = compute_kpis(calls, [])
    assert (kpis["repeat_contact_rate"], kpis["fcr_rate"]) == (0.0, 1.0)  # 0/2, 2/2

    recent = compute_kpis(calls[2:], [])  # nothing observable: unknown, not 0
    assert (recent["repeat_contact_rate"], recent["fcr_rate"]) == (None, None)


def test_abandoned_calls_count_as_repeats_and_as_earlier_contacts() -> None:
    calls = [
        call("a1", at(0), "A"),
        call("a2", at(1), "A", abandoned=True),  # customer tries again, gives up
        call("b1", at(0), "B", abandoned=True),  # customer gives up first ...
        call("b2", at(0.5), "B"),  # ... then gets through: not a first contact
        end_of_data(),
    ]
    flags = contact_flags(calls)
    assert flags["a1"] == ContactFlags(True, first_contact=True, observable=True, counted=True)
    # abandoned calls are never handled, so never repeated nor first contacts themselves
    assert flags["a2"] == ContactFlags(False, first_contact=False, observable=True, counted=False)
    assert flags["b2"] == ContactFlags(False, first_contact=False, observable=True, counted=True)
    assert flags["b1"] == ContactFlags(False, first_contact=False, observable=True, counted=False)
    kpis = compute_kpis(calls[:4], [], history=calls)
    assert kpis["repeat_contact_rate"] == 0.5  # a1 of a1, b2
    assert kpis["fcr_rate"] == 0.0  # a1 is the only first contact, and it was repeated


def test_blank_customer_ids_never_link() -> None:
    calls = [
        call("n1", at(0), ""),
        call("n2", at(1), ""),
        call("n3", at(2), "  "),  # whitespace is blank too
        call("n4", at(3), "  "),
        call("k1", at(0), "known"),
        end_of_data(),
    ]
    flags = contact_flags(calls)
    for blank in ("n1", "n2", "n3", "n4"):
        # unlinkable: neither repeated nor a first contact, and out of both rates
        assert flags[blank] == ContactFlags(False, False, False, False), blank
    kpis = compute_kpis(calls, [])
    assert (kpis["repeat_contact_rate"], kpis["fcr_rate"]) == (0.0, 1.0)  # k1 alone: 0/1, 1/1
    assert kpis["calls_handled"] == 6  # blank customers still count everywhere else

    only_blank = compute_kpis(calls[:4], [], history=calls)
    assert (only_blank["repeat_contact_rate"], only_blank["fcr_rate"]) == (None, None)


def test_calls_missing_from_history_are_added_to_it() -> None:
    history = [call("old", at(0), "A"), end_of_data()]
    kpis = compute_kpis([call("new", at(10), "A")], [], history=history)
    # "new" is linked against history + itself: not a first contact (old), not repeated
    assert (kpis["calls_offered"], kpis["repeat_contact_rate"], kpis["fcr_rate"]) == (1, 0.0, None)


def test_transfer_legs_are_one_contact_in_the_kpis() -> None:
    # A1 is transferred (ends 0 + 300 s talk + 60 s gap = 360 s); A2, at 200 s, is its second
    # leg: one contact {A1, A2}, counted once on A1 (team red). B, 30 h later, repeats it.
    calls = [
        call("A1", at(0), "c", talk=300, transferred=True),
        call("A2", at(200 / 3600), "c", team="blue", talk=100),
        call("B", at(30), "c"),
        end_of_data(),
    ]
    kpis = compute_kpis(calls, [])
    # contacts {A1, A2} (repeated by B) and B (not repeated): 1/2; first contacts: A1 only,
    # repeated: FCR 0/1. The legs are no repeat of each other.
    assert (kpis["repeat_contact_rate"], kpis["fcr_rate"]) == (0.5, 0.0)
    assert kpis["transfer_rate"] == 0.25  # rows still count for everything else: 1 of 4
    # the variant without merging counts rows: A1 (A2 follows), A2 (B follows), B: 2/3
    rows = compute_kpis(calls, [], KpiOptions(merge_transfer_legs=False))
    assert (rows["repeat_contact_rate"], rows["fcr_rate"]) == (2 / 3, 0.0)
    by_team = {r["group"]: r for r in compute_kpis_by(calls, [], "team")}
    # the contact counts in the team of its first leg; blue has only the second leg
    assert by_team["red"]["repeat_contact_rate"] == 0.5
    assert by_team["blue"]["repeat_contact_rate"] is None


def test_outbound_calls_are_not_repeats_in_the_kpis() -> None:
    # P promises a callback; CB, 3 h later, is the center keeping it; Q (customer "q") calls
    # back 10 h after its first call, across an outbound call in between.
    calls = [
        call("P", at(0), "p"),
        call("CB", at(3), "p", direction="outbound"),
        call("Q1", at(0), "q"),
        call("QO", at(2), "q", direction="outbound"),
        call("Q2", at(10), "q"),
        end_of_data(),
    ]
    kpis = compute_kpis(calls, [])
    # contacts P (not repeated: a kept callback is no repeat), Q1 (repeated by Q2), Q2 (not),
    # end (not observable): repeat 1/3; first contacts P, Q1: FCR 1/2
    assert (kpis["repeat_contact_rate"], kpis["fcr_rate"]) == (1 / 3, 0.5)
    assert kpis["calls_handled"] == 6  # outbound calls are still handled calls
    flags = contact_flags(calls)
    assert flags["CB"] == ContactFlags(False, False, False, False)  # outside both rates
    # the variant counting outbound calls: P repeated by CB, Q1 by QO, QO by Q2: 3/5, FCR 0/2
    both = compute_kpis(calls, [], KpiOptions(outbound_repeats=True))
    assert (both["repeat_contact_rate"], both["fcr_rate"]) == (3 / 5, 0.0)


# --- filters -----------------------------------------------------------------------------


def test_filter_calls_since_inclusive_until_exclusive() -> None:
    calls = [call("before", at(-1)), call("since", at(0)), call("in", at(5)), call("until", at(24))]
    ids = lambda cs: [c.external_id for c in cs]  # noqa: E731
    assert ids(filter_calls(calls, at(0), at(24))) == ["since", "in"]
    assert ids(filter_calls(calls, None, at(24))) == ["before", "since", "in"]
    assert ids(filter_calls(calls, at(0), None)) == ["since", "in", "until"]
    assert ids(filter_calls(calls, None, None)) == ids(calls)


def test_filtered_range_still_sees_repeats_and_data_end_outside_it() -> None:
    calls = [
        call("prev", at(-10), "B"),  # before the range: B's in-range call is no first contact
        call("a1", at(1), "A"),
        call("b1", at(2), "B"),
        call("a2", at(25), "A"),  # the day after the range: a repeat of a1
        end_of_data(),
    ]
    surveys = [survey("a1", csat=5), survey("a2", csat=1)]
    day = filter_calls(calls, at(-9), at(15))
    assert [c.external_id for c in day] == ["a1", "b1"]

    kpis = compute_kpis(day, surveys, history=calls)
    assert kpis["calls_offered"] == 2
    assert kpis["repeat_contact_rate"] == 0.5  # a1 repeated (by a2, outside), b1 not
    assert kpis["fcr_rate"] == 0.0  # a1 the only first contact (prev precedes b1)
    assert kpis["csat_mean"] == 5.0  # a2's survey is outside the range

    # without the history, nothing outside the range exists: nothing is observable
    blind = compute_kpis(day, surveys)
    assert (blind["repeat_contact_rate"], blind["fcr_rate"]) == (None, None)


# --- grouping ------------------------------------------------------------------------------


def test_groupings_are_the_documented_choices() -> None:
    assert list(GROUPINGS) == ["agent", "team", "queue", "day", "week"]


def test_unknown_grouping_lists_the_choices() -> None:
    with pytest.raises(ValueError) as excinfo:
        compute_kpis_by([call("c", T0)], [], "month")
    message = str(excinfo.value)
    assert "'month'" in message
    assert "agent, team, queue, day, week" in message


def test_group_by_team_with_a_group_without_surveys() -> None:
    calls = [
        call("r1", at(0), team="red", talk=100),
        call("r2", at(1), team="red", talk=200),
        # abandoned calls never count as transferred (transfer rate is over handled calls)
        call("b1", at(2), team="blue", talk=60, abandoned=True, transferred=True),
        call("b2", at(3), team="blue", talk=90),
    ]
    rows = compute_kpis_by(calls, [survey("r1", csat=4, nps=9, ces=2, fcr=True)], "team")
    assert [row["group"] for row in rows] == ["blue", "red"]
    assert all(next(iter(row)) == "group" for row in rows)
    blue, red = rows
    assert list(blue) == ["group", *KPI_KEYS]
    assert blue == {
        **ALL_NONE,
        "group": "blue",
        "calls_offered": 2,
        "calls_handled": 1,
        "aht_seconds": 90.0,
        "asa_seconds": 0.0,
        "service_level": 0.5,
        "abandonment_rate": 0.5,
        "transfer_rate": 0.0,
    }
    assert (red["aht_seconds"], red["csat_pct"], red["nps"], red["ces_mean"]) == (
        150.0,
        1.0,
        100.0,
        2.0,
    )
    assert red["fcr_survey_rate"] == 1.0


def test_group_by_agent_adds_latest_name_and_sees_cross_agent_repeats() -> None:
    calls = [
        call("c1", at(0), "A", agent_id="a2", agent_name="Bob"),
        call("c2", at(5), "A", agent_id="a1", agent_name="Ann"),  # repeat of c1, other agent
        call("c3", at(6), "B", agent_id="a1", agent_name="Ann Smith"),  # renamed later
        call("c4", at(7), "C", agent_id="a1", agent_name=""),  # blank name ignored
        end_of_data(),
    ]
    rows = compute_kpis_by(calls[:4], [], "agent", history=calls)
    assert [(r["group"], r["agent_name"]) for r in rows] == [("a1", "Ann Smith"), ("a2", "Bob")]
    assert list(rows[0])[:2] == ["group", "agent_name"]
    assert list(rows[0])[2:] == list(KPI_KEYS)
    a1, a2 = rows
    assert (a2["repeat_contact_rate"], a2["fcr_rate"]) == (1.0, 0.0)
    # c2 not a first contact; c3, c4 first contacts not repeated
    assert (a1["repeat_contact_rate"], a1["fcr_rate"]) == (0.0, 1.0)


def test_group_by_queue() -> None:
    calls = [call("c1", T0, queue="tech"), call("c2", T0, queue="billing", abandoned=True)]
    rows = compute_kpis_by(calls, [], "queue")
    assert [(r["group"], r["calls_offered"], r["calls_handled"]) for r in rows] == [
        ("billing", 1, 0),
        ("tech", 1, 1),
    ]


def test_day_and_week_boundaries() -> None:
    calls = [
        call("sun", datetime(2026, 11, 1, 23, 59, 59)),  # Sunday, end of 2026-W44
        call("mon", datetime(2026, 11, 2, 0, 0, 0)),  # Monday, start of 2026-W45
        call("sun2", datetime(2026, 11, 8, 23, 59, 59)),  # Sunday, end of 2026-W45
        call("nye", datetime(2026, 12, 31, 12, 0)),  # 2026 has 53 ISO weeks
        call("ny", datetime(2027, 1, 1, 0, 0)),  # ISO-week year 2026, not 2027
        call("w1", datetime(2027, 1, 4, 0, 0)),  # Monday: 2027-W01
    ]
    days = compute_kpis_by(calls, [], "day")
    assert [(r["group"], r["calls_offered"]) for r in days] == [
        ("2026-11-01", 1),
        ("2026-11-02", 1),
        ("2026-11-08", 1),
        ("2026-12-31", 1),
        ("2027-01-01", 1),
        ("2027-01-04", 1),
    ]
    weeks = compute_kpis_by(calls, [], "week")
    assert [(r["group"], r["calls_offered"]) for r in weeks] == [
        ("2026-W44", 1),
        ("2026-W45", 2),
        ("2026-W53", 2),
        ("2027-W01", 1),
    ]


def test_week_groups_sort_chronologically_across_single_digit_weeks() -> None:
    calls = [call("w9", datetime(2026, 2, 23)), call("w10", datetime(2026, 3, 2))]
    assert [r["group"] for r in compute_kpis_by(calls, [], "week")] == ["2026-W09", "2026-W10"]


def test_grouped_surveys_follow_their_call() -> None:
    calls = [call("d1", datetime(2026, 11, 2, 10)), call("d2", datetime(2026, 11, 3, 10))]
    surveys = [survey("d1", csat=5), survey("d2", csat=1)]
    rows = compute_kpis_by(calls, surveys, "day")
    assert [(r["group"], r["csat_mean"]) for r in rows] == [
        ("2026-11-02", 5.0),
        ("2026-11-03", 1.0),
    ]


# --- display -----------------------------------------------------------------------------

DISPLAY_ROWS = [
    {
        "group": "t1",
        "calls_offered": 3,
        "service_level": 11 / 15,
        "aht_seconds": 312.54,
        "csat_mean": 4.25,
        "nps": None,
    },
    {
        "group": "team-two",
        "calls_offered": 12,
        "service_level": 1.0,
        "aht_seconds": None,
        "csat_mean": None,
        "nps": -25.0,
    },
]


def test_format_table() -> None:
    assert format_table(DISPLAY_ROWS) == "\n".join(
        [
            "group     calls_offered  service_level  aht_seconds  csat_mean    nps",
            "--------  -------------  -------------  -----------  ---------  -----",
            "t1                    3          73.3%        312.5       4.25      \u2013",
            "team-two             12         100.0%            \u2013          \u2013  -25.0",
        ]
    )
    assert format_table([]) == "(no rows)"


def test_format_table_of_empty_kpis() -> None:
    table = format_table([compute_kpis([], [])])
    header, rule, row = table.split("\n")
    assert header.split() == list(KPI_KEYS)
    assert set(rule) == {"-", " "}
    assert row.split() == ["0", "0", *["\u2013"] * 17]


def test_to_csv() -> None:
    rows = [{**DISPLAY_ROWS[0], "service_level": 0.5}, DISPLAY_ROWS[1]]
    assert to_csv(rows) == (
        "group,calls_offered,service_level,aht_seconds,csat_mean,nps\n"
        "t1,3,0.5,312.54,4.25,\n"
        "team-two,12,1.0,,,-25.0\n"
    )
    assert to_csv([]) == ""


# --- the database round trip ---------------------------------------------------------------


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(str(tmp_path / "t.db"))
    yield engine
    engine.dispose()


def test_kpis_from_database(engine) -> None:
    with session_scope(engine) as session:
        for fact in [*formula_calls(), end_of_data()]:
            session.add(
                Call(
                    external_id=fact.external_id,
                    started_at=fact.started_at,
                    customer_id=fact.customer_id,
                    agent_id=fact.agent_id,
                    agent_name=fact.agent_name,
                    team=fact.team,
                    queue=fact.queue,
                    direction="outbound" if fact.external_id == "c4" else "inbound",
                    wait_seconds=fact.wait_seconds,
                    talk_seconds=fact.talk_seconds,
                    hold_seconds=fact.hold_seconds,
                    acw_seconds=fact.acw_seconds,
                    abandoned=fact.abandoned,
                    transferred=fact.transferred,
                )
            )
        for fact in formula_surveys():
            session.add(
                Survey(
                    call_external_id=fact.call_external_id,
                    csat=fact.csat,
                    nps=fact.nps,
                    ces=fact.ces,
                    fcr=fact.fcr,
                    comment="ok",
                )
            )

    with session_scope(engine) as session:
        calls, surveys = load_facts(session)

    # ordered by start; the direction is loaded too (outbound calls never make a repeat)
    outbound_c4 = [
        dataclasses.replace(c, direction="outbound") if c.external_id == "c4" else c
        for c in formula_calls()
    ]
    assert calls == [*outbound_c4, end_of_data()]
    # the survey whose call has not arrived is loaded too; it just joins nothing
    assert sorted(surveys, key=lambda s: s.call_external_id) == sorted(
        formula_surveys(), key=lambda s: s.call_external_id
    )

    in_range = filter_calls(calls, at(0), at(24))
    from_db = compute_kpis(in_range, surveys, history=calls)
    expected = compute_kpis(
        formula_calls(), formula_surveys(), history=[*formula_calls(), end_of_data()]
    )
    assert from_db == expected
    assert from_db["calls_offered"] == 5
    assert from_db["repeat_contact_rate"] == 1 / 3
    assert from_db["nps"] == -25.0
