"""Rule-based tagging: the taxonomy's spaCy ``Matcher`` patterns plus negation checks.

One ``Matcher`` per source holds the patterns that run on it: each tag's shared
``patterns`` where its file ``applies_to`` lists the source, plus its ``source_patterns``
for that source (an agent's "that's not my problem" is not a customer's).

``RuleTagger`` follows the sklearn convention so a learned tagger can replace it: the
constructor only stores its arguments, ``fit`` builds everything and returns ``self``,
fitted state lives in attributes ending in ``_``. Both return ``TagHit`` lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classify.negation import negation_cue
from classify.taxonomy import (
    SOURCES,
    Pattern,
    TagHit,
    TagSpec,
    Taxonomy,
    TaxonomyError,
    check_source,
    load_taxonomy,
)

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.matcher import Matcher
    from spacy.tokens import Doc, Span


@dataclass(frozen=True)
class _Rule:
    spec: TagSpec
    explicit: tuple[bool, ...]  # per pattern token: does it name words (vs. a gap)?
    key: str = ""  # the matcher key, e.g. "re-explain#3" (recorded on each hit)


class RuleTagger:
    """Tag texts with the taxonomy's lemma patterns, dropping negated matches.

    ``taxonomy``: a ``Taxonomy``, a path to a taxonomy JSON file, or None for the shipped
    default. ``nlp``: a spaCy pipeline with a parser and lemmatizer, or None for
    ``classify.nlp.load_nlp()``. Nothing is loaded until ``fit`` (``tag`` fits on first use).
    """

    method = "rule"

    def __init__(self, taxonomy: Taxonomy | str | Path | None = None, nlp: Language | None = None):
        self.taxonomy = taxonomy
        self.nlp = nlp

    def fit(self, texts: Sequence[str] | None = None, y: Any = None) -> RuleTagger:
        """Load the taxonomy and the pipeline and compile the patterns. ``texts``/``y``
        are accepted for API symmetry with learned taggers and ignored."""
        from spacy.errors import MatchPatternError
        from spacy.matcher import Matcher

        taxonomy = (
            self.taxonomy if isinstance(self.taxonomy, Taxonomy) else load_taxonomy(self.taxonomy)
        )
        if self.nlp is not None:
            nlp = self.nlp
        else:
            from classify.nlp import load_nlp

            nlp = load_nlp()
        rules: dict[int, _Rule] = {}
        matchers: dict[str, Matcher] = {}
        for source in SOURCES:
            matcher = Matcher(nlp.vocab, validate=True)
            for spec in taxonomy:
                for key, label, pattern in _patterns_for(spec, source):
                    try:
                        matcher.add(key, [list(pattern)])
                    except (MatchPatternError, ValueError) as exc:
                        raise TaxonomyError(
                            f"tag {spec.name!r} {label} is not a valid spaCy Matcher pattern: {exc}"
                        ) from None
                    rules[nlp.vocab.strings[key]] = _Rule(spec, _explicit_mask(pattern), key)
            matchers[source] = matcher
        self.taxonomy_ = taxonomy
        self.nlp_ = nlp
        self.matchers_ = matchers
        self.rules_ = rules
        self.order_ = {name: i for i, name in enumerate(taxonomy.names)}
        return self

    def tag(self, text: str, source: str = "comment") -> list[TagHit]:
        """Tags found in one text (a survey comment or one speaker turn)."""
        self._ready(source)
        return self.tag_doc(self.nlp_(text), source)

    def tag_many(
        self, texts: Iterable[str], source: str = "comment", batch_size: int = 64
    ) -> list[list[TagHit]]:
        """``tag`` for many texts of one source, parsed in batches (``nlp.pipe``)."""
        self._ready(source)
        return [self.tag_doc(doc, source) for doc in self.nlp_.pipe(texts, batch_size=batch_size)]

    def tag_doc(
        self, doc: Doc, source: str = "comment", suppressed: list[TagHit] | None = None
    ) -> list[TagHit]:
        """Tags found in an already-parsed ``Doc`` (made by this tagger's ``nlp_``).

        ``suppressed``: when a list is given, matches dropped as negated are appended to it
        (so a learned tagger combined with the rules does not re-add them).
        """
        self._ready(source)
        found: dict[tuple[str, int], TagHit] = {}
        for match_id, start, end, alignment in self.matchers_[source](doc, with_alignments=True):
            rule = self.rules_[match_id]
            first, last = doc[start].sent, doc[end - 1].sent
            key = (rule.spec.name, first.start)
            if key in found:  # one hit per tag per sentence
                continue
            if rule.spec.negation == "suppress" and _negated(doc, start, alignment, rule):
                if suppressed is not None:
                    suppressed.append(_hit(rule, doc, first, last))
                continue
            found[key] = _hit(rule, doc, first, last)
        return sorted(found.values(), key=lambda h: (h.start, self.order_[h.tag]))

    def _ready(self, source: str) -> None:
        check_source(source)
        if not hasattr(self, "matchers_"):
            self.fit()


def _patterns_for(spec: TagSpec, source: str) -> Iterator[tuple[str, str, Pattern]]:
    """(matcher key, name for errors, pattern) of each pattern ``spec`` runs on ``source``:
    the shared ones if they are written for it, then its ``source_patterns``."""
    if source in (spec.shared_sources or ()):
        for i, pattern in enumerate(spec.patterns):
            yield f"{spec.name}#{i}", f"pattern #{i}", pattern
    for i, pattern in enumerate(spec.source_patterns.get(source, ())):
        yield f"{spec.name}@{source}#{i}", f"source_patterns[{source!r}] pattern #{i}", pattern


def _negated(doc: Doc, start: int, alignment: list[int], rule: _Rule) -> bool:
    named = [doc[start + k] for k, p in enumerate(alignment) if rule.explicit[p]]
    # Words the pattern spells out ("never called back", "couldn't have been more
    # helpful") are the phrase itself, not a negation of it.
    return negation_cue(named, ignore={t.i for t in named}) is not None


def _hit(rule: _Rule, doc: Doc, first: Span, last: Span) -> TagHit:
    start, end = first.start_char, last.end_char
    raw = doc.text[start:end]
    stripped = raw.strip()
    start += len(raw) - len(raw.lstrip())
    return TagHit(
        tag=rule.spec.name, start=start, end=start + len(stripped), evidence=stripped,
        rule=rule.key,
    )  # fmt: skip


def _explicit_mask(pattern: Sequence[dict[str, Any]]) -> tuple[bool, ...]:
    """A pattern token names words unless it is a bare gap (``{}``, ``{"OP": "*"}``) or
    only excludes words (``{"LOWER": {"NOT_IN": [...]}}``)."""
    mask = []
    for token in pattern:
        constraints = {k: v for k, v in token.items() if k != "OP"}
        excluding = all(isinstance(v, dict) and set(v) <= {"NOT_IN"} for v in constraints.values())
        mask.append(bool(constraints) and not excluding)
    return tuple(mask)
