"""Spoken numbers and spelled e-mails in ASR text -> digits, with a map back to the original.

ASR writes "four four seven two", "double five", "oh" for zero and "john dot smith at example
dot com"; PII recognisers look for digits and ``@``. ``normalise_numbers`` rewrites those
spans and keeps, for every character of the result, the original character range it came
from, so a detection in the normalised text maps back to the exact original characters.
``transcribe.digit_runs`` then groups digits split by spaces or hyphens ("555 123-4567") and
decides which PII entity a run of a given length and context is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {
    "zero": 0, "oh": 0, "o": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_MULTIPLIERS = {"hundred": 100, "thousand": 1000}
_REPEATS = {"double": 2, "triple": 3, "treble": 3}
_NUMBER_WORDS = {"digit", "teen", "tens", "mult"}
# "oh" / "o" only mean zero next to other digits ("five oh five"), never on their own.
_WEAK_ZEROS = {"oh", "o"}

_TOKEN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\d+")  # "o'clock" is one word, not "o"
# What may sit between two number tokens of one spoken run: spaces, a comma or hyphen, or a
# sentence stop followed by a space (ASR punctuates digit strings: "four, four. seven").
_WORD_GAP = re.compile(r"\s+|\s*[,\-]\s*|\.\s+")

_SEP_WORDS = {
    "dot": ".", "period": ".", "underscore": "_", "dash": "-", "hyphen": "-", "at": "@", "@": "@",
}  # fmt: skip
_TLDS = "com|net|org|edu|gov|io|co|uk|us|ca|au|de|fr|ie|nz|in|info|biz|me"
_EMAIL = re.compile(
    r"\b(?P<local>[a-z0-9]+(?:(?:\s+(?:dot|period|underscore|dash|hyphen)\s+|[._-])[a-z0-9]+)*)"
    r"(?:\s+at\s+|\s*@\s*)"
    rf"[a-z0-9]+(?:(?:\s+dot\s+|\.)[a-z0-9]+)*(?:\s+dot\s+|\.)(?:{_TLDS})\b",
    re.IGNORECASE,
)
_EMAIL_SEP = re.compile(r"\s+(dot|period|underscore|dash|hyphen|at)\s+|\s*@\s*", re.IGNORECASE)
# "looking at example dot com" is a web site, not an e-mail address.
_NOT_LOCAL_PART = {
    "look", "looking", "looked", "it", "that", "this", "me", "us", "them", "him", "her", "you",
    "is", "was", "are", "go", "went", "going", "be", "site", "website", "online", "out", "here",
    "there", "back", "all", "up", "on", "in", "email", "emailed", "sign", "log",
}  # fmt: skip


@dataclass(frozen=True)
class NormalisedText:
    """``text`` derived from ``original``; character i of ``text`` came from
    ``original[starts[i]:ends[i]]``."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the span ``text[start:end]`` to the original characters it came from."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(
                f"span {start}:{end} is empty or outside the normalised text "
                f"(length {len(self.text)})"
            )
        return self.starts[start], self.ends[end - 1]


@dataclass(frozen=True)
class _Token:
    kind: str  # digit | teen | tens | mult | repeat | and | num | other
    value: int
    text: str
    start: int
    end: int

    @property
    def weak(self) -> bool:
        return self.text.lower() in _WEAK_ZEROS


def normalise_numbers(text: str) -> NormalisedText:
    """Rewrite spoken e-mails and runs of two or more number words as digits.

    "four four seven two" -> "4472", "double five" -> "55", "five oh five" -> "505",
    "eight hundred five five five" -> "800555", "forty two" -> "42", "john dot smith at
    example dot com" -> "john.smith@example.com". A lone number word stays as it is.
    """
    pieces, taken = _email_pieces(text)
    for run in _number_runs(text):
        if not any(s < run[-1].end and run[0].start < e for s, e in taken):
            pieces.extend(_parse_run(run))
    pieces.sort()
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    cursor = 0
    for start, end, replacement in pieces:
        out.append(text[cursor:start])
        starts.extend(range(cursor, start))
        ends.extend(range(cursor + 1, start + 1))
        out.append(replacement)
        starts.extend([start] * len(replacement))
        ends.extend([end] * len(replacement))
        cursor = end
    out.append(text[cursor:])
    starts.extend(range(cursor, len(text)))
    ends.extend(range(cursor + 1, len(text) + 1))
    return NormalisedText(text, "".join(out), tuple(starts), tuple(ends))


