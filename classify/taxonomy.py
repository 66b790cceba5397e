"""The tag vocabulary, loaded from JSON (what taggers return: ``classify.tagging``).

The shipped taxonomy is data, not code: ``models/taxonomy.json`` at the repository root.
Adding a tag means adding an entry there (description, which texts it scans, spaCy
``Matcher`` token patterns, example sentences); nothing in Python changes.

A tag's ``patterns`` run on every source in its ``applies_to``; optional ``source_patterns``
(``{"agent": [...]}``) run on that source only, since each party words a complaint its own
way (customer: "the agent was rude"; agent: "that's not my problem"). A source named there is
scanned without being listed in ``applies_to`` (listing it would run the shared patterns on
it too). ``source_examples`` / ``source_negative_examples`` are that source's sentences.

This module is standard-library only so that importing it stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classify.tagging import SOURCES, check_source
from classify.tagging import Tagger as Tagger  # re-exported: they lived here first
from classify.tagging import TagHit as TagHit

Pattern = tuple[dict[str, Any], ...]
"""One spaCy ``Matcher`` token pattern."""

NEGATION_MODES = ("suppress", "ignore")
"""``suppress``: a hit whose match is negated ("I did not have to repeat anything") is
dropped. ``ignore``: negation is not checked. Negation words written into a pattern
("never called back") are part of the complaint and never suppress it."""

_TOP_KEYS = {"version": True, "description": False, "tags": True}
_TAG_KEYS = {
    "description": True,
    "applies_to": True,
    "patterns": True,
    "examples": True,
    "negative_examples": False,
    "negation": False,
    "source_patterns": False,
    "source_examples": False,
    "source_negative_examples": False,
}
MIN_EXAMPLES = 3


class TaxonomyError(ValueError):
    """A taxonomy file that cannot be used; the message says where and what is valid."""


@dataclass(frozen=True)
class TagSpec:
    """One tag of the taxonomy.

    ``applies_to``: every source the tag scans. ``shared_sources``: those the shared
    ``patterns`` (and ``examples`` / ``negative_examples``) are written for, i.e. the file's
    ``applies_to``; None means all of ``applies_to``. ``source_patterns`` /
    ``source_examples`` / ``source_negative_examples`` map one source to what applies to
    that source only; their sources are added to ``applies_to``. The mappings are read-only
    by convention (plain dicts, so a spec still pickles).
    """

    name: str
    description: str
    applies_to: tuple[str, ...]
    patterns: tuple[Pattern, ...] = field(hash=False)
    examples: tuple[str, ...]
    negative_examples: tuple[str, ...] = ()
    negation: str = "suppress"
    source_patterns: dict[str, tuple[Pattern, ...]] = field(default_factory=dict, hash=False)
    source_examples: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    source_negative_examples: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    shared_sources: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        shared = self.applies_to if self.shared_sources is None else self.shared_sources
        scanned = dict.fromkeys((*self.applies_to, *shared, *self.source_patterns))
        object.__setattr__(self, "shared_sources", tuple(shared))
        object.__setattr__(self, "applies_to", tuple(scanned))

    def applies(self, source: str) -> bool:
        return source in self.applies_to

    def patterns_for(self, source: str) -> tuple[Pattern, ...]:
        """The patterns run on ``source``: shared ones (if written for it) + its own."""
        return self._for(source, self.patterns, self.source_patterns)

    def examples_for(self, source: str) -> tuple[str, ...]:
        """Sentences of ``source`` that must get the tag."""
        return self._for(source, self.examples, self.source_examples)

    def negative_examples_for(self, source: str) -> tuple[str, ...]:
        """Sentences of ``source`` that must not get the tag."""
        return self._for(source, self.negative_examples, self.source_negative_examples)

    def _for(self, source: str, shared: tuple, own: dict[str, tuple]) -> tuple:
        check_source(source)
        return (shared if source in (self.shared_sources or ()) else ()) + own.get(source, ())


@dataclass(frozen=True)
class Taxonomy:
    """An ordered set of tags plus the version string that identifies this vocabulary."""

    version: str
    tags: tuple[TagSpec, ...]
    description: str = ""
    path: Path | None = field(default=None, compare=False)

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.tags]

    def __iter__(self) -> Iterator[TagSpec]:
        return iter(self.tags)

    def __len__(self) -> int:
        return len(self.tags)

    def __contains__(self, name: object) -> bool:
        return any(spec.name == name for spec in self.tags)

    def __getitem__(self, name: str) -> TagSpec:
        for spec in self.tags:
            if spec.name == name:
                return spec
        raise KeyError(f"unknown tag {name!r}; valid tags: {', '.join(self.names)}")

    def tags_for(self, source: str) -> list[str]:
        """Names of the tags that scan ``source`` ("comment" | "customer" | "agent")."""
        check_source(source)
        return [spec.name for spec in self.tags if source in spec.applies_to]


def default_taxonomy_path() -> Path:
    """``models/taxonomy.json`` at the repository root (beside the ``classify`` package)."""
    return Path(__file__).resolve().parents[1] / "models" / "taxonomy.json"


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file (the shipped default when ``path`` is None)."""
    where = Path(path) if path is not None else default_taxonomy_path()
    try:
        text = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaxonomyError(f"{where}: taxonomy file not found") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise TaxonomyError(
            f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    except TaxonomyError as exc:
        raise TaxonomyError(f"{where}: {exc}") from None
    return parse_taxonomy(data, where)


def parse_taxonomy(data: Any, where: str | Path = "<taxonomy>") -> Taxonomy:
    """Validate an already-decoded taxonomy document (``load_taxonomy`` without the file)."""
    _check_keys(data, _TOP_KEYS, f"{where}", "top level")
    version = data["version"]
    if not isinstance(version, str) or not version.strip():
        raise TaxonomyError(f"{where}: 'version' must be a non-empty string, got {version!r}")
    tags = data["tags"]
    if not isinstance(tags, dict) or not tags:
        raise TaxonomyError(
            f"{where}: 'tags' must be a non-empty object mapping tag name -> tag definition"
        )
    specs = tuple(_parse_tag(name, body, where) for name, body in tags.items())
    description = data.get("description", "")
    if not isinstance(description, str):
        raise TaxonomyError(f"{where}: 'description' must be a string")
    path = Path(where) if isinstance(where, Path) else None
    return Taxonomy(version=version, tags=specs, description=description, path=path)


def _parse_tag(name: Any, body: Any, where: str | Path) -> TagSpec:
    at = f"{where}: tag {name!r}"
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise TaxonomyError(f"{at}: tag names must be non-empty strings without outer spaces")
    _check_keys(body, _TAG_KEYS, at, "tag definition")
    description = body["description"]
    if not isinstance(description, str) or not description.strip():
        raise TaxonomyError(f"{at}: 'description' must be a non-empty string")
    applies_to = body["applies_to"]
    if (
        not isinstance(applies_to, list)
        or not applies_to
        or any(source not in SOURCES for source in applies_to)
    ):
        raise TaxonomyError(
            f"{at}: 'applies_to' must be a non-empty list drawn from {list(SOURCES)}, "
            f"got {applies_to!r}"
        )
    negation = body.get("negation", "suppress")
    if negation not in NEGATION_MODES:
        raise TaxonomyError(
            f"{at}: 'negation' must be one of {list(NEGATION_MODES)}, got {negation!r}"
        )
    source_patterns = _by_source(
        body, "source_patterns", at, lambda v, label: _parse_patterns(v, at, label)
    )

    def sentences(value: Any, label: str) -> tuple[str, ...]:
        return _parse_sentences(value, at, label, 1)

    examples = _by_source(body, "source_examples", at, sentences)
    negatives = _by_source(body, "source_negative_examples", at, sentences)
    for source in examples:
        if source not in (*applies_to, *source_patterns):
            raise TaxonomyError(
                f"{at}: 'source_examples' names source {source!r}, which this tag does not "
                "scan; add it to 'applies_to' (shared patterns) or 'source_patterns'"
            )
    return TagSpec(
        name=name,
        description=description,
        applies_to=tuple(dict.fromkeys(applies_to)),  # TagSpec adds source_patterns' sources
        patterns=_parse_patterns(body["patterns"], at),
        examples=_parse_sentences(body["examples"], at, "'examples'", MIN_EXAMPLES),
        negative_examples=_parse_sentences(
            body.get("negative_examples", []), at, "'negative_examples'", 0
        ),
        negation=negation,
        source_patterns=source_patterns,
        source_examples=examples,
        source_negative_examples=negatives,
    )


def _by_source(
    body: dict[str, Any], key: str, at: str, parse: Callable[[Any, str], Any]
) -> dict[str, Any]:
    """An optional ``{source: list}`` field; each list is checked by ``parse(list, label)``."""
    if key not in body:
        return {}
    value = body[key]
    valid = ", ".join(SOURCES)
    if not isinstance(value, dict) or not value:
        raise TaxonomyError(
            f"{at}: {key!r} must be a non-empty object mapping a source ({valid}) to a list, "
            f"got {value!r}"
        )
    unknown = [source for source in value if source not in SOURCES]
    if unknown:
        raise TaxonomyError(f"{at}: {key!r}: unknown source(s) {unknown}; valid sources: {valid}")
    return {source: parse(item, f"{key}[{source!r}]") for source, item in value.items()}


def _parse_patterns(patterns: Any, at: str, label: str = "'patterns'") -> tuple[Pattern, ...]:
    """``label`` names the list in errors; its items are "pattern #i" (prefixed for
    ``source_patterns[...]``)."""
    hint = 'e.g. [[{"LEMMA": "repeat"}, {"LOWER": "myself"}]]'
    if not isinstance(patterns, list) or not patterns:
        raise TaxonomyError(
            f"{at}: {label} must be a non-empty list of spaCy Matcher token patterns, {hint}"
        )
    each = "pattern" if label == "'patterns'" else f"{label} pattern"
    out = []
    for i, pattern in enumerate(patterns):
        if (
            not isinstance(pattern, list)
            or not pattern
            or not all(isinstance(token, dict) for token in pattern)
        ):
            raise TaxonomyError(
                f"{at}: {each} #{i} must be a non-empty list of token objects, {hint}; "
                f"got {pattern!r}"
            )
        out.append(tuple(pattern))
    return tuple(out)


def _parse_sentences(value: Any, at: str, label: str, minimum: int) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or len(value) < minimum
        or not all(isinstance(s, str) and s.strip() for s in value)
    ):
        raise TaxonomyError(
            f"{at}: {label} must be a list of at least {minimum} non-empty sentences"
        )
    return tuple(value)


def _check_keys(obj: Any, keys: dict[str, bool], at: str, what: str) -> None:
    if not isinstance(obj, dict):
        raise TaxonomyError(f"{at}: the {what} must be a JSON object, got {type(obj).__name__}")
    valid = ", ".join(keys)
    unknown = sorted(set(obj) - set(keys))
    if unknown:
        raise TaxonomyError(f"{at}: unknown key(s) {unknown} in the {what}; valid keys: {valid}")
    missing = [key for key, required in keys.items() if required and key not in obj]
    if missing:
        raise TaxonomyError(f"{at}: missing key(s) {missing} in the {what}; valid keys: {valid}")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise TaxonomyError(f"duplicate key {key!r} (a tag or field defined twice)")
        seen[key] = value
    return seen
