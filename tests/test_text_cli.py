"""``qa text tag`` / ``qa text train`` and the CSV reader behind them.

Fast: CSV reading rules, errors, training on a labels file with a fake embedder.
Slow: the real spaCy rules (the eight default tags with evidence) and a real trained model.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from classify.textio import TextInputError, read_table
from qa.commands.text import app
from tests.test_learned import HashEmbedder

runner = CliRunner()


def _csv(path: Path, rows: list[list[str]], bom: bool = False) -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))
    return path


# ---------------------------------------------------------------------- CSV input (fast)


def test_read_table_header_bom_and_missing_column(tmp_path: Path) -> None:
    path = _csv(tmp_path / "in.csv", [["id", "comment"], ["1", "héllo"], [], ["2", ""]], bom=True)
    table = read_table(path, required=("comment",))
    assert table.columns == ("id", "comment")  # BOM stripped from the first name
    assert table.column("comment") == ["héllo", ""]  # blank line skipped, empty cell kept
    with pytest.raises(TextInputError, match="no column 'text'; the columns are: 'id', 'comment'"):
        read_table(path, required=("text",))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no header row"),
        (b"a,a\n1,2\n", "duplicate column names: a"),
        (b"comment\n\xff\xfe bad\n", "not UTF-8 \\(line 2"),
    ],
)
def test_read_table_rejects_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(TextInputError, match=message):
        read_table(path)
    with pytest.raises(TextInputError, match="file not found"):
        read_table(tmp_path / "missing.csv")


def test_tag_missing_column_is_a_clear_error(tmp_path: Path) -> None:
    path = _csv(tmp_path / "in.csv", [["id", "text"], ["1", "hello"]])
    result = runner.invoke(app, ["tag", str(path), "--column", "comment"])
    assert result.exit_code == 1
    assert "no column 'comment'" in result.output and "'id', 'text'" in result.output


def test_tag_combined_without_a_trained_model_uses_the_default_model(tmp_path: Path) -> None:
    # No `qa text train` model in --models-dir: the default model built from the example
    # bank (first use builds it into the cache) tags a paraphrase no rule matches.
    comment = "Listened to the same tune for forty minutes."
    path = _csv(tmp_path / "in.csv", [["comment"], [comment]])
    result = runner.invoke(
        app, ["tag", str(path), "--model", "combined", "--models-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "default model" in result.output
    row = json.loads(result.stdout.strip().splitlines()[-1])
    assert {(t["tag"], t["method"]) for t in row["tags"]} >= {("long-wait", "model")}


def test_tag_big_inputs_embed_a_sample_exactly_and_fit_the_rest(tmp_path: Path) -> None:
    # --exact-texts 4 on 12 distinct comments: 4 get MiniLM vectors, the other 8 (and the
    # sentences of multi-sentence comments) vectors of a static model fitted to those 4.
    # Real default model, real embedder and static table; plain complaints still tag.
    comments = [
        "I was on hold for forty minutes.", "Waited ages in the queue before anyone answered.",
        "They transferred me three times.", "Passed from one department to another.",
        "The agent was rude to me.", "He was so rude and dismissive.",
        "Nobody called me back like they promised.", "Still waiting for the promised callback.",
        "Great service, thank you.", "All sorted quickly, lovely agent.",
        "I had to explain my problem again and again.", "Repeated my account details 4 times.",
    ]  # fmt: skip
    path = _csv(tmp_path / "in.csv", [["comment"], *[[c] for c in comments]])
    args = ["tag", str(path), "--models-dir", str(tmp_path)]
    sampled = runner.invoke(app, [*args, "--exact-texts", "4"])
    assert sampled.exit_code == 0, sampled.output
    assert "embeds 4 of 12 distinct texts with the transformer" in sampled.output
    exact = runner.invoke(app, [*args, "--exact-texts", "0"])
    assert exact.exit_code == 0 and "embeds 4 of" not in exact.output

    def tags(result) -> list[set[str]]:  # type: ignore[no-untyped-def]
        lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
        return [{t["tag"] for t in line["tags"]} for line in lines if "row" in line]

    got, want = tags(sampled), tags(exact)
    assert len(got) == len(want) == 12
    # Rules carry the plain wordings either way; the fitted vectors may move a model hit.
    assert sum(g == w for g, w in zip(got, want, strict=True)) >= 9, (got, want)
    assert "long-wait" in got[0] and "transfer" in got[2] and "agent-rude" in got[4]


# ------------------------------------------------------------- training (fake embedder)


@pytest.fixture
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``Embedder`` encodes with the hashing fake (no model load)."""
    from classify.embeddings import Embedder

    fake = HashEmbedder()
    monkeypatch.setattr(Embedder, "encode", lambda self, texts, progress=None: fake.encode(texts))


LABELS = [
    ["text", "tags"],
    *[[f"I waited on hold for {n} minutes", "long-wait"] for n in (10, 20, 30, 40, 50, 60)],
    *[[f"the agent was rude to me, {w}", "agent-rude"] for w in ("twice", "again", "so rude",
                                                             "very rude", "rude rude", "ugh")],
    *[[f"please update my {w}", ""] for w in ("email", "address", "phone", "card", "name")],
    ["rude and on hold forever", "agent-rude; long-wait"],
]  # fmt: skip


