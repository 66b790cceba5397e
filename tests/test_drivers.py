"""Driver analysis: statistical primitives against published values, edge cases of the
regression, the database round trip (SQLite + PostgreSQL) and the ``qa why`` command."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from sqlmodel import Session, select

from qa.why.data import frame_from_facts, load_driver_data
from qa.why.drivers import (
    DRIVER_KEYS,
    analyse,
    format_analysis,
    format_drivers,
    tag_drivers,
    why,
    why_by,
)
from qa.why.quality import load_tag_quality
from qa.why.stats import (
    analyse_frame,
    bh_qvalues,
    mean_difference,
    rate_difference,
    wilson_interval,
)
from tests.synthetic import make_synthetic

# --- primitives --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    # Newcombe (1998), Statistics in Medicine 17:857, Table II, method 3 (Wilson score)
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
     (1, 29, 0.0061, 0.1718)],
)  # fmt: skip
def test_wilson_interval_matches_published_values(x: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(x, n)
    assert got == pytest.approx((low, high), abs=5e-5)
    # and the closed form
    p, z = x / n, 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert got == pytest.approx((centre - half, centre + half), abs=1e-9)


@pytest.mark.parametrize(
    ("counts", "low", "high"),
    # Newcombe (1998), Statistics in Medicine 17:873, Table II, method 10 (hybrid score)
    [((56, 70, 48, 80), 0.0524, 0.3339), ((9, 10, 3, 10), 0.1705, 0.8090)],
)
def test_newcombe_difference_matches_published_values(counts, low, high) -> None:  # type: ignore[no-untyped-def]
    diff, ci_low, ci_high, p = rate_difference(*counts)
    assert diff == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (ci_low, ci_high) == pytest.approx((low, high), abs=5e-5)
    assert 0 < p < 0.05


def test_rate_difference_without_variation_has_no_p_value() -> None:
    assert rate_difference(0, 10, 0, 30)[3] is None
    with pytest.raises(ValueError, match="non-empty"):
        rate_difference(1, 0, 1, 5)


def test_bh_qvalues_hand_computed() -> None:
    # sorted p: .01 .03 .04 .20 (m = 4) -> p*m/rank: .04 .06 .0533 .20 -> running min from top
    q = bh_qvalues([0.01, 0.04, None, 0.03, 0.20])
    assert q == pytest.approx([0.04, 0.16 / 3, None, 0.16 / 3, 0.20])
    assert bh_qvalues([]) == [] and bh_qvalues([None]) == [None]


def test_welch_matches_the_formula() -> None:
    from scipy import stats

    a, b = [1.0, 2, 3, 4, 5], [2.0, 4, 6, 8, 10, 12]
    se = math.sqrt(2.5 / 5 + 14 / 6)
    df = (2.5 / 5 + 14 / 6) ** 2 / ((2.5 / 5) ** 2 / 4 + (14 / 6) ** 2 / 5)
    diff, low, high, p = mean_difference(a, b)
    assert diff == -4.0
    half = stats.t.ppf(0.975, df) * se
    assert (low, high) == pytest.approx((-4 - half, -4 + half))
    assert p == pytest.approx(2 * stats.t.sf(4 / se, df))
    assert mean_difference([3, 3], [3, 3, 3]) == (0.0, None, None, None)


# --- edge cases of the analysis ----------------------------------------------------------


def _frame(y, **features) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    n = len(y)
    queues = ["q1", "q2"] * (n // 2) + ["q1"] * (n % 2)
    base = {"y": y, "queue": queues, "team": ["A"] * n, "agent_id": ["a"] * n,
            "call_seconds": [60.0 + 7 * (i % 5) for i in range(n)]}  # fmt: skip
    return pd.DataFrame({**base, **features})


def test_q_values_are_bh_over_tested_tags() -> None:
    y = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5] * 4
    frame = _frame(
        y, a=[i % 2 for i in range(40)], b=[i < 20 for i in range(40)], rare=[0] * 39 + [1]
    )
    result = analyse_frame(frame, outcome="csat", features=["a", "b", "rare"], min_n=5)
    tested = [d for d in result.drivers if d.status == "ok"]
    assert {d.tag for d in tested} == {"a", "b"}
    assert [d.q_value for d in tested] == pytest.approx(bh_qvalues([d.p_value for d in tested]))


def test_perfect_separation_falls_back_and_says_so() -> None:
    flag = [i % 3 == 0 for i in range(60)]
    y = [0 if f else (i % 4 != 0) for i, f in enumerate(flag)]  # flag -> always unresolved
    other = [i % 5 == 0 for i in range(60)]
    result = analyse_frame(_frame([int(v) for v in y], flag=flag, other=other),
                           outcome="fcr", features=["flag", "other"])  # fmt: skip
    assert result.model == "lpm-hc3"
    assert any("perfect separation by flag" in note for note in result.notes)
    flagged = {d.tag: d for d in result.drivers}["flag"]
    assert flagged.adjusted_effect < 0 and flagged.effect == pytest.approx(-0.75)


def test_separated_control_is_dropped() -> None:
    n = 80
    y = [1 if i % 2 else (i % 3 != 0) for i in range(n)]  # queue q2 (odd rows): always resolved
    frame = _frame([int(v) for v in y], t=[i % 4 < 2 for i in range(n)])
    result = analyse_frame(frame, outcome="fcr", features=["t"], controls=["queue"])
    assert result.model == "logit-ame"
    assert "queue" not in result.controls
    assert any("queue dropped: perfect separation" in note for note in result.notes)


def test_collinear_tags_and_constant_outcome() -> None:
    twin = [i % 3 == 0 for i in range(45)]
    frame = _frame([float(i % 5) for i in range(45)], a=twin, b=twin)
    result = analyse_frame(frame, outcome="csat", features=["a", "b"])
    by_tag = {d.tag: d for d in result.drivers}
    assert by_tag["a"].adjusted_effect is not None
    assert by_tag["b"].adjusted_effect is None and "collinear" in by_tag["b"].note
    assert result.drivers[-1].tag == "b"  # no impact: after the ranked ones
    flat = analyse_frame(_frame([4.0] * 45, a=twin), outcome="csat", features=["a"])
    assert flat.model == "none" and "does not vary" in flat.notes[0]


def test_bad_arguments_are_named() -> None:
    frame = _frame([1.0, 2.0])
    with pytest.raises(ValueError, match="unknown outcome 'sales'; choose one of: csat"):
        analyse_frame(frame, outcome="sales", features=[])
    with pytest.raises(ValueError, match="unknown control"):
        analyse_frame(frame, outcome="csat", features=[], controls=["weather"])
    empty = analyse_frame(frame.iloc[:0], outcome="csat", features=[])
    assert empty.n == 0 and empty.drivers == () and empty.mean is None


# --- database round trip -----------------------------------------------------------------


@pytest.fixture(scope="module")
def small():  # type: ignore[no-untyped-def]
    return make_synthetic(n_calls=500, seed=4)


def test_db_round_trip(engine, small) -> None:  # type: ignore[no-untyped-def]
    from qa.store.calltags import refresh_call_tags
    from qa.store.schema import Call, Decision

    with Session(engine) as session:
        small.insert(session)
        # a reviewer rejects re-explain on one call and adds agent-praise on another
        tagged = sorted(cid for cid, names in small.tags.items() if "re-explain" in names)[0]
        call = session.exec(select(Call).where(Call.external_id == tagged)).one()
        session.add(Decision(call_id=call.id, tag="re-explain", reviewer="qa", present=False))
        session.add(Decision(call_id=call.id, tag="agent-praise", reviewer="qa", present=True))
        session.flush()
        refresh_call_tags(session, [call.id])  # what qa.store.writes does after a decision
        session.commit()
        data = load_driver_data(session, outcome="csat")
        quality = load_tag_quality(session)
        from_db = why(session, outcome="csat")
        by_queue = why_by(session, by="queue", outcome="fcr")
        legacy = tag_drivers(session=session)

    tags = {cid: set(names) for cid, names in small.tags.items()}
    tags[tagged] = (tags[tagged] - {"re-explain"}) | {"agent-praise"}
    # why() measures tag quality from the two decisions: the frame-only analysis gets the same
    expected = analyse(
        frame_from_facts(small.calls, small.surveys, tags, outcome="csat"), quality=quality
    )
    assert (quality["re-explain"].rejected, quality["re-explain"].precision) == (1, 0.0)
    assert (quality["agent-praise"].added, quality["agent-praise"].recall) == (1, 0.0)
    # one rejection: precision 0, and a tag that is never right cannot be corrected
    text = format_analysis(from_db)
    assert "re-explain: measured precision 0.00 [0.00, 0.79] of 1, recall \u2013 (no" in text
    assert "the tag is too noisy to correct" in text
    if tagged in set(data.frame["external_id"]):
        row = data.frame.set_index("external_id").loc[tagged]
        assert row["re-explain"] == 0 and row["agent-praise"] == 1
    assert data.frame["call_id"].notna().all()
    assert from_db.n == expected.n
    for got, want in zip(from_db.drivers, expected.drivers, strict=True):
        assert got.to_dict() == pytest.approx(want.to_dict(), nan_ok=True)
    assert [g.group for g in by_queue] == ["billing", "sales", "tech"]
    assert [d.tag for d in legacy] == [d.tag for d in from_db.drivers]
    assert "re-explain" in format_drivers(legacy)


# --- the command -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_db(tmp_path_factory, small) -> str:  # type: ignore[no-untyped-def]
    from qa.store.engine import make_engine

    path = tmp_path_factory.mktemp("why") / "callqa.db"
    engine = make_engine(str(path))
    with Session(engine) as session:
        small.insert(session)
    engine.dispose()
    return str(path)


def _run(*args: str):  # type: ignore[no-untyped-def]
    import typer
    from typer.testing import CliRunner

    from qa.commands.why import why as why_command

    app = typer.Typer()
    app.command()(why_command)
    return CliRunner().invoke(app, list(args))


def test_cli_json_and_table(synthetic_db: str) -> None:
    args = ("--db", synthetic_db, "--outcome", "fcr", "--format", "json", "--min-n", "40")
    result = _run(*args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(tuple(row) == DRIVER_KEYS for row in rows)
    # call:transferred is transfer's recorded twin, on the very same calls in the synthetic
    # data: the same impact, and it sorts first by name
    assert [r["tag"] for r in rows[:2]] == ["call:transferred", "transfer"]
    assert [r["kind"] for r in rows[:2]] == ["recorded", "said"]
    assert -1 < rows[0]["effect"] < 0  # a rate difference
    assert rows[-1]["status"] == "insufficient" and rows[-1]["n_with"] < 40
    assert rows[-1]["effect"] is None

    table = _run("--db", synthetic_db, "--controls", "queue")
    assert table.exit_code == 0, table.output
    assert "adjusted for queue (OLS" in table.stdout and "re-explain" in table.stdout

    groups = json.loads(_run("--db", synthetic_db, "--by", "team", "--format", "json").stdout)
    assert [g["group"] for g in groups] == ["A", "B", "C"]


def test_cli_call_driver_and_recall_options(synthetic_db: str) -> None:
    def tags(*args: str) -> dict[str, dict]:
        result = _run("--db", synthetic_db, "--format", "json", *args)
        assert result.exit_code == 0, result.output
        return {row["tag"]: row for row in json.loads(result.stdout)}

    default = tags()
    assert default["call:wait>120s"]["kind"] == "recorded" and "call:wait>20s" in default
    assert default["re-explain"]["kind"] == "said"
    assert default["re-explain"]["recall_used"] == 0.7  # no decisions: the assumed recall
    assert default["call:transferred"]["sensitivity"] is None  # recorded: nothing to correct
    assert not any(name.startswith("call:") for name in tags("--no-call-drivers"))
    other = tags("--long-wait-seconds", "200", "--hold-seconds", "30", "--assume-recall", "0.5")
    assert "call:wait>200s" in other and "call:wait>120s" not in other
    assert "call:hold>30s" in other
    assert other["re-explain"]["recall_used"] == 0.5
    assert other["re-explain"]["corrected_low"] < other["re-explain"]["adjusted_ci_low"]

    table = _run("--db", synthetic_db).stdout
    assert " from " in table.splitlines()[1] and "recorded" in table
    assert "from: said = a tag on what the customer or agent said" in table
    assert "re-explain: if this tag's recall is 0.70 (assumed" in table
    assert "twins (one event, said and recorded): transfer ~ call:transferred" in table
    bad = _run("--db", synthetic_db, "--assume-recall", "0")
    assert bad.exit_code == 2 and "assume-recall" in bad.output


def test_cli_compare(synthetic_db: str) -> None:
    result = _run("--db", synthetic_db, "--compare", "LAST_MONTH", "--format", "json")
    assert result.exit_code == 0, result.output
    change = json.loads(result.stdout)
    assert change["outcome"] == "csat" and "kpis_after" in change
    text = _run("--db", synthetic_db, "--compare", "2024-02-01..2024-02-15")
    assert text.exit_code == 0 and "csat: 2024-01-18..2024-02-01" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--controls", "queue,weather"), "unknown control"),
        (("--compare", "yesterday"), "LAST_WEEK or LAST_MONTH"),
        (("--since", "monday"), "not an ISO 8601 timestamp"),
    ],
)
def test_cli_errors(synthetic_db: str, args, message: str) -> None:  # type: ignore[no-untyped-def]
    result = _run("--db", synthetic_db, *args)
    assert result.exit_code == 1
    assert message in result.output


def test_format_analysis_mentions_model_and_notes(small) -> None:  # type: ignore[no-untyped-def]
    data = frame_from_facts(small.calls, small.surveys, small.tags, outcome="repeat")
    text = format_analysis(analyse(data))
    assert text.startswith("repeat-contact rate (lower is better):")
    assert "logistic regression" in text and "%" in text


def test_a_large_center_is_adjusted_on_a_seeded_sample(small, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Beyond MAX_ADJUSTED_ROWS the regression sees a seeded sample (said in a note); the raw
    effects still use every call, and a re-run gives the same numbers."""
    import qa.why.models as models

    data = frame_from_facts(small.calls, small.surveys, small.tags, outcome="csat")
    full = analyse(data)
    monkeypatch.setattr(models, "MAX_ADJUSTED_ROWS", len(data.frame) // 2)
    half, again = analyse(data), analyse(data)
    assert any("seeded random sample" in note for note in half.notes)
    assert not any("seeded random sample" in note for note in full.notes)
    by_tag = [{d.tag: d for d in r.drivers} for r in (full, half, again)]
    assert by_tag[0].keys() == by_tag[1].keys() == by_tag[2].keys()
    for tag in by_tag[0]:
        a, b, c = (drivers[tag] for drivers in by_tag)
        assert a.effect == b.effect  # raw: all calls
        assert b.adjusted_effect == c.adjusted_effect
        if a.adjusted_effect is not None and b.adjusted_effect is not None:
            assert abs(a.adjusted_effect - b.adjusted_effect) < 0.5
