"""Coaching packs: create, add snippets, list, the filter pack, the CSV / JSONL / HTML exports
(clips cut from the redacted copy, ±10 s and clamped), and ``qa packs`` end to end.

The fixture database is ``tests.ui_fixtures.populate`` with a 40-second recording for C-1001
(its turns run to 36 s).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import av
import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.review.pack_export import (
    NO_ROOT,
    ROW_COLUMNS,
    PackClips,
    export_pack_file,
    export_pack_html,
    export_pack_rows,
)
from qa.review.packs import (
    PackNotFound,
    add_item,
    archive_pack,
    create_pack,
    list_packs,
    pack_detail,
    remove_item,
    set_item_note,
    tag_evidence,
)
from qa.review.playback import Playback
from qa.store.calltags import rebuild_call_tags
from qa.store.engine import make_engine, session_scope
from qa.store.writes import Evidence
from tests.ui_fixtures import EVIDENCE, RE_EXPLAIN_TEXT, populate, write_wav

UI = "http://ui.test:9000"
FORMULA_NOTE = '=HYPERLINK("http://evil.test","x")'
runner = CliRunner()


def _filled(url: str, folder: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    ids = populate(engine, recordings_dir=folder / "recordings")
    write_wav(folder / "recordings" / "C-1001.wav", seconds=40.0)
    with session_scope(engine) as s:
        rebuild_call_tags(s)
    return engine, ids, folder


@pytest.fixture
def db(db_url, tmp_path):  # type: ignore[no-untyped-def]
    """The fixture calls on SQLite and PostgreSQL: (engine, external id -> id, folder)."""
    engine, ids, folder = _filled(db_url, tmp_path)
    yield engine, ids, folder
    engine.dispose()


@pytest.fixture
def cli_db(tmp_path):  # type: ignore[no-untyped-def]
    """The same on SQLite only: each ``qa`` command opens the database by its own URL."""
    engine, ids, folder = _filled(f"sqlite:///{tmp_path / 'qa.db'}", tmp_path)
    yield engine, ids, folder
    engine.dispose()


def _two_snippets(engine, ids) -> int:  # type: ignore[no-untyped-def]
    """A pack for Dana with C-1001's re-explain (turn 1) and transfer (turn 3) evidence."""
    with session_scope(engine) as s:
        pack = create_pack(
            session=s,
            name="Dana: re-explain",
            created_by="coach-kim",
            agent="Dana Reyes",
            note="Listen <here> & learn",
        )
        cid = ids["C-1001"]
        ev = tag_evidence(session=s, call_id=cid, tag="re-explain")
        add_item(
            session=s,
            pack_id=pack.id,
            call_id=cid,
            evidence=ev,
            note=FORMULA_NOTE,
            added_by="coach-kim",
            tag="re-explain",
        )
        ev = tag_evidence(session=s, call_id=cid, tag="transfer", turn_index=3)
        add_item(
            session=s,
            pack_id=pack.id,
            call_id=cid,
            evidence=ev,
            note="good handover",
            added_by="coach-kim",
            tag="transfer",
        )
    return pack.id


def test_create_validates_name_agent_and_filter(db) -> None:
    engine, _, _ = db
    with session_scope(engine) as s:
        pack = create_pack(
            session=s,
            name=" Sam ",
            created_by="kim",
            agent="a-02",
            filter_query="?tag=agent-praise&agent=a-02",
        )
        assert (pack.name, pack.agent_id) == ("Sam", "a-02")
        assert pack.filter_query == "agent=a-02&tag=agent-praise"  # normal form
        with pytest.raises(ValueError, match="already exists"):
            create_pack(session=s, name="Sam", created_by="kim")
        with pytest.raises(ValueError, match="empty"):
            create_pack(session=s, name="  ", created_by="kim")
        with pytest.raises(ValueError, match="close matches: Dana Reyes"):
            create_pack(session=s, name="x", created_by="kim", agent="Dana Reye")
        with pytest.raises(ValueError, match=r"unknown parameter 'colour'.*known: since"):
            create_pack(session=s, name="y", created_by="kim", filter_query="colour=red")
        with pytest.raises(ValueError, match="csat_min='high'"):
            create_pack(session=s, name="z", created_by="kim", filter_query="csat_min=high")


