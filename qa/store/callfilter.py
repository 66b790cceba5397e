"""``CallFilter``: what a call list shows (filters, sort, page), and its URL query form.

One value for the review UI's call list (whose URL carries the whole filter state) and for
``qa calls list``; ``qa.store.calllist`` turns it into SQL. ``to_query()`` and
``CallFilter.from_query(params)`` round-trip: ``from_query(f.to_query()) == f``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

SORTS = (
    "started_at", "external_id", "agent", "team", "queue", "handle",
    "csat", "nps", "ces", "fcr", "transferred", "reviewed", "score",
)  # fmt: skip
"""Columns a list can be sorted by (``sort=``)."""
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
ORDERS = ("desc", "asc")
_TRUE = ("yes", "true", "1", "y", "on")
_FALSE = ("no", "false", "0", "n", "off")

_TAG_FIELDS = ("tags_any", "tags_all", "tags_none")
_INT_FIELDS = ("csat_min", "csat_max", "nps_min", "nps_max", "ces_min", "ces_max", "page",
               "page_size")  # fmt: skip
_FLOAT_FIELDS = ("score_min", "score_max")
_BOOL_FIELDS = ("fcr", "transferred", "reviewed")
_DATE_FIELDS = ("since", "until")

# URL parameter -> field (the short names are what people type in a URL). The page is ``p``:
# Gradio routes ``?page=`` to one of its own pages.
PARAMS = {
    "since": "since", "until": "until", "team": "team", "queue": "queue", "agent": "agent",
    "tag": "tags_any", "all_tags": "tags_all", "not_tag": "tags_none",
    "csat_min": "csat_min", "csat_max": "csat_max", "nps_min": "nps_min", "nps_max": "nps_max",
    "ces_min": "ces_min", "ces_max": "ces_max", "fcr": "fcr", "transferred": "transferred",
    "reviewed": "reviewed", "score_min": "score_min", "score_max": "score_max", "q": "search",
    "sort": "sort", "order": "desc", "p": "page", "page_size": "page_size",
}  # fmt: skip
_FIELD_PARAMS = {f: p for p, f in PARAMS.items()}


def parse_bound(value: str | date | datetime | None, *, end: bool = False) -> datetime | None:
    """A date or ISO date-time; a bare date as an ``end`` bound means through that day (the
    next midnight, exclusive). ValueError names the accepted forms."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        day = datetime(value.year, value.month, value.day)
        return day + timedelta(days=1) if end else day
    text = value.strip()
    try:
        if len(text) == 10:
            return parse_bound(date.fromisoformat(text), end=end)
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]"
        ) from None


