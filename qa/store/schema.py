"""The database schema: every table callqa stores, in one module (SQLModel).

Rows live only inside ``qa``; the leaf libraries (``transcribe``, ``classify``) exchange
frozen dataclasses with ``qa`` and never see these classes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

CALL_STATUSES = ("pending", "transcribed", "tagged", "failed")
SPEAKERS = ("agent", "customer", "unknown")
TAG_METHODS = ("rule", "model", "human")
TAG_SOURCES = ("comment", "transcript")
AGENT_STATES = ("available", "on_call", "acw", "hold", "break", "offline")
"""``AgentState.state`` values (``agent_states.csv``; other WFM names via ``--state-map``)."""
SCHEDULE_ACTIVITIES = ("work", "break", "lunch", "meeting", "training")
"""``ScheduleBlock.activity`` values (``schedule.csv``; other names via ``--state-map``)."""
COST_BASES = ("period", "agent_hour")

# Timestamps are naive (local wall-clock time as exported; offsets converted to UTC on import,
# see qa.ingest.records.parse_timestamp) and stored as such on both backends. Spelled out because
# newer SQLModel maps a bare ``datetime`` to a UTC ``timestamptz`` that rejects naive values.
NAIVE = DateTime(timezone=False)


class Call(SQLModel, table=True):
    """One contact from the telephony export (``calls.csv``)."""

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(index=True, unique=True, max_length=128)
    started_at: datetime = Field(index=True, sa_type=NAIVE)
    agent_id: str = Field(default="", index=True, max_length=128)
    agent_name: str = Field(default="", max_length=256)
    team: str = Field(default="", index=True, max_length=128)
    queue: str = Field(default="", index=True, max_length=128)
    customer_id: str = Field(default="", index=True, max_length=128)
    direction: str = Field(default="inbound", max_length=16)
    wait_seconds: float = 0.0
    talk_seconds: float = 0.0
    hold_seconds: float = 0.0
    acw_seconds: float = 0.0
    abandoned: bool = False
    transferred: bool = False
    recording_path: str | None = Field(default=None, max_length=1024)
    recording_sha256: str | None = Field(default=None, max_length=64)
    status: str = Field(default="pending", index=True, max_length=16)
    error: str | None = None
    # Hash of what the tagger last saw (turn texts, survey comment, taxonomy version), so the
    # tag stage re-runs exactly when its inputs changed (a late survey, a re-transcription).
    tagged_hash: str | None = Field(default=None, max_length=64)
    transcribed_at: datetime | None = Field(default=None, sa_type=NAIVE)
    duration_seconds: float | None = None


class Turn(SQLModel, table=True):
    """One speaker turn of a call's transcript, in time order."""

    __table_args__ = (UniqueConstraint("call_id", "index"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    index: int
    speaker: str = Field(default="unknown", max_length=16)
    start: float
    end: float
    text: str
    confidence: float | None = None


class TurnOriginal(SQLModel, table=True):
    """The unredacted text of a turn, kept only in ``redacted+original`` mode.

    Separate from ``Turn`` so that nothing that lists or shows turns can reach it by accident;
    on PostgreSQL, grant it to the privileged role only.
    """

    turn_id: int = Field(foreign_key="turn.id", primary_key=True, ondelete="CASCADE")
    text: str
    spans: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))


class CallMetrics(SQLModel, table=True):
    """Conversation metrics computed from the two channels' timings (one row per call)."""

    call_id: int = Field(foreign_key="call.id", primary_key=True, ondelete="CASCADE")
    agent_talk_seconds: float = 0.0
    customer_talk_seconds: float = 0.0
    silence_seconds: float = 0.0
    longest_silence_seconds: float = 0.0
    overtalk_seconds: float = 0.0
    agent_wpm: float | None = None
    customer_wpm: float | None = None
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class Survey(SQLModel, table=True):
    """A post-contact survey answer, joined to its call by the call's external id.

    Joined on the external id rather than a foreign key so that a survey may arrive
    before its call.
    """

    id: int | None = Field(default=None, primary_key=True)
    call_external_id: str = Field(index=True, unique=True, max_length=128)
    submitted_at: datetime | None = Field(default=None, sa_type=NAIVE)
    csat: int | None = None
    nps: int | None = None
    ces: int | None = None
    fcr: bool | None = None
    comment: str = ""


