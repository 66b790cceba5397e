"""The Review tab's call list: every filter of ``qa calls list``, pages, a count, the URL.

``call_list_layout()`` places the filter rows, the table and the pager and returns them as a
``CallListUI``; ``review_ui.review`` wires the events. The list is the same query as ``qa
calls list`` (``qa.store.calllist`` through ``qa.store.api.list_calls_page``): everything
in SQL, a total count, server-side pages (no silent cap). The whole filter state is kept in
the page's URL (``?agent=A02&tag=re-explain&since=...&p=3``, ``CallFilter.to_query``), so a
copied link reopens the same list (the page is ``p=3``: Gradio keeps ``page=``);
``?call=ID`` beside it names the open call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import gradio as gr
import pandas as pd

from qa.store import api as store
from qa.store.callfilter import SORTS, CallFilter
from review_ui.exports import ExportFolder
from review_ui.render import fmt_time

TABLE_COLUMNS = ["id", "call", "started", "agent", "team", "queue", "handle", "CSAT", "NPS",
                 "tags", "reviewed", "score", "matched"]  # fmt: skip
# Fixed widths: left to itself the grid squeezed the short columns' headers a letter a line.
WIDTHS = ["5%", "8%", "11%", "10%", "8%", "8%", "6%", "5%", "5%", "20%", "5%", "4%", "5%"]
ANY = ""
FLAG_CHOICES = [("any", ANY), ("yes", "yes"), ("no", "no")]
SCORE_CHOICES = [("any", ANY)] + [(str(n), str(n)) for n in range(1, 6)]
PERIODS = ("any time", "today", "this week", "this month", "last month", "last 7 days",
           "last 30 days")  # fmt: skip
PAGE_SIZE = 50

# Runs in the browser after each list refresh: the filter state (and the open call) into
# the address bar, without reloading, so the link can be copied and shared.
URL_JS = """(query) => {
  const url = new URL(window.location.href);
  const call = url.searchParams.get('call');
  const next = new URLSearchParams(query || '');
  if (call) next.set('call', call);
  const text = next.toString();
  window.history.replaceState(null, '', url.pathname + (text ? '?' + text : ''));
  return [];
}"""
CALL_URL_JS = """(cid) => {
  const url = new URL(window.location.href);
  if (cid !== null && cid !== undefined && cid !== '') url.searchParams.set('call', String(cid));
  window.history.replaceState(null, '', url.pathname + '?' + url.searchParams.toString());
  return [];
}"""


@dataclass
class CallListUI:
    """The call list's components; ``inputs`` in the order :func:`filter_from_inputs` reads."""

    search: Any
    period: Any
    since: Any
    until: Any
    agent: Any
    team: Any
    queue: Any
    tags_any: Any
    tags_all: Any
    tags_none: Any
    csat_min: Any
    csat_max: Any
    reviewed: Any
    transferred: Any
    fcr: Any
    sort: Any
    order: Any
    page: Any
    prev_btn: Any
    next_btn: Any
    count: Any
    table: Any
    query: Any
    download_btn: Any
    download: Any
    extra: Any

    @property
    def inputs(self) -> list[Any]:
        """The components a list refresh reads, in :data:`INPUT_FIELDS` order."""
        return [getattr(self, name) for name in INPUT_FIELDS]


INPUT_FIELDS = ("search", "since", "until", "agent", "team", "queue", "tags_any", "tags_all",
                "tags_none", "csat_min", "csat_max", "reviewed", "transferred", "fcr", "sort",
                "order", "extra", "page")  # fmt: skip
# Filters a link may carry that have no input here (``CallFilter`` fields): kept in the hidden
# ``extra`` box as a query string, so a shared link's list is not silently widened.
EXTRA_FIELDS = ("nps_min", "nps_max", "ces_min", "ces_max", "score_min", "score_max")