def _email_pieces(text: str) -> tuple[list[tuple[int, int, str]], list[tuple[int, int]]]:
    """Pieces that turn an e-mail's spoken separators into ``. _ - @``, and its spans."""
    pieces: list[tuple[int, int, str]] = []
    spans: list[tuple[int, int]] = []
    for match in _EMAIL.finditer(text):
        local_words = re.split(r"\W+", match["local"].lower())
        if len(local_words) == 1 and local_words[0] in _NOT_LOCAL_PART:
            continue
        spans.append(match.span())
        base = match.start()
        for sep in _EMAIL_SEP.finditer(match.group()):
            word = (sep.group(1) or "@").lower()
            pieces.append((base + sep.start(), base + sep.end(), _SEP_WORDS[word]))
    return pieces, spans


def _classify(match: re.Match[str]) -> _Token:
    word = match.group().lower()
    for kind, table in (
        ("digit", _UNITS), ("teen", _TEENS), ("tens", _TENS), ("mult", _MULTIPLIERS),
        ("repeat", _REPEATS),
    ):  # fmt: skip
        if word in table:
            return _Token(kind, table[word], match.group(), match.start(), match.end())
    kind = "num" if word.isdigit() else "and" if word == "and" else "other"
    return _Token(kind, 0, match.group(), match.start(), match.end())


def _number_runs(text: str) -> list[list[_Token]]:
    """Maximal runs of number tokens joined only by spaces / light punctuation."""
    tokens = [_classify(m) for m in _TOKEN.finditer(text)]
    runs: list[list[_Token]] = []
    run: list[_Token] = []
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        joined = nxt is not None and _WORD_GAP.fullmatch(text[tok.end : nxt.start]) is not None
        if tok.kind == "and":  # only inside "one hundred and five"
            ok = bool(run) and run[-1].kind == "mult" and joined and nxt.kind in _NUMBER_WORDS
        elif tok.kind == "repeat":  # "double five"; "double" alone is just a word
            ok = joined and nxt.kind == "digit"
        else:
            ok = tok.kind != "other"
        if ok and run and _WORD_GAP.fullmatch(text[run[-1].end : tok.start]) is None:
            runs.append(run)
            run = []
        if ok:
            run.append(tok)
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    return [r for r in runs if _worth_rewriting(r)]


def _worth_rewriting(run: list[_Token]) -> bool:
    """Two or more tokens, at least one a number word that is not a bare "oh"."""
    return len(run) >= 2 and any(t.kind in _NUMBER_WORDS | {"repeat"} and not t.weak for t in run)


def _parse_run(run: list[_Token]) -> list[tuple[int, int, str]]:
    """One replacement piece per number read in the run; the gaps between them vanish."""
    pieces: list[tuple[int, int, str]] = []
    i = 0
    while i < len(run):
        if i:  # the gap before this token: dropped, so the digits join up
            pieces.append((run[i - 1].end, run[i].start, ""))
        tok = run[i]
        if tok.kind == "num":
            digits, j = tok.text, i + 1
        elif tok.kind == "repeat":
            digits, j = str(run[i + 1].value) * tok.value, i + 2
        elif tok.kind == "and":
            digits, j = "", i + 1
        else:
            value, j = _cardinal(run, i)
            digits = str(value)
        pieces.append((tok.start, run[j - 1].end, digits))
        i = j
    return pieces


def _below_hundred(run: list[_Token], i: int) -> tuple[int, int]:
    tok = run[i]
    if tok.kind == "mult":  # "hundred" said on its own means one hundred
        return 1, i
    nxt = run[i + 1] if i + 1 < len(run) else None
    if tok.kind == "tens" and nxt and nxt.kind == "digit" and nxt.value and not nxt.weak:
        return tok.value + nxt.value, i + 2
    return tok.value, i + 1


def _cardinal(run: list[_Token], i: int) -> tuple[int, int]:
    """Parse "forty two", "eight hundred", "two thousand and twenty four" from run[i]."""
    value, j = _below_hundred(run, i)
    for mult in (100, 1000):
        if j < len(run) and run[j].kind == "mult" and run[j].value == mult:
            value *= mult
            tail, j = _after_multiplier(run, j + 1, mult)
            value += tail
    return value, j


def _after_multiplier(run: list[_Token], j: int, mult: int) -> tuple[int, int]:
    """The part after "hundred" / "thousand" that belongs to the same number.

    A lone digit joins only when it ends the run or follows "and": in "eight hundred five
    five five" the fives are digits of a phone number, not 805.
    """
    has_and = j < len(run) and run[j].kind == "and"
    k = j + 1 if has_and else j
    if k >= len(run):
        return 0, j
    tok = run[k]
    if tok.kind in ("tens", "teen"):
        return _below_hundred(run, k)
    if tok.kind == "digit" and not tok.weak:
        nxt = run[k + 1] if k + 1 < len(run) else None
        if mult == 1000 and nxt and nxt.kind == "mult" and nxt.value == 100:
            tail, end = _after_multiplier(run, k + 2, 100)
            return tok.value * 100 + tail, end
        if has_and or k == len(run) - 1:
            return tok.value, k + 1
    return 0, j
