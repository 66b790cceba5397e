"""CTranslate2 Whisper model.bin -> openai-whisper checkpoint, offline, without ctranslate2.

model.bin layout (little-endian; CTranslate2 python/ctranslate2/specs/model_spec.py
`_serialize`, binary versions 4-6): u32 version, string spec name, u32 spec revision,
u32 variable count, then per variable: string name, u8 rank, u32 x rank dims, u8 dtype id
(float32, int8, int16, int32, float16, bfloat16), u32 byte count, the raw bytes; then u32
alias count and (alias, target) string pairs. A string is u16 length (NUL included), bytes.

Mapping to openai-whisper's `Whisper` state dict: CTranslate2 fuses self-attention q/k/v
(`linear_0`, 3*d rows) and cross-attention k/v (`attention/linear_1`, 2*d rows); they are
split back. openai-whisper's `key` has no bias: CTranslate2 stores zeros there (and any
key bias adds the same score to every key of a query, which softmax ignores).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
SUPPORTED_VERSIONS = (4, 5, 6)


class ConversionError(ValueError):
    """A model.bin that is not a CTranslate2 Whisper model this converter understands."""


@dataclass(frozen=True)
class Ct2Model:
    """The parsed contents of a CTranslate2 model.bin."""

    version: int
    spec: str
    revision: int
    variables: dict[str, np.ndarray]
    aliases: dict[str, str]

    def get(self, name: str) -> np.ndarray:
        """A variable by name or alias, int8/int16 weights dequantized with their scale."""
        name = self.aliases.get(name, name)
        if name not in self.variables:
            raise ConversionError(f"model.bin has no variable {name!r}")
        value = self.variables[name]
        scale = self.variables.get(f"{name}_scale")
        if value.dtype in (np.int8, np.int16) and scale is not None:
            # CTranslate2 quantizes as round(w * scale), one scale per output row.
            scale = np.asarray(scale, np.float32)
            value = value.astype(np.float32) / (scale[:, None] if scale.ndim == 1 else scale)
        return value


def read_ct2_model(path: str | Path) -> Ct2Model:
    """Parse a CTranslate2 model.bin; ConversionError names the file and the problem."""
    path = Path(path)
    data = memoryview(path.read_bytes())
    reader = _Reader(data, path)
    version = reader.u32()
    if version not in SUPPORTED_VERSIONS:
        raise ConversionError(
            f"{path}: CTranslate2 binary version {version}; supported: "
            f"{', '.join(map(str, SUPPORTED_VERSIONS))}"
        )
    spec, revision = reader.string(), reader.u32()
    variables: dict[str, np.ndarray] = {}
    for _ in range(reader.u32()):
        name = reader.string()
        shape = tuple(reader.unpack(f"<{reader.u8()}I"))
        type_id, nbytes = reader.u8(), reader.u32()
        if type_id >= len(_DTYPES):
            raise ConversionError(f"{path}: variable {name!r} has unknown dtype id {type_id}")
        variables[name] = _array(reader.take(nbytes), _DTYPES[type_id], shape, name, path)
    aliases = {reader.string(): reader.string() for _ in range(reader.u32())}
    if reader.pos != len(data):
        raise ConversionError(f"{path}: {len(data) - reader.pos} unexpected bytes after aliases")
    return Ct2Model(version, spec, revision, variables, aliases)


class _Reader:
    def __init__(self, data: memoryview, path: Path) -> None:
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ConversionError(
                f"{self.path}: truncated at byte {self.pos} (needs {n} more bytes, "
                f"file has {len(self.data)})"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def u8(self) -> int:
        return self.unpack("<B")[0]

    def u32(self) -> int:
        return self.unpack("<I")[0]

    def string(self) -> str:
        raw = bytes(self.take(self.unpack("<H")[0]))
        return raw.rstrip(b"\0").decode("utf-8")


def _array(buf: memoryview, dtype: str, shape: tuple[int, ...], name: str, path: Path):
    if dtype == "bfloat16":  # numpy has no bfloat16: it is the top half of a float32
        raw = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
        flat = raw.view(np.float32)
    else:
        flat = np.frombuffer(buf, dtype=np.dtype(dtype).newbyteorder("<"))
    if flat.size != int(np.prod(shape, dtype=np.int64)):
        raise ConversionError(f"{path}: variable {name!r} holds {flat.size} values, shape {shape}")
    return flat.reshape(shape)


# ------------------------------------------------------------------ name mapping


def _split(value: np.ndarray, parts: int, name: str) -> list[np.ndarray]:
    if value.shape[0] % parts:
        raise ConversionError(f"{name}: {value.shape[0]} rows do not split into {parts}")
    return np.split(value, parts, axis=0)


def _linear(model: Ct2Model, src: str, dst: str, bias: bool = True) -> dict[str, np.ndarray]:
    out = {f"{dst}.weight": model.get(f"{src}/weight")}
    if bias:
        out[f"{dst}.bias"] = model.get(f"{src}/bias")
    return out


def _norm(model: Ct2Model, src: str, dst: str) -> dict[str, np.ndarray]:
    return {f"{dst}.weight": model.get(f"{src}/gamma"), f"{dst}.bias": model.get(f"{src}/beta")}


def _attention(model: Ct2Model, src: str, dst: str, fused: int) -> dict[str, np.ndarray]:
    """q/k/v (fused=3: one linear_0) or q + k/v (fused=2: linear_0, then fused linear_1)."""
    weights = _split(model.get(f"{src}/linear_{3 - fused}/weight"), fused, src)
    biases = _split(model.get(f"{src}/linear_{3 - fused}/bias"), fused, src)
    out: dict[str, np.ndarray] = {}
    if fused == 2:
        out |= _linear(model, f"{src}/linear_0", f"{dst}.query")
    else:
        out[f"{dst}.query.weight"], out[f"{dst}.query.bias"] = weights[0], biases[0]
    out[f"{dst}.key.weight"] = weights[-2]  # no key bias in openai-whisper (see module doc)
    out[f"{dst}.value.weight"], out[f"{dst}.value.bias"] = weights[-1], biases[-1]
    return out | _linear(model, f"{src}/linear_{4 - fused}", f"{dst}.out")


def _block(model: Ct2Model, side: str, i: int) -> dict[str, np.ndarray]:
    src, dst = f"{side}/layer_{i}", f"{side}.blocks.{i}"
    out = _attention(model, f"{src}/self_attention", f"{dst}.attn", fused=3)
    out |= _norm(model, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
    if side == "decoder":
        out |= _attention(model, f"{src}/attention", f"{dst}.cross_attn", fused=2)
        out |= _norm(model, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln")
    out |= _linear(model, f"{src}/ffn/linear_0", f"{dst}.mlp.0")
    out |= _linear(model, f"{src}/ffn/linear_1", f"{dst}.mlp.2")
    return out | _norm(model, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")


def _layers(model: Ct2Model, side: str) -> int:
    found = {int(m[1]) for n in model.variables if (m := re.match(rf"{side}/layer_(\d+)/", n))}
    if found != set(range(len(found))) or not found:
        raise ConversionError(f"{side} layers are not numbered 0..N-1: {sorted(found)}")
    return len(found)


def to_openai_state(model: Ct2Model) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """(ModelDimensions fields, state dict) of openai-whisper's `Whisper` for this model."""
    if model.spec != "WhisperSpec":
        raise ConversionError(f"not a Whisper model: spec {model.spec!r} (expected WhisperSpec)")
    enc_layers, dec_layers = _layers(model, "encoder"), _layers(model, "decoder")
    conv1 = model.get("encoder/conv1/weight")
    embeddings = model.get("decoder/embeddings/weight")
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(model.get("encoder/position_encodings/encodings").shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(model.get("encoder/num_heads")),
        "n_audio_layer": enc_layers,
        "n_vocab": int(embeddings.shape[0]),
        "n_text_ctx": int(model.get("decoder/position_encodings/encodings").shape[0]),
        "n_text_state": int(embeddings.shape[1]),
        "n_text_head": int(model.get("decoder/num_heads")),
        "n_text_layer": dec_layers,
    }
    state = _linear(model, "encoder/conv1", "encoder.conv1")
    state |= _linear(model, "encoder/conv2", "encoder.conv2")
    state["encoder.positional_embedding"] = model.get("encoder/position_encodings/encodings")
    for i in range(enc_layers):
        state |= _block(model, "encoder", i)
    state |= _norm(model, "encoder/layer_norm", "encoder.ln_post")
    # decoder/projection is an alias of the embeddings: openai-whisper ties them too.
    state["decoder.token_embedding.weight"] = embeddings
    state["decoder.positional_embedding"] = model.get("decoder/position_encodings/encodings")
    for i in range(dec_layers):
        state |= _block(model, "decoder", i)
    state |= _norm(model, "decoder/layer_norm", "decoder.ln")
    return dims, state


