"""transcribe.convert: CTranslate2 model.bin reader, name mapping, q/k/v splitting, checkpoints.

The reader is tested on small synthetic model.bin files written here (the format of
CTranslate2's specs/model_spec.py `_serialize`), so no real model is needed; the real
tiny.en conversion is one slow test at the end.
"""

from __future__ import annotations

import base64
import gzip
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from transcribe.convert import (
    ConversionError,
    alignment_heads_dump,
    convert,
    read_ct2_model,
    to_openai_state,
)

DTYPE_IDS = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "float16": 4}
BF16 = 5
DIMS = {
    "n_mels": 4,
    "n_audio_ctx": 6,
    "n_audio_state": 8,
    "n_audio_head": 2,
    "n_audio_layer": 1,
    "n_vocab": 10,
    "n_text_ctx": 5,
    "n_text_state": 8,
    "n_text_head": 2,
    "n_text_layer": 2,
}


def _string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return struct.pack("<H", len(raw)) + raw


def write_ct2(
    path: Path,
    variables: dict[str, np.ndarray | tuple[int, bytes, tuple[int, ...]]],
    aliases: dict[str, str] | None = None,
    *,
    version: int = 6,
    spec: str = "WhisperSpec",
    revision: int = 3,
) -> Path:
    """Write a CTranslate2 model.bin; a variable is an array or (dtype id, raw bytes, shape)."""
    out = [struct.pack("<I", version), _string(spec), struct.pack("<II", revision, len(variables))]
    for name, value in variables.items():
        if isinstance(value, tuple):
            type_id, raw, shape = value
        else:
            type_id, raw, shape = DTYPE_IDS[value.dtype.name], value.tobytes(), value.shape
        out += [_string(name), struct.pack(f"<B{len(shape)}I", len(shape), *shape)]
        out += [struct.pack("<BI", type_id, len(raw)), raw]
    out.append(struct.pack("<I", len(aliases or {})))
    for alias, target in (aliases or {}).items():
        out += [_string(alias), _string(target)]
    path.write_bytes(b"".join(out))
    return path


def fuse_whisper(state: dict[str, np.ndarray], dims: dict[str, int]) -> dict[str, np.ndarray]:
    """openai-whisper state dict -> CTranslate2 WhisperSpec variables (what its converter does)."""
    v: dict[str, np.ndarray] = {}

    def linear(src: str, dst: str) -> None:
        v[f"{dst}/weight"] = state[f"{src}.weight"]
        if f"{src}.bias" in state:
            v[f"{dst}/bias"] = state[f"{src}.bias"]

    def norm(src: str, dst: str) -> None:
        v[f"{dst}/gamma"], v[f"{dst}/beta"] = state[f"{src}.weight"], state[f"{src}.bias"]

    def block(side: str, i: int) -> None:
        s, d = f"{side}.blocks.{i}", f"{side}/layer_{i}"
        zero = np.zeros_like(state[f"{s}.attn.query.bias"])
        v[f"{d}/self_attention/linear_0/weight"] = np.concatenate(
            [state[f"{s}.attn.{p}.weight"] for p in ("query", "key", "value")]
        )
        v[f"{d}/self_attention/linear_0/bias"] = np.concatenate(
            [state[f"{s}.attn.query.bias"], zero, state[f"{s}.attn.value.bias"]]
        )
        linear(f"{s}.attn.out", f"{d}/self_attention/linear_1")
        norm(f"{s}.attn_ln", f"{d}/self_attention/layer_norm")
        if side == "decoder":
            linear(f"{s}.cross_attn.query", f"{d}/attention/linear_0")
            v[f"{d}/attention/linear_1/weight"] = np.concatenate(
                [state[f"{s}.cross_attn.key.weight"], state[f"{s}.cross_attn.value.weight"]]
            )
            v[f"{d}/attention/linear_1/bias"] = np.concatenate(
                [zero, state[f"{s}.cross_attn.value.bias"]]
            )
            linear(f"{s}.cross_attn.out", f"{d}/attention/linear_2")
            norm(f"{s}.cross_attn_ln", f"{d}/attention/layer_norm")
        linear(f"{s}.mlp.0", f"{d}/ffn/linear_0")
        linear(f"{s}.mlp.2", f"{d}/ffn/linear_1")
        norm(f"{s}.mlp_ln", f"{d}/ffn/layer_norm")

    v["decoder/num_heads"] = np.array(dims["n_text_head"], np.int16)
    v["decoder/embeddings/weight"] = state["decoder.token_embedding.weight"]
    v["decoder/position_encodings/encodings"] = state["decoder.positional_embedding"]
    for i in range(dims["n_text_layer"]):
        block("decoder", i)
    norm("decoder.ln", "decoder/layer_norm")
    v["encoder/num_heads"] = np.array(dims["n_audio_head"], np.int16)
    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    v["encoder/position_encodings/encodings"] = state["encoder.positional_embedding"]
    for i in range(dims["n_audio_layer"]):
        block("encoder", i)
    norm("encoder.ln_post", "encoder/layer_norm")
    return v


