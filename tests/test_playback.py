"""qa.review.playback and the UI's audio: recordings confined to their root, redacted by default,
cached privately; the original only in ``redacted+original`` mode and only for a lead."""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import stat
import wave
from pathlib import Path

import httpx
import numpy as np
import pytest

from qa.review.playback import Playback, PlaybackError, confine
from qa.store.engine import make_engine, session_scope
from qa.store.schema import AudioRedaction, Call, Turn
from tests.ui_fixtures import LEAD, REVIEWER, launched, populate, ui_client, write_wav

RATE = 8000


def samples(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(str(tmp_path / "qa.db"))
    ids = populate(engine, recordings_dir=tmp_path / "recordings")
    yield engine, ids, tmp_path
    engine.dispose()


def test_confine_follows_symlinks_and_refuses_paths_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    inside = write_wav(root / "a.wav")
    outside = write_wav(tmp_path / "secret.wav")
    (root / "link.wav").symlink_to(outside)
    assert confine(inside, (root,)) == inside.resolve()
    assert confine(root / "sub" / ".." / "a.wav", (root,)) == inside.resolve()
    for bad in (outside, root / "link.wav", root / ".." / "secret.wav", Path("/etc/passwd")):
        with pytest.raises(PlaybackError, match="outside the recordings root"):
            confine(bad, (root,))
    with pytest.raises(PlaybackError, match="no recordings root"):
        confine(inside, ())


def test_redacted_copy_beeps_the_stored_spans_in_a_private_folder(setup) -> None:  # type: ignore[no-untyped-def]
    engine, ids, tmp = setup
    cid = ids["C-1001"]
    with session_scope(engine) as s:
        s.add(AudioRedaction(call_id=cid, agent_channel="left", spans={"unknown": [[0.5, 0.9]]}))
        source = Path(s.get(Call, cid).recording_path)
    playback = Playback([tmp / "recordings"])
    try:
        with session_scope(engine) as s:
            clip = playback.clip(session=s, call_id=cid)
        assert clip is not None and clip.redacted and clip.path != source
        assert clip.path.parent == playback.folder
        assert stat.S_IMODE(playback.folder.stat().st_mode) == 0o700
        assert stat.S_IMODE(clip.path.stat().st_mode) == 0o600
        original, redacted = samples(source), samples(clip.path)
        assert len(original) == len(redacted)
        span = slice(int(0.45 * RATE), int(0.95 * RATE))  # padded by 0.1 s at both ends
        assert np.abs(original[span] - redacted[span]).max() > 1000  # beeped
        assert np.abs(original[: int(0.35 * RATE)] - redacted[: int(0.35 * RATE)]).max() <= 2
        with session_scope(engine) as s:  # cached per call
            assert playback.clip(session=s, call_id=cid).path == clip.path
        with session_scope(engine) as s, pytest.raises(PlaybackError, match="not available"):
            playback.clip(session=s, call_id=cid, original=True)
    finally:
        playback.close()
    assert not playback.folder.exists()


def test_calls_without_stored_spans_beep_every_turn_with_a_placeholder(setup) -> None:  # type: ignore[no-untyped-def]
    engine, ids, _ = setup
    cid = ids["C-1001"]
    with session_scope(engine) as s:
        turn = s.exec(Turn.__table__.select().where(Turn.call_id == cid)).first()
        row = s.get(Turn, turn.id)
        row.text, row.start, row.end = "My card is [CREDIT_CARD].", 0.2, 0.6
        s.add(row)
    from qa.review.playback import redacted_spans

    with session_scope(engine) as s:
        spans, channel = redacted_spans(s, cid)
    assert channel == "left"
    assert [0.2, 0.6] in [s for times in spans.values() for s in times]


def test_modes_off_and_redacted_plus_original(setup) -> None:  # type: ignore[no-untyped-def]
    engine, ids, tmp = setup
    cid = ids["C-1001"]
    with session_scope(engine) as s:
        source = Path(s.get(Call, cid).recording_path).resolve()
    for mode, original, expected_redacted in (
        ("off", False, False),
        ("redacted+original", True, False),
        ("redacted+original", False, True),
    ):
        playback = Playback([tmp / "recordings"], redaction=mode)
        try:
            with session_scope(engine) as s:
                clip = playback.clip(session=s, call_id=cid, original=original)
            assert clip.redacted is expected_redacted
            assert (clip.path == source) is (not expected_redacted)
        finally:
            playback.close()
    with pytest.raises(ValueError, match="choose one of"):
        Playback([tmp], redaction="loud")


def test_ui_serves_redacted_copies_from_its_private_cache_only(setup) -> None:  # type: ignore[no-untyped-def]
    engine, ids, tmp = setup
    cid = ids["C-1001"]
    with session_scope(engine) as s:
        source = Path(s.get(Call, cid).recording_path).resolve()
    playback = Playback([tmp / "recordings"], redaction="redacted+original")
    with launched(engine, playback=playback) as demo:
        reviewer, lead = ui_client(demo, REVIEWER), ui_client(demo, LEAD)
        *_, status = reviewer.predict(cid, api_name="/open_call")
        assert "Audio not played" not in status
        served = [p for p in playback.gradio_cache.rglob("*.wav")]
        assert served and all(p.name.startswith("call-") for p in served)  # redacted copies
        assert stat.S_IMODE(playback.gradio_cache.stat().st_mode) == 0o700
        with pytest.raises(Exception, match="401"):
            reviewer.predict(cid, api_name="/play_original")
        audio, status = lead.predict(cid, api_name="/play_original")
        assert "original" in status and audio
        # The recording itself, and files elsewhere, are never served by path.
        cookies = {}
        login = httpx.post(demo.local_url.rstrip("/") + "/login",
                           data={"username": LEAD, "password": "lena-leads-the-team"})  # fmt: skip
        cookies = login.cookies
        for path in (source, Path("/etc/passwd")):
            got = httpx.get(f"{demo.local_url.rstrip('/')}/gradio_api/file={path}", cookies=cookies)
            assert got.status_code in (403, 404), (path, got.status_code)
    playback.close()


def test_ui_refuses_a_recording_outside_the_root(setup) -> None:  # type: ignore[no-untyped-def]
    engine, ids, tmp = setup
    cid = ids["C-1001"]
    with session_scope(engine) as s:
        call = s.get(Call, cid)
        call.recording_path = "/etc/passwd"
        s.add(call)
    playback = Playback([tmp / "recordings"])
    with launched(engine, playback=playback) as demo:
        _, audio, *_, status = ui_client(demo).predict(cid, api_name="/open_call")
        assert "outside the recordings root" in status
        assert audio is None or not audio.get("value")
    assert not list(playback.folder.rglob("passwd*"))
    playback.close()


def test_an_untranscribed_recording_is_never_played_as_redacted(setup) -> None:  # type: ignore[no-untyped-def]
    engine, ids, tmp = setup
    cid = ids["C-1001"]
    with session_scope(engine) as s:
        call = s.get(Call, cid)
        call.status = "pending"  # nothing says where its PII is
        s.add(call)
    playback = Playback([tmp / "recordings"])
    try:
        with session_scope(engine) as s, pytest.raises(PlaybackError, match="not transcribed"):
            playback.clip(session=s, call_id=cid)
        assert not list(playback.folder.glob("call-*"))
    finally:
        playback.close()