class AgentState(SQLModel, table=True):
    """One interval of an agent's state from the WFM / ACD export (``agent_states.csv``).

    ``state`` is one of ``AGENT_STATES`` (export names mapped on ingest).
    An agent's intervals never overlap (ingest rejects that agent's rows otherwise).
    """

    __table_args__ = (UniqueConstraint("agent_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    agent_id: str = Field(index=True, max_length=128)
    state: str = Field(max_length=16)
    started_at: datetime = Field(index=True, sa_type=NAIVE)
    ended_at: datetime = Field(sa_type=NAIVE)


class ScheduleBlock(SQLModel, table=True):
    """One scheduled activity of an agent (``schedule.csv``): what they should be doing."""

    __table_args__ = (UniqueConstraint("agent_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    agent_id: str = Field(index=True, max_length=128)
    activity: str = Field(max_length=16)
    started_at: datetime = Field(index=True, sa_type=NAIVE)
    ended_at: datetime = Field(sa_type=NAIVE)


class CostEntry(SQLModel, table=True):
    """An operating cost: ``basis`` ``period`` (``costs.csv``: ``amount`` spent over
    ``[period_start, period_end)``) or ``agent_hour`` (``--cost-per-agent-hour``: ``amount``
    per paid agent hour, no period; one such row, replaced when given again)."""

    __table_args__ = (UniqueConstraint("basis", "period_start", "period_end"),)

    id: int | None = Field(default=None, primary_key=True)
    basis: str = Field(default="period", max_length=16)
    period_start: datetime | None = Field(default=None, sa_type=NAIVE)
    period_end: datetime | None = Field(default=None, sa_type=NAIVE)
    amount: float
    currency: str = Field(default="", max_length=8)


class Tag(SQLModel, table=True):
    """A machine tag hit on a call, with its evidence.

    Hits (method ``rule`` / ``model``) are replaced whenever the tagger re-runs; reviewers'
    judgments of them are :class:`Decision` rows, which the tagger never touches. ``rule``
    names the taxonomy pattern that matched (``re-explain#3``), so each pattern's precision
    can be measured from decisions. (Databases from before decisions had their own table
    kept them here with method ``human``; ``qa.store.upgrade`` moves those rows.)
    """

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    tag: str = Field(index=True, max_length=64)
    source: str = Field(default="transcript", max_length=16)
    turn_index: int | None = None
    span_start: int | None = None
    span_end: int | None = None
    evidence: str = ""
    method: str = Field(default="rule", max_length=16)
    score: float = 1.0
    present: bool = True
    reviewer: str | None = Field(default=None, max_length=128)
    rule: str | None = Field(default=None, max_length=96)
    # A model hit's cut-off (its score cleared it): the queue ranks by score - cutoff.
    cutoff: float | None = None
    created_at: datetime = Field(default_factory=datetime.now, sa_type=NAIVE)


class Decision(SQLModel, table=True):
    """One reviewer's judgment of one tag on one call: appended, never updated or deleted.

    The scope is the whole call (``source`` None) or one piece of evidence (``source``,
    ``turn_index`` and the character span of a machine hit, as on :class:`Tag`). Which
    decision counts is decided when reading (``qa.store.effective``): per tag and scope,
    the latest decision by a lead (``role`` lead or admin, as the decider's role was then),
    else the latest. ``round_id`` marks answers given blind in a calibration round.
    """

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    tag: str = Field(index=True, max_length=64)
    present: bool
    reviewer: str = Field(max_length=128)
    role: str = Field(default="reviewer", max_length=16)
    source: str | None = Field(default=None, max_length=16)
    turn_index: int | None = None
    span_start: int | None = None
    span_end: int | None = None
    evidence: str = ""
    comment: str = ""
    origin: str = Field(default="ui", max_length=16)  # ui | import | theme | legacy
    round_id: int | None = Field(default=None, foreign_key="calibrationround.id", index=True)
    created_at: datetime = Field(default_factory=datetime.now, sa_type=NAIVE, index=True)


class CallTag(SQLModel, table=True):
    """A tag a call has once reviewers' decisions are applied (``qa.store.effective``).

    Derived, never edited: ``qa.store.calltags.refresh_call_tags`` rewrites a call's rows
    whenever its machine hits or decisions are written, so lists filter on effective tags in
    SQL. Indexed by call (the primary key) and by tag (``ix_calltag_tag_call``).
    """

    __table_args__ = (Index("ix_calltag_tag_call", "tag", "call_id"),)

    call_id: int = Field(foreign_key="call.id", primary_key=True, ondelete="CASCADE")
    tag: str = Field(primary_key=True, max_length=64)


class CalibrationRound(SQLModel, table=True):
    """A lead's set of calls that every reviewer answers blind (tags and scorecard), so
    their agreement can be measured (``qa agreement``)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    created_by: str = Field(max_length=128)
    call_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    scorecard_id: str | None = Field(default=None, max_length=64)
    closed: bool = False
    created_at: datetime = Field(default_factory=datetime.now, sa_type=NAIVE)


class QueueLease(SQLModel, table=True):
    """A call served to a reviewer by the review queue, not served to anyone else until
    ``expires_at`` (or until that reviewer takes the next call)."""

    call_id: int = Field(foreign_key="call.id", primary_key=True, ondelete="CASCADE")
    reviewer: str = Field(max_length=128, index=True)
    queue: str = Field(max_length=16)
    expires_at: datetime = Field(sa_type=NAIVE)


class CoachingPack(SQLModel, table=True):
    """A coach's named selection of calls for an agent (``qa.review.packs``).

    Hand-picked :class:`PackItem` rows, or a saved call-list filter (``filter_query``: the URL
    query string of a ``qa.store.callfilter.CallFilter``; "" for a hand-picked pack), or both.
    ``agent_id`` is the agent it is assigned to and ``due`` when (both optional).
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=128)
    note: str = ""
    created_by: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=datetime.now, sa_type=NAIVE)
    agent_id: str | None = Field(default=None, index=True, max_length=128)
    due: date | None = None
    filter_query: str = Field(default="", max_length=2000)
    archived: bool = False


class PackItem(SQLModel, table=True):
    """One call, or one piece of evidence in it, in a :class:`CoachingPack`, with a note.

    The evidence scope follows :class:`Decision`: ``source`` None is the whole call, else the
    comment or a transcript turn and the character span (``tag`` names the tag it shows).
    """

    id: int | None = Field(default=None, primary_key=True)
    pack_id: int = Field(foreign_key="coachingpack.id", index=True, ondelete="CASCADE")
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    tag: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=16)
    turn_index: int | None = None
    span_start: int | None = None
    span_end: int | None = None
    evidence: str = ""
    note: str = ""
    position: int = 0
    added_by: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=datetime.now, sa_type=NAIVE)


