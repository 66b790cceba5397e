"""The call list (``qa.store.calllist``): filters, sort, paging, totals, search and the
pre-computed effective tags, checked against pandas over the same CSVs, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import delete, update
from sqlmodel import Session, select

from qa.store.callfilter import SORTS, CallFilter
from qa.store.calllist import iter_calls, list_calls_page
from qa.store.calltags import compute_call_tags, stale_call_tags, stored_call_tags
from qa.store.engine import create_tables, session_scope
from qa.store.schema import Call, CallTag, Survey, Turn
from qa.store.textsearch import matched_terms, parse_search, search_matches
from qa.store.writes import Evidence, record_tag_decision
from tests.calllist_data import build, holds_phrase


@pytest.fixture
def built(engine, tmp_path: Path) -> pd.DataFrame:
    return build(engine, tmp_path / "export", n_calls=400)


def _ids(engine, flt: CallFilter) -> list[str]:
    with Session(engine) as session:
        return [r.external_id for r in iter_calls(session=session, flt=flt)]


def _expect(frame: pd.DataFrame, mask: pd.Series) -> set[str]:
    return set(frame.loc[mask, "call_id"])


def _searched(frame: pd.DataFrame, *phrases: str) -> pd.Series:
    """One document (the comment or one turn) holds every phrase."""

    def holds(text: str) -> bool:
        return all(holds_phrase(text, p) for p in phrases)

    return frame["comment"].map(holds) | frame["turns"].map(lambda ts: any(map(holds, ts)))


def _has(frame: pd.DataFrame, tag: str) -> pd.Series:
    return frame["tags"].map(lambda tags: tag in tags)


def test_filters_match_pandas(engine, built: pd.DataFrame) -> None:
    f = built
    since, until = datetime(2024, 3, 10), datetime(2024, 3, 24)
    cases = [
        (CallFilter(agent="a03", tags_any=("long-wait",), since=since, until=until),
         (f.agent_id == "a03") & _has(f, "long-wait") & (f.started_at >= since)
         & (f.started_at < until)),
        (CallFilter(agent="Agent 05"), f.agent_name == "Agent 05"),
        (CallFilter(csat_min=2, csat_max=3), f.csat.between(2, 3)),
        (CallFilter(search="on hold"), _searched(f, "on", "hold")),
        (CallFilter(search='hold "for ages"'), _searched(f, "hold", "for ages")),
        (CallFilter(search='"refund policy"'), _searched(f, "refund policy")),
        (CallFilter(tags_none=("transfer",)), ~_has(f, "transfer")),
        (CallFilter(transferred=True, team="North"), f.transferred & (f.team == "North")),
        (CallFilter(tags_all=("transfer", "long-wait")),
         _has(f, "transfer") & _has(f, "long-wait")),
        (CallFilter(tags_any=("agent-rude", "transfer:billing")),
         _has(f, "agent-rude") | _has(f, "transfer:billing")),
        (CallFilter(fcr=False, nps_max=6, queue="billing"),
         f.fcr.eq("no") & (f.nps <= 6) & (f.queue == "billing")),
        (CallFilter(ces_min=3, reviewed=True), (f.ces >= 3) & f.reviewed),
        (CallFilter(reviewed=False, transferred=False), ~f.reviewed & ~f.transferred),
    ]  # fmt: skip
    for flt, mask in cases:
        want = _expect(f, mask)
        got = _ids(engine, flt)
        assert len(got) == len(set(got)), flt
        assert set(got) == want, flt
        with Session(engine) as session:
            assert list_calls_page(session=session, flt=flt).total == len(want), flt


def test_rows_carry_effective_tags_and_survey_values(engine, built: pd.DataFrame) -> None:
    by_id = built.set_index("call_id")
    with Session(engine) as session:
        rows = list(iter_calls(session=session, flt=CallFilter()))
    assert len(rows) == len(built)
    for row in rows:
        truth = by_id.loc[row.external_id]
        assert set(row.tags) == truth["tags"], row.external_id
        assert row.csat == (None if pd.isna(truth["csat"]) else int(truth["csat"]))
        assert row.transferred == bool(truth["transferred"])
        assert row.reviewed == bool(truth["reviewed"])
        assert row.handle_seconds == truth.talk_seconds + truth.hold_seconds + truth.acw_seconds
    started = [r.started_at for r in rows]
    assert started == sorted(started, reverse=True)


def test_every_sort_orders_and_pages_cover_the_result(engine, built: pd.DataFrame) -> None:
    with Session(engine) as session:
        for sort in SORTS:
            for desc in (True, False):
                flt = CallFilter(sort=sort, desc=desc, page_size=70)
                every = [r.external_id for r in iter_calls(session=session, flt=flt)]
                paged, page = [], 1
                while True:
                    got = list_calls_page(session=session, flt=flt.with_(page=page))
                    assert got.total == len(built)
                    if not got.rows:
                        break
                    paged += [r.external_id for r in got.rows]
                    page += 1
                assert paged == every and len(set(every)) == len(built), (sort, desc)
        rows = list(iter_calls(session=session, flt=CallFilter(sort="csat", desc=False)))
    values = [r.csat for r in rows]
    known = [v for v in values if v is not None]
    assert known == sorted(known) and values[len(known) :] == [None] * (len(values) - len(known))


def test_search_reports_fields_and_spans(engine, built: pd.DataFrame) -> None:
    with Session(engine) as session:
        page = list_calls_page(session=session, flt=CallFilter(search="Refund", page_size=200))
        assert page.total == _searched(built, "refund").sum() > 0
        for row in page.rows:
            truth = built.set_index("call_id").loc[row.external_id]
            want = tuple(
                name
                for name, hit in (
                    ("transcript", any(holds_phrase(t, "refund") for t in truth["turns"])),
                    ("comment", holds_phrase(truth["comment"], "refund")),
                )
                if hit
            )
            assert row.matched == want
        first = next(r for r in page.rows if "transcript" in r.matched)
        matches = search_matches(session=session, call_id=first.id, search="REFUND")
    turn = next(m for m in matches if m.field == "transcript")
    text = built.set_index("call_id").loc[first.external_id, "turns"][turn.turn_index]
    assert all(text[a:b].lower() == "refund" for a, b in turn.spans)
    assert parse_search('Refund "on  hold!" x') == (("on", "hold"), ("refund",), ("x",))
    assert matched_terms('"Café" au lait') == ("cafe", "au", "lait")


def test_search_index_follows_turn_and_survey_changes(engine, built: pd.DataFrame) -> None:
    flt = CallFilter(search="zebracorn")
    with session_scope(engine) as session:
        call = session.exec(select(Call).order_by(Call.id)).first()
        session.add(Turn(call_id=call.id, index=99, speaker="agent", start=0, end=1,
                         text="a zebracorn appears"))  # fmt: skip
        other = session.exec(select(Survey).order_by(Survey.id.desc())).first()  # type: ignore[union-attr]
        other.comment = "The zebracorn was rude"
        session.add(other)
    assert len(_ids(engine, flt)) == 2
    with session_scope(engine) as session:
        session.execute(delete(Turn).where(Turn.index == 99))
        session.execute(update(Survey).where(Survey.id == other.id).values(comment="fine"))
    assert _ids(engine, flt) == []


def test_call_tags_follow_every_decision_and_equal_effective_tags(engine, built) -> None:
    with session_scope(engine) as session:
        assert stale_call_tags(session) == {}
        ids = list(session.exec(select(Call.id).order_by(Call.id)).all())[:30]
        for n, call_id in enumerate(ids):  # evidence-scoped, child and parent decisions
            comment = Evidence("comment")
            record_tag_decision(session=session, call_id=call_id, tag="transfer:billing",
                                present=True, reviewer="r2", evidence=comment)  # fmt: skip
            if n % 2:
                record_tag_decision(session=session, call_id=call_id, tag="transfer",
                                    present=False, reviewer="r3", role="lead")  # fmt: skip
        assert stale_call_tags(session) == {}
        stored = stored_call_tags(session)
        assert stored == {k: v for k, v in compute_call_tags(session, stored).items() if v}
    with session_scope(engine) as session:  # an older database: the table is filled on open
        session.execute(delete(CallTag))
    create_tables(engine)
    with session_scope(engine) as session:
        assert stored_call_tags(session) == stored


def test_filter_round_trips_through_the_url() -> None:
    flt = CallFilter(
        since=datetime(2024, 3, 1), until=datetime(2024, 3, 8, 12, 30), team="North",
        queue="billing", agent="Agent 01", tags_any=("transfer", "long-wait"),
        tags_all=("unresolved",), tags_none=("agent-praise",), csat_min=1, csat_max=3,
        nps_min=0, nps_max=6, ces_min=4, ces_max=7, fcr=False, transferred=True, reviewed=False,
        score_min=50.5, score_max=90, search='"on hold" refund', sort="score", desc=False,
        page=3, page_size=100,
    )  # fmt: skip
    assert CallFilter.from_query(flt.to_query()) == flt
    assert CallFilter().to_query() == {}
    query = {"tag": ["a", "b,c"], "until": "2024-03-08", "call": "X1", "order": "asc"}
    parsed = CallFilter.from_query(query)
    assert parsed.tags_any == ("a", "b", "c") and parsed.until == datetime(2024, 3, 9)
    assert not parsed.desc
    with pytest.raises(ValueError, match="started_at"):
        CallFilter(sort="colour")
    with pytest.raises(ValueError, match="yes or no"):
        CallFilter.from_query({"fcr": "maybe"})
    with pytest.raises(ValueError, match="known: since"):
        CallFilter.from_query({"call": "X1"}, strict=True)


def test_an_older_database_gets_its_search_index_filled(engine, built: pd.DataFrame) -> None:
    flt = CallFilter(search='"refund policy"')
    before = _ids(engine, flt)
    assert before
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            for name in ("turn_fts", "survey_fts"):
                for suffix in ("ai", "ad", "au"):
                    conn.exec_driver_sql(f"DROP TRIGGER {name}_{suffix}")
                conn.exec_driver_sql(f"DROP TABLE {name}")
        else:
            conn.exec_driver_sql("ALTER TABLE turn DROP COLUMN text_tsv")
            conn.exec_driver_sql("ALTER TABLE survey DROP COLUMN comment_tsv")
    create_tables(engine)
    assert _ids(engine, flt) == before


def test_imported_decisions_refresh_call_tags(engine, built: pd.DataFrame, tmp_path) -> None:
    from qa.review.decision_files import import_decisions

    ids = list(built["call_id"][:40])
    lines = ["call_id,reviewer,tag,present"]
    lines += [f"{c},importer,{'transfer' if n % 2 else 'unresolved'},{'no' if n % 2 else 'yes'}"
              for n, c in enumerate(ids)]  # fmt: skip
    path = tmp_path / "decisions.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with session_scope(engine) as session:
        assert import_decisions(session, path).added == len(ids)
    with session_scope(engine) as session:
        assert stale_call_tags(session) == {}
    got = set(_ids(engine, CallFilter(tags_any=("unresolved",))))
    assert got == set(ids[0::2])
