"""Suggested theme names: a short phrase from the theme's most central texts, else its top two
keywords, so no theme is shown as "(unnamed)" before a reviewer names it.

A phrase is two to four consecutive words of one of the theme's examples (most central
first) that starts and ends with a keyword and has only keywords and English stop words in
between: "lost luggage", "on hold for hours", "refund never arrived". It scores the summed
rank weights of the distinct keywords it holds (the top keyword weighs most) and needs two
of them; ties go to the shorter phrase, then the more central example. As every word of it
is a keyword or a stop word, a name carries no handle, link or number that the keywords do
not (keywords come from cleaned text: ``classify.cleaning``), and the examples are
cleaned again here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from classify.cleaning import TextCleaner

MAX_WORDS = 4
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def suggest_name(keywords: Sequence[str], examples: Sequence[str], fallback: str = "") -> str:
    """A short name for a theme (see the module docstring); ``fallback`` when it has neither
    keywords nor examples."""
    keys = [k.lower() for k in keywords if k.strip()]
    clean = TextCleaner()  # examples may be raw member texts: no handle or link in a name
    examples = [clean(text) for text in examples]
    weight = {k: len(keys) - i for i, k in enumerate(keys)}
    best: tuple[float, int, int] | None = None
    name = ""
    for rank, text in enumerate(examples[:5]):
        words = _WORD.findall(text)
        lower = [w.lower() for w in words]
        for start, first in enumerate(lower):
            if first not in weight:
                continue
            for end in range(start + 1, min(start + MAX_WORDS, len(words))):
                inner = lower[start : end + 1]
                if not all(w in weight or w in _stop_words() for w in inner):
                    break
                if inner[-1] not in weight:
                    continue
                held = set(inner) & weight.keys()
                if len(held) < 2:
                    continue
                score = (-sum(weight[w] for w in held), len(inner), rank)
                if best is None or score < best:
                    best, name = score, " ".join(inner)
    if name:
        return name
    if keys:
        return " / ".join(keys[:2])
    if examples:
        return " ".join(_WORD.findall(examples[0])[:MAX_WORDS]).lower() or fallback
    return fallback


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from classify.ctfidf import stop_word_list

    return frozenset(stop_word_list("english") or ())
