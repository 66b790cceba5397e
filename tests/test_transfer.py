"""Transfer announcements and reasons, callback promises (real spaCy model: slow)."""

from __future__ import annotations

import subprocess
import sys
import zlib
from dataclasses import FrozenInstanceError

import numpy as np
import pytest

from classify.lexicon import PROTOTYPES, REASONS
from classify.promises import TAG, PromiseTagger, find_promises
from classify.transfer import TransferDetector, TransferHit, find_transfers, transfer_reason

# reason -> agent sentences announcing a transfer for that reason
ANNOUNCEMENTS = {
    "billing": [
        "Let me put you through to billing.",
        "I'm going to transfer you to our billing department now.",
        "One moment, I'll connect you with someone in payments.",
        "Our billing team will be able to help you with that refund.",
        "I'll send you over to accounts receivable, they handle invoices.",
    ],
    "technical": [
        "I'm transferring you to technical support.",
        "Let me put you through to a technician who can check the line.",
        "I'll connect you with our tech team.",
        "Our technical team can help you with the router.",
        "Hold on, I'm going to pass you over to the help desk.",
    ],
    "cancellation": [
        "Our cancellations team can help you with that.",
        "Let me transfer you to the retention department.",
        "I'll put you through to cancellations.",
        "Someone in our loyalty team will take it from here.",
    ],
    "supervisor": [
        "I'll get my supervisor.",
        "Let me grab a manager for you.",
        "I'm going to escalate this to my team lead.",
        "My supervisor will be with you shortly.",
        "Please hold while I transfer you to a supervisor.",
    ],
    "sales": [
        "Sales will help you with that upgrade.",
        "Let me transfer you to our sales team.",
        "I'll put you through to the upgrades desk.",
        "I'm connecting you with an account executive now.",
    ],
    "other": [
        "Let me transfer you to our fraud department.",
        "I'll put you through to the claims team.",
        "Let me transfer you.",
        "I'm going to transfer your call now, please hold.",
    ],
}
NOT_ANNOUNCEMENTS = [
    "I can't transfer you, sorry.",
    "I'm not able to transfer you at this time.",
    "Unfortunately I'm unable to transfer your call.",
    "Nobody will transfer you, I can handle it myself.",
    "I see you were transferred from billing earlier.",
    "You were put through to the wrong team last time.",
    "I'll transfer the money to your savings account.",
    "The billing team helped you last week.",
    "I can help you with billing myself.",
    "I'll call you back tomorrow.",
]
PROMISES = [
    "I'll call you back tomorrow.",
    "You'll get an email with the details.",
    "Someone will reach out within 24 hours.",
    "I will send you a confirmation.",
    "We'll get back to you by Friday.",
    "I'm going to give you a call on Monday to check it's working.",
    "You should receive a confirmation email within the hour.",
    "I've scheduled a callback for 3pm tomorrow.",
    "Let me email you the reference number.",
    "Our team will be in touch.",
]
NOT_PROMISES = [
    "We don't do callbacks.",
    "I can't call you back, we don't make outbound calls.",
    "Nobody will call you back.",
    "I emailed you yesterday.",
    "Did you get the email we sent?",
    "Would you like me to call you back?",
    "I called you back last week but there was no answer.",
    "Please call us back if it happens again.",
    "I'm not able to send you a confirmation.",
]


# --------------------------------------------------------------------------- fast


def test_cases_cover_every_reason() -> None:
    assert set(ANNOUNCEMENTS) == set(REASONS)
    assert all(len(cases) >= 4 for cases in ANNOUNCEMENTS.values())
    assert set(PROTOTYPES) == set(REASONS) - {"other"}


def test_hit_is_frozen_and_import_is_light() -> None:
    hit = TransferHit(1, "billing", "to billing", 0, 10, 1.0)
    assert hit.basis == "destination"
    with pytest.raises(FrozenInstanceError):
        hit.reason = "sales"  # type: ignore[misc]
    code = "import sys, classify.transfer, classify.promises; print('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_merge_keeps_one_hit_per_episode() -> None:
    detector = TransferDetector(merge_turns=4)
    hits = [
        TransferHit(1, "other", "Let me transfer you.", 0, 20, 0.5, "default"),
        TransferHit(3, "billing", "Transferring you to billing now.", 0, 32, 1.0),
        TransferHit(12, "billing", "I'll transfer you to billing.", 0, 29, 1.0),
        TransferHit(13, "technical", "Or tech?", 0, 8, 1.0),
    ]
    assert [(h.turn_index, h.reason) for h in detector._merge(hits)] == [
        (3, "billing"),
        (12, "billing"),
        (13, "technical"),
    ]


# --------------------------------------------------------------------------- slow (spaCy)


@pytest.fixture(scope="module")
def detector() -> TransferDetector:
    return TransferDetector().fit()


@pytest.fixture(scope="module")
def promises(detector: TransferDetector) -> PromiseTagger:
    return PromiseTagger(nlp=detector.nlp_).fit()


CASES = [(reason, text) for reason, texts in ANNOUNCEMENTS.items() for text in texts]


@pytest.mark.slow
def test_announcement_reasons(detector: TransferDetector) -> None:
    wrong = [(r, t, transfer_reason(t, detector)) for r, t in CASES]
    wrong = [case for case in wrong if case[0] != case[2]]
    assert not wrong, wrong
    for text in NOT_ANNOUNCEMENTS:
        assert transfer_reason(text, detector) == "none", text


