"""Classify benchmark: one table of clustering, tagging and speed results on public data.

    .venv/bin/python benchmarks/classify.py            # everything (speed on 50,000 texts)
    .venv/bin/python benchmarks/classify.py --quick    # smaller samples (a smoke run)
    .venv/bin/python benchmarks/classify.py --skip speed,clinc

Clustering: BANKING77 test (3,080 queries, 77 intents): NMI, ARI and Hungarian accuracy
of ``classify.themes.ThemeModel`` (spectral, k = 77 given, and k chosen automatically),
with plain k-means (k = 77) on the same embeddings as the reference.
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
SECTIONS = ("clustering", "sampled", "tagging", "clinc", "speed")


def row(task: str, setting: str, metric: str, value: str, note: str = "") -> None:
    ROWS.append((task, setting, metric, value, note))
    print(f"  {task} | {setting} | {metric} | {value} | {note}", file=sys.stderr, flush=True)


def hungarian_accuracy(y: np.ndarray, p: np.ndarray) -> float:
    from scipy.optimize import linear_sum_assignment

    size = max(y.max(), p.max()) + 1
    counts = np.zeros((size, size))
    np.add.at(counts, (p, y), 1)
    r, c = linear_sum_assignment(-counts)
    return counts[r, c].sum() / len(y)


def cluster_scores(y: np.ndarray, p: np.ndarray) -> str:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    p = np.unique(p, return_inverse=True)[1]  # -1 (unassigned) becomes a cluster of its own
    nmi = normalized_mutual_info_score(y, p)
    return f"{nmi:.3f} / {adjusted_rand_score(y, p):.3f} / {hungarian_accuracy(y, p):.3f}"


def clustering(embedder, backend: str) -> None:  # type: ignore[no-untyped-def]
    from sklearn.cluster import KMeans

    from classify.themes import ThemeModel

    bank = data.banking77("test")
    y = np.unique(bank.labels, return_inverse=True)[1]
    x = embedder.encode(bank.texts)
    metric = "NMI / ARI / acc"
    row(
        "BANKING77 clustering",
        f"k-means k=77 ({backend})",
        metric,
        cluster_scores(y, KMeans(77, n_init=1, random_state=0).fit_predict(x)),
        "reference",
    )
    t = time.perf_counter()
    model = ThemeModel(k=77, min_cluster_size=1).fit(bank.texts, x)
    row(
        "BANKING77 clustering",
        f"ThemeModel spectral k=77 ({backend})",
        metric,
        cluster_scores(y, model.labels_),
        f"target NMI > 0.80; {time.perf_counter() - t:.1f} s",
    )
    t = time.perf_counter()
    model = ThemeModel(min_cluster_size=1).fit(bank.texts, x)
    row(
        "BANKING77 clustering",
        f"ThemeModel spectral auto k={model.k_} ({backend})",
        metric,
        cluster_scores(y, model.labels_),
        f"77 intents; {time.perf_counter() - t:.1f} s",
    )


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


def _cli(args: list[str], out: Path) -> tuple[float, float, str]:
    """Run ``qa text ARGS`` as its own process: (wall s, CPU s, error or "")."""
    code = "from qa.commands.text import app; app(prog_name='qa text')"
    err = out.with_suffix(".err")
    start = time.perf_counter()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args], cwd=REPO, stdout=stdout, stderr=stderr
        )
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
        total, ok = 0.0, True
        for command in ("tag", "cluster"):
            backend = ["--backend", embedder_backend] if command == "cluster" else []
            wall, cpu, error = _cli(
                [command, str(csv_path), "--column", "text", "--format", "jsonl", *backend],
                Path(tmp) / f"{command}.jsonl",
            )
            if error:
                ok = False
                row("speed", f"qa text {command}, {n} texts", "wall s", "n/a", error)
                continue
            total += wall
            row(
                "speed",
                f"qa text {command}, {n} texts (whole process)",
                "wall s",
                f"{wall:.1f}",
                f"{n / wall:.0f} texts/s, CPU {cpu:.0f} s",
            )
        if ok:
            verdict = "PASS" if total < 90 else "FAIL"
            row(
                "speed",
                f"tag + cluster, {n} texts",
                "wall s",
                f"{total:.1f}",
                f"target < 90 s on 2 cores: {verdict}",
            )


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
    if "clustering" not in skip:
        clustering(embedder, embedder.backend_name)
        if embedder.backend_name != "torch" and not args.quick:
            clustering(Embedder(backend="torch"), "torch")
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