def test_items_excerpts_and_list(db) -> None:
    engine, ids, _ = db
    pack_id = _two_snippets(engine, ids)
    with session_scope(engine) as s:
        with pytest.raises(ValueError, match="already holds"):
            add_item(
                session=s,
                pack_id=pack_id,
                call_id=ids["C-1001"],
                added_by="kim",
                tag="re-explain",
                evidence=tag_evidence(session=s, call_id=ids["C-1001"], tag="re-explain"),
            )
        with pytest.raises(ValueError, match=r"turn 9 is not a turn of this call \(turns: 0-4\)"):
            add_item(
                session=s,
                pack_id=pack_id,
                call_id=ids["C-1001"],
                added_by="kim",
                evidence=Evidence("transcript", turn_index=9),
            )
        with pytest.raises(ValueError, match=r"its hits: .*re-explain@1"):
            tag_evidence(session=s, call_id=ids["C-1001"], tag="rushed")
        with pytest.raises(PackNotFound, match="packs: 'Dana: re-explain'"):
            pack_detail(session=s, pack="nope")
        view = pack_detail(session=s, pack="Dana: re-explain")
    assert (view.agent_id, view.agent_name, view.matched_total) == ("a-01", "Dana Reyes", None)
    first, second = view.items
    assert (first.position, first.external_id, first.tag, first.turn_index) == (
        1,
        "C-1001",
        "re-explain",
        1,
    )
    assert [line.turn_index for line in first.excerpt] == [0, 1, 2, 3]  # turn 1 ± 2
    marked = next(line for line in first.excerpt if line.is_evidence)
    assert marked.text == RE_EXPLAIN_TEXT and marked.parts()[1] == EVIDENCE
    assert [line.turn_index for line in second.excerpt] == [1, 2, 3, 4]
    assert 22.5 <= second.evidence_at <= 28.5  # inside turn 3
    assert view.link(UI) == f"{UI}/?pack={pack_id}" and first.link(UI) == f"{UI}/?call=C-1001"
    with session_scope(engine) as s:
        assert [p.items for p in list_packs(session=s, agent="Dana Reyes")] == [2]
        assert list_packs(session=s, agent="a-02") == []
        set_item_note(session=s, pack_id=pack_id, item_id=second.item_id, note=" new ")
        assert pack_detail(session=s, pack=pack_id).items[1].note == "new"
        with pytest.raises(ValueError, match="longer than 2000"):
            set_item_note(session=s, pack_id=pack_id, item_id=second.item_id, note="x" * 2001)
        remove_item(session=s, pack_id=pack_id, item_id=first.item_id)
        with pytest.raises(ValueError, match="has no item"):
            remove_item(session=s, pack_id=pack_id, item_id=first.item_id)
        archive_pack(session=s, pack=pack_id)
        assert list_packs(session=s) == []
        assert [p.items for p in list_packs(session=s, archived=True)] == [1]


def test_filter_pack_lists_current_matches(db) -> None:
    engine, ids, _ = db
    with session_scope(engine) as s:
        create_pack(session=s, name="re-explain", created_by="kim", filter_query="tag=re-explain")
        create_pack(session=s, name="dana", created_by="kim", filter_query="agent=a-01")
        pack = create_pack(session=s, name="dana+", created_by="kim", filter_query="agent=a-01")
        add_item(
            session=s,
            pack_id=pack.id,
            call_id=ids["C-1003"],
            evidence=None,
            note="whole call",
            added_by="kim",
        )
        tagged = pack_detail(session=s, pack="re-explain")
        dana = pack_detail(session=s, pack="dana")
        mixed = pack_detail(session=s, pack="dana+")
    assert [(i.external_id, i.evidence, i.item_id) for i in tagged.items] == [
        ("C-1001", EVIDENCE, None)
    ]
    assert tagged.matched_total == 1
    assert [i.external_id for i in dana.items] == ["C-1003", "C-1001"]  # newest first
    assert dana.matched_total == 2
    # The hand-picked call comes first and is not repeated among the matches.
    assert [(i.external_id, i.scope) for i in mixed.items] == [
        ("C-1003", "call"),
        ("C-1001", "call"),
    ]


def test_rows_export_csv_and_jsonl(db) -> None:
    engine, ids, _ = db
    pack_id = _two_snippets(engine, ids)
    with session_scope(engine) as s:
        view = pack_detail(session=s, pack=pack_id)
    out = io.StringIO()
    assert export_pack_rows(view, out, "csv", ui_url=UI) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == ROW_COLUMNS
    record = dict(zip(ROW_COLUMNS, rows[1], strict=True))
    assert record["note"] == "'" + FORMULA_NOTE  # a spreadsheet shows it as text
    assert (record["evidence"], record["turn"], record["source"]) == (EVIDENCE, "1", "transcript")
    assert record["link"] == f"{UI}/?call=C-1001" and record["agent"] == "Dana Reyes"
    out = io.StringIO()
    export_pack_rows(view, out, "jsonl", ui_url=UI)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [tuple(line) for line in lines] == [ROW_COLUMNS] * 2
    assert lines[1]["tag"] == "transfer" and lines[0]["note"] == FORMULA_NOTE
    with pytest.raises(ValueError, match="choose one of: csv, jsonl"):
        export_pack_rows(view, io.StringIO(), "xlsx", ui_url=UI)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.audio: list[str] = []
        self.links: list[str] = []
        self.scripts = 0
        self.addresses: set[str] = set()  # every href / src outside the data: clips

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.addresses |= {
            v for k, v in attrs if k in ("href", "src") and v and not v.startswith("data:")
        }
        self.scripts += tag in ("script", "link", "img", "iframe", "object", "embed")
        if tag == "audio":
            self.audio.append(found.get("src") or "")
        if tag == "a":
            self.links.append(found.get("href") or "")


