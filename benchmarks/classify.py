"""Classify benchmark: one table of theme, tagging and speed results on public data.

    .venv/bin/python benchmarks/classify.py            # everything (speed on 50,000 texts)
    .venv/bin/python benchmarks/classify.py --quick    # smaller samples (a smoke run)
    .venv/bin/python benchmarks/classify.py --skip speed,clinc

Themes: ``classify.themes.ThemeModel`` on BANKING77 test (3,080 queries, 77 intents) and
on the negative US-airline tweets with a ``negativereason`` (9,178 tweets, 10 reasons; the
airline names listed as entities, as a user would in ``models/stopwords.txt``). One row per
change (``THEME_STEPS``: each adds one thing to the row above), with k given (77 / 10) and
chosen automatically (airline: on three seeds), NMI / ARI against the labels; for the
airline, NMI against the airline too (clusters by company, not complaint) and how many
theme names or keywords carry a handle, link or airline name. Then what was measured and
not kept: k-means, PCA and (if umap-learn is installed) UMAP before clustering.
K criteria: per k, NMI, the graph eigenvalue, the silhouette and the stability under
resampling (ARI between two 80 % subsamples), and the k that each criterion picks.
Sampled embeddings (what ``qa text cluster`` does past ``--exact-texts``): NMI of
ThemeModel on BANKING77 train+test (13,083 queries) and CLINC150 in-scope (22,500, 150
intents) when every text gets the transformer's vector, and when only N do (the
clustering sample first) and the rest get ``classify.sampled_embed.FittedStatic`` vectors.
Tagging: negative US-airline tweets labelled with their ``negativereason`` (10 classes,
stratified 80/20 split): macro-F1 of ``classify.learned.LearnedTagger`` (argmax of its
per-tag probabilities) trained on 10 examples per class (mean of 5 draws) and on the
full training split. CLINC150: intent accuracy of the same tagger (in-scope test set).
Speed: on N distinct texts from all the public sets: rules only (``RuleTagger``),
embeddings (``Embedder``, model load excluded), clustering alone, and the whole
``qa text tag`` / ``qa text cluster`` processes (start-up, model load, CSV in and out).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# This file is named classify.py: keep its folder off sys.path so "classify" is the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "benchmarks"]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

from benchmarks import classify_data as data  # noqa: E402

ROWS: list[tuple[str, str, str, str, str]] = []
SECTIONS = ("themes", "k-criteria", "sampled", "tagging", "clinc", "speed")


def row(task: str, setting: str, metric: str, value: str, note: str = "") -> None:
    ROWS.append((task, setting, metric, value, note))
    print(f"  {task} | {setting} | {metric} | {value} | {note}", file=sys.stderr, flush=True)


THEME_STEPS: list[tuple[str, dict]] = [  # each row adds one change to the one above
    ("before: 0/1 graph, QR labels, silhouette k, raw text",
     {"graph": "binary", "assign": "qr", "criterion": "silhouette", "clean": False,
      "n_neighbors": 15, "diffusion_time": 0}),
    ("+ clean text (handles, links, numbers, names)",
     {"graph": "binary", "assign": "qr", "criterion": "silhouette", "n_neighbors": 15,
      "diffusion_time": 0}),
    ("+ fuzzy graph (30 neighbours), k-means labels",
     {"criterion": "silhouette", "diffusion_time": 0, "smooth_rounds": 0}),
    ("+ eigen-floor k", {"diffusion_time": 0, "smooth_rounds": 0}),
    ("+ diffusion-map coordinates (eigenvalue^2)", {"smooth_rounds": 0}),
    ("+ neighbour voting after k-means = default", {}),
]  # fmt: skip
LEAK = re.compile(r"@|https?|www\.|\bt\.co\b")


def _scores(y: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    p = np.unique(labels, return_inverse=True)[1]
    return normalized_mutual_info_score(y, p), adjusted_rand_score(y, p)


def _leaks(model, entities: tuple[str, ...]) -> int:  # type: ignore[no-untyped-def]
    """Themes whose name or keywords carry a handle, a link or a listed name."""
    names = {e.lower() for e in entities} | {e.lower().replace(" ", "") for e in entities}
    bad = 0
    for theme in model.themes_:
        words = [theme.name, *theme.keywords]
        bad += any(LEAK.search(w) or w.lower() in names for w in words) or any(
            n in theme.name.lower().split() for n in names
        )
    return bad


def themes(embedder, quick: bool) -> None:  # type: ignore[no-untyped-def]
    """BANKING77 and the airline complaints: one row per change, k given and automatic."""
    from classify.themes import ThemeModel

    bank = data.banking77("test")
    tweets = data.airline_complaints()
    airline = np.unique(data.airline_of_complaints(), return_inverse=True)[1]
    seeds = (0,) if quick else (0, 1, 2)
    sets = [("BANKING77 test", bank, 77, (), (0,)),
            ("airline complaints", tweets, 10, data.AIRLINES, seeds)]  # fmt: skip
    cache: dict[tuple[str, ...], np.ndarray] = {}

    def embed(model: ThemeModel, texts: list[str]) -> np.ndarray:
        work = tuple(model.clean_texts(texts))
        if work not in cache:
            cache[work] = embedder.encode(list(work))
        return cache[work]

    for name, labelled, k, entities, seeds in sets:
        y = np.unique(labelled.labels, return_inverse=True)[1]
        texts = labelled.texts
        for step, options in THEME_STEPS:
            for given in (k, None):
                results = []
                t = time.perf_counter()
                for seed in seeds if given is None else (0,):
                    model = ThemeModel(given, min_cluster_size=1, entities=entities,
                                       random_state=seed, **options)  # fmt: skip
                    model.fit(texts, embed(model, texts))
                    results.append((model.k_, *_scores(y, model.labels_), model))
                seconds = (time.perf_counter() - t) / len(results)
                nmi = np.mean([r[1] for r in results])
                ari = np.mean([r[2] for r in results])
                ks = "/".join(str(r[0]) for r in results)
                note = f"{seconds:.1f} s"
                if name.startswith("airline"):
                    vs_airline = np.mean([_scores(airline, r[3].labels_)[0] for r in results])
                    leaks = sum(_leaks(r[3], entities) for r in results)
                    note += f"; NMI vs airline {vs_airline:.3f}"
                    note += f"; labels with a handle/link/name: {leaks}"
                if len(results) > 1:
                    note += f"; seeds {', '.join(str(s) for s in seeds)}"
                how = f"k={k}" if given else f"auto k={ks}"
                row(name, f"{step}, {how}", "NMI / ARI", f"{nmi:.3f} / {ari:.3f}", note)
        _reference_rows(name, texts, y, k, embed(ThemeModel(entities=entities), texts))


def _reference_rows(name: str, texts: list[str], y: np.ndarray, k: int, x: np.ndarray) -> None:
    """What was measured and not kept: k-means, PCA before clustering, UMAP + k-means."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    from classify.clustering import partition

    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    nmi, ari = _scores(y, KMeans(k, n_init=3, random_state=0).fit_predict(x))
    row(name, f"reference: k-means on the vectors, k={k}", "NMI / ARI", f"{nmi:.3f} / {ari:.3f}")
    for dims, whiten in ((50, False), (50, True)):
        t = time.perf_counter()
        z = PCA(dims, whiten=whiten, random_state=0).fit_transform(x)
        z /= np.linalg.norm(z, axis=1, keepdims=True)
        nmi, ari = _scores(y, partition(z, k))
        row(name, f"not kept: PCA {dims}{' whitened' if whiten else ''} + default, k={k}",
            "NMI / ARI", f"{nmi:.3f} / {ari:.3f}", f"{time.perf_counter() - t:.1f} s")  # fmt: skip
    try:
        import umap  # optional: pip install -e ".[umap]"
    except ImportError:
        why = 'umap-learn not installed: pip install -e ".[umap]"'
        row(name, "not kept: UMAP + k-means", "NMI / ARI", "n/a", why)
        return
    t = time.perf_counter()
    z = umap.UMAP(n_neighbors=15, n_components=10, metric="cosine", min_dist=0.0,
                  random_state=0).fit_transform(x)  # fmt: skip
    nmi, ari = _scores(y, KMeans(k, n_init=10, random_state=0).fit_predict(z))
    seconds = time.perf_counter() - t
    row(name, f"not kept: UMAP 10-d + k-means (BERTopic-style), k={k}", "NMI / ARI",
        f"{nmi:.3f} / {ari:.3f}", f"{seconds:.1f} s (UMAP, JIT compile included)")  # fmt: skip


