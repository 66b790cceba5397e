"""Is a matched phrase said as done, as denied, or as announced? Shared by the transfer and
promise detectors (``classify.transfer``, ``classify.promises``).

Announcements and promises are about the future ("I'll transfer you", "you'll get an
email"); reports of the past ("you were transferred", "I emailed you yesterday") and
negated phrases ("I can't transfer you", "we don't do callbacks") are neither.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from classify.negation import negation_cue

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

AGENT_SPEAKERS = ("agent", "unknown")
"""Speakers whose turns may announce a transfer or promise a callback (``unknown``: a mono
recording, where we cannot tell the parties apart)."""

PAST_AUX = frozenset({"was", "were", "did", "had"})
INABILITY = frozenset({"unable", "impossible", "cannot", "refuse", "decline"})


def is_negated(tokens: Sequence[Token] | Span) -> bool:
    """A negation / inability cue governs ``tokens`` ("can't", "nobody will", "unable to")."""
    tokens = list(tokens)
    if negation_cue(tokens) is not None:
        return True
    for token in tokens:
        node = token
        for _ in range(3):  # "I'm unable to transfer you", "I refuse to ..."
            if node.head is node:
                break
            node = node.head
            if node.lemma_.lower() in INABILITY:
                return True
    return False


def is_past(verb: Token) -> bool:
    """``verb`` reports something done: simple past ("I emailed you") or a past auxiliary
    ("you were transferred", "did he call you back")."""
    if verb.tag_ == "VBD":
        return True
    aux = {c.lower_ for c in verb.children if c.dep_ in ("aux", "auxpass")}
    if aux & PAST_AUX:
        return True
    # "I see you were transferred": the participle hangs off a past auxiliary.
    return (
        verb.tag_ == "VBN"
        and not aux & {"will", "'ll", "be", "being", "get", "gets"}
        and not any(c.lemma_ == "be" and c.tag_ in ("VB", "VBP", "VBZ") for c in verb.children)
    )


def word_hits(span: Span | Sequence[Token], words: Mapping[str, str]) -> list[tuple[int, str]]:
    """``(token index, value)`` for each word of ``words`` in ``span``: two-word entries on
    consecutive lower-cased tokens first, then single tokens by lower-case or lemma."""
    tokens = list(span)
    out: list[tuple[int, str]] = []
    skip = -1
    for k, token in enumerate(tokens):
        if k <= skip:
            continue
        if k + 1 < len(tokens):
            pair = f"{token.lower_} {tokens[k + 1].lower_}"
            if pair in words:
                out.append((token.i, words[pair]))
                skip = k + 1
                continue
        for key in (token.lower_, token.lemma_.lower()):
            if key in words:
                out.append((token.i, words[key]))
                break
    return out
