"""Digit runs in (normalised) text and the PII entity each one is.

``find_digit_runs`` groups digits split by spaces or hyphens ("555 123-4567");
``classify_digit_run`` decides which PII entity a run of a given length and context is (card,
SSN, security code, ZIP, account or phone number), or None for an ordinary number. Spoken
numbers become digits first (``transcribe.numbers.normalise_numbers``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Digit groups of one run: "4111 1111", "555-123-4567", "(555) 123 4567", "4, 4, 7".
_DIGIT_GAP = re.compile(r"\s{1,2}|\s?[-\u2013]\s?|,\s?|\)\s?|\.\s")
_CURRENCY_BEFORE = re.compile(r"[$£€]\s?$")
_UNIT_AFTER = re.compile(
    r"^\s?(?:%|percent|dollars?|pounds?|euros?|cents?|pence|bucks|quid|[.,]\d)", re.IGNORECASE
)
CONTEXT_WINDOW = 60
_CONTEXT = {
    "ssn": re.compile(r"\b(?:ssn|s s n|social|social security)\b"),
    "account": re.compile(
        r"\b(?:account|acct|member|membership|policy|reference|ref|order|customer (?:number|id)"
        r"|confirmation|ticket|case|claim|invoice|routing|sort code|tracking|booking|loan"
        r"|subscriber|contract|iban|id number)\b"
    ),
    "phone": re.compile(
        r"\b(?:phone|telephone|call|callback|cell|mobile|reach|text|fax|landline|number)\b"
    ),
    "security": re.compile(
        r"\b(?:cvv|cvc|cv2|security code|pin|passcode|verification code|code on the back)\b"
    ),
    "zip": re.compile(r"\b(?:zip|zipcode|postcode|postal code)\b"),
}
_PLUS_BEFORE = re.compile(r"\bplus\s$", re.IGNORECASE)


@dataclass(frozen=True)
class DigitRun:
    """Digits that belong together, e.g. "(555) 123-4567"; offsets into the searched text."""

    start: int
    end: int
    digits: str
    groups: tuple[int, ...]


def find_digit_runs(text: str) -> list[DigitRun]:
    """Digit groups separated only by spaces, hyphens, commas or brackets, as runs."""
    runs: list[DigitRun] = []
    groups: list[re.Match[str]] = []
    for match in re.finditer(r"\d+", text):
        if groups and _DIGIT_GAP.fullmatch(text[groups[-1].end() : match.start()]) is None:
            runs.append(_make_run(text, groups))
            groups = []
        groups.append(match)
    if groups:
        runs.append(_make_run(text, groups))
    return runs


def _make_run(text: str, groups: list[re.Match[str]]) -> DigitRun:
    start = groups[0].start()
    if start > 0 and text[start - 1] in "(+":  # "(555) 123" and "+44 7700" keep their sign
        start -= 1
    return DigitRun(
        start, groups[-1].end(), "".join(g.group() for g in groups),
        tuple(len(g.group()) for g in groups),
    )  # fmt: skip


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return bool(digits) and total % 10 == 0


def classify_digit_run(run: DigitRun, text: str) -> str | None:
    """The PII entity a digit run in ``text`` is, or None for an ordinary number.

    13-19 digits: CREDIT_CARD when Luhn-valid, else ACCOUNT_NUMBER; 4-9 digits after
    "social"/"ssn": US_SSN; 3-4 after "cvv"/"pin": SECURITY_CODE; 5 or 9 after "zip":
    STREET_ADDRESS; 6-12 after "account", "member", "policy", "reference"...: ACCOUNT_NUMBER;
    9: US_SSN; 10-11, 8-15 after "+"/"plus", 7 or 12 after "phone"/"call"/"number":
    PHONE_NUMBER. Money, percentages, decimals and dates (2024-03-15) are never PII here.
    """
    before, after = text[max(0, run.start - CONTEXT_WINDOW) : run.start], text[run.end :]
    # The cue belongs to the nearest number: "account 1234567, phone 5551234567".
    before = re.split(r"\d", before)[-1]
    if _CURRENCY_BEFORE.search(before) or _UNIT_AFTER.match(after) or _looks_like_date(run):
        return None
    n = len(run.digits)
    context = {name for name, pattern in _CONTEXT.items() if pattern.search(before.lower())}
    if 13 <= n <= 19:
        return "CREDIT_CARD" if luhn_valid(run.digits) else "ACCOUNT_NUMBER"
    if "ssn" in context and 4 <= n <= 9:
        return "US_SSN"
    if "security" in context and 3 <= n <= 4:
        return "SECURITY_CODE"
    if "zip" in context and n in (5, 9):
        return "STREET_ADDRESS"
    if "account" in context and 6 <= n <= 12:
        return "ACCOUNT_NUMBER"
    if n == 9:
        return "US_SSN"
    international = text[run.start] == "+" or _PLUS_BEFORE.search(before)
    if 10 <= n <= 11 or (n in (7, 12) and "phone" in context) or (international and n >= 8):
        return "PHONE_NUMBER"
    return None


def _looks_like_date(run: DigitRun) -> bool:
    return run.groups in ((4, 2, 2), (2, 2, 4), (4, 1, 1), (1, 1, 4))