def _seconds(data_uri: str) -> float:
    head, _, payload = data_uri.partition(",")
    assert head == "data:audio/ogg;base64"
    with av.open(io.BytesIO(base64.b64decode(payload))) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


def test_html_export_is_self_contained_with_clips(db) -> None:
    engine, ids, tmp = db
    pack_id = _two_snippets(engine, ids)
    with session_scope(engine) as s:
        add_item(
            session=s,
            pack_id=pack_id,
            call_id=ids["C-1001"],
            added_by="kim",
            evidence=Evidence("transcript", turn_index=4),
            note="end of call",
        )
        add_item(session=s, pack_id=pack_id, call_id=ids["C-1003"], evidence=None, added_by="kim")
        view = pack_detail(session=s, pack=pack_id)
        playback = Playback([tmp / "recordings"])
        clips = PackClips(session=s, playback=playback)
        try:
            result = export_pack_html(view, tmp / "pack.html", clips=clips, ui_url=UI)
        finally:
            clips.close()
            playback.close()
    assert (result.items, result.clips, result.clips_missing) == (4, 3, 1)
    assert clips.missing == {"4:C-1003": "no recording"}
    html = (tmp / "pack.html").read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    assert page.scripts == 0 and len(page.audio) == 3
    lengths = [_seconds(src) for src in page.audio]
    assert 18.0 <= lengths[0] <= 20.1  # ±10 s around ~8.8 s, clamped at 0
    assert 19.9 <= lengths[1] <= 20.1
    assert 15.0 <= lengths[2] <= 18.0  # turn 4 (30-36 s): clamped at the 40 s end
    links = {f"{UI}/?pack={pack_id}", f"{UI}/?call=C-1001", f"{UI}/?call=C-1003"}
    assert page.addresses == links
    # Any other address is text (the note's, escaped), never something the page loads.
    urls = set(re.findall(r"https?://[^\s\"'<>&]+", html))
    assert urls - links == {"http://evil.test"} and "url(" not in html
    assert "&quot;http://evil.test&quot;" in html
    assert f"<mark>{EVIDENCE}</mark>" in html
    assert "&lt;b&gt;agent&lt;/b&gt; &amp; nobody" in html and "<b>agent</b>" not in html
    assert "Listen &lt;here&gt; &amp; learn" in html
    assert html.count('class="missing">no recording') == 1


def test_html_without_recordings_root_says_so(db) -> None:
    engine, ids, tmp = db
    pack_id = _two_snippets(engine, ids)
    with session_scope(engine) as s:
        view = pack_detail(session=s, pack=pack_id)
        clips = PackClips(session=s, playback=None)
        result = export_pack_html(view, tmp / "p.html", clips=clips, ui_url=UI)
        clips.close()
    assert result.clips == 0 and set(clips.missing.values()) == {NO_ROOT}
    assert "<audio" not in (tmp / "p.html").read_text(encoding="utf-8")