def k_criteria(embedder, quick: bool) -> None:  # type: ignore[no-untyped-def]
    """Per k: NMI, the graph's eigenvalue, the silhouette and the stability under
    resampling; and the k each criterion picks (on the clustering sample)."""
    from classify.clustering import (
        EIGEN_FLOOR,
        assign,
        k_bounds,
        k_from_eigenvalues,
        plateau_start,
        silhouettes,
        spectral_maps,
    )  # fmt: skip
    from classify.themes import ThemeModel

    sets = [("BANKING77 test", data.banking77("test"), ()),
            ("airline complaints", data.airline_complaints(), data.AIRLINES)]  # fmt: skip
    grid = [2, 3, 5, 7, 10, 14, 20, 28, 40, 56, 77, 100, 130]
    for name, labelled, entities in sets:
        model = ThemeModel(entities=entities)
        work = model.clean_texts(labelled.texts)
        x = embedder.encode(work)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        rows = model.sample_rows(len(x))
        x, y = x[rows], np.unique(labelled.labels, return_inverse=True)[1][rows]
        values, maps = spectral_maps(x, max(grid) + 1)
        labels = {k: assign(maps, k, values=values) for k in grid}
        sil = silhouettes(x, labels, 2000, 0)
        stability = _stability(x, grid, 2 if quick else 3)
        for k in grid:
            nmi = _scores(y, labels[k])[0]
            row(f"{name}: per k", f"k={k}", "NMI / eigenvalue / silhouette / stability",
                f"{nmi:.3f} / {values[k - 1]:.3f} / {sil[k]:.3f} / {stability[k]:.3f}")  # fmt: skip
        bounds = k_bounds(len(x), None)
        stable = [k for k in grid if stability[k] >= 0.8 * max(stability.values())]
        picks = {
            f"eigen-floor ({EIGEN_FLOOR})": k_from_eigenvalues(values, bounds),
            "eigengap": k_from_eigenvalues(values, bounds, "eigengap"),
            "silhouette (plateau start)": plateau_start(sil),
            "silhouette (max)": max(sil, key=sil.get),
            "stability (largest k within 80 % of the best)": max(stable),
        }
        for criterion, k in picks.items():
            nmi = _scores(y, assign(maps, k, values=values))[0]
            row(f"{name}: k criteria", criterion, "k / NMI", f"{k} / {nmi:.3f}")