@pytest.mark.slow
def test_hit_evidence_offsets_and_context(detector: TransferDetector) -> None:
    turns = [
        ("agent", "Thanks for calling, how can I help?"),
        ("customer", "I want to cancel my contract, I'm moving abroad."),
        ("agent", "I'm sorry to hear that. Sure, let me put you through to the right team."),
        ("customer", "thanks"),
        ("agent", "Transferring you now."),
        ("agent", "Hi, this is Sam from retentions."),
        ("customer", "Also my bill is wrong."),
        ("agent", "Okay, after this I'll transfer you to billing."),
    ]
    hits = detector.find(turns)
    assert [(h.turn_index, h.reason, h.basis) for h in hits] == [
        (2, "cancellation", "context"),
        (7, "billing", "destination"),
    ]
    assert len(hits) > 1  # a call transferred more than once
    for hit in hits:
        assert turns[hit.turn_index][1][hit.start : hit.end] == hit.evidence
    assert hits[0].evidence == "Sure, let me put you through to the right team."
    assert (hits[0].score, hits[1].score) == (0.8, 1.0)
    # Customer turns never announce; "unknown" (mono) turns may.
    assert detector.find([("customer", "can you transfer me to billing")]) == []
    assert detector.find([("unknown", "let me transfer you to billing")])[0].reason == "billing"
    assert find_transfers([("agent", "")], detector) == []
    assert detector.find_many([[("agent", "Let me transfer you.")], []])[1] == []


class CueEmbedder:
    """A fake embedder: texts with a cue word point along that cue's axis; other texts
    point in a direction of their own (seeded by the text), nearly orthogonal to all."""

    def __init__(self, cues: dict[str, int]):
        self.cues = cues

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 64))
        for i, text in enumerate(texts):
            seed = zlib.crc32(text.encode())
            out[i] = 0.05 * np.random.default_rng(seed).normal(size=64)
            for word, axis in self.cues.items():
                out[i, axis] += word in text.lower()
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.mark.slow
def test_prototype_reason_with_an_embedder(detector: TransferDetector) -> None:
    # "subscription" is in a cancellation prototype but is no context keyword.
    turns = [("customer", "I no longer want this subscription"), ("agent", "Let me transfer you.")]
    assert (detector.find(turns)[0].reason, detector.find(turns)[0].basis) == ("other", "default")
    with_model = TransferDetector(nlp=detector.nlp_, embedder=CueEmbedder({"subscription": 0}))
    hit = with_model.fit().find(turns)[0]
    assert (hit.reason, hit.basis) == ("cancellation", "prototype")
    assert 0.7 < hit.score <= 1.0
    # Words still come first: a context keyword decides before the model is asked.
    turns = [
        ("customer", "my wifi is dead, and the subscription"),
        ("agent", "Let me transfer you."),
    ]
    assert with_model.find(turns)[0].reason == "technical"
    unrelated = [("customer", "hello there"), ("agent", "Let me transfer you.")]
    assert with_model.find(unrelated)[0].reason == "other"


@pytest.mark.slow
def test_callback_promises(promises: PromiseTagger) -> None:
    for text in PROMISES:
        hits = promises.tag(text, source="agent")
        assert [h.tag for h in hits] == [TAG], text
        assert (hits[0].method, hits[0].score) == ("rule", 1.0)
        assert text[hits[0].start : hits[0].end] == hits[0].evidence
    for text in NOT_PROMISES:
        assert promises.tag(text, source="agent") == [], text
    assert promises.tag("I'll call you back tomorrow.", source="customer") == []
    with pytest.raises(ValueError, match="valid sources"):
        promises.tag("hi", source="survey")


@pytest.mark.slow
def test_find_promises_in_a_call(promises: PromiseTagger) -> None:
    turns = [
        ("customer", "Will someone call me back?"),
        ("agent", "Let me check. Okay, I'll call you back tomorrow at ten."),
        ("customer", "You'll get an email, they said last time."),
        ("agent", "We don't do callbacks on weekends, sorry."),
    ]
    found = find_promises(turns, promises)
    assert [(i, h.evidence) for i, h in found] == [(1, "Okay, I'll call you back tomorrow at ten.")]


@pytest.mark.slow
def test_cli_transfer_reason(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import csv
    import json

    from typer.testing import CliRunner

    from qa.commands.text import app

    texts = ["Let me put you through to billing.", "Thanks, bye.", "I can't transfer you.", ""]
    texts += [ANNOUNCEMENTS["supervisor"][0], ANNOUNCEMENTS["sales"][0]]
    path = tmp_path / "agent.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "transfer_reason"])
        writer.writerows([[t, "x"] for t in texts])
    runner = CliRunner()
    result = runner.invoke(app, ["transfer-reason", str(path), "--column", "text"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"row": 1, "reason": "billing"},
        {"row": 2, "reason": "none"},
        {"row": 3, "reason": "none"},
        {"row": 4, "reason": "none"},
        {"row": 5, "reason": "supervisor"},
        {"row": 6, "reason": "sales"},
    ]
    result = runner.invoke(app, ["transfer-reason", str(path), "-c", "text", "-f", "csv"])
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert list(rows[0]) == [
        "text",
        "transfer_reason",
        "qa_transfer_reason",
        "transfer_evidence",
        "transfer_score",
    ]  # fmt: skip  (only a name the input already has gets the qa_ prefix)
    assert rows[0]["transfer_evidence"] == texts[0] and rows[0]["transfer_score"] == "1"
    assert rows[1]["qa_transfer_reason"] == "none"
    result = runner.invoke(app, ["transfer-reason", str(path), "--column", "agent"])
    assert result.exit_code == 1 and "no column 'agent'" in result.stderr