class Cluster(SQLModel, table=True):
    """A theme found by clustering comments and customer turns."""

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(default="", max_length=256)
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    examples: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    # Unit-length centroid of the theme's embeddings: new texts join the closest theme, and a
    # full re-cluster matches its themes to these so ids stay stable night to night.
    centroid: list[float] = Field(default_factory=list, sa_column=Column(JSON))
    model: str = Field(default="", max_length=128)
    promoted_tag: str | None = Field(default=None, max_length=64)
    size: int = 0
    created_at: datetime = Field(default_factory=datetime.now, sa_type=NAIVE)
    updated_at: datetime = Field(default_factory=datetime.now, sa_type=NAIVE)


class ThemeFit(SQLModel, table=True):
    """How one full re-cluster chose its number of themes: the criterion's curve (k ->
    eigenvalue or silhouette, ``classify.clustering``), the bounds and the k it kept. The
    Themes tab draws the newest one."""

    id: int | None = Field(default=None, primary_key=True)
    k: int
    chosen: bool = True  # False: k was given (--k), there is no curve
    criterion: str = Field(default="eigen-floor", max_length=32)
    min_k: int | None = None
    max_k: int | None = None
    texts: int = 0
    curve: list[list[float]] = Field(default_factory=list, sa_column=Column(JSON))
    model: str = Field(default="", max_length=128)
    created_at: datetime = Field(default_factory=datetime.now, sa_type=NAIVE)


class ThemeMember(SQLModel, table=True):
    """One text (a survey comment or a customer turn) and the theme it belongs to.

    ``cluster_id`` is None for texts no theme is close enough to (they wait for the next full
    re-cluster). Rebuilt by the theme stage; never edited by hand.
    """

    id: int | None = Field(default=None, primary_key=True)
    cluster_id: int | None = Field(default=None, foreign_key="cluster.id", index=True)
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    source: str = Field(default="comment", max_length=16)
    turn_index: int | None = None
    text: str = ""
    similarity: float = 0.0