def test_train_labels_prints_cv_table_and_saves_model(tmp_path: Path, fake_embedder: None) -> None:
    labels = _csv(tmp_path / "labels.csv", LABELS)
    models = tmp_path / "models"
    result = runner.invoke(
        app,
        ["train", str(labels), "--no-taxonomy", "--no-bank", "--models-dir", str(models),
         "--folds", "3"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "precision" in result.output and "long-wait" in result.output
    assert (models / "learned-tagger.joblib").is_file()
    as_json = runner.invoke(
        app,
        ["train", str(labels), "--no-taxonomy", "--no-bank", "--models-dir", str(models),
         "--json"],
    )  # fmt: skip
    report = json.loads(as_json.stdout)
    assert report["tags"] == ["agent-rude", "long-wait"]
    assert {row["tag"] for row in report["cv"]} == {"agent-rude", "long-wait"}
    assert report["examples"] == {"labels": 18}
    bad = _csv(tmp_path / "bad.csv", [["text", "labels"], ["x", "y"]])
    result = runner.invoke(app, ["train", str(bad)])
    assert result.exit_code == 1 and "no column 'tags'" in result.output


# ------------------------------------------------------------------- real models (slow)

PER_TAG = {
    "re-explain": "Every time I was passed on I had to explain everything again.",
    "transfer": "I was transferred three times before anyone could help.",
    "long-wait": "I waited 40 minutes before anyone picked up.",
    "broken-callback": "They promised to call me back and never did.",
    "unresolved": "Two calls later my internet is still not fixed.",
    "agent-rude": "The agent was incredibly rude and condescending.",
    "agent-praise": "Sarah was so helpful and patient with me.",
    "rushed": "The agent rushed me off the phone before I could ask about my bill.",
}


@pytest.mark.slow
def test_tag_finds_the_eight_default_tags_with_evidence(tmp_path: Path) -> None:
    rows = [["id", "comment"]] + [[tag, text] for tag, text in PER_TAG.items()]
    rows += [["none", "I did not have to repeat anything."], ["empty", ""]]
    path = _csv(tmp_path / "comments.csv", rows, bom=True)
    result = runner.invoke(app, ["tag", str(path), "--column", "comment", "--model", "rules"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["row"] for line in lines] == list(range(1, len(rows)))
    for line, (tag, text) in zip(lines, PER_TAG.items(), strict=False):
        assert tag in [t["tag"] for t in line["tags"]], (tag, line)
        first = line["tags"][0]
        assert list(first) == ["tag", "score", "method", "evidence"]
        assert first["method"] == "rule" and first["score"] == 1.0 and first["evidence"] in text
    assert lines[-2]["tags"] == [] and lines[-1]["tags"] == []

    out = tmp_path / "tagged.csv"
    result = runner.invoke(app, ["tag", str(path), "--format", "csv", "--output", str(out),
                                 "--model", "rules"])  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == ["id", "comment", "tags", "evidence"]
    assert "long-wait" in table[2]["tags"].split(";") and table[2]["evidence"]


@pytest.mark.slow
def test_tag_in_worker_processes_gives_the_same_output(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import classify.workers
    import qa.commands.text_tag as text_tag_command
    from classify.taxonomy import load_taxonomy

    texts = [*PER_TAG.values(), "Play some jazz", "What is my balance?"]
    for spec in load_taxonomy():
        for source in spec.applies_to:
            texts += list(spec.examples_for(source)) + list(spec.negative_examples_for(source))
    path = _csv(tmp_path / "many.csv", [["comment"]] + [[t] for t in texts])
    monkeypatch.setattr(classify.workers, "PARALLEL_MIN_TEXTS", 10)
    monkeypatch.setattr(text_tag_command, "CHUNK", 16)  # several chunks per worker
    outputs = []
    for workers in ("1", "2"):
        result = runner.invoke(app, ["tag", str(path), "--model", "rules", "--workers", workers])
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    tagged = [json.loads(line) for line in outputs[1].splitlines()]
    assert len(tagged) == len(texts) > 100 and sum(bool(line["tags"]) for line in tagged) > 50


@pytest.mark.slow
def test_train_then_tag_combined_with_the_real_embedder(tmp_path: Path) -> None:
    labels = _csv(tmp_path / "labels.csv", LABELS)
    models = tmp_path / "models"
    result = runner.invoke(app, ["train", str(labels), "--models-dir", str(models)])
    assert result.exit_code == 0, result.output
    for tag in PER_TAG:  # the taxonomy's examples are in by default
        assert tag in result.output
    path = _csv(tmp_path / "in.csv", [["comment"], ["I did not have to repeat anything."],
                                      ["I waited on hold for 45 minutes"]])  # fmt: skip
    result = runner.invoke(app, ["tag", str(path), "--model", "combined", "--models-dir",
                                 str(models)])  # fmt: skip
    assert result.exit_code == 0, result.output
    negated, wait = (json.loads(line) for line in result.stdout.splitlines())
    assert negated["tags"] == []
    assert "long-wait" in [t["tag"] for t in wait["tags"]]
    assert np.isfinite([t["score"] for t in wait["tags"]]).all()
