"""Transfer announcements in agent turns, and why the call was transferred.

    from classify.transfer import find_transfers
    find_transfers([("customer", "I want to cancel my contract"),
                    ("agent", "Sure, let me put you through to the right team.")])
    # [TransferHit(turn_index=1, reason='cancellation', evidence='Sure, let me put you
    #   through to the right team.', start=0, end=47, score=0.8, basis='context')]

An announcement is an agent sentence that matches a lemma pattern ("transfer you", "put
you through to", "get my supervisor", "escalate this", "our billing team will help you")
and is neither negated ("I can't transfer you"; the parser decides, see
``classify.negation``) nor a report of the past ("I see you were transferred").

The reason comes, in this order, from: a destination named in the announcement sentence
("... to billing", "our cancellations team", basis ``destination``, score 1.0); words of
the agent's turn and the customer's turns just before it (``context``, 0.8); an optional
sentence-embedding model comparing that context to prototype sentences per reason
(``prototype``, the cosine); else ``other`` (``default``, 0.5).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from classify.lexicon import CONTEXT, DEST_NOUNS, DESTINATIONS, PROTOTYPES, REASONS
from classify.speech_acts import AGENT_SPEAKERS, is_negated, is_past, word_hits

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

__all__ = ["REASONS", "TransferDetector", "TransferHit", "find_transfers", "transfer_reason"]

_OBJ = ["you", "ya", "your", "this", "the", "it", "that"]
_WEAK = ["connect", "patch", "route", "forward", "redirect", "direct", "refer", "pass", "hand",
         "send", "move", "get", "take", "switch", "bring", "escalate", "transfer"]  # fmt: skip
PATTERNS: dict[str, list[list[dict[str, Any]]]] = {
    # "let me transfer you", "I'll transfer your call", "transferring you now"
    "transfer": [
        [{"LEMMA": "transfer", "POS": "VERB"}, {"LOWER": {"IN": ["you", "ya"]}}],
        [{"LEMMA": "transfer", "POS": "VERB"}, {"LOWER": {"IN": ["your", "the", "this"]}},
         {"LOWER": "call"}],
        [{"LEMMA": "transfer", "POS": "VERB"}, {"LOWER": {"IN": ["it", "this", "that"]}},
         {"LOWER": {"IN": ["over", "through", "across", "to"]}}],
    ],
    # "put you through to", "send you over to", "hand you over to", "escalate this to"
    "redirect": [
        [{"LEMMA": "put"}, {"LOWER": {"IN": ["you", "ya", "your"]}}, {"LOWER": "call", "OP": "?"},
         {"LOWER": {"IN": ["through", "over", "across"]}}],
        [{"LEMMA": {"IN": _WEAK}}, {"LOWER": {"IN": _OBJ}}, {"LOWER": "call", "OP": "?"},
         {"LOWER": {"IN": ["over", "through", "across", "along", "on", "back"]}, "OP": "?"},
         {"LOWER": {"IN": ["to", "with", "into"]}}],
        [{"LEMMA": "escalate"}, {"LOWER": {"IN": ["this", "it", "that", "your", "the"]}}],
        [{"LEMMA": {"IN": ["transfer", "connect", "put", "send", "pass", "hand", "route"]},
          "TAG": "VBN"}, {"LOWER": {"IN": ["over", "through", "across"]}, "OP": "?"},
         {"LOWER": {"IN": ["to", "with"]}}],
    ],
    # "I'll get my supervisor", "let me grab a manager", "bring in my team lead"
    "supervisor": [
        [{"LEMMA": {"IN": ["get", "grab", "fetch", "bring", "loop", "involve", "call"]}},
         {"LOWER": {"IN": ["in", "you", "my", "a", "the", "our", "over", "to"]}, "OP": "{0,3}"},
         {"LEMMA": {"IN": ["supervisor", "manager", "superior", "boss"]}}],
    ],
}  # fmt: skip
# A destination that is the subject: "our cancellations team can help you with that".
HANDOFF_VERBS = frozenset(
    {"help", "assist", "handle", "take", "look", "deal", "walk", "talk", "speak", "be", "answer",
     "sort", "go", "discuss", "review", "explain", "pick"}
)  # fmt: skip


@dataclass(frozen=True)
class TransferHit:
    """One transfer announced by the agent in turn ``turn_index``.

    ``start``/``end`` are character offsets of ``evidence`` (the announcing sentence) in
    that turn's text. ``basis`` says where ``reason`` came from: ``destination`` |
    ``context`` | ``prototype`` | ``default``; ``score`` grows with that evidence.
    """

    turn_index: int
    reason: str
    evidence: str
    start: int
    end: int
    score: float
    basis: str = "destination"


class TransferDetector:
    """Find transfer announcements and their reasons in a call's turns.

    ``nlp``: a spaCy pipeline with parser and lemmatizer (default ``classify.nlp.load_nlp()``).
    ``embedder``: optional, anything with ``encode(texts) -> n x d`` unit vectors; when
    given, prototype sentences decide reasons the words leave open. ``context_turns``: how
    many turns before the announcement count as context. ``merge_turns``: announcements
    this close with the same (or an unknown) reason are one transfer ("I'll transfer you
    to billing" ... "transferring you now"). Loads nothing until ``fit`` / first use.
    """

    def __init__(
        self,
        nlp: Language | None = None,
        embedder: Any = None,
        context_turns: int = 3,
        merge_turns: int = 4,
        min_cosine: float = 0.45,
    ):
        self.nlp = nlp
        self.embedder = embedder
        self.context_turns = context_turns
        self.merge_turns = merge_turns
        self.min_cosine = min_cosine

    def fit(self, texts: Sequence[str] | None = None, y: Any = None) -> TransferDetector:
        """Load the pipeline and compile the patterns; returns ``self``."""
        from spacy.matcher import Matcher

        if self.nlp is not None:
            nlp = self.nlp
        else:
            from classify.nlp import load_nlp

            nlp = load_nlp()
        matcher = Matcher(nlp.vocab, validate=True)
        for key, patterns in PATTERNS.items():
            matcher.add(key, patterns)
        self.nlp_, self.matcher_ = nlp, matcher
        self.prototypes_: Any = None
        return self

    def find(self, turns: Sequence[tuple[str, str]]) -> list[TransferHit]:
        """Transfers announced in one call (``turns``: ``(speaker, text)`` in order)."""
        return self.find_many([turns])[0]

    def find_many(self, calls: Iterable[Sequence[tuple[str, str]]]) -> list[list[TransferHit]]:
        """``find`` for many calls; all agent turns are parsed in one ``nlp.pipe``."""
        self._ready()
        calls = [list(call) for call in calls]
        where = [
            (c, i)
            for c, call in enumerate(calls)
            for i, (speaker, text) in enumerate(call)
            if speaker in AGENT_SPEAKERS and text.strip()
        ]
        docs = self.nlp_.pipe([calls[c][i][1] for c, i in where], batch_size=64)
        found: list[list[tuple[int, Span]]] = [[] for _ in calls]
        for (c, i), doc in zip(where, docs, strict=True):
            found[c].extend((i, sent) for sent in self._announcements(doc))
        return [
            self._merge([self._hit(call, i, s) for i, s in found[c]])
            for c, call in enumerate(calls)
        ]

    def _ready(self) -> None:
        if not hasattr(self, "matcher_"):
            self.fit()

    def _announcements(self, doc: Doc) -> list[Span]:
        """Sentences of ``doc`` that announce a transfer (at most one hit per sentence)."""
        sents: dict[int, Span] = {}
        for _, start, end in self.matcher_(doc):
            sent = doc[start].sent
            verb = next((t for t in doc[start:end] if t.pos_ in ("VERB", "AUX")), doc[start])
            if sent.start in sents or is_past(verb) or is_negated(doc[start:end]):
                continue
            sents[sent.start] = sent
        for token in doc:
            sent = token.sent
            if sent.start not in sents and _destination_subject(token):
                sents[sent.start] = sent
        return [sents[k] for k in sorted(sents)]

    def _hit(self, turns: Sequence[tuple[str, str]], index: int, sent: Span) -> TransferHit:
        text = sent.text.strip()
        start = sent.start_char + (len(sent.text) - len(sent.text.lstrip()))
        reason, score, basis = self._reason(turns, index, sent)
        return TransferHit(index, reason, text, start, start + len(text), score, basis)

    def _reason(
        self, turns: Sequence[tuple[str, str]], index: int, sent: Span
    ) -> tuple[str, float, str]:
        dest = destination(sent)
        if dest is not None:
            return dest, 1.0, "destination"
        lo = max(0, index - self.context_turns)
        context = [text for _, text in turns[lo:index]] + [turns[index][1]]
        reason = _context_reason(context)
        if reason is not None:
            return reason, 0.8, "context"
        if self.embedder is not None:
            reason, cosine = self._prototype_reason(context)
            if cosine >= self.min_cosine:
                return reason, round(cosine, 4), "prototype"
        return "other", 0.5, "default"

    def _prototype_reason(self, context: Sequence[str]) -> tuple[str, float]:
        import numpy as np

        if self.prototypes_ is None:
            labels = [r for r, texts in PROTOTYPES.items() for _ in texts]
            texts = [t for ts in PROTOTYPES.values() for t in ts]
            self.prototypes_ = (labels, np.asarray(self.embedder.encode(texts)))
        labels, protos = self.prototypes_
        sims = np.asarray(self.embedder.encode(list(context))) @ protos.T
        best = np.unravel_index(int(np.argmax(sims)), sims.shape)[1]
        return labels[best], float(sims.max())

    def _merge(self, hits: list[TransferHit]) -> list[TransferHit]:
        """One transfer per announcement episode: a repeat within ``merge_turns`` turns with
        the same reason, or with ``other`` on either side, is the same transfer."""
        out: list[TransferHit] = []
        for hit in hits:
            last = out[-1] if out else None
            if (
                last is not None
                and hit.turn_index - last.turn_index <= self.merge_turns
                and (hit.reason == last.reason or "other" in (hit.reason, last.reason))
            ):
                if hit.score > last.score:
                    out[-1] = hit
                continue
            out.append(hit)
        return out


def destination(span: Span) -> str | None:
    """The reason named by a destination in ``span`` (first one after the verb wins)."""
    hits = word_hits(span, DESTINATIONS)
    return hits[0][1] if hits else None


def _context_reason(texts: Sequence[str]) -> str | None:
    """The reason most context words point to, later texts weighing more; None on a tie."""
    scores = dict.fromkeys(REASONS, 0.0)
    for weight, text in enumerate(texts, start=1):
        for reason in _context_words(text):
            scores[reason] += weight
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    if ranked[0][1] == 0 or ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def _context_words(text: str) -> list[str]:
    words = [w.strip(".,!?;:'\"()").lower() for w in text.split()]
    found = [CONTEXT[w] for w in words if w in CONTEXT]
    found += [CONTEXT[f"{a} {b}"] for a, b in itertools.pairwise(words) if f"{a} {b}" in CONTEXT]
    return found


def _destination_subject(token: Token) -> bool:
    """``token`` is a hand-off verb ("help", "take", "be with you") whose subject is another
    team or person, in the future ("our cancellations team can help you with that")."""
    if token.lemma_ not in HANDOFF_VERBS or token.pos_ not in ("VERB", "AUX"):
        return False
    if any(c.dep_ == "auxpass" for c in token.children) or is_past(token):
        return False
    node, subject, modal = token, None, False
    for _ in range(3):  # walk up "will be able to help" to the clause with the subject
        modal = modal or any(
            c.dep_ == "aux" and c.lemma_ in ("will", "can", "shall", "go") for c in node.children
        )
        subject = next((c for c in node.children if c.dep_ == "nsubj"), None)
        if subject is not None or node.dep_ not in ("xcomp", "acomp") or node.head is node:
            break
        node = node.head
    if subject is None or not modal or not {subject.lower_, subject.lemma_.lower()} & DEST_NOUNS:
        return False
    left = token.doc[subject.left_edge.i : token.i]
    return destination(left) is not None and not is_negated([token])


@functools.cache
def _default_detector() -> TransferDetector:
    return TransferDetector().fit()


def find_transfers(
    turns: Sequence[tuple[str, str]], detector: TransferDetector | None = None
) -> list[TransferHit]:
    """Transfers announced in a call's ``(speaker, text)`` turns (agent/unknown turns only).

    More than one hit means the call was transferred more than once.
    """
    return (detector or _default_detector()).find(turns)


def transfer_reason(text: str, detector: TransferDetector | None = None) -> str:
    """The reason of the first transfer announced in one agent text, else ``"none"``."""
    hits = find_transfers([("agent", text)], detector)
    return hits[0].reason if hits else "none"
