"""Row validation: types, ranges, booleans, timestamps, recording paths."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from qa.config import Settings
from qa.ingest.records import (
    RowError,
    parse_bool,
    parse_call,
    parse_score,
    parse_survey,
    parse_timestamp,
)


def call_row(**values: str) -> dict[str, str]:
    row = {"call_id": "C1", "started_at": "2026-11-02T09:00:00", "agent_id": "A1",
           "customer_id": "K1", "wait_seconds": "12", "talk_seconds": "300",
           "abandoned": "no", "transferred": "yes", "recording": ""}  # fmt: skip
    row.update(values)
    return row


@pytest.mark.parametrize(
    ("text", "expected"),
    [("yes", True), ("No", False), ("TRUE", True), ("false", False), ("1", True), ("0", False),
     (" y ", True), ("", False)],
)  # fmt: skip
def test_parse_bool_accepts_the_documented_words(text: str, expected: bool) -> None:
    assert parse_bool(text, "abandoned") is expected


def test_parse_bool_rejects_other_words_with_the_choices() -> None:
    with pytest.raises(RowError, match=r"abandoned: 'maybe' is not a yes/no value \(use yes/no"):
        parse_bool("maybe", "abandoned")


def test_timestamps_with_offsets_become_utc() -> None:
    assert parse_timestamp("2026-11-02T10:00:00+01:00", "started_at") == datetime(2026, 11, 2, 9)
    assert parse_timestamp("2026-11-02T10:00:00Z", "started_at") == datetime(2026, 11, 2, 10)
    with pytest.raises(RowError, match="started_at: '02/11/2026' is not an ISO 8601 timestamp"):
        parse_timestamp("02/11/2026", "started_at")


@pytest.mark.parametrize(
    ("field", "bad"),
    [("csat", "6"), ("csat", "0"), ("nps", "11"), ("nps", "-1"), ("ces", "8"), ("csat", "4.5")],
)
def test_scores_out_of_range_are_rejected(field: str, bad: str) -> None:
    with pytest.raises(RowError, match=f"{field}: '{bad}' is out of range"):
        parse_score(bad, field)


def test_scores_blank_and_integral_floats() -> None:
    assert parse_score("", "nps") is None
    assert parse_score("4.0", "csat") == 4
    assert parse_score("0", "nps") == 0
    with pytest.raises(RowError, match="csat: 'great' is not a number"):
        parse_score("great", "csat")


def test_parse_call_defaults_and_types(tmp_path: Path) -> None:
    record = parse_call(call_row(), base_dir=tmp_path)
    assert record.transferred is True and record.abandoned is False
    assert record.hold_seconds == 0.0 and record.direction == "inbound"
    assert record.recording is None


@pytest.mark.parametrize(
    ("values", "message"),
    [({"call_id": " "}, "call_id: required value is blank"),
     ({"wait_seconds": "-3"}, "wait_seconds: '-3' must be a finite number >= 0"),
     ({"talk_seconds": "abc"}, "talk_seconds: 'abc' is not a number of seconds"),
     ({"direction": "sideways"}, "direction: 'sideways' is not one of"),
     ({"recording": "rec/missing.wav"}, "recording: file not found: rec/missing.wav")],
)  # fmt: skip
def test_parse_call_errors_name_field_and_reason(
    tmp_path: Path, values: dict[str, str], message: str
) -> None:
    with pytest.raises(RowError, match=message):
        parse_call(call_row(**values), base_dir=tmp_path)


def test_parse_call_resolves_recording_against_csv_folder(tmp_path: Path) -> None:
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "a.wav").write_bytes(b"RIFF")
    record = parse_call(call_row(recording="rec/a.wav"), base_dir=tmp_path)
    assert record.recording == (tmp_path / "rec" / "a.wav").resolve()


def test_parse_survey_blank_scores_and_fcr() -> None:
    record = parse_survey({"call_id": "C1", "csat": "5", "nps": "", "ces": "2", "fcr": "",
                           "comment": "  fine  "})  # fmt: skip
    assert (record.csat, record.nps, record.ces, record.fcr) == (5, None, 2, None)
    assert record.comment == "fine" and record.submitted_at is None


def test_settings_from_env_and_overrides() -> None:
    env = {"QA_REPEAT_WINDOW_HOURS": "24", "QA_AGENT_CHANNEL": "right"}
    settings = Settings.from_env(env, agent_channel=None, asr_model="base")
    assert (settings.window_hours, settings.agent_channel, settings.asr_model) == (
        24,
        "right",
        "base",
    )
    with pytest.raises(ValueError, match=r"agent channel 'middle' is not valid; choose one of"):
        Settings.from_env({}, agent_channel="middle")
    with pytest.raises(ValueError, match="QA_REPEAT_WINDOW_HOURS='soon' is not a valid float"):
        Settings.from_env({"QA_REPEAT_WINDOW_HOURS": "soon"})
