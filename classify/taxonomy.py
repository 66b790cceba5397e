"""The tag vocabulary (loaded from JSON) and the result type every tagger returns.

The shipped taxonomy is data, not code: ``models/taxonomy.json`` at the repository root.
Adding a tag means adding an entry there (description, which texts it scans, spaCy
``Matcher`` token patterns, example sentences); nothing in Python changes.

This module is standard-library only so that importing it stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

SOURCES = ("comment", "customer", "agent")
"""Which texts a tag scans: survey comments, customer turns, agent turns."""

NEGATION_MODES = ("suppress", "ignore")
"""``suppress``: a hit whose match is negated ("I did not have to repeat anything") is
dropped. ``ignore``: negation is not checked. Negation words written into a pattern
("never called back") are part of the complaint and never suppress it."""

METHODS = ("rule", "model", "human")

_TOP_KEYS = {"version": True, "description": False, "tags": True}
_TAG_KEYS = {
    "description": True,
    "applies_to": True,
    "patterns": True,
    "examples": True,
    "negative_examples": False,
    "negation": False,
}
MIN_EXAMPLES = 3


class TaxonomyError(ValueError):
    """A taxonomy file that cannot be used; the message says where and what is valid."""


@dataclass(frozen=True)
class TagHit:
    """One tag found in one text.

    ``start``/``end`` are character offsets into the tagged text and
    ``text[start:end] == evidence`` (the sentence, or span, that triggered the tag).
    ``method`` is ``rule`` | ``model`` | ``human``; ``score`` is 1.0 for rules.
    """

    tag: str
    start: int
    end: int
    evidence: str
    method: str = "rule"
    score: float = 1.0


@dataclass(frozen=True)
class TagSpec:
    """One tag of the taxonomy."""

    name: str
    description: str
    applies_to: tuple[str, ...]
    patterns: tuple[tuple[dict[str, Any], ...], ...] = field(hash=False)
    examples: tuple[str, ...]
    negative_examples: tuple[str, ...] = ()
    negation: str = "suppress"

    def applies(self, source: str) -> bool:
        return source in self.applies_to


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


class Tagger(Protocol):
    """What every tagger offers (rules now; a learned embedding tagger later).

    sklearn-style: the constructor only stores its arguments, ``fit`` returns ``self``.
    """

    def fit(self, texts: Sequence[str] | None = None, y: Any = None) -> Tagger: ...

    def tag(self, text: str, source: str = "comment") -> list[TagHit]: ...

    def tag_many(
        self, texts: Sequence[str], source: str = "comment", batch_size: int = 64
    ) -> list[list[TagHit]]: ...


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; valid sources: {', '.join(SOURCES)}")
    return source


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
    return TagSpec(
        name=name,
        description=description,
        applies_to=tuple(dict.fromkeys(applies_to)),
        patterns=_parse_patterns(body["patterns"], at),
        examples=_parse_sentences(body["examples"], at, "examples", MIN_EXAMPLES),
        negative_examples=_parse_sentences(
            body.get("negative_examples", []), at, "negative_examples", 0
        ),
        negation=negation,
    )


def _parse_patterns(patterns: Any, at: str) -> tuple[tuple[dict[str, Any], ...], ...]:
    hint = 'e.g. [[{"LEMMA": "repeat"}, {"LOWER": "myself"}]]'
    if not isinstance(patterns, list) or not patterns:
        raise TaxonomyError(
            f"{at}: 'patterns' must be a non-empty list of spaCy Matcher token patterns, {hint}"
        )
    out = []
    for i, pattern in enumerate(patterns):
        if (
            not isinstance(pattern, list)
            or not pattern
            or not all(isinstance(token, dict) for token in pattern)
        ):
            raise TaxonomyError(
                f"{at}: pattern #{i} must be a non-empty list of token objects, {hint}; "
                f"got {pattern!r}"
            )
        out.append(tuple(pattern))
    return tuple(out)


def _parse_sentences(value: Any, at: str, key: str, minimum: int) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or len(value) < minimum
        or not all(isinstance(s, str) and s.strip() for s in value)
    ):
        raise TaxonomyError(
            f"{at}: {key!r} must be a list of at least {minimum} non-empty sentences"
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
