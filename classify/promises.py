"""Callback promises in agent turns: ``callback-promised`` hits, so a later stage can check
whether the promise was kept.

    from classify.promises import PromiseTagger
    PromiseTagger().tag("I'll call you back tomorrow morning.", source="agent")
    # [TagHit(tag='callback-promised', start=0, end=36,
    #         evidence="I'll call you back tomorrow morning.", method='rule', score=1.0)]

A promise is an agent sentence that matches a lemma pattern (call / ring / get back to you,
reach out, follow up, send you a confirmation, you'll get an email, a callback arranged)
said about the future: the verb carries "will", "'ll", "going to", "should", "can" or is
asked for with "let me"; or a callback was arranged ("I've booked a callback"). Negated
phrases ("we don't do callbacks", "nobody will call you") and reports of the past ("I
emailed you yesterday") are not promises, and neither are questions ("shall I call you
back?": an offer, not yet a commitment).

``PromiseTagger`` follows the ``classify.Tagger`` protocol, so the pipeline can run it next
to the rule tagger: it only answers for ``source="agent"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from classify.speech_acts import AGENT_SPEAKERS, is_negated, is_past
from classify.tagging import TagHit, check_source

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

TAG = "callback-promised"
_YOU = ["you", "ya", "u"]
_THINGS = ["confirmation", "email", "e-mail", "mail", "text", "sms", "message", "letter", "link",
           "receipt", "update", "summary", "copy", "form", "reference", "quote", "statement",
           "notification", "label", "details", "information", "info", "callback", "call",
           "number", "ticket", "code", "voucher", "refund", "check", "cheque", "paperwork",
           "document", "contract", "invoice", "tracking"]  # fmt: skip
_CALLBACK = ["callback", "callbacks", "call-back", "call-backs", "follow-up", "followup"]
PATTERNS: list[list[dict[str, Any]]] = [
    # "I'll call you back", "someone will ring you back", "we'll get back to you"
    [{"LEMMA": {"IN": ["call", "ring", "phone"]}}, {"LOWER": {"IN": _YOU}}, {"LOWER": "back"}],
    [{"LEMMA": "get"}, {"LOWER": "back"}, {"LOWER": "to"}, {"LOWER": {"IN": _YOU}}],
    # "I'll give you a call", "we'll give you a ring tomorrow"
    [{"LEMMA": "give"}, {"LOWER": {"IN": _YOU}}, {"LOWER": {"IN": ["a", "an"]}}, {"OP": "?"},
     {"LEMMA": {"IN": ["call", "ring", "callback", "buzz", "update"]}}],
    # "someone will reach out", "I'll follow up", "we will contact / email / text you"
    [{"LEMMA": "reach"}, {"LOWER": "out"}],
    [{"LEMMA": "follow"}, {"ORTH": "-", "OP": "?"}, {"LOWER": "up"}],
    [{"LEMMA": {"IN": ["contact", "email", "e-mail", "text", "call", "ring", "phone", "message",
                       "notify", "update", "mail", "visit"]}, "POS": "VERB"},
     {"LOWER": {"IN": _YOU}}],
    # "I will send you a confirmation", "I'll email over the details"
    [{"LEMMA": {"IN": ["send", "email", "text", "mail", "forward"]}},
     {"LOWER": {"IN": ["you", "it", "that", "this", "over", "out", "a", "an", "the", "your"]},
      "OP": "{0,3}"}, {"LEMMA": {"IN": _THINGS}}],
    # "you'll get an email", "you should receive a confirmation", "you'll hear from us"
    [{"LOWER": {"IN": _YOU}}, {"OP": "{0,3}"}, {"LEMMA": {"IN": ["get", "receive", "expect"]}},
     {"OP": "{0,3}"}, {"LEMMA": {"IN": [*_THINGS, "visit", "technician", "engineer"]}}],
    [{"LEMMA": "hear"}, {"LOWER": {"IN": ["from", "back"]}}],
    # "someone will be in touch", "we'll get in touch"
    [{"LEMMA": {"IN": ["be", "get", "keep"]}}, {"LOWER": "in"}, {"LOWER": "touch"}],
    # "I've scheduled a callback for 3pm", "we don't do callbacks" (negated: no hit)
    [{"LEMMA": {"IN": ["schedule", "arrange", "book", "set", "put", "do", "offer", "log",
                       "request", "organise", "organize"]}}, {"OP": "{0,3}"},
     {"LOWER": {"IN": _CALLBACK}}],
]  # fmt: skip
FUTURE = frozenset({"will", "shall", "should", "can", "gonna", "'ll"})
ARRANGE = frozenset(
    {"schedule", "arrange", "book", "set", "put", "log", "request", "organise", "organize"}
)


class PromiseTagger:
    """``callback-promised`` hits in agent turns (``classify.Tagger`` protocol)."""

    method = "rule"

    def __init__(self, nlp: Language | None = None):
        self.nlp = nlp

    def fit(self, texts: Sequence[str] | None = None, y: Any = None) -> PromiseTagger:
        """Load the pipeline and compile the patterns; returns ``self``."""
        from spacy.matcher import Matcher

        if self.nlp is not None:
            nlp = self.nlp
        else:
            from classify.nlp import load_nlp

            nlp = load_nlp()
        self.matcher_ = Matcher(nlp.vocab, validate=True)
        self.matcher_.add(TAG, PATTERNS)
        self.nlp_ = nlp
        return self

    def tag(self, text: str, source: str = "agent") -> list[TagHit]:
        """Promises made in one turn; empty unless ``source`` is ``agent``."""
        return self.tag_many([text], source=source)[0]

    def tag_many(
        self, texts: Iterable[str], source: str = "agent", batch_size: int = 64
    ) -> list[list[TagHit]]:
        check_source(source)
        texts = list(texts)
        if source != "agent":
            return [[] for _ in texts]
        if not hasattr(self, "matcher_"):
            self.fit()
        return [self.tag_doc(doc) for doc in self.nlp_.pipe(texts, batch_size=batch_size)]

    def tag_doc(self, doc: Doc) -> list[TagHit]:
        """Promises in an already-parsed ``Doc`` (one hit per sentence)."""
        found: dict[int, TagHit] = {}
        for _, start, end in self.matcher_(doc):
            sent = doc[start].sent
            if sent.start in found or sent.text.rstrip().endswith("?"):
                continue
            span = doc[start:end]
            verbs = [t for t in span if t.pos_ == "VERB"] or [t for t in span if t.dep_ == "ROOT"]
            verb = verbs[0] if verbs else span.root
            if not _promised(verb) or is_negated(span):
                continue
            raw = sent.text
            begin = sent.start_char + len(raw) - len(raw.lstrip())
            text = raw.strip()
            found[sent.start] = TagHit(TAG, begin, begin + len(text), text, "rule", 1.0)
        return [found[k] for k in sorted(found)]


def _promised(verb: Token) -> bool:
    """``verb`` is said about the future (or, for an arranged callback, already set up)."""
    if is_past(verb) and not (verb.lemma_ in ARRANGE and _has_aux(verb, {"have", "'ve"})):
        return False
    node = verb
    for _ in range(3):  # "someone is going to call you", "I'll be able to send you"
        if _has_aux(node, FUTURE) or (node.lemma_ in ("let", "go") and node is not verb):
            return True
        if node.lemma_ in ARRANGE and node.tag_ in ("VBN", "VBG"):
            return True  # "I've booked you a callback", "I'm scheduling a callback"
        if node.head is node or node.dep_ not in ("xcomp", "ccomp", "acomp", "conj"):
            return False
        node = node.head
    return False


def _has_aux(token: Token, words: set[str] | frozenset[str]) -> bool:
    return any(
        c.dep_ in ("aux", "auxpass") and (c.lower_ in words or c.lemma_ in words)
        for c in token.children
    )


def find_promises(
    turns: Sequence[tuple[str, str]], tagger: PromiseTagger | None = None
) -> list[tuple[int, TagHit]]:
    """``(turn index, hit)`` for each promise in a call's agent (or unknown) turns."""
    tagger = tagger or PromiseTagger()
    where = [i for i, (speaker, text) in enumerate(turns) if speaker in AGENT_SPEAKERS and text]
    hits = tagger.tag_many([turns[i][1] for i in where], source="agent")
    return [(i, hit) for i, turn_hits in zip(where, hits, strict=True) for hit in turn_hits]
