"""ONNX backends for ``classify.embeddings``: export once from the bundled weights, then run
with onnxruntime (no PyTorch at inference time).

Built on first use and cached under ``models/cache/`` (git-ignored; ``CALLQA_MODEL_CACHE``
overrides it). The cache key holds the model folder's name and weight-file size/mtime, so
reinstalling the weights rebuilds. Each file is written to a temporary name and renamed
into place, so a crash or two concurrent builders never leave a half-written model.

Variants:
  ``fp32``  torch.onnx.export of the encoder with mean pooling inside the graph, then
            onnxruntime's BERT fusions (attention, LayerNorm, GELU) applied offline.
  ``int8``  the fused fp32 graph with dynamic int8 quantisation of the MatMul weights
            (activations quantised per batch at run time); ~4x smaller, ~2x faster on CPU.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from classify.embed_backend import Backend, threads

OPSET = 17
VARIANTS = ("fp32", "int8")


def cache_dir() -> Path:
    """``CALLQA_MODEL_CACHE`` or ``models/cache/`` at the repository root."""
    env = os.environ.get("CALLQA_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[1] / "models" / "cache"


def cache_key(model_path: Path) -> str:
    """Short id of the weights in ``model_path`` (name + size + mtime of the weight files)."""
    h = hashlib.sha256(str(model_path.name).encode())
    for weights in sorted(model_path.glob("*.safetensors")) + sorted(model_path.glob("*.bin")):
        st = weights.stat()
        h.update(f"{weights.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:12]


def onnx_path(model_path: Path, variant: str = "int8", cache: Path | None = None) -> Path:
    """The cached ONNX file for ``variant``, exporting (and quantising) it if missing."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown ONNX variant {variant!r}; valid: {', '.join(VARIANTS)}")
    folder = (cache or cache_dir()) / f"minilm-{cache_key(model_path)}"
    fp32 = folder / "model-fp32.onnx"
    if not fp32.is_file():
        _atomic(fp32, lambda tmp: _export_fp32(model_path, tmp))
    if variant == "fp32":
        return fp32
    int8 = folder / "model-int8.onnx"
    if not int8.is_file():
        _atomic(int8, lambda tmp: _quantize(fp32, tmp))
    return int8


def _atomic(target: Path, build: Any) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        out = Path(tmp) / target.name
        build(out)
        os.replace(out, target)  # same filesystem: atomic


def _export_fp32(model_path: Path, out: Path) -> None:
    """Export encoder + mean pooling to ``out``, then fuse it for onnxruntime's CPU kernels."""
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a one-off build: no "Loading weights" bar
    try:
        encoder = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()
    finally:
        hf_logging.enable_progress_bar()
    ids = torch.ones((2, 16), dtype=torch.int64)
    raw = out.with_name("raw.onnx")
    with torch.inference_mode(), warnings.catch_warnings():
        # The tracer warns that the padding / causal checks become constants; they are
        # (no padding inside the graph, never causal), and the ONNX tests check variable
        # batch and length against PyTorch.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        # Position / token-type ids are never negative, which is what this one warns about.
        warnings.filterwarnings("ignore", message="Exporting aten::index", category=UserWarning)
        # dynamo=False below is deliberate (the new exporter needs onnxscript); torch >= 2.9
        # warns that it is the legacy exporter on every call, and that exporter calls
        # torch's own deprecated helpers (setup_onnx_logging, ...).
        warnings.filterwarnings(
            "ignore", message="You are using the legacy TorchScript", category=DeprecationWarning
        )
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx\.")
        torch.onnx.export(
            Pooled(encoder),
            (ids, torch.ones_like(ids)),
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "sentence_embedding": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter: no onnxscript needed
        )
    _fuse(
        raw, out, hidden_size=encoder.config.hidden_size, heads=encoder.config.num_attention_heads
    )


def _fuse(raw: Path, out: Path, *, hidden_size: int, heads: int) -> None:
    """onnxruntime's offline BERT fusions; falls back to the plain export if they fail."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        model = optimize_model(
            str(raw), model_type="bert", num_heads=heads, hidden_size=hidden_size, opt_level=1
        )
        model.save_model_to_file(str(out))
    except Exception:
        os.replace(raw, out)


def _quantize(fp32: Path, out: Path) -> None:
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # onnxruntime logs a "consider pre-processing" warning on the root logger for every
    # model; dynamic quantisation of this graph does not need it, so keep users' output clean.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        # The fused graph has com.microsoft ops that ONNX shape inference cannot type;
        # their outputs are float32.
        quantize_dynamic(
            str(fp32),
            str(out),
            weight_type=QuantType.QInt8,
            per_channel=True,  # per output channel: cosine to fp32 0.993 vs 0.969 per tensor
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)


class OnnxBackend(Backend):
    """onnxruntime on the exported fp32 graph (same vectors as ``torch`` to ~1e-6)."""

    name = "onnx"
    variant = "fp32"

    def load(self) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        path = onnx_path(self.path, self.variant)
        self.session_ = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        (pooled,) = self.session_.run(None, {"input_ids": ids, "attention_mask": mask})
        return pooled.astype(np.float32, copy=False)


class OnnxInt8Backend(OnnxBackend):
    """onnxruntime on the dynamically int8-quantised graph (fastest transformer backend)."""

    name = "onnx-int8"
    variant = "int8"