def _stability(x: np.ndarray, grid: list[int], pairs: int) -> dict[int, float]:
    """Mean ARI between clusterings of two seeded 80 % subsamples, on the texts they share."""
    from sklearn.metrics import adjusted_rand_score

    from classify.clustering import assign, spectral_maps

    out: dict[int, list[float]] = {k: [] for k in grid}
    n = len(x)
    for pair in range(pairs):
        rng = np.random.default_rng(100 + pair)
        a, b = (np.sort(rng.choice(n, int(0.8 * n), replace=False)) for _ in range(2))
        shared = np.intersect1d(a, b)
        values_a, maps_a = spectral_maps(x[a], max(grid), seed=pair)
        values_b, maps_b = spectral_maps(x[b], max(grid), seed=pair)
        ia, ib = np.searchsorted(a, shared), np.searchsorted(b, shared)
        for k in grid:
            la = assign(maps_a, k, pair, values=values_a)
            lb = assign(maps_b, k, pair, values=values_b)
            out[k].append(adjusted_rand_score(la[ia], lb[ib]))
    return {k: float(np.mean(v)) for k, v in out.items()}


def sampled(embedder, quick: bool) -> None:  # type: ignore[no-untyped-def]
    from sklearn.metrics import normalized_mutual_info_score

    from classify.sampled_embed import MAX_EXACT, SampledEmbedder
    from classify.themes import ThemeModel

    train, test = data.banking77("train"), data.banking77("test")
    bank = data.Labelled(train.texts + test.texts, list(train.labels) + list(test.labels))
    parts = [data.clinc150(split) for split in ("train", "val", "test")]
    clinc = data.Labelled(
        [t for p in parts for t in p.texts], [label for p in parts for label in p.labels]
    )
    sets = [("BANKING77 train+test", bank, (4_000, 8_000)), ("CLINC150 all", clinc, (MAX_EXACT,))]
    for name, labelled, limits in sets[:1] if quick else sets:
        texts = list(dict.fromkeys(labelled.texts))
        first = {t: label for t, label in zip(labelled.texts, labelled.labels, strict=True)}
        y = np.unique([first[t] for t in texts], return_inverse=True)[1]
        k = int(y.max()) + 1
        t = time.perf_counter()
        exact = embedder.encode(texts)
        dt = time.perf_counter() - t
        model = ThemeModel(k=k, min_cluster_size=1)
        nmi = normalized_mutual_info_score(y, model.fit(texts, exact).labels_)
        row(f"{name} ({len(texts)})", f"every text exact, k={k}", "NMI", f"{nmi:.3f}",
            f"embedding {dt:.1f} s")  # fmt: skip
        clustered = model.sample_rows(len(texts))
        others = ~np.isin(np.arange(len(texts)), clustered)
        for limit in limits:
            t = time.perf_counter()
            sampler = SampledEmbedder(embedder, max_exact=limit)
            x = sampler.encode(texts, exact=clustered)
            dt = time.perf_counter() - t
            nmi = normalized_mutual_info_score(y, model.fit(texts, x).labels_)
            cosine = float((x[others] * exact[others]).sum(axis=1).mean())
            row(
                f"{name} ({len(texts)})",
                f"{sampler.n_exact_} exact + {sampler.n_fitted_} fitted, k={k}",
                "NMI",
                f"{nmi:.3f}",
                f"embedding {dt:.1f} s; cosine to exact (non-sample rows) {cosine:.3f}",
            )


