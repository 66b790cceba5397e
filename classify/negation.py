"""Is a matched phrase negated or only hypothetical? Decided on the dependency parse.

From each token a pattern matched, walk up the tree through the links that stay inside
one clause (``repeat`` -xcomp-> ``have``; ``rude`` -acomp-> ``was``), and look at each
node's children for a negation cue: a ``neg`` dependent (not, n't, never), a negative
subject (nobody, nothing, no one), a ``no`` determiner ("no wait"), ``hardly``/``barely``,
or an enclosing ``without``. The walk does not cross into sibling clauses, so contrast is
kept apart: in "the agent was friendly but I had to explain everything again" the
``but`` clause is its own subtree.

Cues that the pattern itself spells out ("never called back", "still not fixed") are the
complaint, not a negation of it, so the caller passes them in ``ignore``.

Hypotheticals ("that would have been helpful") count as negation; "should not" does not
("I shouldn't have to repeat myself" is a complaint).

Two clause-crossing walks are allowed: through verbs that pass negation down ("I don't
think he was rude") and into expectation verbs, whose complement did not happen ("I
expected to wait forever but got through in two minutes").
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Token

NEG_WORDS = frozenset(
    {
        "not", "n't", "nt", "never", "no", "nobody", "noone", "nothing", "none",
        "neither", "nor", "hardly", "barely", "scarcely",
    }
)  # fmt: skip
NEG_SUBJECTS = frozenset({"nobody", "noone", "nothing", "none", "neither"})
NEG_ADVERBS = frozenset({"never", "hardly", "barely", "scarcely"})
CUE_DEPS = frozenset({"neg", "advmod", "det", "nsubj", "nsubjpass", "preconj"})

# Links that keep us inside the clause of the matched phrase. Not subjects: in "the rude
# agent did not help", the negation belongs to "help", not to "rude".
CLAUSE_DEPS = frozenset(
    {
        "xcomp", "acomp", "attr", "oprd", "dobj", "dative", "pobj", "pcomp", "prep",
        "prt", "advmod", "amod", "compound", "aux", "auxpass",
    }
)  # fmt: skip
# "I don't think / wouldn't say he was rude": negation on these reaches their complement.
RAISING_VERBS = frozenset(
    {"think", "believe", "say", "feel", "seem", "remember", "recall", "suppose", "guess"}
)
# "I expected to wait forever / was worried I'd have to repeat myself": not an event.
EXPECTATION_WORDS = frozenset(
    {"expect", "fear", "worry", "worried", "dread", "anticipate", "assume", "brace", "hope"}
)
EXPECTATION_DEPS = frozenset({"xcomp", "ccomp", "acomp", "advcl"})
# "less than helpful", "anything but friendly", "far from resolved".
NEGATING_PREPS = frozenset({("than", "less"), ("but", "anything"), ("from", "far")})
HYPOTHETICAL_MODALS = frozenset({"would", "could", "might"})
NORMATIVE_MODALS = frozenset({"should", "shall"})
MAX_DEPTH = 8


def negation_cue(tokens: Iterable[Token], ignore: Collection[int] = ()) -> Token | None:
    """The token that negates (or makes hypothetical) the phrase ``tokens``, else None.

    ``tokens`` are the tokens a pattern named; ``ignore`` holds the indices of tokens
    that belong to the pattern itself ("never" in "never called back"), which are part of
    the phrase and so are never its negation.
    """
    for token in tokens:
        cue = _cue_above(token, ignore)
        if cue is not None:
            return cue
    return None


def _cue_above(token: Token, ignore: Collection[int]) -> Token | None:
    node = token
    for _ in range(MAX_DEPTH):
        cue = _cue_among_children(node, ignore)
        if cue is not None:
            return cue
        head = node.head
        if head is node:
            return None
        if head.lemma_ in EXPECTATION_WORDS and node.dep_ in EXPECTATION_DEPS:
            return head
        if not (
            node.dep_ in CLAUSE_DEPS
            or _or_conjunct(node)
            or (node.dep_ == "ccomp" and head.lemma_ in RAISING_VERBS)
        ):
            return None
        if head.i not in ignore and (
            head.lower_ == "without" or (head.lower_, head.head.lower_) in NEGATING_PREPS
        ):
            return head
        node = head
    return None


def _cue_among_children(node: Token, ignore: Collection[int]) -> Token | None:
    children = [child for child in node.children if child.i not in ignore]
    auxes = {child.lower_ for child in children if child.dep_ in ("aux", "auxpass")}
    for child in children:
        word = child.lower_
        if child.dep_ == "neg" or (word in NEG_ADVERBS and child.dep_ == "advmod"):
            # "not only ... but", "not just once" are emphasis; "I shouldn't have to repeat
            # myself" is a complaint about what did happen.
            if _not_only(child) or auxes & NORMATIVE_MODALS:
                continue
            return child
        if word in NEG_WORDS and child.dep_ in CUE_DEPS:
            return child
        if child.dep_ in ("nsubj", "nsubjpass"):
            if word in NEG_SUBJECTS:
                return child
            # "no one", "no agent": the determiner sits on the subject.
            for grandchild in child.children:
                if (
                    grandchild.dep_ == "det"
                    and grandchild.lower_ == "no"
                    and grandchild.i not in ignore
                ):
                    return grandchild
        # Counterfactual / hypothetical: "would have been helpful", "that would be great".
        hypothetical = child.dep_ == "aux" and word in HYPOTHETICAL_MODALS
        if hypothetical and (node.lemma_ == "be" or "have" in auxes):
            return child
    return None


def _not_only(cue: Token) -> bool:
    """Emphasis, not negation: "not only ... but", "not just once"."""
    nxt = cue.nbor(1) if cue.i + 1 < len(cue.doc) else None
    return nxt is not None and nxt.lower_ in ("only", "just", "once")


def _or_conjunct(node: Token) -> bool:
    """Negation spreads over ``or`` / ``nor`` conjuncts: "not rude or condescending"."""
    if node.dep_ != "conj":
        return False
    return any(
        c.dep_ in ("cc", "preconj") and c.lower_ in ("or", "nor") for c in node.head.children
    )
