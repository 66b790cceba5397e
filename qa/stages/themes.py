"""Theme stage: cluster survey comments and customer turns into themes that keep their ids
night after night; reviewers rename themes or promote them to tags.

Each night, ``theme_calls``:

1. collects the texts (non-empty survey comments; customer / unknown-speaker turns of at
   least ``MIN_WORDS`` words: "yes", "okay thanks" are no theme), keyed by
   ``(call id, source, turn index)``; members whose text changed or vanished are dropped;
2. **incremental** (the usual night): only the new texts are embedded and each joins the
   theme whose centroid is closest if the cosine reaches ``assign_threshold``, else it is
   stored unassigned (``cluster_id`` NULL);
3. **full re-cluster** when asked (``full=True``), when there are no themes yet, when the
   embedding model changed, or when more than ``recluster_fraction`` of the texts are
   unassigned: every text is embedded and clustered (``classify.themes.ThemeModel``), and
   new clusters are matched to the previous themes by member overlap (Hungarian, Jaccard),
   so a theme that continues keeps its id and its reviewer-given label. Themes that no
   longer exist keep their row with ``size`` 0 (ids and names are never reused).

Texts are embedded and give keywords after cleaning (``classify.cleaning``: links, @handles,
ticket numbers and the names in ``models/stopwords.txt`` removed); members keep the text as
said. Keywords (c-TF-IDF) and examples (highest cosine to the centroid) are refreshed after
either path. A full re-cluster records how k was chosen (``ThemeFit``: the criterion's
curve, for the Themes tab). The whole stage is one transaction: a crash leaves last night's
themes.

``Cluster.label`` is empty until a reviewer names the theme; until then the theme is shown
by its suggested name (``classify.naming``, from keywords and examples). Naming and
promoting themes is ``qa.stages.theme_review``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from classify.cleaning import TextCleaner
from qa.store.schema import Call, Cluster, Survey, ThemeFit, ThemeMember, Turn

MIN_WORDS = 4
N_KEYWORDS = 8
N_EXAMPLES = 3
Key = tuple[int, str, int | None]  # (call id, "comment" | "transcript", turn index)
Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class ThemeReport:
    """What one theme run did. ``mode``: ``full`` | ``incremental`` | ``none`` (too few
    texts). ``assigned``/``unassigned`` count texts placed in this run."""

    mode: str
    texts: int
    assigned: int
    unassigned: int
    themes: int
    new_themes: int = 0
    ended_themes: int = 0


def theme_calls(
    engine: Engine,
    *,
    embed: Embed,
    model_name: str = "all-MiniLM-L6-v2",
    full: bool = False,
    k: int | None = None,
    assign_threshold: float = 0.5,
    recluster_fraction: float = 0.3,
    min_texts: int = 20,
    k_range: tuple[int, int] | None = None,
    cleaner: TextCleaner | None = None,
    model_options: dict[str, Any] | None = None,
) -> ThemeReport:
    """Bring the themes up to date with the database's texts (see the module docstring).

    ``embed`` maps texts to unit vectors (``classify.embeddings.Embedder().encode``);
    ``model_name`` names it, so centroids from another model are never mixed in.
    ``k_range``: bounds on an automatic k (``--min-k``, ``--max-k``). ``cleaner``: what is
    removed before embedding and keywords (default: links, handles, numbers only).
    """
    clean = cleaner if cleaner is not None else TextCleaner()
    with Session(engine, expire_on_commit=False) as session:
        texts = collect_texts(session)
        members = {_key(m): m for m in session.exec(select(ThemeMember))}
        for key, member in list(members.items()):
            if texts.get(key) != member.text:  # text changed or gone: assign it afresh
                session.delete(member)
                del members[key]
        clusters = {c.id: c for c in session.exec(select(Cluster)) if c.id is not None}
        active = {i: c for i, c in clusters.items() if c.size > 0 and c.centroid}
        fresh = [key for key in texts if key not in members]
        unassigned = sum(m.cluster_id is None for m in members.values())
        stale_model = any(c.model != model_name for c in active.values())
        if len(texts) < min_texts:
            session.commit()
            return ThemeReport("none", len(texts), 0, 0, len(active))
        if not (full or not active or stale_model):
            report = ThemeReport("incremental", len(texts), 0, 0, len(active))
            if fresh:
                fresh_texts = clean.for_embedding(texts[key] for key in fresh)
                vectors = np.asarray(embed(fresh_texts), dtype=np.float32)
                report = _assign(session, active, fresh, texts, vectors, assign_threshold)
                unassigned += report.unassigned
            if unassigned <= recluster_fraction * len(texts):
                _refresh(session, active, clean)
                session.commit()
                return report
        options = {"k_range": k_range, "entities": clean.entities, **(model_options or {})}
        report = _recluster(session, clusters, texts, embed, model_name, k, assign_threshold,
                            options, clean)  # fmt: skip
        session.commit()
        return report


def collect_texts(session: Session) -> dict[Key, str]:
    """Survey comments and customer turns worth clustering, by member key."""
    out: dict[Key, str] = {}
    rows = session.exec(
        select(Call.id, Survey.comment).join(
            Survey, col(Survey.call_external_id) == Call.external_id
        )
    )
    for call_id, comment in rows:
        if comment and comment.strip() and call_id is not None:
            out[(call_id, "comment", None)] = comment.strip()
    turns = session.exec(
        select(Turn)
        .where(col(Turn.speaker).in_(("customer", "unknown")))
        .order_by(Turn.call_id, Turn.index)
    )
    for turn in turns:
        if len(turn.text.split()) >= MIN_WORDS:
            out[(turn.call_id, "transcript", turn.index)] = turn.text.strip()
    return out


def _key(member: ThemeMember) -> Key:
    return (member.call_id, member.source, member.turn_index)


def _assign(
    session: Session,
    active: dict[int, Cluster],
    keys: list[Key],
    texts: dict[Key, str],
    vectors: np.ndarray,
    threshold: float,
) -> ThemeReport:
    ids = list(active)
    centroids = np.asarray([active[i].centroid for i in ids], dtype=np.float32)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sims = vectors @ centroids.T
    best = sims.argmax(axis=1)
    assigned = 0
    for row, key in enumerate(keys):
        score = float(sims[row, best[row]])
        cluster_id = ids[best[row]] if score >= threshold else None
        assigned += cluster_id is not None
        session.add(_member(key, texts[key], cluster_id, score))
    session.flush()
    return ThemeReport("incremental", len(texts), assigned, len(keys) - assigned, len(active))


def _recluster(
    session: Session,
    clusters: dict[int, Cluster],
    texts: dict[Key, str],
    embed: Embed,
    model_name: str,
    k: int | None,
    threshold: float,
    options: dict[str, Any],
    clean: TextCleaner,
) -> ThemeReport:
    from classify.themes import PreviousThemes, ThemeModel

    keys = list(texts)
    model = ThemeModel(k, assign_threshold=threshold, **options)
    vectors = np.asarray(embed(model.clean_texts([texts[key] for key in keys])), np.float32)
    previous: dict[int, set[Hashable]] = {}
    for member in session.exec(select(ThemeMember).where(col(ThemeMember.cluster_id).is_not(None))):
        previous.setdefault(member.cluster_id, set()).add(_key(member))  # type: ignore[arg-type]
    model.fit(
        [texts[key] for key in keys],
        vectors,
        keys=keys,
        previous=PreviousThemes(
            {i: frozenset(m) for i, m in previous.items() if i in clusters}, frozenset(clusters)
        ),
    )
    session.exec(delete(ThemeMember))
    db_ids: dict[int, int] = {}
    now = datetime.now()
    for theme in model.themes_:
        row = clusters.get(theme.id) or Cluster(created_at=now)
        row.centroid = [float(v) for v in theme.centroid]
        row.model, row.size, row.updated_at = model_name, theme.size, now
        session.add(row)
        session.flush()
        db_ids[theme.id] = row.id  # type: ignore[assignment]
    ended = 0
    for cluster_id, row in clusters.items():
        if cluster_id not in db_ids and row.size > 0:
            row.size, row.centroid, row.updated_at = 0, [], now
            session.add(row)
            ended += 1
    _, sims = model.similarities([texts[key] for key in keys], vectors)
    for key, label, score in zip(keys, model.labels_.tolist(), sims.tolist(), strict=True):
        session.add(_member(key, texts[key], db_ids.get(label), score))
    session.flush()
    active = {db_ids[t.id]: session.get(Cluster, db_ids[t.id]) for t in model.themes_}
    _refresh(session, active, clean)  # type: ignore[arg-type]
    session.add(_fit_record(model, len(keys), model_name))
    assigned = int((model.labels_ != -1).sum())
    new = sum(1 for t in model.themes_ if t.id not in clusters)
    return ThemeReport(
        "full", len(keys), assigned, len(keys) - assigned, len(model.themes_), new, ended
    )


def _member(key: Key, text: str, cluster_id: int | None, similarity: float) -> ThemeMember:
    call_id, source, turn_index = key
    return ThemeMember(
        cluster_id=cluster_id, call_id=call_id, source=source, turn_index=turn_index,
        text=text, similarity=round(similarity, 6),
    )  # fmt: skip


def _fit_record(model: Any, n_texts: int, model_name: str) -> ThemeFit:
    """How ``model`` (a fitted ``ThemeModel``) chose k, as a ``ThemeFit`` row."""
    lo, hi = model.k_range if model.k_range else (None, None)
    return ThemeFit(
        k=model.k_, chosen=model.k is None, criterion=model.criterion, min_k=lo, max_k=hi,
        texts=n_texts, curve=[[k, v] for k, v in sorted(model.k_curve_.items())],
        model=model_name,
    )  # fmt: skip


def _refresh(session: Session, active: dict[int, Cluster], clean: TextCleaner) -> None:
    """Recompute sizes, c-TF-IDF keywords and examples of ``active`` from their members."""
    from classify.ctfidf import keywords

    members = list(
        session.exec(select(ThemeMember).where(col(ThemeMember.cluster_id).in_(list(active))))
    )
    words = keywords(clean.many(m.text for m in members), [m.cluster_id for m in members],
                     N_KEYWORDS)  # fmt: skip
    for cluster_id, row in active.items():
        own = sorted(
            (m for m in members if m.cluster_id == cluster_id), key=lambda m: -m.similarity
        )
        row.size = len(own)
        row.keywords = list(words.get(cluster_id, ()))
        row.examples = list(dict.fromkeys(m.text for m in own))[:N_EXAMPLES]
        row.updated_at = datetime.now()
        session.add(row)
    session.flush()


def update_themes(
    engine: Engine,
    *,
    full: bool = False,
    k: int | None = None,
    k_range: tuple[int, int] | None = None,
    models_dir: Path | None = None,
) -> ThemeReport:
    """Bring the themes up to date: new texts join their closest theme, or everything is
    re-clustered (``full``, first run, changed model, too many unassigned texts). The names
    in ``models_dir/stopwords.txt`` are removed before clustering."""
    from classify.cleaning import cleaner_for
    from classify.embeddings import Embedder

    embedder = Embedder()
    return theme_calls(
        engine, embed=embedder.encode, model_name=f"{embedder.model}:{embedder.backend_name}",
        full=full, k=k, k_range=k_range, cleaner=cleaner_for(models_dir),
    )  # fmt: skip
