"""Assemble the per-call analysis frame for driver analysis (``qa why``) from the database.

One row per call whose outcome was observed:

* survey outcomes (csat, nps, ces, fcr): calls with a survey that answered it (abandoned
  calls' surveys included, as in ``qa.metrics.kpis``);
* ``aht``: handled calls (talk + hold + after-call work, seconds);
* ``repeat``: handled contacts whose repeat window is fully observable, one row per contact
  (its first leg; ``qa.metrics.contacts.contact_flags`` over the whole history, the
  definition ``qa kpis`` uses, so a repeat outside ``--since/--until`` still counts), unless
  the caller passes its own ``repeat_flags``.

Columns: ``FIXED_COLUMNS`` (``y`` is the outcome: score, NPS recoded +100/0/-100, or 0/1)
plus one 0/1 column per feature: effective tags (human decisions applied; kind ``said``),
then the structured ``call:`` drivers the phone system recorded (``qa.why.structured``;
kind ``recorded``; left out when constant over the rows, or with ``call_drivers=None``),
then extra features (themes; kind ``theme``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from qa.metrics.base import CallFact, KpiOptions, SurveyFact
from qa.metrics.contacts import contact_flags
from qa.metrics.kpis import filter_calls
from qa.metrics.weighted import nps_points  # one definition, shared with the weighted NPS
from qa.why.results import RECORDED, SAID, THEME, check_outcome
from qa.why.structured import CallDriverOptions, call_features

if TYPE_CHECKING:
    import pandas as pd
    from sqlmodel import Session

FIXED_COLUMNS: tuple[str, ...] = (
    "external_id", "call_id", "started_at", "agent_id", "agent_name", "team", "queue",
    "call_seconds", "aht_seconds", "y",
)  # fmt: skip
"""Non-feature columns of ``DriverData.frame``. ``call_seconds`` = talk + hold (the call
length control); ``aht_seconds`` = talk + hold + after-call work; ``call_id`` may be
``None`` for frames built from facts alone."""


@dataclass(frozen=True)
class DriverData:
    """The analysis frame of one outcome; ``features`` name its 0/1 indicator columns and
    ``kinds`` their ``Driver.kind`` (missing: guessed from the name, ``feature_kind``)."""

    outcome: str
    frame: pd.DataFrame
    features: tuple[str, ...]
    kinds: Mapping[str, str] = field(default_factory=dict)

    def subset(self, mask: pd.Series) -> DriverData:
        """Rows where ``mask`` is true (e.g. one team, one period); same features."""
        frame = self.frame[mask].reset_index(drop=True)
        return DriverData(self.outcome, frame, self.features, self.kinds)


def _outcomes(
    outcome: str,
    calls: Sequence[CallFact],
    surveys: Iterable[SurveyFact],
    history: Sequence[CallFact],
    window_hours: float,
    repeat_flags: Mapping[str, bool | None] | None,
) -> dict[str, float]:
    """External id -> outcome value, for the calls in ``calls`` that observed it."""
    ids = {call.external_id for call in calls}
    if outcome == "aht":  # handled calls: what each cost in agent time
        return {
            c.external_id: c.talk_seconds + c.hold_seconds + c.acw_seconds
            for c in calls
            if not c.abandoned
        }
    if outcome == "repeat":
        if repeat_flags is None:
            flags = contact_flags(history, window_hours)
            # Only the rows the repeat-contact rate counts: a transferred call's later legs,
            # outbound calls and abandoned contacts are no observation of their own.
            return {
                call.external_id: float(flags[call.external_id].repeated)
                for call in calls
                if flags[call.external_id].counted and flags[call.external_id].observable
            }
        return {
            cid: float(flag)
            for cid, flag in repeat_flags.items()
            if cid in ids and flag is not None
        }
    values: dict[str, float] = {}
    for survey in surveys:
        answer = getattr(survey, outcome)
        if survey.call_external_id not in ids or answer is None:
            continue
        values[survey.call_external_id] = nps_points(answer) if outcome == "nps" else float(answer)
    return values


def frame_from_facts(
    calls: Sequence[CallFact],
    surveys: Iterable[SurveyFact],
    tags: Mapping[str, Collection[str]],
    *,
    outcome: str,
    history: Sequence[CallFact] | None = None,
    window_hours: float = KpiOptions.window_hours,
    call_ids: Mapping[str, int] | None = None,
    repeat_flags: Mapping[str, bool | None] | None = None,
    extra_features: Mapping[str, Collection[str]] | None = None,
    call_drivers: CallDriverOptions | None = CallDriverOptions(),
) -> DriverData:
    """Build the analysis frame from KPI facts and effective tags (no database).

    ``tags``: external id -> tag names. ``history`` (default ``calls``): every call, for the
    repeat flags. ``repeat_flags``: external id -> repeated (``None``: not observable), to
    use another repeat-linking rule. ``extra_features``: feature name -> external ids that
    have it (themes). ``call_drivers``: thresholds of the structured drivers (``None``: none).
    Features are every tag seen on an analysed row, then the structured drivers that vary
    over the rows, then extra features.
    """
    import pandas as pd

    check_outcome(outcome)
    calls = list(calls)
    history = calls if history is None else list(history)
    values = _outcomes(outcome, calls, surveys, history, window_hours, repeat_flags)
    rows = [call for call in calls if call.external_id in values]
    tag_names = sorted({name for call in rows for name in tags.get(call.external_id, ())})
    kinds = dict.fromkeys(tag_names, SAID)
    extra = dict(extra_features or {})
    if call_drivers is not None and rows:
        recorded = call_features(rows, history, call_drivers, window_hours)
        clash = set(recorded) & (set(tag_names) | set(extra))
        if clash:
            raise ValueError(f"tag or theme names clash with structured drivers: {sorted(clash)}")
        varying = {n: ids for n, ids in recorded.items() if 0 < len(ids) < len(rows)}
        kinds.update(dict.fromkeys(varying, RECORDED))
        extra = {**varying, **extra}
    kinds.update({name: THEME for name in extra if name not in kinds})
    features = tuple(kinds)
    clash = set(features) & set(FIXED_COLUMNS)
    if clash:
        raise ValueError(f"feature names clash with frame columns: {sorted(clash)}")
    ids = call_ids or {}
    data: dict[str, list] = {
        "external_id": [c.external_id for c in rows],
        "call_id": [ids.get(c.external_id) for c in rows],
        "started_at": [c.started_at for c in rows],
        "agent_id": [c.agent_id for c in rows],
        "agent_name": [c.agent_name for c in rows],
        "team": [c.team for c in rows],
        "queue": [c.queue for c in rows],
        "call_seconds": [c.talk_seconds + c.hold_seconds for c in rows],
        "aht_seconds": [c.talk_seconds + c.hold_seconds + c.acw_seconds for c in rows],
        "y": [values[c.external_id] for c in rows],
    }
    extra_sets = {name: set(members) for name, members in extra.items()}
    for name in features:
        members = extra_sets.get(name)
        data[name] = [
            int(
                name in tags.get(c.external_id, ())
                or (members is not None and c.external_id in members)
            )
            for c in rows
        ]
    frame = pd.DataFrame(data, columns=[*FIXED_COLUMNS, *features])
    frame["started_at"] = pd.to_datetime(frame["started_at"])
    return DriverData(outcome, frame, features, kinds)


def load_call_tags(session: Session) -> dict[str, set[str]]:
    """Effective tags (reviewers' decisions applied) per call external id.

    Read from ``CallTag``, which every writer of hits and decisions keeps equal to
    ``qa.store.effective`` (``qa.store.calltags``): one join instead of building every hit
    and decision as an object (at 100,000 calls that was a quarter of the Insights time)."""
    from sqlmodel import select

    from qa.store.schema import Call, CallTag

    out: dict[str, set[str]] = {}
    rows = session.exec(
        select(Call.external_id, CallTag.tag).join(Call, Call.id == CallTag.call_id)
    )
    for external_id, tag in rows:
        out.setdefault(external_id, set()).add(tag)
    return out


def load_driver_data(
    session: Session,
    *,
    outcome: str,
    since: datetime | None = None,
    until: datetime | None = None,
    window_hours: float = KpiOptions.window_hours,
    repeat_flags: Mapping[str, bool | None] | None = None,
    extra_features: Mapping[str, Collection[str]] | None = None,
    call_drivers: CallDriverOptions | None = CallDriverOptions(),
) -> DriverData:
    """The analysis frame of ``outcome`` for calls starting in ``[since, until)``.

    Repeat flags, and the earlier contacts of ``call:repeat`` / ``call:after-abandon``, come
    from the whole history in the database (see module docstring).
    """
    from sqlmodel import select

    from qa.metrics.facts import load_facts
    from qa.store.schema import Call

    check_outcome(outcome)
    history, surveys = load_facts(session)
    call_ids = {eid: cid for eid, cid in session.exec(select(Call.external_id, Call.id))}
    return frame_from_facts(
        filter_calls(history, since, until),
        surveys,
        load_call_tags(session),
        outcome=outcome,
        history=history,
        window_hours=window_hours,
        call_ids=call_ids,
        repeat_flags=repeat_flags,
        extra_features=extra_features,
        call_drivers=call_drivers,
    )
