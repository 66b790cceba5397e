"""An exported coaching pack opened offline in a real browser (Debian's chromium through
Playwright): the file:// page loads nothing from the network, and every embedded clip plays.

Skipped only when chromium or Playwright is missing outside CI; in CI that is a failure.
"""

from __future__ import annotations

import pytest

from qa.review.pack_export import PackClips, export_pack_html
from qa.review.packs import add_item, create_pack, pack_detail, tag_evidence
from qa.review.playback import Playback
from qa.store.engine import make_engine, session_scope
from tests.ui_fixtures import EVIDENCE, chromium_page, populate, write_wav

pytestmark = pytest.mark.browser

PLAY_ALL = """async () => {
  const out = [];
  for (const a of document.querySelectorAll('audio')) {
    a.muted = true;
    try { await a.play(); } catch (e) { out.push({error: String(e)}); continue; }
    await new Promise((r) => setTimeout(r, 300));
    out.push({ready: a.readyState, duration: a.duration, time: a.currentTime,
              error: a.error && a.error.code});
    a.pause();
  }
  return out;
}"""


def test_exported_pack_plays_offline(tmp_path) -> None:
    engine = make_engine(str(tmp_path / "qa.db"))
    ids = populate(engine, recordings_dir=tmp_path / "recordings")
    write_wav(tmp_path / "recordings" / "C-1001.wav", seconds=40.0)
    playback = Playback([tmp_path / "recordings"])
    try:
        with session_scope(engine) as s:
            pack = create_pack(session=s, name="offline", created_by="kim", agent="a-01")
            for tag in ("re-explain", "transfer"):
                evidence = tag_evidence(session=s, call_id=ids["C-1001"], tag=tag)
                add_item(session=s, pack_id=pack.id, call_id=ids["C-1001"], evidence=evidence,
                         tag=tag, note=f"listen: {tag}", added_by="kim")  # fmt: skip
            view = pack_detail(session=s, pack=pack.id)
            clips = PackClips(session=s, playback=playback)
            result = export_pack_html(view, tmp_path / "pack.html", clips=clips, ui_url="http://ui")
            clips.close()
    finally:
        playback.close()
    assert result.clips == 2
    requests: list[str] = []
    with chromium_page() as page:
        page.context.set_offline(True)
        page.on("request", lambda r: requests.append(r.url))
        page.goto((tmp_path / "pack.html").as_uri())
        assert page.locator("mark").first.inner_text() == EVIDENCE
        played = page.evaluate(PLAY_ALL)
    assert len(played) == 2, played
    for clip in played:
        assert clip.get("error") is None, played
        assert clip["ready"] >= 2 and 0 < clip["duration"] <= 20.5, played
        assert clip["time"] > 0, played
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
