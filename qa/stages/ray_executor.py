"""Transcription, redaction and tagging as Ray tasks (``qa nightly --ray``).

Imported only when ``--ray`` is given; Ray is the optional extra ``pip install -e ".[ray]"``.
A task gets paths (or the recording's bytes, with ``ship_audio``) and ``Settings`` without the
database URL, and returns a ``TranscribedCall`` or tag hits: only the driver writes, in the
same per-call transactions as a single-process run. Models load once per worker process
(``_cached``), not once per call. A task whose worker dies is submitted again, at most
``max_retries`` times; then its call fails with the reason and the run goes on.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import RayError, RayTaskError

from qa.config import Settings
from qa.stages.executor import Outcome, TranscribedCall, TranscribeJob

TranscribeFn = Callable[[Settings, Path], TranscribedCall]
# faster-whisper's CPU threads when OMP_NUM_THREADS is unset. Ray sets it to a task's CPUs (1)
# in its workers, and CTranslate2 decodes differently on 1 thread: tasks get the driver's.
DEFAULT_ASR_THREADS = "4"
_MODELS: dict[tuple[str, Settings], Any] = {}


@dataclass(frozen=True)
class RayOptions:
    """``--ray`` (``local``, ``auto`` or a cluster address), ``--workers`` (local: CPUs to
    start; a cluster: tasks in flight, default its CPUs), ``--max-retries``, ``--ship-audio``."""

    address: str = "local"
    workers: int | None = None
    max_retries: int = 3
    ship_audio: bool = False

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"--workers must be at least 1, got {self.workers}")
        if self.max_retries < 0:
            raise ValueError(f"--max-retries must be 0 or more, got {self.max_retries}")


@dataclass
class RayStats:
    """What the run's audit row records about the cluster (``Run.counts["executor"]``)."""

    address: str
    workers: int
    nodes: int
    tasks: int = 0
    retries: int = 0
    task_seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "ray",
            "address": self.address,
            "workers": self.workers,
            "nodes": self.nodes,
            "tasks": self.tasks,
            "retries": self.retries,
            "task_seconds": {k: round(v, 3) for k, v in self.task_seconds.items()},
        }


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Raise ConnectionError at once when ``host:port`` (or ``ray://host:port``) does not
    answer: Ray itself keeps retrying an unreachable address for minutes."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if address == "auto" or not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ConnectionError(f"nothing answers at {host}:{port} ({exc})") from exc


def _cached(kind: str, settings: Settings) -> Any:
    """This worker process's transcriber or (tagger, version): built on first use only."""
    key = (kind, settings)
    if key not in _MODELS:
        from qa.stages.factories import default_tagger, default_transcriber

        _MODELS[key] = default_transcriber(settings) if kind == "asr" else default_tagger(settings)
    return _MODELS[key]


def transcribe_path(settings: Settings, path: Path) -> TranscribedCall:
    """The default task body: the configured transcriber and redaction, models cached."""
    return _cached("asr", settings)(path)


@ray.remote(num_cpus=1, max_retries=0)
def _transcribe_task(
    fn: TranscribeFn, settings: Settings, path: str, audio: bytes | None
) -> tuple[TranscribedCall, float]:
    start = time.perf_counter()
    if audio is None:
        return fn(settings, Path(path)), time.perf_counter() - start
    # Shipped through the object store: decoded from a private copy, named like the original.
    with tempfile.TemporaryDirectory(prefix="qa-ray-") as tmp:
        local = Path(tmp) / Path(path).name
        local.write_bytes(audio)
        return fn(settings, local), time.perf_counter() - start


@ray.remote(num_cpus=1, max_retries=0)
def _tag_task(settings: Settings, kind: str, items: list[Any], source: str) -> tuple[Any, float]:
    from classify.tagging import ConversationTagger

    start = time.perf_counter()
    tagger, version = _cached("tag", settings)
    if kind == "version":
        out: Any = version
    elif kind == "many":
        out = tagger.tag_many(items, source=source)
    elif isinstance(tagger, ConversationTagger):
        out = tagger.tag_conversations(items)
    else:
        out = [[] for _ in items]
    return out, time.perf_counter() - start


class RayExecutor:
    """A ``TranscribeExecutor`` on Ray, and the matching remote tagger; a context manager that
    connects to (or starts) the cluster and disconnects only if it connected."""

    def __init__(
        self, settings: Settings, options: RayOptions, *, transcribe_fn: TranscribeFn | None = None
    ) -> None:
        self.settings = replace(settings, db_url=None)  # tasks never see the database
        self.options = options
        self.transcribe_fn = transcribe_fn or transcribe_path
        self.stats: RayStats | None = None
        self._owns = False
        threads = os.environ.get("OMP_NUM_THREADS") or DEFAULT_ASR_THREADS
        self._env = {"env_vars": {"OMP_NUM_THREADS": threads}}

    def __enter__(self) -> RayExecutor:
        if not ray.is_initialized():
            if self.options.address == "local":
                ray.init(num_cpus=self.options.workers, include_dashboard=False)
            else:
                _check_reachable(self.options.address)
                ray.init(address=self.options.address)
            self._owns = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        workers = self.options.workers or cpus
        nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
        self.stats = RayStats(address=self.options.address, workers=workers, nodes=nodes)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._owns:
            ray.shutdown()

    def _stats(self) -> RayStats:
        if self.stats is None:
            raise RuntimeError("RayExecutor is used outside its `with` block")
        return self.stats

    def run(self, jobs: Sequence[TranscribeJob]) -> Iterator[Outcome]:
        """Each job's (job, TranscribedCall or exception), as workers finish them."""

        def submit(job: TranscribeJob) -> Any:
            audio = job.recording.read_bytes() if self.options.ship_audio else None
            ref = ray.put(audio) if audio is not None else None
            task = _transcribe_task.options(runtime_env=self._env)
            return task.remote(self.transcribe_fn, self.settings, str(job.recording), ref)

        yield from self._gather("transcribe", jobs, submit)

    def _gather(
        self, stage: str, items: Sequence[Any], submit: Callable[[Any], Any]
    ) -> Iterator[tuple[Any, Any]]:
        """(item, result or exception) as tasks finish, at most ``workers`` x 2 in flight; a
        task whose worker died is submitted again up to ``max_retries`` times."""
        stats = self._stats()
        queue: deque[tuple[Any, int]] = deque((item, 0) for item in items)
        pending: dict[Any, tuple[Any, int]] = {}
        while queue or pending:
            while queue and len(pending) < 2 * stats.workers:
                item, attempt = queue.popleft()
                pending[submit(item)] = (item, attempt)
                stats.tasks += 1
            [ref], _ = ray.wait(list(pending), num_returns=1)
            item, attempt = pending.pop(ref)
            try:
                result, seconds = ray.get(ref)
            except RayTaskError as exc:  # the task itself raised: the call fails, as locally
                cause = exc.cause if isinstance(exc.cause, Exception) else exc
                yield item, cause
                continue
            except RayError as exc:  # the worker (or its node) died: try again elsewhere
                if attempt < self.options.max_retries:
                    stats.retries += 1
                    queue.appendleft((item, attempt + 1))
                    continue
                tries = attempt + 1
                yield item, RuntimeError(f"Ray worker lost {tries} time(s): {type(exc).__name__}")
                continue
            stats.task_seconds[stage] = stats.task_seconds.get(stage, 0.0) + seconds
            yield item, result

    def tagger(self) -> tuple[RemoteTagger, str]:
        """A tagger whose work runs on the workers, and the workers' tagger version."""
        tagger = RemoteTagger(self)
        return tagger, tagger.call("version", [[]], "")[0]


class RemoteTagger:
    """``tag_many`` and ``tag_conversations`` as Ray tasks, so ``qa.stages.pipeline.tag_calls``
    uses it like a local tagger and no model loads in the driver. Each call is one task, not
    split: the learned model embeds a batch at a time (sorted by length, padded), so another
    split of the same texts scores them slightly differently, and a Ray run must tag exactly
    as a single-process one. Tagging is cheap next to ASR (benchmarks/nightly_scale.py)."""

    def __init__(self, executor: RayExecutor) -> None:
        self.executor = executor

    def fit(self, texts: Sequence[str] | None = None, y: Any = None) -> RemoteTagger:
        return self

    def tag(self, text: str, source: str = "comment") -> list[Any]:
        return self.tag_many([text], source=source)[0]

    def tag_many(self, texts: Sequence[str], source: str = "comment") -> list[list[Any]]:
        return self._one("many", list(texts), source)

    def tag_conversations(self, conversations: Sequence[Any]) -> list[list[Any]]:
        return self._one("conversations", list(conversations), "")

    def _one(self, kind: str, items: list[Any], source: str) -> list[Any]:
        return self.call(kind, [items], source)[0] if items else []

    def call(self, kind: str, parts: list[list[Any]], source: str) -> list[Any]:
        """Each part's result, in the parts' order; raises what a part failed with."""
        settings, task = self.executor.settings, _tag_task.options(runtime_env=self.executor._env)
        indexed = list(enumerate(parts))
        out: dict[int, Any] = {}
        for (index, _), result in self.executor._gather(
            "tag", indexed, lambda item: task.remote(settings, kind, item[1], source)
        ):
            if isinstance(result, Exception):
                raise result
            out[index] = result
        return [out[i] for i in range(len(parts))]
