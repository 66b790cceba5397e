"""Class-based TF-IDF (c-TF-IDF, as in BERTopic): the words that set one cluster apart.

All texts of a cluster are treated as one document. For term ``t`` and cluster ``c``::

    W[t, c] = tf[t, c] * log(1 + A / f[t])

where ``tf[t, c]`` is the frequency of ``t`` in ``c`` divided by the number of terms in
``c`` (so big clusters do not win by size), ``f[t]`` the frequency of ``t`` over all
clusters and ``A`` the average number of terms per cluster. English stop words are removed
and only words of two or more letters count (no numbers: "24 hours" is not a theme).
``stop_words="english"`` is sklearn's English list plus the stems that contractions leave
("didn't" -> "didn") and the fillers of transcribed speech ("um", "yeah", "okay").
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_']*[^\W\d_]\b"
"""Words of at least two letters (digits and underscores are separators)."""

EXTRA_STOP_WORDS = frozenset(
    {
        "aren", "couldn", "didn", "doesn", "don", "hadn", "hasn", "haven", "isn", "mustn",
        "needn", "shan", "shouldn", "wasn", "weren", "won", "wouldn", "ve", "ll", "re", "im",
        "ive", "id", "youre", "dont", "didnt", "doesnt", "cant", "wont", "isnt", "wasnt", "um",
        "umm", "uh", "uhm", "erm", "hmm", "mm", "mhm", "yeah", "yep", "yes", "okay", "ok", "oh",
        "ah", "hi", "hello", "gonna", "wanna", "gotta", "kinda", "like", "just",
    }
)  # fmt: skip
"""Added to sklearn's English stop words when ``stop_words="english"``."""


def stop_word_list(stop_words: str | Sequence[str] | None) -> list[str] | None:
    """``"english"`` -> sklearn's list + ``EXTRA_STOP_WORDS``; a list is used as given."""
    if stop_words is None:
        return None
    if isinstance(stop_words, str):
        if stop_words != "english":
            raise ValueError(f"unknown stop word list {stop_words!r}; valid: 'english', a list")
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return sorted(ENGLISH_STOP_WORDS | EXTRA_STOP_WORDS)
    return list(stop_words)


def ctfidf(
    docs: Sequence[str],
    *,
    stop_words: str | Sequence[str] | None = "english",
    ngram_range: tuple[int, int] = (1, 1),
) -> tuple[np.ndarray, list[str]]:
    """c-TF-IDF weights (clusters x terms) of ``docs`` (one concatenated document per
    cluster) and the term list. A corpus with no usable words gives an empty term list."""
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(
        stop_words=stop_word_list(stop_words),
        ngram_range=ngram_range,
        token_pattern=TOKEN_PATTERN,
        lowercase=True,
    )
    try:
        counts = vectorizer.fit_transform(docs).toarray().astype(np.float64)
    except ValueError:  # empty vocabulary: only stop words, numbers or nothing at all
        return np.zeros((len(docs), 0)), []
    per_class = counts.sum(axis=1, keepdims=True)
    tf = counts / np.maximum(per_class, 1.0)
    average = counts.sum() / max(len(docs), 1)
    idf = np.log1p(average / np.maximum(counts.sum(axis=0), 1.0))
    return tf * idf, list(vectorizer.get_feature_names_out())


def keywords(
    texts: Sequence[str],
    labels: Sequence[Hashable],
    n: int = 8,
    *,
    stop_words: str | Sequence[str] | None = "english",
    ngram_range: tuple[int, int] = (1, 1),
    ignore: Hashable = -1,
) -> dict[Hashable, tuple[str, ...]]:
    """The ``n`` top c-TF-IDF terms of each cluster label (texts labelled ``ignore``, the
    unassigned ones, take part in no cluster). Ties are broken alphabetically."""
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels; they must pair up")
    groups: dict[Hashable, list[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        if label != ignore:
            groups.setdefault(label, []).append(text)
    if not groups:
        return {}
    names = list(groups)
    weights, terms = ctfidf(
        [" ".join(groups[name]) for name in names], stop_words=stop_words, ngram_range=ngram_range
    )
    out: dict[Hashable, tuple[str, ...]] = {}
    order = np.argsort(terms, kind="stable")  # alphabetical rank breaks ties
    rank = np.empty(len(terms), dtype=np.int64)
    rank[order] = np.arange(len(terms))
    for row, name in enumerate(names):
        hot = np.flatnonzero(weights[row] > 0)
        ranked = hot[np.lexsort((rank[hot], -np.round(weights[row, hot], 12)))]
        out[name] = tuple(terms[j] for j in ranked[:n])
    return out