def _macro_f1(tagger_args: dict, x_train, y_train, x_test, y_test) -> float:  # type: ignore[no-untyped-def]
    from sklearn.metrics import f1_score

    from classify.learned import LearnedTagger

    tagger = LearnedTagger(**tagger_args).fit_vectors(x_train, [{t} for t in y_train])
    predicted = np.asarray(tagger.tags_)[tagger.proba_vectors(x_test).argmax(axis=1)]
    return float(f1_score(y_test, predicted, average="macro"))


def tagging(embedder, quick: bool) -> None:  # type: ignore[no-untyped-def]
    tweets = data.airline_complaints()
    train, test = data.split(tweets)
    x_train, x_test = embedder.encode(train.texts), embedder.encode(test.texts)
    index = {t: i for i, t in enumerate(train.texts)}
    scores = []
    for seed in range(2 if quick else 5):
        shot = data.few_shot(train, 10, seed)
        rows = [index[t] for t in shot.texts]
        scores.append(
            _macro_f1({"min_examples": 2}, x_train[rows], shot.labels, x_test, test.labels)
        )
    classes = len(set(tweets.labels))
    setting = f"{classes} reasons, {len(test.texts)} test tweets"
    row(
        "airline complaints tagging",
        f"few-shot 10/class, {setting}",
        "macro-F1",
        f"{np.mean(scores):.3f} ± {np.std(scores):.3f}",
        f"LearnedTagger, {len(scores)} draws",
    )
    f1 = _macro_f1({}, x_train, train.labels, x_test, test.labels)
    row(
        "airline complaints tagging",
        f"full train ({len(train.texts)}), {setting}",
        "macro-F1",
        f"{f1:.3f}",
        "LearnedTagger (calibrated)",
    )


