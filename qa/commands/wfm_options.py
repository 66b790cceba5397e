"""The workforce options ``qa ingest`` and ``qa nightly`` share: column and state maps and a
cost per agent hour (``qa.ingest.wfm``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from qa.commands.options import fail

if TYPE_CHECKING:
    from qa.ingest.wfm import WfmOptions

WfmMapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--wfm-map",
        help="Map a column of agent_states.csv / schedule.csv / costs.csv: "
        "COLUMN=ExportColumn (repeatable).",
    ),
]
StateMapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--state-map",
        help="Map a WFM state or activity name: NAME=state, e.g. Ready=available, "
        "Lunch=break (repeatable). States: available, on_call, acw, hold, break, offline; "
        "activities: work, break, lunch, meeting, training.",
    ),
]
CostPerAgentHourOption = Annotated[
    float | None,
    typer.Option(
        "--cost-per-agent-hour",
        help="Cost of one paid agent hour, for cost per call when there is no costs.csv.",
    ),
]
CurrencyOption = Annotated[
    str, typer.Option("--currency", help="Currency of --cost-per-agent-hour (e.g. USD).")
]


def wfm_options(
    wfm_map: list[str] | None,
    state_map: list[str] | None,
    cost_per_agent_hour: float | None,
    currency: str,
) -> WfmOptions:
    """The options checked, or exit 1 with what is wrong and the valid choices."""
    from qa.ingest.csvfile import IngestError
    from qa.ingest.wfm import WfmOptions, parse_wfm_mapping
    from qa.ingest.wfm_records import CURRENCY, parse_state_map

    try:
        mapping = parse_wfm_mapping(wfm_map or [])
        names = parse_state_map(state_map or [])
    except (IngestError, ValueError) as exc:
        raise fail(str(exc)) from exc
    if cost_per_agent_hour is not None and not 0 < cost_per_agent_hour < float("inf"):
        raise fail(f"--cost-per-agent-hour {cost_per_agent_hour}: must be a number > 0")
    if currency and not CURRENCY.match(currency):
        raise fail(f"--currency {currency!r}: expected a currency code such as USD or EUR")
    return WfmOptions(mapping, names, cost_per_agent_hour, currency.upper())
