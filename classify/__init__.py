"""classify: texts -> tags with evidence (leaf library: imports neither ``qa`` nor
``transcribe`` and knows nothing of the database).

    from classify import RuleTagger
    tagger = RuleTagger().fit()          # shipped taxonomy, en_core_web_sm
    tagger.tag("I had to explain everything again", source="comment")
    # [TagHit(tag='re-explain', start=0, end=33, evidence='I had to explain everything again',
    #         method='rule', score=1.0)]

Importing this package is cheap: spaCy is imported, and its pipeline loaded, on first
``fit``/``tag``.
"""

from classify.nlp import load_nlp
from classify.rules import RuleTagger
from classify.taxonomy import (
    SOURCES,
    Tagger,
    TagHit,
    TagSpec,
    Taxonomy,
    TaxonomyError,
    default_taxonomy_path,
    load_taxonomy,
)

__all__ = [
    "SOURCES",
    "RuleTagger",
    "TagHit",
    "TagSpec",
    "Tagger",
    "Taxonomy",
    "TaxonomyError",
    "default_taxonomy_path",
    "load_nlp",
    "load_taxonomy",
]
