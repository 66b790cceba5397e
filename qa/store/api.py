"""The store for callers that hold only an engine (the review UI): every function here opens
one transaction of its own, committed when it returns and rolled back when it raises.

The named functions are the store's reads (``qa.store.reads``, ``qa.store.themes``) and
writes (``qa.store.writes``) the UI uses. ``transact`` runs any other session-taking qa
function the same way (``qa.auth``, ``qa.review.playback``, ``qa.stages.theme_review``,
``qa.report.insights.resolve_call_ref``: packages above the store, which it may not import).
So the UI never opens a session or builds a select, and imports neither sqlmodel, sqlalchemy,
``qa.store.engine`` nor ``qa.store.schema``; ``Engine`` is re-exported for its type hints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from qa.store import calllist, reads, textsearch, themes, writes
from qa.store.callfilter import SORTS, CallFilter
from qa.store.calllist import CallListRow, CallPage
from qa.store.engine import session_scope
from qa.store.textsearch import SearchMatch, matched_terms

__all__ = [
    "SORTS",
    "CallFilter",
    "CallListRow",
    "CallPage",
    "Engine",
    "SearchMatch",
    "add_review",
    "call_detail",
    "latest_k_choice",
    "list_agents",
    "list_calls_page",
    "list_tag_names",
    "live_themes",
    "matched_terms",
    "record_tag_decision",
    "search_matches",
    "theme_members",
    "transact",
]

T = TypeVar("T")


def transact(engine: Engine, work: Callable[..., T], /, **arguments: Any) -> T:
    """``work(session=..., **arguments)`` in a transaction of its own; returns its result."""
    with session_scope(engine) as session:
        return work(session=session, **arguments)


def list_calls_page(engine: Engine, flt: CallFilter) -> CallPage:
    """``qa.store.calllist.list_calls_page``: one page of the calls ``flt`` matches, sorted,
    with the total count (the call list's one query, shared with ``qa calls list``)."""
    return transact(engine, calllist.list_calls_page, flt=flt)


def search_matches(engine: Engine, call_id: int, search: str) -> tuple[SearchMatch, ...]:
    """``qa.store.textsearch.search_matches``: the turns and comment of a call that a list
    search matched, with the character spans to highlight."""
    return transact(engine, textsearch.search_matches, call_id=call_id, search=search)


def call_detail(engine: Engine, call_id: int, *, blind_for: str | None = None) -> reads.CallDetail:
    """``qa.store.reads.call_detail``; raises ``CallNotFound``."""
    return transact(engine, reads.call_detail, call_id=call_id, blind_for=blind_for)


def list_agents(engine: Engine) -> list[reads.AgentRow]:
    """``qa.store.reads.list_agents``: agents with calls, by name."""
    return transact(engine, reads.list_agents)


def list_tag_names(engine: Engine) -> list[str]:
    """``qa.store.reads.list_tag_names``: every tag name stored on a call, sorted."""
    return transact(engine, reads.list_tag_names)


def record_tag_decision(
    engine: Engine,
    *,
    call_id: int,
    tag: str,
    present: bool,
    reviewer: str,
    role: str = "reviewer",
    evidence: writes.Evidence | None = None,
    comment: str = "",
    round_id: int | None = None,
) -> None:
    """``qa.store.writes.record_tag_decision``, committed; raises ``CallNotFound`` or
    ValueError (an empty or too long tag name, a bad evidence source)."""
    transact(engine, writes.record_tag_decision, call_id=call_id, tag=tag, present=present,
             reviewer=reviewer, role=role, evidence=evidence, comment=comment,
             round_id=round_id)  # fmt: skip


def add_review(
    engine: Engine, *, call_id: int, reviewer: str, scorecard: dict[str, Any], notes: str
) -> None:
    """``qa.store.writes.add_review``, committed; raises ``CallNotFound``."""
    transact(engine, writes.add_review, call_id=call_id, reviewer=reviewer,
             scorecard=scorecard, notes=notes)  # fmt: skip


def live_themes(engine: Engine) -> list[themes.ThemeView]:
    """``qa.store.themes.live_themes``: themes with members, largest first."""
    return transact(engine, themes.live_themes)


def latest_k_choice(engine: Engine) -> themes.KChoice | None:
    """``qa.store.themes.latest_k_choice``: how the newest re-cluster chose k."""
    return transact(engine, themes.latest_k_choice)


def theme_members(engine: Engine, cluster_id: int, limit: int) -> themes.ThemeMembers:
    """``qa.store.themes.theme_members``: a theme's closest member texts and their count."""
    return transact(engine, themes.theme_members, cluster_id=cluster_id, limit=limit)