class Review(SQLModel, table=True):
    """A QA reviewer's pass over a call: the scorecard's answers, its score and notes.

    Appended on every save, never updated: a reviewer's latest row for a call is their
    current review, the earlier ones its history. ``scorecard`` holds the answers by
    question id; ``scorecard_ref`` names the definition used (``default@v1#<digest>``, see
    ``qa.review.scorecard``); ``score`` is 0-100 (None: nothing scorable answered).
    """

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    reviewer: str = Field(default="", max_length=128)
    scorecard: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    notes: str = ""
    scorecard_ref: str | None = Field(default=None, max_length=128)
    score: float | None = None
    auto_failed: bool | None = None
    round_id: int | None = Field(default=None, foreign_key="calibrationround.id")
    created_at: datetime = Field(default_factory=datetime.now, sa_type=NAIVE)


class User(SQLModel, table=True):
    """Someone who may sign in to the review UI: a name, a role and an argon2 password hash.

    Users are never deleted, only disabled, so every decision keeps a name that resolves.
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=64)
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=256)
    disabled: bool = False
    created_at: datetime = Field(default_factory=datetime.now, sa_type=NAIVE)
    last_login_at: datetime | None = Field(default=None, sa_type=NAIVE)


class AudioRedaction(SQLModel, table=True):
    """Where a call's recording says something that was redacted from its transcript.

    Per speaker, the merged (start, end) seconds of redacted words, and the stereo channel
    of the agent at transcription time, so the UI can play a copy with those spans beeped.
    Rewritten with the transcript.
    """

    call_id: int = Field(foreign_key="call.id", primary_key=True, ondelete="CASCADE")
    agent_channel: str = Field(default="left", max_length=8)
    spans: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class Run(SQLModel, table=True):
    """Audit record of one pipeline run (``qa nightly``, ``qa demo``).

    ``status``: ``running``, then ``ok``, ``partial`` or ``failed``; or ``crashed`` when its
    process died and the next run to take the run lock found it still ``running``
    (``finished_at`` is then when that was noticed). ``params`` holds the run's ``pid`` and
    ``host``, so a crashed run can be traced to its process.
    """

    id: int | None = Field(default=None, primary_key=True)
    command: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    status: str = Field(default="running", max_length=16)
    started_at: datetime = Field(default_factory=datetime.now, sa_type=NAIVE)
    finished_at: datetime | None = Field(default=None, sa_type=NAIVE)


class RunLock(SQLModel, table=True):
    """Who holds the run lock on PostgreSQL (one row; see ``qa.store.lock``).

    The lock itself is an advisory lock that the server releases when its holder's connection
    ends; this row only names the holder, and is believed while ``backend_pid`` (the server
    process of that connection) is the one holding the advisory lock. SQLite keeps the same
    facts in the ``<database>.lock`` file instead.
    """

    name: str = Field(primary_key=True, max_length=32)
    pid: int
    host: str = Field(default="", max_length=256)
    started_at: datetime = Field(sa_type=NAIVE)
    backend_pid: int


class DataVersion(SQLModel, table=True):
    """How many writes a watched table has had (``qa.store.snapshots``).

    Bumped by database triggers on every insert, update and delete of that table, whoever
    writes (callqa, a migration, an admin's SQL), so a stored result can tell for certain
    whether anything it read has changed since it was computed.
    """

    source: str = Field(primary_key=True, max_length=64)
    version: int = Field(default=0, sa_type=BigInteger)


class Snapshot(SQLModel, table=True):
    """A stored result of a long computation over the whole database (``qa kpis``, the
    Insights tab), served while the watched tables' versions and callqa's code are those
    it was computed with (``qa.store.snapshots``). JSON only: nothing in it is executed."""

    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    key: str = Field(max_length=1024)
    versions: str = Field(default="", sa_type=Text)
    payload: str = Field(default="", sa_type=Text)
    computed_at: datetime = Field(default_factory=datetime.now, sa_type=NAIVE)
    seconds: float = 0.0


# Indexes for the call list's filters and sorts (qa.store.calllist); created on older
# databases by migration 0002 (qa.store.migrations).
Index("ix_call_started_id", Call.started_at, Call.id)
Index("ix_call_agent_started", Call.agent_id, Call.started_at)
Index("ix_call_agent_name", Call.agent_name, Call.agent_id)
Index("ix_call_team_started", Call.team, Call.started_at)
Index("ix_call_queue_started", Call.queue, Call.started_at)
Index("ix_survey_csat", Survey.csat)
Index("ix_survey_nps", Survey.nps)
Index("ix_survey_ces", Survey.ces)
Index("ix_review_call_created", Review.call_id, Review.created_at)