def clinc(embedder, quick: bool) -> None:  # type: ignore[no-untyped-def]
    from classify.learned import LearnedTagger

    train, test = data.clinc150("train"), data.clinc150("test")
    if quick:
        train = data.few_shot(train, 20, 0)
    tagger = LearnedTagger(calibration=None).fit_vectors(
        embedder.encode(train.texts), [{t} for t in train.labels]
    )
    predicted = np.asarray(tagger.tags_)[
        tagger.proba_vectors(embedder.encode(test.texts)).argmax(axis=1)
    ]
    accuracy = float((predicted == np.asarray(test.labels)).mean())
    row(
        "CLINC150 intents",
        f"train {len(train.texts)}, test {len(test.texts)} (in-scope)",
        "accuracy",
        f"{accuracy:.3f}",
        "LearnedTagger, uncalibrated (argmax)",
    )


def _cli(args: list[str], out: Path, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run ``qa text ARGS`` as its own process (``env``: extra variables): (wall s, CPU s,
    error or "")."""
    code = "from qa.commands.text import app; app(prog_name='qa text')"
    err = out.with_suffix(".err")
    start = time.perf_counter()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args], cwd=REPO, stdout=stdout, stderr=stderr,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    error = "" if code == 0 else f"exit {code}: " + err.read_text(errors="replace").strip()[-300:]
    return wall, usage.ru_utime + usage.ru_stime, error.replace("\n", " ").replace("|", "/")


def speed(embedder_backend: str, n: int) -> None:
    from classify import RuleTagger
    from classify.embeddings import Embedder
    from classify.themes import ThemeModel

    texts = data.speed_corpus(n)
    tagger = RuleTagger().fit()
    tagger.tag_many(texts[:20])
    t = time.perf_counter()
    tagger.tag_many(texts, batch_size=256)
    dt = time.perf_counter() - t
    row("speed", f"rules only, {n} texts", "texts/s", f"{n / dt:.0f}", f"{dt:.1f} s")
    embedder = Embedder(backend=embedder_backend)
    t = time.perf_counter()
    embedder.encode(texts[:8])
    load = time.perf_counter() - t
    from classify.embeddings import model_dir
    from classify.static_embed import static_path

    static_path(model_dir())  # built once per machine (~30 s); not part of any timing
    t = time.perf_counter()
    x = embedder.encode(texts)
    dt = time.perf_counter() - t
    row(
        "speed",
        f"embeddings ({embedder.backend_name}), {n} texts",
        "texts/s",
        f"{n / dt:.0f}",
        f"{dt:.1f} s + {load:.1f} s load",
    )
    from classify.sampled_embed import SampledEmbedder

    model = ThemeModel()
    t = time.perf_counter()
    sampler = SampledEmbedder(embedder)
    x_sampled = sampler.encode(texts, exact=model.sample_rows(len(texts)))
    dt = time.perf_counter() - t
    row(
        "speed",
        f"sampled embeddings, {n} texts",
        "texts/s",
        f"{n / dt:.0f}",
        f"{dt:.1f} s: {sampler.n_exact_} exact + {sampler.n_fitted_} fitted "
        f"(cosine to exact {float((x_sampled * x).sum(axis=1).mean()):.3f})",
    )
    t = time.perf_counter()
    model.fit(texts, x)
    dt = time.perf_counter() - t
    row(
        "speed",
        f"clustering only (auto k={model.k_}), {n} texts",
        "s",
        f"{dt:.1f}",
        "spectral on a 4,000 sample, rest by nearest centroid",
    )
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = data.write_csv(texts, Path(tmp) / "texts.csv")
        walls: dict[str, float] = {}
        cluster = ["cluster", "--backend", embedder_backend]
        # (name, args, vector cache folder): a fresh folder is an empty cache, as on a first
        # run; "shared" is the one `qa text tag` fills and `qa text cluster` then reads.
        runs = [
            ("tag", ["tag"], "shared"),
            ("tag --model rules", ["tag", "--model", "rules"], "shared"),
            ("cluster", cluster, "empty"),
            ("cluster after tag", cluster, "shared"),
            ("cluster again", cluster, "shared"),
        ]
        notes = {"tag": "vector cache empty at the start",
                 "cluster": "vector cache empty (no tag before it)",
                 "cluster after tag": "reads the vectors tag cached",
                 "cluster again": "a re-run (another --k): every sample vector cached"}  # fmt: skip
        for name, args, cache in runs:
            wall, cpu, error = _cli(
                [*args, str(csv_path), "--column", "text", "--format", "jsonl"],
                Path(tmp) / f"{args[0]}.jsonl",
                env={"CALLQA_VECTOR_CACHE": str(Path(tmp) / f"vectors-{cache}")},
            )
            if error:
                row("speed", f"qa text {name}, {n} texts", "wall s", "n/a", error)
                continue
            walls[name] = wall
            extra = f"; {notes[name]}" if name in notes else ""
            row(
                "speed",
                f"qa text {name}, {n} texts (whole process)",
                "wall s",
                f"{wall:.1f}",
                f"{n / wall:.0f} texts/s, CPU {cpu:.0f} s{extra}",
            )
        for tag, then in (("tag", "cluster after tag"), ("tag --model rules", "cluster")):
            if tag in walls and then in walls:
                total = walls[tag] + walls[then]
                verdict = "PASS" if total <= 60 else "FAIL"
                row("speed", f"{tag} + cluster, {n} texts", "wall s", f"{total:.1f}",
                    f"target <= 60 s on 2 cores: {verdict}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples (smoke run)")
    parser.add_argument("--backend", default="auto", help="embedding backend [auto]")
    parser.add_argument("--n", type=int, default=None, help="speed corpus size [50000]")
    parser.add_argument("--skip", default="", help=f"comma-separated: {', '.join(SECTIONS)}")
    args = parser.parse_args(argv)
    skip = {s for s in args.skip.split(",") if s}
    if skip - set(SECTIONS):
        parser.error(f"unknown section(s) {sorted(skip - set(SECTIONS))}; valid: {SECTIONS}")
    from classify.embeddings import Embedder

    embedder = Embedder(backend=args.backend)
    load = os.getloadavg()[0]
    if "themes" not in skip:
        themes(embedder, args.quick)
    if "k-criteria" not in skip:
        k_criteria(embedder, args.quick)
    if "sampled" not in skip:
        sampled(embedder, args.quick)
    if "tagging" not in skip:
        tagging(embedder, args.quick)
    if "clinc" not in skip:
        clinc(embedder, args.quick)
    if "speed" not in skip:
        speed(args.backend, args.n or (5_000 if args.quick else 50_000))
    cores = len(os.sched_getaffinity(0))
    print(
        f"\nclassify benchmark, {time.strftime('%Y-%m-%d')}, {cores} cores, "
        f"load {load:.1f} -> {os.getloadavg()[0]:.1f}{', --quick' if args.quick else ''}\n"
    )
    print("| task | setting | metric | value | note |")
    print("| --- | --- | --- | --- | --- |")
    for r in ROWS:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
