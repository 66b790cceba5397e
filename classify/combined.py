"""Rules first, the learned model for what they miss.

A rule hit is kept as is (``method="rule"``, score 1.0), except on a text the model speaks
for when the model's probability for that tag is below the tag's *rule floor*
(``rule_floors_`` of the default model, cross-validated on the example bank by
``classify.default_model.rule_trust``; 0, keep every rule hit, for a model without them):
a pattern that also fires on near misses ("great service, only took three hours" for
``agent-praise``) is then overruled by a model that is sure the tag is absent. The
model adds a tag the rules did not find in that text when its probability reaches the
tag's cross-validated cut-off (``LearnedTagger.cutoff``; ``model_threshold`` overrides it
for every tag) (``method="model"``, score = probability, evidence = its best sentence by
spaCy's split).

Negation guard: embeddings barely tell "I had to repeat everything" from "I did not have to
repeat anything". So a sentence may not support a model hit for a tag when (a) the rule
tagger matched that tag's phrase there and dropped it as negated, or (b) the parse shows
the sentence's main clause negated ("I did not have to ...", "nobody was ...") and the tag
is one whose texts are affirmative. A tag is worded with negations, and (b) does not apply
to it, when its taxonomy examples or the texts the model learned it from
(``negation_ok_`` of the default model) negate a main clause at least
``NEGATION_OK_SHARE`` of the time: ``unresolved``'s "still not fixed", ``broken-callback``'s
"nobody ever called back". A text with such a sentence is tagged only if another sentence
reaches the threshold on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classify.learned import split_sentences
from classify.negation import NEG_WORDS
from classify.rules import RuleTagger
from classify.tagging import TagHit, check_source

NEGATION = re.compile(
    r"n't\b|\b(?:" + "|".join(sorted(w for w in NEG_WORDS if w.isalpha())) + r")\b", re.IGNORECASE
)
"""A negation word anywhere in a text (``classify.negation.NEG_WORDS``)."""


class CombinedTagger:
    """``RuleTagger`` + ``LearnedTagger``; ``tag``/``tag_many`` like ``RuleTagger``.

    ``rules``: a ``RuleTagger`` (fitted or not; default: the shipped taxonomy).
    ``model``: a fitted ``LearnedTagger`` or a path to one saved with ``save``; None means
    rules only. ``prefilter``: parse only texts a rule could match (same results, faster).
    Nothing is loaded until ``fit`` (``tag`` fits on first use).
    """

    method = "combined"

    def __init__(
        self,
        rules: RuleTagger | None = None,
        model: Any = None,
        model_threshold: float | None = None,
        prefilter: bool = True,
    ):
        self.rules = rules
        self.model = model
        self.model_threshold = model_threshold
        self.prefilter = prefilter

    def fit(self, texts: Sequence[str] | None = None, y: Any = None) -> CombinedTagger:
        """Fit the rule tagger if needed and load the model if a path was given. ``texts``
        and ``y`` are ignored (train the model with ``LearnedTagger.fit``)."""
        rules = self.rules if self.rules is not None else RuleTagger()
        if not hasattr(rules, "matchers_"):
            rules.fit()
        model = self.model
        if isinstance(model, (str, Path)):
            from classify.learned import LearnedTagger

            model = LearnedTagger.load(model)
        if model is not None and not hasattr(model, "classifiers_"):
            raise ValueError("CombinedTagger needs a fitted LearnedTagger (or None for rules only)")
        self.rules_ = rules
        self.model_ = model
        # A learned model holds an onnxruntime session, whose threads do not survive a fork.
        self.fork_safe_ = model is None
        self.order_ = {name: i for i, name in enumerate(rules.taxonomy_.names)}
        self.negation_ok_ = _negation_ok(rules, getattr(model, "negation_ok_", {}))
        # Rule floors only for tags the model scores (absent from models trained elsewhere).
        self.floors_: dict[str, float] = {}
        self.columns_: dict[str, int] = {}
        if model is not None:
            self.columns_ = {tag: j for j, tag in enumerate(model.tags_)}
            self.floors_ = {
                tag: float(floor)
                for tag, floor in getattr(model, "rule_floors_", {}).items()
                if tag in self.columns_ and floor > 0
            }
        if self.prefilter:
            from classify.prefilter import RulePrefilter

            self.prefilter_ = RulePrefilter(rules)
        return self

    @property
    def version(self) -> str:
        """Identifies taxonomy + model, so the pipeline re-tags when either changes."""
        self._ready()
        fingerprint = getattr(self.model_, "fingerprint_", "none") if self.model_ else "none"
        return f"{self.rules_.taxonomy_.version}+model:{fingerprint}"

    def tag(self, text: str, source: str = "comment") -> list[TagHit]:
        return self.tag_many([text], source)[0]

    def tag_many(
        self, texts: Iterable[str], source: str = "comment", batch_size: int = 64
    ) -> list[list[TagHit]]:
        """Rule hits + model hits for texts of one source.

        One embedding pass; the full spaCy parse only for texts a rule could match
        (``classify.prefilter``), since the parse is the expensive part; model hits on the
        other texts take their evidence sentence from a regex splitter.
        """
        check_source(source)
        self._ready()
        texts = list(texts)
        rules, model = self.rules_, self.model_
        parse = [True] * len(texts)
        if self.prefilter:
            parse = self.prefilter_.candidates(texts, source)
        proba = model.predict_proba(texts) if model is not None and texts else None
        rule_hits: list[list[TagHit]] = [[] for _ in texts]
        spans: list[list[tuple[int, int]]] = [[(0, len(t))] for t in texts]
        if proba is not None:
            # A text the prefilter skips needs no parse for its model hits unless it holds
            # a negation word (the negation guard reads the parse): the evidence sentence
            # comes from a regex splitter. Parsing every flagged text was ~40 % of tagging
            # 50,000 texts.
            hot = (proba >= model.cutoffs(self.model_threshold)).any(axis=1)
            for i in np.flatnonzero(hot):
                if parse[i]:
                    continue
                if NEGATION.search(texts[i]):  # may be a negated complaint: parse it
                    parse[i] = True
                else:
                    spans[i] = split_sentences(texts[i]) or [(0, len(texts[i]))]
        blocked: list[dict[str, set[int]]] = [{} for _ in texts]
        todo = [i for i, p in enumerate(parse) if p]
        for i, doc in zip(
            todo, rules.nlp_.pipe([texts[i] for i in todo], batch_size=batch_size), strict=True
        ):
            dropped: list[TagHit] = []
            rule_hits[i] = rules.tag_doc(doc, source, suppressed=dropped)
            if proba is not None:
                sents = [s for s in doc.sents if s.text.strip()] or [doc[:]]
                spans[i] = [_stripped(s) for s in sents]
                blocked[i] = self._blocked(sents, dropped)
        if proba is None:
            return rule_hits
        model_hits = model.hits(
            texts, proba, spans, source, threshold=self.model_threshold, blocked=blocked
        )
        return [
            self._merge(r, m, source, p)
            for r, m, p in zip(rule_hits, model_hits, proba, strict=True)
        ]

    def _blocked(self, sents: list[Any], dropped: list[TagHit]) -> dict[str, set[int]]:
        """tag -> sentences that may not support a model hit of it (see module docstring)."""
        from classify.negation import negation_cue

        out: dict[str, set[int]] = {}
        for k, sent in enumerate(sents):
            for hit in dropped:
                if hit.start < sent.end_char and sent.start_char < hit.end:
                    out.setdefault(hit.tag, set()).add(k)
            if negation_cue([sent.root]) is not None:
                for tag in self.model_.tags_:
                    if not self.negation_ok_.get(tag, True):
                        out.setdefault(tag, set()).add(k)
        return out

    def _merge(
        self, rule: list[TagHit], model: list[TagHit], source: str, proba: np.ndarray
    ) -> list[TagHit]:
        """Rule hits the model does not overrule (its probability ``proba`` for the tag
        below the tag's rule floor, on a source it speaks for) + model hits of other tags."""
        taxonomy = self.rules_.taxonomy_
        out = [hit for hit in rule if not self._overruled(hit.tag, source, proba)]
        have = {hit.tag for hit in out}
        for hit in model:
            if hit.tag in have:
                continue
            if hit.tag in taxonomy and not taxonomy[hit.tag].applies(source):
                continue
            out.append(hit)
        last = len(self.order_)
        return sorted(out, key=lambda h: (h.start, self.order_.get(h.tag, last), h.tag))

    def _overruled(self, tag: str, source: str, proba: np.ndarray) -> bool:
        floor = self.floors_.get(tag)
        if floor is None or not self.model_._applies(tag, source):
            return False  # agent turns and tags without a floor: every rule hit counts
        return bool(proba[self.columns_[tag]] < floor)

    def _ready(self) -> None:
        if not hasattr(self, "rules_"):
            self.fit()


NEGATION_OK_SHARE = 0.25
"""A tag whose examples are negated at least this often is worded with negations."""


def negated(doc: Any) -> bool:
    """Does a sentence of the parsed ``doc`` negate its main clause?"""
    from classify.negation import negation_cue

    return any(negation_cue([s.root]) is not None for s in doc.sents)


def _negation_ok(rules: RuleTagger, learned: dict[str, bool]) -> dict[str, bool]:
    """Per taxonomy tag: do its own examples, or (``learned``: tag -> bool, from the
    model's training texts) the texts the model learned it from, often negate the main
    clause?"""
    out = {}
    for spec in rules.taxonomy_:
        examples = list(
            dict.fromkeys(ex for src in spec.applies_to for ex in spec.examples_for(src))
        )
        docs = list(rules.nlp_.pipe(examples))
        share = sum(map(negated, docs)) / len(docs) if docs else 0.0
        affirmative = not docs or share < NEGATION_OK_SHARE
        out[spec.name] = not affirmative or learned.get(spec.name, False)
    return out


def _stripped(sent: Any) -> tuple[int, int]:
    raw = sent.text
    start = sent.start_char + len(raw) - len(raw.lstrip())
    return start, sent.start_char + len(raw.rstrip())