def period_bounds(period: str, today: date | None = None) -> tuple[str, str]:
    """(since, until) ISO dates of a named period (until exclusive); blanks for any time."""
    today = today or date.today()
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    prev_month = (first - timedelta(days=1)).replace(day=1)
    spans = {
        "today": (today, today + timedelta(days=1)),
        "this week": (monday, monday + timedelta(days=7)),
        "this month": (first, next_month),
        "last month": (prev_month, first),
        "last 7 days": (today - timedelta(days=6), today + timedelta(days=1)),
        "last 30 days": (today - timedelta(days=29), today + timedelta(days=1)),
    }
    if period not in spans:
        return "", ""
    start, end = spans[period]
    return start.isoformat(), end.isoformat()


def _int(value: Any) -> int | None:
    if value in (None, "", ANY) or (isinstance(value, float) and value != value):
        return None
    return int(float(value))


def _flag(value: Any) -> bool | None:
    return {"yes": True, "no": False}.get(str(value or "").strip().lower())


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    return tuple(str(v) for v in value or () if str(v).strip())


def filter_from_inputs(values: Mapping[str, Any]) -> CallFilter:
    """The ``CallFilter`` the list's inputs describe; ValueError says which one is wrong."""
    from qa.store.callfilter import parse_bound

    until_text = str(values.get("until") or "").strip()
    extra = CallFilter.from_query(dict(parse_qsl(str(values.get("extra") or ""))))
    return CallFilter(
        **{name: getattr(extra, name) for name in EXTRA_FIELDS},
        since=parse_bound(str(values.get("since") or "").strip() or None),
        until=parse_bound(until_text or None, end=len(until_text) == 10),
        agent=values.get("agent") or None,
        team=values.get("team") or None,
        queue=values.get("queue") or None,
        tags_any=_tags(values.get("tags_any")),
        tags_all=_tags(values.get("tags_all")),
        tags_none=_tags(values.get("tags_none")),
        csat_min=_int(values.get("csat_min")),
        csat_max=_int(values.get("csat_max")),
        reviewed=_flag(values.get("reviewed")),
        transferred=_flag(values.get("transferred")),
        fcr=_flag(values.get("fcr")),
        search=str(values.get("search") or ""),
        sort=str(values.get("sort") or "started_at"),
        desc=str(values.get("order") or "desc") != "asc",
        page=max(1, _int(values.get("page")) or 1),
        page_size=PAGE_SIZE,
    )


def _until_text(flt: CallFilter) -> str:
    """``until`` as typed: a midnight bound shows as the day before (the last day listed)."""
    if flt.until is None:
        return ""
    if flt.until.time() == flt.until.min.time():
        return (flt.until.date() - timedelta(days=1)).isoformat()
    return flt.until.isoformat(timespec="minutes")


def inputs_from_filter(flt: CallFilter) -> dict[str, Any]:
    """The inverse of :func:`filter_from_inputs`: each input's value for ``flt``."""

    def flag(value: bool | None) -> str:
        return ANY if value is None else ("yes" if value else "no")

    return {
        "search": flt.search,
        "since": flt.since.date().isoformat() if flt.since else "",
        "until": _until_text(flt),
        "agent": flt.agent or ANY,
        "team": flt.team or ANY,
        "queue": flt.queue or ANY,
        "tags_any": list(flt.tags_any),
        "tags_all": list(flt.tags_all),
        "tags_none": list(flt.tags_none),
        "csat_min": ANY if flt.csat_min is None else str(flt.csat_min),
        "csat_max": ANY if flt.csat_max is None else str(flt.csat_max),
        "reviewed": flag(flt.reviewed),
        "transferred": flag(flt.transferred),
        "fcr": flag(flt.fcr),
        "sort": flt.sort,
        "order": "desc" if flt.desc else "asc",
        "extra": urlencode({k: v for k, v in flt.to_query().items() if k in EXTRA_FIELDS}),
        "page": flt.page,
    }