def parse_flag(name: str, value: str | bool | None) -> bool | None:
    """yes/no (true/false, 1/0); blank or ``any`` is None."""
    if value is None or isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text in ("", "any"):
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{name}={value!r}: use yes or no (or leave it out)")


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    names = (str(v).strip() for v in value or ())
    return tuple(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class CallFilter:
    """Which calls a list shows and in what order. Every field is optional.

    ``since`` is inclusive and ``until`` exclusive (``parse_bound`` turns a bare end date into
    the next midnight). ``agent`` matches an agent id or name. Tags are effective tags
    (``qa.store.effective``): ``tags_any`` at least one, ``tags_all`` every one, ``tags_none``
    none of them. Score bounds are inclusive; ``score`` is the latest scorecard review's
    0-100 score. ``search``: words and "quoted phrases" in a transcript turn or the survey
    comment (``qa.store.textsearch``). ``page`` counts from 1.
    """

    since: datetime | None = None
    until: datetime | None = None
    team: str | None = None
    queue: str | None = None
    agent: str | None = None
    tags_any: tuple[str, ...] = ()
    tags_all: tuple[str, ...] = ()
    tags_none: tuple[str, ...] = ()
    csat_min: int | None = None
    csat_max: int | None = None
    nps_min: int | None = None
    nps_max: int | None = None
    ces_min: int | None = None
    ces_max: int | None = None
    fcr: bool | None = None
    transferred: bool | None = None
    reviewed: bool | None = None
    score_min: float | None = None
    score_max: float | None = None
    search: str = ""
    sort: str = "started_at"
    desc: bool = True
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def __post_init__(self) -> None:
        for name in _TAG_FIELDS:
            object.__setattr__(self, name, _tags(getattr(self, name)))
        for name in ("team", "queue", "agent"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value or "").strip() or None)
        object.__setattr__(self, "search", (self.search or "").strip())
        if self.sort not in SORTS:
            raise ValueError(f"sort {self.sort!r} is not one of: {', '.join(SORTS)}")
        if self.page < 1:
            raise ValueError(f"page must be 1 or more, got {self.page}")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1 to {MAX_PAGE_SIZE}, got {self.page_size}")

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.page - 1) * self.page_size

    def with_(self, **changes: Any) -> CallFilter:
        """A copy with ``changes`` (``flt.with_(page=2)``)."""
        return replace(self, **changes)

    def to_query(self) -> dict[str, str]:
        """URL query parameters for every field that differs from the default."""
        default = CallFilter()
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            out[_FIELD_PARAMS[f.name]] = _format(f.name, value)
        return out

    @classmethod
    def from_query(
        cls, params: Mapping[str, str | Sequence[str]], *, strict: bool = False
    ) -> CallFilter:
        """The filter a URL's query parameters describe. Parameters it does not know (the
        UI's ``call=``) are ignored, or a ValueError listing the known ones when ``strict``;
        a bad value is a ValueError saying what is accepted."""
        values: dict[str, Any] = {}
        for key, raw in params.items():
            name = PARAMS.get(key)
            if name is None:
                if strict:
                    raise ValueError(f"unknown parameter {key!r}; known: {', '.join(PARAMS)}")
                continue
            value = _parse(key, name, raw)
            if value not in (None, "", ()):
                values[name] = value
        return cls(**values)


def _format(name: str, value: Any) -> str:
    if name in _TAG_FIELDS:
        return ",".join(value)
    if name == "desc":
        return "desc" if value else "asc"
    if name in _BOOL_FIELDS:
        return "yes" if value else "no"
    if name in _DATE_FIELDS:
        return value.isoformat(timespec="seconds")
    return str(value)


def _parse(key: str, name: str, raw: str | Sequence[str]) -> Any:
    if name in _TAG_FIELDS:
        items = [raw] if isinstance(raw, str) else list(raw)
        return tuple(t for item in items for t in _tags(item))
    value = raw if isinstance(raw, str) else (list(raw) or [""])[-1]
    if name in _DATE_FIELDS:
        return parse_bound(value, end=name == "until")
    if name in _BOOL_FIELDS:
        return parse_flag(key, value)
    if name == "desc":
        if value.strip().lower() not in ORDERS:
            raise ValueError(f"order={value!r}: use one of {', '.join(ORDERS)}")
        return value.strip().lower() == "desc"
    try:
        if name in _INT_FIELDS:
            return int(value) if value.strip() else None
        if name in _FLOAT_FIELDS:
            return float(value) if value.strip() else None
    except ValueError:
        kind = "a whole number" if name in _INT_FIELDS else "a number"
        raise ValueError(f"{key}={value!r}: expected {kind}") from None
    return value


def call_url(ui_url: str, external_id: str) -> str:
    """A call's page in the review UI: ``<ui_url>/?call=<external id>`` (the id URL-encoded),
    or the relative ``?call=<id>`` when ``ui_url`` is empty (a link inside the UI itself).
    The one place every deep link to a call is made."""
    ref = quote(external_id, safe="")
    return f"{ui_url.rstrip('/')}/?call={ref}" if ui_url else f"?call={ref}"


def pack_url(ui_url: str, pack_id: int) -> str:
    """A coaching pack's page in the review UI (``<ui_url>/?pack=<id>``; relative when
    ``ui_url`` is empty)."""
    return f"{ui_url.rstrip('/')}/?pack={pack_id}" if ui_url else f"?pack={pack_id}"
