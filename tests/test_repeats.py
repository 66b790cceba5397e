"""Repeat-contact linking and callback promises: exact values on hand-built calls."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from qa.metrics.base import CallFact, validate_window
from qa.metrics.callbacks import callback_promises
from qa.metrics.contacts import link_contacts
from qa.metrics.kpis import compute_kpis
from qa.metrics.repeats import analyse_repeats, repeat_predictors

T0 = datetime(2026, 11, 2, 9, 0)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def call(
    external_id: str,
    hours: float,
    customer: str = "C1",
    *,
    talk: float = 300.0,
    abandoned: bool = False,
    transferred: bool = False,
    direction: str = "inbound",
) -> CallFact:
    return CallFact(
        external_id=external_id,
        started_at=at(hours),
        customer_id=customer,
        agent_id="a1",
        agent_name="Ann",
        team="red",
        queue="billing",
        wait_seconds=10.0,
        talk_seconds=talk,
        hold_seconds=0.0,
        acw_seconds=30.0,
        abandoned=abandoned,
        transferred=transferred,
        direction=direction,
    )


END = call("end", 500.0, "ZZZ")  # an unrelated late call: everything before is observable


def by_id(links):  # type: ignore[no-untyped-def]
    return {link.call_id: link for link in links}


def test_chain_links_each_repeat_to_previous_and_first_contact():
    calls = [call("A", 0), call("B", 40), call("C", 80), call("D", 200), END]
    links = by_id(link_contacts(calls))
    a, b, c, d = (links[k] for k in "ABCD")
    assert (a.first_call_id, a.previous_call_id, a.repeated) == ("A", None, True)
    assert (b.first_call_id, b.previous_call_id, b.gap_hours, b.repeated) == ("A", "A", 40.0, True)
    assert (c.first_call_id, c.previous_call_id, c.gap_hours, c.repeated) == ("A", "B", 40.0, False)
    assert (d.first_call_id, d.previous_call_id, d.repeated) == ("D", None, False)
    assert [a.outcome, b.outcome, c.outcome, d.outcome] == ["repeated"] * 2 + ["not-repeated"] * 2


def test_window_edge_is_inclusive_and_configurable():
    calls = [call("A", 0), call("B", 48), call("C", 96.01), END]
    links = by_id(link_contacts(calls))
    assert links["B"].previous_call_id == "A" and links["C"].previous_call_id is None
    links = by_id(link_contacts(calls, window_hours=24))
    assert links["B"].previous_call_id is None and not links["A"].repeated
    links = by_id(link_contacts(calls, window_hours=72))
    assert links["C"].previous_call_id == "B" and links["C"].first_call_id == "A"


@pytest.mark.parametrize("bad", [23.9, 72.5, 0, -48, float("nan"), "two days", None])
def test_window_out_of_range_is_a_clear_error(bad):
    with pytest.raises(ValueError, match=r"choose 24 to 72 hours \(default 48\)"):
        validate_window(bad)
    with pytest.raises(ValueError, match="out of range"):
        link_contacts([call("A", 0)], window_hours=bad)


def test_window_bounds_accepted():
    assert validate_window(24) == 24.0 and validate_window("72") == 72.0


def test_transfer_legs_are_one_contact_not_a_repeat():
    calls = [
        call("A1", 0, transferred=True, talk=300),  # ends at 0 h + 310 s
        call("A2", 310 / 3600, transferred=True, talk=120),  # leg 2 starts as leg 1 ends
        call("A3", 450 / 3600),  # leg 3 starts after leg 2 ends + 20 s (within the 60 s gap)
        call("B", 30),  # a genuine repeat of the whole contact
        call("X1", 100, "C2", transferred=True, talk=60),
        call("X2", 101, "C2"),  # an hour after a transferred call: a new contact (a repeat)
        END,
    ]
    links = by_id(link_contacts(calls))
    assert set(links) == {"A1", "B", "X1", "X2", "end"}
    assert links["A1"].legs == ("A1", "A2", "A3") and links["A1"].repeated
    assert links["B"].previous_call_id == "A1" and links["B"].first_call_id == "A1"
    assert links["X1"].legs == ("X1",) and links["X2"].previous_call_id == "X1"


def test_untransferred_rows_at_the_same_instant_merge_but_later_ones_link():
    calls = [call("A", 0), call("A-dup", 0), call("B", 0.1), END]
    links = by_id(link_contacts(calls))
    assert links["A"].legs == ("A", "A-dup") and links["B"].previous_call_id == "A"


def test_observability_excludes_recent_contacts_from_the_rate():
    calls = [
        call("A", 0),  # observable (0 + 48 <= 100), repeated by B
        call("B", 10),  # observable, not repeated
        call("C", 60, "C2"),  # 60 + 48 > 100: not yet observable
        call("D", 100, "C3"),  # the last call: never observable
        call("E", 20, "C4", abandoned=True),  # abandoned: not in the rate
        call("F", 30, ""),  # blank customer: unlinkable
    ]
    report = analyse_repeats(calls, {})
    s = report.summary
    assert (s.contacts, s.observable, s.not_observable, s.repeated) == (4, 2, 2, 1)
    assert s.repeat_rate == 0.5 and s.first_contacts == 1 and s.fcr_rate == 0.0
    assert s.repeat_contacts == 1 and s.data_end == at(100)
    links = by_id(link_contacts(calls))
    assert links["C"].outcome == "not-observable" and links["E"].outcome == "abandoned"
    assert links["F"].outcome == "unlinkable" and links["F"].first_call_id is None
    assert [r.call_id for r in report.repeats] == ["B"]


def test_rates_are_the_kpis_rates_with_transfer_legs_and_outbound_calls():
    # One definition (qa.metrics.contacts): the report's repeat section and qa kpis agree on
    # transfer legs and outbound callbacks too, not only on plain calls.
    calls = [
        call("A", 0, transferred=True),  # ends 10 s wait + 300 s talk + 60 s gap after 0 h
        call("A-leg", 200 / 3600),  # A's transfer leg: one contact {A, A-leg}
        call("B", 30),  # repeats {A, A-leg}
        call("C", 70, "C2"),
        call("D", 90, "C2"),  # repeats C
        call("E", 5, "C3", abandoned=True),
        call("F", 6, "C3"),  # repeats the abandoned E: no first contact
        call("CB", 8, "C3", direction="outbound"),  # the center calling back: F not repeated
        call("G", 10, "C4"),  # alone: a resolved first contact
        END,  # not observable
    ]
    kpis = compute_kpis(calls, [])
    s = analyse_repeats(calls, {}).summary
    assert s.repeat_rate == kpis["repeat_contact_rate"] and s.fcr_rate == kpis["fcr_rate"]
    # observable handled contacts {A, A-leg}, B, C, D, F, G: repeated {A, A-leg} and C, 2/6;
    # observable first contacts {A, A-leg}, C, G: G resolved, 1/3
    assert (s.contacts, s.observable, s.repeated, s.first_contacts) == (7, 6, 2, 3)
    assert (kpis["repeat_contact_rate"], kpis["fcr_rate"]) == (1 / 3, 1 / 3)


def test_period_summary_uses_whole_history_for_links():
    calls = [call("A", 0), call("B", 30), call("C", 200, "C2"), END]
    report = analyse_repeats(calls, {}, since=at(24), until=at(300))
    assert [r.call_id for r in report.repeats] == ["B"]
    assert report.repeats[0].first_call_id == "A"  # linked to a call before the period
    assert report.summary.contacts == 2 and report.summary.repeated == 0


def test_repeat_predictors_rate_with_and_without_tag():
    calls = (
        [call(f"R{i}", i, f"R{i}") for i in range(5)]
        + [
            call(f"R{i}-again", i + 1, f"R{i}")
            for i in range(2)  # R0, R1 repeated
        ]
        + [END]
    )
    tags = {"R0": {"re-explain"}, "R1": {"re-explain", "transfer"}, "R2": {"transfer"}}
    rows = {r.tag: r for r in repeat_predictors(link_contacts(calls), tags)}
    re = rows["re-explain"]
    assert (re.n_with, re.n_without, re.rate_with, re.rate_without) == (2, 3, 1.0, 0.0)
    assert re.difference == 1.0 and re.p_value == pytest.approx(0.1)
    tr = rows["transfer"]
    assert (tr.n_with, tr.n_without, tr.rate_with, tr.rate_without) == (2, 3, 0.5, 1 / 3)
    assert list(rows) == ["re-explain", "transfer"]  # most repeat-prone first
    assert repeat_predictors(link_contacts(calls), tags, min_n=3) == []


def test_callback_promises_kept_broken_pending():
    calls = [
        call("P1", 0, "C1"),
        call("O1", 20, "C1"),  # outbound within 48 h: kept
        call("P2", 0, "C2"),
        call("I2", 10, "C2"),  # the customer calling in does not keep the promise
        call("O2", 60, "C2"),  # outbound, but too late: broken
        call("P3", 90, "C3"),  # window not over by the end of data: pending
        call("P4", 5, ""),  # no customer to call back
        call("end", 100, "ZZZ"),
    ]
    directions = {"O1": "outbound", "O2": "outbound"}
    tags = {k: {"callback-promised"} for k in ("P1", "P2", "P3", "P4")}
    got = {
        p.call_id: (p.status, p.followup_call_id)
        for p in callback_promises(calls, tags, directions)
    }
    assert got == {
        "P1": ("kept", "O1"),
        "P2": ("broken", None),
        "P3": ("pending", None),
        "P4": ("unlinkable", None),
    }
    report = analyse_repeats(calls, tags, directions)
    assert [p.call_id for p in report.broken_promises] == ["P2"]
    got72 = {p.call_id: p.status for p in callback_promises(calls, tags, directions, 72)}
    assert got72["P2"] == "kept"


def test_empty_input():
    assert link_contacts([]) == [] and callback_promises([], {}, {}) == []
    report = analyse_repeats([], {})
    assert report.summary.contacts == 0 and report.summary.repeat_rate is None


def test_outbound_calls_are_not_repeats_unless_asked():
    calls = [call("A", 0), call("OUT", 5), call("B", 30), END]
    directions = {"OUT": "outbound"}
    links = by_id(link_contacts(calls, directions=directions))
    assert links["OUT"].outcome == "outbound" and links["OUT"].first_call_id is None
    assert links["B"].previous_call_id == "A"  # linked across the outbound call
    # the outbound_repeats variant: the outbound call repeats A, and B repeats the outbound call
    links = by_id(link_contacts(calls, directions=directions, outbound_repeats=True))
    assert links["OUT"].previous_call_id == "A" and links["B"].previous_call_id == "OUT"
    assert links["B"].first_call_id == "A"
    kept = [call("P", 0), call("CB", 3), END]  # a kept callback does not make P a repeat
    report = analyse_repeats(kept, {"P": {"callback-promised"}}, {"CB": "outbound"})
    assert report.flags == {"P": False, "end": None} and report.promises[0].status == "kept"


def test_repeat_flags_for_driver_analysis():
    calls = [call("A", 0), call("B", 30), call("C", 480, "C2"), call("D", 1, "C3", abandoned=True),
             call("E", 2, ""), END]  # fmt: skip
    assert analyse_repeats(calls, {}).flags == {"A": True, "B": False, "C": None, "end": None}