def calls_table(page: store.CallPage) -> pd.DataFrame:
    """The table of one page of calls."""
    data = [
        [
            r.id,
            r.external_id,
            r.started_at.strftime("%Y-%m-%d %H:%M"),
            r.agent_name or r.agent_id,
            r.team,
            r.queue,
            fmt_time(round(r.handle_seconds or 0)),
            "" if r.csat is None else str(r.csat),
            "" if r.nps is None else str(r.nps),
            ", ".join(r.tags),
            "✓" if r.reviewed else "",
            "" if r.score is None else f"{r.score:.0f}",
            ", ".join(r.matched),
        ]
        for r in page.rows
    ]
    return pd.DataFrame(data, columns=TABLE_COLUMNS)


def count_line(page: store.CallPage) -> str:
    """``Calls 101-150 of 3,000 · page 3 of 60`` (or that none match)."""
    if page.total == 0:
        return "**No calls** match these filters."
    extra = {k: v for k, v in page.filter.to_query().items() if k in EXTRA_FIELDS}
    also = f" · also filtered by the link: {urlencode(extra)}" if extra else ""
    return (
        f"Calls **{page.first:,} to {page.last:,}** of **{page.total:,}** · "
        f"page {page.filter.page} of {page.pages:,}{also}"
    )


def list_page(engine: store.Engine, values: Mapping[str, Any]) -> tuple[Any, ...]:
    """(table, count line, page number, URL query) for the inputs' filter; a bad filter
    value leaves the table and says what is wrong."""
    try:
        flt = filter_from_inputs(values)
        page = store.list_calls_page(engine, flt)
        if page.total and flt.page > page.pages:  # past the end (filters narrowed): last page
            flt = flt.with_(page=page.pages)
            page = store.list_calls_page(engine, flt)
    except ValueError as exc:
        return gr.update(), f"**Filter not applied:** {exc}", gr.update(), gr.update()
    return calls_table(page), count_line(page), flt.page, urlencode(flt.to_query())


def _dd(label: str, elem_id: str, choices: list[Any], value: Any = ANY, **kw: Any) -> Any:
    return gr.Dropdown(choices, value=value, label=label, elem_id=elem_id,
                       allow_custom_value=True, **kw)  # fmt: skip


def call_list_layout(tag_names: list[str]) -> CallListUI:
    """Place the filter rows, the table and the pager (inside the Review tab)."""
    tags = [(n, n) for n in tag_names]
    sorts = [(s.replace("_", " "), s) for s in SORTS]
    narrow: dict[str, Any] = {"min_width": 110}
    with gr.Row(equal_height=True):
        search = gr.Textbox(label="Search transcripts and comments",
                            placeholder='words or "a phrase"', elem_id="filter-search",
                            scale=3)  # fmt: skip
        period = _dd("Period", "filter-period", [(p, p) for p in PERIODS], "any time",
                     min_width=130)  # fmt: skip
        since = gr.Textbox(label="Since (date)", placeholder="YYYY-MM-DD",
                           elem_id="filter-since", min_width=120)  # fmt: skip
        until = gr.Textbox(label="Until (date, inclusive)", placeholder="YYYY-MM-DD",
                           elem_id="filter-until", min_width=120)  # fmt: skip
        agent = _dd("Agent", "filter-agent", [("All agents", ANY)], min_width=160)
        team = _dd("Team", "filter-team", [("All teams", ANY)], **narrow)
        queue = _dd("Queue", "filter-queue", [("All queues", ANY)], **narrow)
    with gr.Row(equal_height=True):
        tags_any = _dd("Any of these tags", "filter-tag", tags, [], multiselect=True,
                       min_width=160)  # fmt: skip
        tags_all = _dd("All of these tags", "filter-all-tags", tags, [], multiselect=True,
                       min_width=160)  # fmt: skip
        tags_none = _dd("None of these tags", "filter-not-tag", tags, [], multiselect=True,
                        min_width=160)  # fmt: skip
        csat_min = _dd("CSAT min", "filter-csat-min", SCORE_CHOICES, min_width=90)
        csat_max = _dd("CSAT max", "filter-csat-max", SCORE_CHOICES, min_width=90)
        reviewed = _dd("Reviewed", "filter-reviewed", FLAG_CHOICES, min_width=90)
        transferred = _dd("Transferred", "filter-transferred", FLAG_CHOICES, min_width=90)
        fcr = _dd("FCR", "filter-fcr", FLAG_CHOICES, min_width=80)
        sort = _dd("Sort by", "filter-sort", sorts, "started_at", min_width=110)
        order = _dd("Order", "filter-order", [("newest / highest first", "desc"),
                                              ("oldest / lowest first", "asc")], "desc",
                    min_width=120)  # fmt: skip
    table = gr.Dataframe(headers=TABLE_COLUMNS, interactive=False, max_height=340, wrap=True,
                         label="Calls — select a row to open it", column_widths=WIDTHS,
                         elem_id="calls-table")  # fmt: skip
    with gr.Row(equal_height=True):
        count = gr.Markdown("", elem_id="calls-count")
        prev_btn = gr.Button("◀ Previous", elem_id="calls-prev", scale=0, min_width=110)
        page = gr.Number(value=1, precision=0, minimum=1, label="Page", elem_id="calls-page",
                         scale=0, min_width=90)  # fmt: skip
        next_btn = gr.Button("Next ▶", elem_id="calls-next", scale=0, min_width=110)
        download_btn = gr.Button("Download list (CSV)", elem_id="calls-download", scale=0,
                                 min_width=150)  # fmt: skip
    download = gr.File(label="The list as CSV (header, tags, links)", interactive=False,
                       visible=False, height=80, elem_id="calls-file")  # fmt: skip
    query = gr.Textbox(visible=False, elem_id="calls-query")
    extra = gr.Textbox(visible=False, elem_id="calls-extra")
    return CallListUI(search, period, since, until, agent, team, queue, tags_any, tags_all,
                      tags_none, csat_min, csat_max, reviewed, transferred, fcr, sort, order,
                      page, prev_btn, next_btn, count, table, query, download_btn,
                      download, extra)  # fmt: skip


