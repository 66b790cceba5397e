"""Make ``release-d877b09.db``: a small database written by the previous release's code.

Run from a checkout of that release (its ``qa`` and ``tests`` first on the path)::

    git worktree add /tmp/oldrelease d877b09
    cd /tmp/oldrelease && PYTHONPATH=. python /path/to/make_release_db.py OUT.db

It holds ``tests/ui_fixtures.populate``'s four calls (turns, tags, a lead's decisions, surveys,
a review, metrics) plus a second reviewer's decisions, two reviews, a calibration round, a
theme with members and its fit, a user, a run, and one ``Tag`` row of method ``human`` as
releases before decisions had their own table left them (the upgrade moves it to
``Decision``).
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import datetime

from qa.store.engine import make_engine, session_scope
from qa.store.schema import (
    CalibrationRound,
    Cluster,
    Decision,
    Review,
    Run,
    ThemeFit,
    ThemeMember,
    User,
)
from tests.ui_fixtures import populate


def main(out: str) -> None:
    engine = make_engine(out)
    ids = populate(engine)
    when = datetime(2024, 3, 10, 9, 30)
    with session_scope(engine) as s:
        s.add_all(
            [
                Decision(call_id=ids["C-1001"], tag="transfer", present=True,
                         reviewer="rev-a", source="transcript", turn_index=3,
                         evidence="transfer you to our refunds team", created_at=when),
                Decision(call_id=ids["C-1002"], tag="agent-praise", present=False,
                         reviewer="rev-a", comment="polite, not praise", created_at=when),
                Review(call_id=ids["C-1001"], reviewer="rev-a", notes="repeat caller",
                       scorecard={"greeting": "yes", "empathy": "no"},
                       scorecard_ref="default@v1#abc", score=62.5, auto_failed=False,
                       created_at=when),
                Review(call_id=ids["C-1003"], reviewer="rev-a", notes="",
                       scorecard={"greeting": "yes"}, score=None, created_at=when),
                CalibrationRound(name="March", created_by="qa-lead",
                                 call_ids=[ids["C-1001"], ids["C-1002"]], created_at=when),
                User(name="qa-lead", role="lead", password_hash="$argon2id$fixture",
                     created_at=when),
                Run(command="nightly", params={"pid": 1}, counts={"calls": 4}, status="ok",
                    started_at=when, finished_at=when),
                ThemeFit(k=1, texts=2, curve=[[1.0, 0.5]], model="fixture", created_at=when),
            ]
        )  # fmt: skip
        theme = Cluster(label="refund delays", keywords=["refund", "hold"],
                        examples=["40 minutes on hold"], centroid=[0.6, 0.8], size=2,
                        model="fixture", created_at=when, updated_at=when)  # fmt: skip
        s.add(theme)
        s.flush()
        s.add_all(
            [
                ThemeMember(cluster_id=theme.id, call_id=ids["C-1001"], source="comment",
                            text="40 minutes on hold", similarity=0.9),
                ThemeMember(cluster_id=None, call_id=ids["C-1002"], source="transcript",
                            turn_index=1, text="My router keeps dropping", similarity=0.1),
            ]
        )  # fmt: skip
    engine.dispose()
    conn = sqlite3.connect(out)
    with conn:  # as a release before the Decision table left it
        conn.execute(
            "INSERT INTO tag (call_id, tag, source, evidence, method, score, present, "
            "reviewer, created_at) VALUES (?, 'long-wait', 'transcript', '', 'human', 1.0, 1, "
            "'old-reviewer', '2024-03-05 10:00:00.000000')",
            (ids["C-1002"],),
        )
    conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    conn.execute("VACUUM")
    conn.close()


if __name__ == "__main__":
    main(sys.argv[1])
