"""The example bank: labelled customer-voice texts the default learned tagger is built from.

``models/tag_examples.jsonl`` holds one JSON object per line::

    {"text": "Passed me on to billing, then back again", "tags": ["transfer"],
     "kind": "positive", "source": "written for callqa 2026-12-03 (bank writer A)"}

``tags`` lists every tag the text carries (closed world over the tags the bank names: a
tag not listed is a negative); ``kind`` is ``positive``, ``hard-negative`` (a near miss of
the tag named by ``near``: negations, sarcasm, money transfers, "not rude at all") or
``neutral``; ``source`` is where the example came from; ``group`` (optional) names the
labelled comment set a line came from (``dev``, ``dev2``, ``dev3``: realistic survey
comments by three further writers), so that ``benchmarks/tagging.py`` can leave one set out,
train on the rest and score the set it left out. ``models/TAGGING_GUIDE.md`` is how the
texts were labelled. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

KINDS = ("positive", "hard-negative", "neutral")
BANK_FILE = "tag_examples.jsonl"


class ExampleBankError(ValueError):
    """An example bank that cannot be used; the message names the file and line."""


def default_bank_path() -> Path:
    """``models/tag_examples.jsonl`` at the repository root."""
    return Path(__file__).resolve().parents[1] / "models" / BANK_FILE


@dataclass(frozen=True)
class BankExample:
    """One labelled text of the bank."""

    text: str
    tags: frozenset[str]
    kind: str
    source: str
    near: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class ExampleBank:
    """The bank's examples, the tags it labels, and a hash of its content."""

    examples: tuple[BankExample, ...]
    tags: tuple[str, ...]
    digest: str
    path: Path | None = None

    def __iter__(self) -> Iterator[BankExample]:
        return iter(self.examples)

    def __len__(self) -> int:
        return len(self.examples)

    def without(self, group: str) -> ExampleBank:
        """The bank less the lines of ``group`` (its digest marks the difference)."""
        kept = tuple(ex for ex in self.examples if ex.group != group)
        digest = hashlib.sha256(f"{self.digest}-{group}".encode()).hexdigest()[:16]
        return ExampleBank(kept, self.tags, digest, self.path)

    def groups(self) -> dict[str, tuple[BankExample, ...]]:
        """group name -> its lines, in file order."""
        out: dict[str, list[BankExample]] = {}
        for ex in self.examples:
            if ex.group:
                out.setdefault(ex.group, []).append(ex)
        return {name: tuple(lines) for name, lines in out.items()}

    def counts(self) -> dict[str, tuple[int, int]]:
        """tag -> (texts that carry it, hard negatives written for it)."""
        return {
            tag: (
                sum(tag in ex.tags for ex in self.examples),
                sum(ex.near == tag for ex in self.examples),
            )
            for tag in self.tags
        }


def load_bank(path: str | Path | None = None, known_tags: tuple[str, ...] = ()) -> ExampleBank:
    """Read and check an example bank (default: the shipped one).

    ``known_tags``: when given, a tag outside it is an error that lists the valid names.
    Duplicate texts are an error too (one text, one label set).
    """
    where = Path(path) if path is not None else default_bank_path()
    if not where.is_file():
        raise ExampleBankError(f"{where}: no example bank there")
    raw = where.read_bytes()
    examples: list[BankExample] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        example = _parse(line, f"{where}:{number}", known_tags)
        key = example.text.casefold()
        if key in seen:
            raise ExampleBankError(
                f"{where}:{number}: duplicate text (first on line {seen[key]}): {example.text!r}"
            )
        seen[key] = number
        examples.append(example)
    if not examples:
        raise ExampleBankError(f"{where}: the example bank is empty")
    named = {t for ex in examples for t in ex.tags} | {ex.near for ex in examples if ex.near}
    tags = tuple(sorted(named))
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return ExampleBank(tuple(examples), tags, digest, where)


def _parse(line: str, where: str, known_tags: tuple[str, ...]) -> BankExample:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ExampleBankError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise ExampleBankError(f"{where}: expected an object")
    text, tags, kind = row.get("text"), row.get("tags", []), row.get("kind")
    source, near, group = row.get("source"), row.get("near"), row.get("group")
    if not isinstance(text, str) or not text.strip():
        raise ExampleBankError(f"{where}: 'text' must be a non-empty string")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ExampleBankError(f"{where}: 'tags' must be a list of tag names")
    if kind not in KINDS:
        raise ExampleBankError(f"{where}: 'kind' is {kind!r}; valid: {', '.join(KINDS)}")
    if not isinstance(source, str) or not source.strip():
        raise ExampleBankError(f"{where}: 'source' (where the example came from) is missing")
    if near is not None and not isinstance(near, str):
        raise ExampleBankError(f"{where}: 'near' must be a tag name")
    if group is not None and (not isinstance(group, str) or not group.strip()):
        raise ExampleBankError(f"{where}: 'group' must be a set name such as 'dev2'")
    if known_tags:
        unknown = sorted({*tags, *([near] if near else [])} - set(known_tags))
        if unknown:
            raise ExampleBankError(
                f"{where}: unknown tag(s) {unknown}; valid: {', '.join(known_tags)}"
            )
    if kind == "positive" and not tags:
        raise ExampleBankError(f"{where}: a positive example needs at least one tag")
    if near is not None and near in tags:
        raise ExampleBankError(f"{where}: a near miss of {near!r} cannot carry {near!r}")
    return BankExample(
        text.strip(), frozenset(tags), kind, source.strip(), near, group.strip() if group else None
    )