def test_cli_round_trip(cli_db) -> None:
    engine, _, tmp = cli_db
    url = engine.url.render_as_string(hide_password=False)
    env = {"QA_UI_URL": UI}
    made = runner.invoke(
        app,
        [
            "packs",
            "create",
            "Dana week 49",
            "--by",
            "kim",
            "--agent",
            "a-01",
            "--due",
            "2026-12-11",
            "--call",
            "C-1003",
            "--db",
            url,
        ],
        env=env,
    )
    assert made.exit_code == 0, made.output
    assert f"{UI}/?pack=" in made.output
    add = ["packs", "add", "Dana week 49", "C-1001", "--by", "kim", "--db", url]
    assert runner.invoke(app, [*add, "--tag", "re-explain", "--note", "=cmd"]).exit_code == 0
    assert runner.invoke(app, [*add, "--turn", "3", "--note", "handover"]).exit_code == 0
    bad = runner.invoke(app, [*add, "--tag", "rushed"])
    assert bad.exit_code == 1 and "its hits:" in bad.output
    due = runner.invoke(app, ["packs", "create", "x", "--by", "kim", "--due", "11/12", "--db", url])
    assert due.exit_code == 1 and "YYYY-MM-DD" in due.output
    listed = runner.invoke(app, ["packs", "list", "--format", "json", "--db", url], env=env)
    [pack] = json.loads(listed.stdout)
    assert (pack["name"], pack["agent"], pack["due"], pack["items"]) == (
        "Dana week 49",
        "a-01",
        "2026-12-11",
        3,
    )
    rows = runner.invoke(
        app, ["packs", "export", str(pack["id"]), "--format", "csv", "--db", url], env=env
    )
    assert rows.exit_code == 0, rows.output
    records = list(csv.DictReader(io.StringIO(rows.stdout)))
    assert [r["call_id"] for r in records] == ["C-1003", "C-1001", "C-1001"]
    assert records[1]["note"] == "'=cmd"
    out = tmp / "pack.html"
    html = runner.invoke(
        app,
        [
            "packs",
            "export",
            "Dana week 49",
            "--out",
            str(out),
            "--db",
            url,
            "--recordings-root",
            str(tmp / "recordings"),
        ],
    )
    assert html.exit_code == 0, html.output
    assert "3 items, 2 audio clips, 1 without" in html.output
    assert out.read_text(encoding="utf-8").count("<audio") == 2
    gone = runner.invoke(app, ["packs", "archive", "Dana week 49", "--db", url])
    assert gone.exit_code == 0 and "archived pack" in gone.output
    listed = runner.invoke(app, ["packs", "list", "--db", url])
    assert "no packs yet" in listed.output
    missing = runner.invoke(app, ["packs", "export", "nope", "--format", "csv", "--db", url])
    assert missing.exit_code == 1 and "packs: 'Dana week 49'" in missing.output


def test_cli_export_reports_a_bad_recording(cli_db) -> None:
    engine, ids, tmp = cli_db
    _two_snippets(engine, ids)
    (tmp / "recordings" / "C-1001.wav").write_bytes(b"RIFF not really a wav")
    url = engine.url.render_as_string(hide_password=False)
    result = runner.invoke(
        app,
        [
            "packs",
            "export",
            "Dana: re-explain",
            "--out",
            str(tmp / "p.html"),
            "--recordings-root",
            str(tmp / "recordings"),
            "--db",
            url,
        ],
    )
    assert result.exit_code == 2, result.output
    assert "0 audio clips, 2 without" in result.output and "cannot be played" in result.output
    assert Path(tmp / "p.html").is_file()


def test_write_clip_clamps_and_refuses_empty(tmp_path) -> None:
    from transcribe.audio_clip import write_clip

    source = write_wav(tmp_path / "a.wav", seconds=12.0)
    span = write_clip(source, tmp_path / "end.wav", 5.0, 25.0)
    assert (span.start, span.end) == (5.0, 12.0)
    with av.open(str(tmp_path / "end.wav")) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.sample_rate == 8000  # WAV keeps the source's rate
        assert sum(f.samples for f in container.decode(stream)) == 7 * 8000
    with pytest.raises(ValueError, match="past the recording's end"):
        write_clip(source, tmp_path / "late.ogg", 20.0, 30.0)
    with pytest.raises(ValueError, match=r"valid: \.wav, \.flac, \.ogg, \.opus"):
        write_clip(source, tmp_path / "x.mp3", 0.0, 1.0)
    assert write_clip(source, tmp_path / "all.ogg", 0.0, 30.0).seconds == 12.0


def test_export_pack_file_by_name(db) -> None:
    engine, ids, tmp = db
    _two_snippets(engine, ids)
    with session_scope(engine) as s:
        rows = export_pack_file(session=s, pack="Dana: re-explain", out_path=tmp / "p.jsonl",
                                fmt="jsonl", ui_url=UI)  # fmt: skip
        page = export_pack_file(session=s, pack="Dana: re-explain", out_path=tmp / "p.html",
                                ui_url=UI)  # fmt: skip
        with pytest.raises(ValueError, match="choose one of: html, csv, jsonl"):
            export_pack_file(session=s, pack=1, out_path=tmp / "p.pdf", fmt="pdf", ui_url=UI)
    assert (rows.items, rows.clips_missing) == (2, 0)
    assert len((tmp / "p.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    assert (page.items, page.clips, page.clips_failed) == (2, 0, 0)  # no playback: no audio
    assert dict(page.missing) == {"1:C-1001": NO_ROOT, "2:C-1001": NO_ROOT}