def alignment_heads_dump(heads: list[list[int]], n_layer: int, n_head: int) -> bytes:
    """openai-whisper's `_ALIGNMENT_HEADS` encoding: base85(gzip(bool[n_layer, n_head]))."""
    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    # mtime=0: the same heads always give the same bytes (comparable with whisper's table).
    return base64.b85encode(gzip.compress(mask.tobytes(), mtime=0))


def convert(model_dir: str | Path, out_path: str | Path) -> Path:
    """Write an openai-whisper checkpoint for the CTranslate2 model in `model_dir`.

    The file is `{"dims", "model_state_dict", "alignment_heads"}` (float16 tensors, as
    stored; openai-whisper casts them to its float32 CPU model on load), written to a
    temporary name and renamed so a crash never leaves a partial checkpoint.
    `whisper.load_model(path)` loads it; `alignment_heads` (from config.json) is what
    `model.set_alignment_heads` needs for word timings.
    """
    import torch

    model_dir, out_path = Path(model_dir), Path(out_path)
    dims, state = to_openai_state(read_ct2_model(model_dir / "model.bin"))
    config_path = model_dir / "config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    heads = config.get("alignment_heads") or [
        [layer, head]  # openai-whisper's own default: every head of the upper half
        for layer in range(dims["n_text_layer"] // 2, dims["n_text_layer"])
        for head in range(dims["n_text_head"])
    ]
    checkpoint = {
        "dims": dims,
        "model_state_dict": {k: torch.from_numpy(np.array(v)) for k, v in state.items()},
        "alignment_heads": alignment_heads_dump(heads, dims["n_text_layer"], dims["n_text_head"]),
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_path.name}-", dir=out_path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(checkpoint, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a model file is not
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_path