@pytest.fixture(scope="module")
def whisper_state() -> dict[str, np.ndarray]:
    """A random tiny openai-whisper model's state dict, as float16 numpy arrays."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(0)
    model = Whisper(ModelDimensions(**DIMS))
    with torch.no_grad():
        for param in model.parameters():
            param.normal_()
    return {k: t.numpy().astype(np.float16) for k, t in model.state_dict().items()}


@pytest.fixture
def ct2_dir(tmp_path: Path, whisper_state: dict[str, np.ndarray]) -> Path:
    alias = {"decoder/projection/weight": "decoder/embeddings/weight"}
    write_ct2(tmp_path / "model.bin", fuse_whisper(whisper_state, DIMS), alias)
    (tmp_path / "config.json").write_text(json.dumps({"alignment_heads": [[1, 0], [1, 1]]}))
    return tmp_path


# ---------------------------------------------------------------- the binary reader


def test_reader_parses_header_variables_and_aliases(tmp_path: Path) -> None:
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    path = write_ct2(
        tmp_path / "model.bin",
        {"a/weight": weight, "a/heads": np.array(3, np.int16), "b": np.ones(4, np.float16)},
        {"c/weight": "a/weight"},
        version=5,
        spec="TransformerSpec",
        revision=7,
    )
    model = read_ct2_model(path)
    assert (model.version, model.spec, model.revision) == (5, "TransformerSpec", 7)
    assert list(model.variables) == ["a/weight", "a/heads", "b"]
    np.testing.assert_array_equal(model.get("c/weight"), weight)  # through the alias
    assert model.get("a/heads").shape == () and int(model.get("a/heads")) == 3
    assert model.get("b").dtype == np.float16
    assert model.aliases == {"c/weight": "a/weight"}


def test_reader_decodes_bfloat16_and_dequantizes_int8(tmp_path: Path) -> None:
    values = np.array([1.5, -2.0, 0.15625], np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    weight = np.array([[1.0, -0.5], [0.25, 2.0]], np.float32)
    scale = 127 / np.abs(weight).max(axis=1)
    path = write_ct2(
        tmp_path / "model.bin",
        {
            "x": (BF16, bf16, (3,)),
            "lin/weight": np.round(weight * scale[:, None]).astype(np.int8),
            "lin/weight_scale": scale.astype(np.float32),
        },
    )
    model = read_ct2_model(path)
    np.testing.assert_array_equal(model.get("x"), values)
    np.testing.assert_allclose(model.get("lin/weight"), weight, atol=0.01)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[: len(b) // 2], r"truncated at byte \d+"),
        (lambda b: b + b"\0\0", "2 unexpected bytes after aliases"),
        (
            lambda b: struct.pack("<I", 2) + b[4:],
            "CTranslate2 binary version 2; supported: 4, 5, 6",
        ),
        (lambda b: b[:4], "truncated at byte 4"),
    ],
)
def test_reader_errors_name_the_file_and_problem(tmp_path: Path, mutate, message: str) -> None:
    good = write_ct2(tmp_path / "good.bin", {"w": np.zeros((4, 4), np.float32)}).read_bytes()
    bad = tmp_path / "bad.bin"
    bad.write_bytes(mutate(good))
    with pytest.raises(ConversionError, match=rf"bad\.bin: {message}"):
        read_ct2_model(bad)


def test_reader_rejects_unknown_dtype_and_wrong_size(tmp_path: Path) -> None:
    path = write_ct2(tmp_path / "m.bin", {"w": (9, b"\0" * 4, (1,))})
    with pytest.raises(ConversionError, match="'w' has unknown dtype id 9"):
        read_ct2_model(path)
    path = write_ct2(tmp_path / "m.bin", {"w": (0, b"\0" * 8, (3,))})
    with pytest.raises(ConversionError, match=r"'w' holds 2 values, shape \(3,\)"):
        read_ct2_model(path)


# ---------------------------------------------------------------- mapping and splitting


def test_split_and_mapping_restore_the_original_state_dict(
    ct2_dir: Path, whisper_state: dict[str, np.ndarray]
) -> None:
    dims, state = to_openai_state(read_ct2_model(ct2_dir / "model.bin"))
    assert dims == DIMS
    assert set(state) == set(whisper_state)  # every tensor, and no key bias
    assert not any(k.endswith("key.bias") for k in state)
    for name, value in whisper_state.items():
        np.testing.assert_array_equal(state[name], value, err_msg=name)


def test_fused_qkv_rows_split_in_query_key_value_order(
    tmp_path: Path, whisper_state: dict[str, np.ndarray]
) -> None:
    variables = fuse_whisper(whisper_state, DIMS)
    d = DIMS["n_text_state"]
    rows = np.arange(3 * d, dtype=np.float32)[:, None].repeat(d, axis=1)
    variables["decoder/layer_1/self_attention/linear_0/weight"] = rows
    variables["decoder/layer_1/attention/linear_1/weight"] = rows[: 2 * d]
    write_ct2(tmp_path / "model.bin", variables)
    _dims, state = to_openai_state(read_ct2_model(tmp_path / "model.bin"))
    for i, part in enumerate(("query", "key", "value")):
        assert state[f"decoder.blocks.1.attn.{part}.weight"][:, 0].tolist() == list(
            range(i * d, (i + 1) * d)
        )
    assert state["decoder.blocks.1.cross_attn.key.weight"][0, 0] == 0
    assert state["decoder.blocks.1.cross_attn.value.weight"][0, 0] == d


def test_mapping_errors(tmp_path: Path, whisper_state: dict[str, np.ndarray]) -> None:
    variables = fuse_whisper(whisper_state, DIMS)
    write_ct2(tmp_path / "m.bin", variables, spec="TransformerSpec")
    with pytest.raises(ConversionError, match="spec 'TransformerSpec' \\(expected WhisperSpec\\)"):
        to_openai_state(read_ct2_model(tmp_path / "m.bin"))
    del variables["decoder/layer_0/ffn/linear_0/bias"]
    write_ct2(tmp_path / "m.bin", variables)
    with pytest.raises(ConversionError, match="no variable 'decoder/layer_0/ffn/linear_0/bias'"):
        to_openai_state(read_ct2_model(tmp_path / "m.bin"))
    fused = "encoder/layer_0/self_attention/linear_0/weight"
    variables = fuse_whisper(whisper_state, DIMS)
    variables[fused] = variables[fused][:-1]
    write_ct2(tmp_path / "m.bin", variables)
    with pytest.raises(ConversionError, match="23 rows do not split into 3"):
        to_openai_state(read_ct2_model(tmp_path / "m.bin"))


def _heads(dump: bytes, shape: tuple[int, int]) -> list[list[int]]:
    mask = np.frombuffer(gzip.decompress(base64.b85decode(dump)), dtype=bool).reshape(shape)
    return np.argwhere(mask).tolist()


def test_alignment_heads_match_openai_whisper_tables() -> None:
    import whisper

    for name, shape in (("tiny.en", (4, 6)), ("base", (6, 8))):
        official = _heads(whisper._ALIGNMENT_HEADS[name], shape)
        assert _heads(alignment_heads_dump(official, *shape), shape) == official
    assert alignment_heads_dump([[1, 0]], 2, 2) == alignment_heads_dump([[1, 0]], 2, 2)


# ---------------------------------------------------------------- checkpoints


def test_convert_writes_a_checkpoint_openai_whisper_loads(ct2_dir: Path, tmp_path: Path) -> None:
    import torch
    import whisper

    out = convert(ct2_dir, tmp_path / "out" / "whisper-test.pt")
    assert [p.name for p in out.parent.iterdir()] == ["whisper-test.pt"]  # no temp file left
    checkpoint = torch.load(out, weights_only=True)
    assert checkpoint["dims"] == DIMS
    assert _heads(checkpoint["alignment_heads"], (2, 2)) == [[1, 0], [1, 1]]
    model = whisper.load_model(str(out), device="cpu")  # a path: never a download
    assert model.dims.n_text_layer == 2
    assert model.decoder.token_embedding.weight.dtype == torch.float32


def test_convert_without_config_uses_openai_default_heads(ct2_dir: Path, tmp_path: Path) -> None:
    import torch

    (ct2_dir / "config.json").unlink()
    out = convert(ct2_dir, tmp_path / "m.pt")
    # openai-whisper's default: all heads of the upper half of the decoder layers.
    assert _heads(torch.load(out, weights_only=True)["alignment_heads"], (2, 2)) == [
        [1, 0],
        [1, 1],
    ]


def test_failed_convert_leaves_no_partial_file(tmp_path: Path) -> None:
    write_ct2(tmp_path / "model.bin", {"w": np.zeros(2, np.float32)}, spec="Other")
    with pytest.raises(ConversionError):
        convert(tmp_path, tmp_path / "out" / "m.pt")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.slow
def test_real_tiny_en_converts(tmp_path: Path) -> None:
    from transcribe.models import resolve_model

    model = read_ct2_model(resolve_model("tiny.en") / "model.bin")
    assert (model.version, model.spec) == (6, "WhisperSpec")
    assert model.aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}
    dims, state = to_openai_state(model)
    assert dims == {
        "n_mels": 80,
        "n_audio_ctx": 1500,
        "n_audio_state": 384,
        "n_audio_head": 6,
        "n_audio_layer": 4,
        "n_vocab": 51864,
        "n_text_ctx": 448,
        "n_text_state": 384,
        "n_text_head": 6,
        "n_text_layer": 4,
    }
    from whisper.model import ModelDimensions, Whisper

    expected = Whisper(ModelDimensions(**dims)).state_dict()
    assert {k: tuple(v.shape) for k, v in expected.items()} == {
        k: v.shape for k, v in state.items()
    }