def filter_choices(engine: store.Engine, tag_names: list[str]) -> dict[str, list[Any]]:
    """The dropdowns' choices: agents (with call counts), teams, queues, every tag."""
    from qa.store.reads import list_teams_and_queues

    agents = [("All agents", ANY)] + [
        (f"{a.agent_name or a.agent_id} ({a.calls})", a.agent_id) for a in store.list_agents(engine)
    ]
    teams, queues = store.transact(engine, list_teams_and_queues)
    names = sorted(set(tag_names) | set(store.list_tag_names(engine)))
    return {
        "agent": agents,
        "team": [("All teams", ANY)] + [(t, t) for t in teams],
        "queue": [("All queues", ANY)] + [(q, q) for q in queues],
        "tags": [(n, n) for n in names],
    }


MAX_EXPORT_ROWS = 100_000


def export_list(
    engine: store.Engine, values: Mapping[str, Any], ui_url: str, folder: ExportFolder
) -> tuple[Any, str]:
    """Every call of the list (all pages, up to :data:`MAX_EXPORT_ROWS`, said when reached)
    as a CSV file with a header and each call's link: (file update, status)."""
    from qa.store.callexport import write_calls
    from qa.store.calllist import iter_calls

    try:
        flt = filter_from_inputs(values)
    except ValueError as exc:
        return gr.update(visible=False), f"**Not exported:** {exc}"
    path = folder.path("calls.csv")

    def write(session: Any) -> tuple[int, bool]:
        rows = list(iter_calls(session=session, flt=flt, limit=MAX_EXPORT_ROWS + 1))
        with path.open("w", encoding="utf-8", newline="") as handle:
            count = write_calls(rows[:MAX_EXPORT_ROWS], handle, "csv", ui_url)
        return count, len(rows) > MAX_EXPORT_ROWS

    count, more = store.transact(engine, write)
    capped = f" (the first {MAX_EXPORT_ROWS:,}: narrow the filters for the rest)" if more else ""
    return gr.update(value=folder.seal(path), visible=True), f"Exported {count:,} calls{capped}."
