"""Export a transformers Llama checkpoint to the kit's ONNX contract, built op by op from the weights.

Why not `torch.onnx.export`: with transformers 5 Cache objects the traced graph depends on the
exporter path and version; writing the graph directly from safetensors is short, exact, and
byte-deterministic. Agreement with `AutoModelForCausalLM` is checked by the tests (1e-4 on
per-token log-probs).

Contract (float32, one graph for prefill and KV-cache decoding; L = past + seq):
    inputs   input_ids                 int64   [batch, seq]
             attention_mask            int64   [batch, L]      0 = padding (left or right)
             position_ids              int64   [batch, seq]
             past_key_values.{i}.key   float32 [batch, kv_heads, past, head_dim]   (and .value)
    outputs  logits                    float32 [batch, seq, vocab]
             present.{i}.key           float32 [batch, kv_heads, L, head_dim]      (and .value)
New token j attends to key k iff k <= past + j and attention_mask[b, k] == 1.

A second graph, `<stem>.decode.onnx` beside it, has the same inputs and these outputs only:
             last_logits               float32 [batch, vocab]         logits of position seq - 1
             new_key_values.{i}.key    float32 [batch, kv_heads, seq, head_dim]    (and .value)
It serves sampling: the caller keeps the cache in a buffer of its own (slots it has not filled yet
are masked out by attention_mask) and appends the new keys and values itself, so no step copies
the cache or computes logits nobody reads. onnxruntime runs every node of a graph whatever outputs
are fetched, hence a separate graph rather than extra outputs.

A third graph, `<stem>.score.onnx`, serves scoring on CPU. It has no cache at all:
    inputs   input_ids                 int64   [batch, seq]    right padded (padding is never attended
                                                                by a real token: attention is causal)
             target_ids                int64   [batch, seq]    the token whose log-prob to read per position
    outputs  log_probs                 float32 [batch, seq, vocab]   log-softmax of the logits
             target_log_probs          float32 [batch, seq]          log_probs gathered at target_ids
It uses opset 23's fused Attention (causal mask, grouped heads, softmax and both products in one
kernel, no transposes) and RotaryEmbedding, and runs the log-softmax and the gather in the graph, so
a scoring call moves one float per token across the boundary. Opset 18 (the other two graphs) has
neither operator.

Weights are stored once, outside the graphs: every initializer above 1 KiB goes to one data file
beside them, `weights-<sha256 prefix>.onnx.data`, which all three graphs reference (the main and
decode graphs share every tensor; the score graph adds its unfused q/k/v projection). The export
streams: each checkpoint tensor is read from safetensors, transformed, appended to the data file
and dropped, so the whole model is never upcast in memory at once (peak RSS stays under 1.5x the
float32 weights plus the interpreter). The data file is named by its content, so a graph never
points at another export's weights, and the same checkpoint gives the same bytes.

Beside the graph, `<onnx_path>.json` records what the runtime needs (layer and head counts, vocab,
context length, special token ids, a hash of the source weights, the data file); it is written
last, so its presence marks a complete export.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

OPSET = 18
# The score graph needs opset 23: Attention and RotaryEmbedding became standard operators there.
SCORE_OPSET = 23
# 2: adds the decode graph ("decode_graph"); 3: the score graph ("score_graph"); 4: weights in one
# external data file shared by the graphs ("data_file").
FORMAT_VERSION = 4
# Additive bias for masked keys: finite, so a fully masked row (a left-padding query) gives a
# uniform softmax instead of NaN; exp(-1e9) is exactly 0 in float32.
MASK_BIAS = -1e9
# Initializers smaller than this stay inside the graph (constants, shapes).
EXTERNAL_MIN_BYTES = 1024
# Tensors start at multiples of this in the data file (page-aligned, so onnxruntime can map them).
DATA_ALIGNMENT = 4096


def export_onnx(model_dir: str | os.PathLike, onnx_path: str | os.PathLike | None = None) -> Path:
    """Writes the ONNX graphs of the Llama checkpoint in `model_dir`; returns the main graph's path.

    Default path `<model_dir>/model.onnx`; the decode and score graphs go beside it
    (`decode_graph_path`, `score_graph_path`), their shared weights to one data file, the metadata
    to `<onnx_path>.json`. Every file is written atomically (temp file + rename), the metadata last,
    and the same checkpoint gives the same bytes.
    """
    model_dir = Path(model_dir)
    onnx_path = Path(onnx_path) if onnx_path is not None else model_dir / "model.onnx"
    config = _read_config(model_dir)
    source = _WeightSource(model_dir)
    cfg = _shape(config, model_dir)
    cfg["tied"] = cfg["tied"] or "lm_head.weight" not in source.names  # checkpoints that omit the tied copy
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    meta_path = Path(str(onnx_path) + ".json")
    previous_data = _data_file_of(meta_path)
    decode_path = decode_graph_path(onnx_path)
    score_path = score_graph_path(onnx_path)
    with _DataFile(onnx_path.parent) as data:
        graphs = [
            (onnx_path, _build_graph(cfg, source.get, config, model_dir, data)),
            (decode_path, _build_graph(cfg, source.get, config, model_dir, data, decode=True)),
            (score_path, _build_score_graph(cfg, source.get, config, model_dir, data)),
        ]
        data_name = data.finish()
    for path, model in graphs:
        data.locate(model, data_name)
        _atomic_write(path, model.SerializeToString(deterministic=True))
    meta = {
        "format": "cdpo-kit-llama-onnx",
        "format_version": FORMAT_VERSION,
        "opset": OPSET,
        "num_hidden_layers": cfg["layers"],
        "num_attention_heads": cfg["heads"],
        "num_key_value_heads": cfg["kv_heads"],
        "head_dim": cfg["head_dim"],
        "hidden_size": cfg["hidden"],
        "vocab_size": cfg["vocab"],
        "max_position_embeddings": cfg["max_pos"],
        "bos_token_id": config.get("bos_token_id"),
        "eos_token_id": _eos_ids(model_dir, config),
        "pad_token_id": config.get("pad_token_id"),
        "source_weights_sha256": source.sha256,
        "decode_graph": decode_path.name,
        "score_graph": score_path.name,
        "data_file": data_name,
    }
    _atomic_write(meta_path, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
    if previous_data and previous_data != data_name and not _still_referenced(onnx_path.parent, previous_data):
        (onnx_path.parent / previous_data).unlink(missing_ok=True)
    return onnx_path


def _data_file_of(meta_path: Path) -> str | None:
    try:
        return json.loads(meta_path.read_text()).get("data_file")
    except (OSError, json.JSONDecodeError):
        return None


def _still_referenced(folder: Path, data_name: str) -> bool:
    """Whether another export's metadata in `folder` names the data file `data_name`."""
    return any(_data_file_of(m) == data_name for m in folder.glob("*.onnx.json"))


def decode_graph_path(onnx_path: str | os.PathLike) -> Path:
    """Where the decode graph of `onnx_path` goes: `model.onnx` -> `model.decode.onnx`."""
    return _beside(onnx_path, "decode")


def score_graph_path(onnx_path: str | os.PathLike) -> Path:
    """Where the score graph of `onnx_path` goes: `model.onnx` -> `model.score.onnx`."""
    return _beside(onnx_path, "score")


def _beside(onnx_path: str | os.PathLike, kind: str) -> Path:
    onnx_path = Path(onnx_path)
    stem = onnx_path.name[:-5] if onnx_path.name.endswith(".onnx") else onnx_path.name
    return onnx_path.with_name(f"{stem}.{kind}.onnx")


# --- reading the checkpoint ---------------------------------------------------------------------


def _read_config(model_dir: Path) -> dict[str, Any]:
    path = model_dir / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"Cannot export {model_dir}: {path} is missing (expected a Hugging Face model directory)")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"Cannot export {model_dir}: {path} is not valid JSON ({e})") from e
    if config.get("model_type") != "llama":
        raise ValueError(f"Cannot export {model_dir}: {path} has model_type {config.get('model_type')!r}, only 'llama' is supported")
    return config


class _WeightSource:
    """The checkpoint's tensors, read one at a time from its safetensors files (bf16/fp16 upcast to
    float32 per tensor), plus the sha256 of those files."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors import SafetensorError, safe_open

        self.model_dir = model_dir
        single = model_dir / "model.safetensors"
        index = model_dir / "model.safetensors.index.json"
        if single.is_file():
            files = [single]
        elif index.is_file():
            files = sorted({model_dir / f for f in json.loads(index.read_text())["weight_map"].values()})
        else:
            raise FileNotFoundError(f"Cannot export {model_dir}: neither {single} nor {index} exists")
        digest = hashlib.sha256()
        self._file_of: dict[str, Path] = {}
        for f in files:
            with open(f, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            try:
                with safe_open(str(f), framework="pt") as handle:
                    for name in handle.keys():
                        self._file_of[name] = f
            except (SafetensorError, OSError, ValueError) as e:
                raise ValueError(f"Cannot export {model_dir}: {f} is not a readable safetensors file ({e})") from e
        self.sha256 = digest.hexdigest()
        self.names = set(self._file_of)

    def get(self, name: str) -> np.ndarray:
        from safetensors import safe_open

        if name not in self._file_of:
            raise ValueError(f"Cannot export {self.model_dir}: weight '{name}' is missing from the safetensors files")
        with safe_open(str(self._file_of[name]), framework="pt") as handle:
            return np.ascontiguousarray(handle.get_tensor(name).float().numpy())


class _DataFile:
    """The one external data file of an export: tensors appended once each (by name, so the graphs
    share them), at aligned offsets; named by its content when finished."""

    PLACEHOLDER = "weights.onnx.data"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.offsets: dict[str, tuple[int, int, tuple[int, ...], int]] = {}  # name -> offset, length, shape, dtype
        self._digest = hashlib.sha256()
        self._size = 0
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".onnx-data-", suffix=".tmp")
        self._tmp = Path(tmp)
        self._fh = os.fdopen(fd, "wb")

    def __enter__(self) -> "_DataFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self._fh.closed:
            self._fh.close()
        self._tmp.unlink(missing_ok=True)

    def tensor(self, name: str, make: Callable[[], np.ndarray]) -> Any:
        """The initializer `name`: its bytes appended on first use, a reference to them after."""
        from onnx import TensorProto, helper

        if name not in self.offsets:
            array = np.ascontiguousarray(make())
            raw = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
            pad = (-self._size) % DATA_ALIGNMENT
            self._write(b"\0" * pad)
            self.offsets[name] = (self._size, len(raw), tuple(array.shape),
                                  helper.np_dtype_to_tensor_dtype(array.dtype))
            self._write(raw)
        offset, length, shape, dtype = self.offsets[name]
        t = TensorProto()
        t.name, t.data_type = name, dtype
        t.dims.extend(shape)
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", self.PLACEHOLDER), ("offset", str(offset)), ("length", str(length))):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
        return t

    def _write(self, data: bytes) -> None:
        self._fh.write(data)
        self._digest.update(data)
        self._size += len(data)

    def finish(self) -> str:
        """Closes the file and renames it after its content; returns its name."""
        self._fh.close()
        name = f"weights-{self._digest.hexdigest()[:16]}.onnx.data"
        self._tmp.chmod(0o644)  # mkstemp's 0600 would hide a shared cache's export from other users
        os.replace(self._tmp, self.folder / name)
        return name

    def locate(self, model: Any, name: str) -> None:
        """Points the external initializers of `model` at the finished file `name`."""
        for t in model.graph.initializer:
            for entry in t.external_data:
                if entry.key == "location":
                    entry.value = name


def _shape(config: dict[str, Any], model_dir: Path) -> dict[str, Any]:
    heads = config["num_attention_heads"]
    hidden = config["hidden_size"]
    cfg = {
        "layers": config["num_hidden_layers"],
        "heads": heads,
        "kv_heads": config.get("num_key_value_heads") or heads,
        "hidden": hidden,
        "head_dim": config.get("head_dim") or hidden // heads,
        "vocab": config["vocab_size"],
        "max_pos": config["max_position_embeddings"],
        "eps": float(config.get("rms_norm_eps", 1e-6)),
        "tied": bool(config.get("tie_word_embeddings", False)),
    }
    if config.get("hidden_act", "silu") != "silu":
        raise ValueError(f"Cannot export {model_dir}: hidden_act {config.get('hidden_act')!r} is not supported (only 'silu')")
    if config.get("attention_bias") or config.get("mlp_bias"):
        raise ValueError(f"Cannot export {model_dir}: attention_bias/mlp_bias checkpoints are not supported")
    return cfg


def _eos_ids(model_dir: Path, config: dict[str, Any]) -> list[int]:
    eos = config.get("eos_token_id")
    gen = model_dir / "generation_config.json"
    if gen.is_file():
        eos = json.loads(gen.read_text()).get("eos_token_id", eos)
    if eos is None:
        return []
    return [int(e) for e in (eos if isinstance(eos, list) else [eos])]


def _rope_tables(config: dict[str, Any], max_pos: int) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin [max_pos, head_dim], computed by transformers' own rotary module.

    Using LlamaRotaryEmbedding covers every rope_type transformers knows (default, linear,
    llama3, yarn, ...) with its attention scaling; only 'dynamic' depends on the sequence
    length and cannot be a fixed table.
    """
    import torch
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

    hf_config = LlamaConfig(**{k: v for k, v in config.items() if k not in ("architectures", "transformers_version")})
    rope = getattr(hf_config, "rope_parameters", None) or {}
    if rope.get("rope_type") == "dynamic":
        raise ValueError("Cannot export: rope_type 'dynamic' depends on the sequence length; no fixed table exists")
    rotary = LlamaRotaryEmbedding(hf_config)
    x = torch.zeros(1, dtype=torch.float32)
    positions = torch.arange(max_pos, dtype=torch.int64)[None, :]
    with torch.no_grad():
        cos, sin = rotary(x, positions)
    return np.ascontiguousarray(cos[0].numpy().astype(np.float32)), np.ascontiguousarray(sin[0].numpy().astype(np.float32))


# --- building the graph -------------------------------------------------------------------------


class _Graph:
    """Collects nodes and initializers with generated, deterministic names."""

    def __init__(self, data: "_DataFile") -> None:
        self.data = data
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self._n = 0
        self._consts: dict[tuple, str] = {}

    def op(self, op_type: str, inputs: list[str], n_out: int = 1, **attrs: Any) -> Any:
        from onnx import helper

        self._n += 1
        outs = [f"{op_type.lower()}_{self._n}_{k}" for k in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=f"{op_type}_{self._n}", **attrs))
        return outs[0] if n_out == 1 else outs

    def init(self, name: str, value: np.ndarray | Callable[[], np.ndarray]) -> str:
        """An initializer: a weight (given as a function, computed only the first time any graph of
        the export needs `name`) goes to the shared data file, a small array stays in the graph."""
        from onnx import numpy_helper

        if callable(value) or value.nbytes >= EXTERNAL_MIN_BYTES:
            self.inits.append(self.data.tensor(name, value if callable(value) else lambda: value))
        else:
            self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name=name))
        return name

    def const(self, values: list | float | int, dtype=np.int64) -> str:
        key = (str(values), np.dtype(dtype).name)
        if key not in self._consts:
            self._consts[key] = self.init(f"const_{len(self._consts)}", np.array(values, dtype=dtype))
        return self._consts[key]

    def linear(self, x: str, weight_t: str) -> str:
        # weight_t is stored [in, out] so MatMul needs no transpose at run time.
        return self.op("MatMul", [x, weight_t])

    def rms_norm(self, x: str, weight: str, eps: float) -> str:
        # x * rsqrt(mean(x^2) + eps) * w, the pattern ORT fuses into SimplifiedLayerNormalization.
        sq = self.op("Pow", [x, self.const(2.0, np.float32)])
        mean = self.op("ReduceMean", [sq, self.const([-1])], keepdims=1)
        std = self.op("Sqrt", [self.op("Add", [mean, self.const(eps, np.float32)])])
        return self.op("Mul", [self.op("Div", [x, std]), weight])

    def weight_t(self, weight: Callable[[str], np.ndarray], name: str) -> str:
        """The checkpoint's [out, in] matrix `name` as an initializer stored [in, out]."""
        return self.init(name.removesuffix(".weight") + ".weight_t", lambda: weight(name).T)

    def swiglu_mlp(self, h: str, weight: Callable[[str], np.ndarray], prefix: str) -> str:
        """down(silu(gate(h)) * up(h)). Two GEMMs rather than one over concatenated weights: the
        Split after a fused GEMM is a copy that costs more than the fusion saves at these widths."""
        gate = self.linear(h, self.weight_t(weight, prefix + "mlp.gate_proj.weight"))
        up = self.linear(h, self.weight_t(weight, prefix + "mlp.up_proj.weight"))
        act = self.op("Mul", [self.op("Mul", [gate, self.op("Sigmoid", [gate])]), up])
        return self.linear(act, self.weight_t(weight, prefix + "mlp.down_proj.weight"))

    def norm(self, x: str, weight: Callable[[str], np.ndarray], name: str, eps: float) -> str:
        return self.rms_norm(x, self.init(name, lambda: weight(name)), eps)


def _build_graph(cfg: dict[str, Any], weight: Callable[[str], np.ndarray], config: dict[str, Any], model_dir: Path,
                 data: _DataFile, decode: bool = False):
    """The contract graph, or with `decode` the sampling variant (same inputs; outputs `last_logits`
    and `new_key_values.*` only, so no per-step copy of the cache and no logits for earlier positions).
    """
    from onnx import TensorProto, helper

    L, H, KV, D = cfg["layers"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
    group = H // KV
    g = _Graph(data)
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "seq"]),
    ]
    if decode:
        outputs = [helper.make_tensor_value_info("last_logits", TensorProto.FLOAT, ["batch", cfg["vocab"]])]
    else:
        outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", cfg["vocab"]])]
    for i in range(L):
        for kind in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{kind}", TensorProto.FLOAT, ["batch", KV, "past", D]))
            if decode:
                outputs.append(helper.make_tensor_value_info(f"new_key_values.{i}.{kind}", TensorProto.FLOAT, ["batch", KV, "seq", D]))
            else:
                outputs.append(helper.make_tensor_value_info(f"present.{i}.{kind}", TensorProto.FLOAT, ["batch", KV, "total", D]))

    embed = g.init("model.embed_tokens.weight", lambda: weight("model.embed_tokens.weight"))
    x = g.op("Gather", [embed, "input_ids"], axis=0)  # [B, S, hidden]

    # Rotary tables gathered by position: [B, S, 1, D] so they broadcast over the heads of the
    # [B, S, heads, D] projections.
    cos_t, sin_t = _rope_tables(config, cfg["max_pos"])
    cos = g.op("Unsqueeze", [g.op("Gather", [g.init("rope.cos", cos_t), "position_ids"], axis=0), g.const([2])])
    sin = g.op("Unsqueeze", [g.op("Gather", [g.init("rope.sin", sin_t), "position_ids"], axis=0), g.const([2])])

    # Attention bias [B, 1, group*S, total]: causal by index (new token j sits at index past + j)
    # and key padding from attention_mask; tiled over the group so it lines up with the query
    # rows of one KV head (row r = g*S + j).
    seq = g.op("Gather", [g.op("Shape", ["input_ids"]), g.const(1)], axis=0)
    total = g.op("Gather", [g.op("Shape", ["attention_mask"]), g.const(1)], axis=0)
    past = g.op("Sub", [total, seq])
    q_idx = g.op("Add", [g.op("Range", [g.const(0), seq, g.const(1)]), past])  # [S]
    k_idx = g.op("Range", [g.const(0), total, g.const(1)])  # [total]
    causal = g.op("LessOrEqual", [g.op("Unsqueeze", [k_idx, g.const([0])]), g.op("Unsqueeze", [q_idx, g.const([1])])])  # [S, total]
    keep = g.op("Cast", ["attention_mask"], to=TensorProto.BOOL)
    keep = g.op("Unsqueeze", [keep, g.const([1, 2])])  # [B, 1, 1, total]
    allowed = g.op("And", [causal, keep])  # [B, 1, S, total]
    bias = g.op("Where", [allowed, g.const(0.0, np.float32), g.const(MASK_BIAS, np.float32)])
    if group > 1:
        bias = g.op("Tile", [bias, g.const([1, 1, group, 1])])  # [B, 1, group*S, total]
    past_1d = g.op("Reshape", [past, g.const([1])]) if decode else None  # [1], as Slice wants

    # The rotation's "rotate half" is a signed permutation R, folded into extra weight columns:
    # rope(h W) = (h W) * cos + (h W R) * sin. The softmax scale 1/sqrt(D) is folded into W_q.
    half = D // 2
    rot = np.zeros((D, D), np.float32)
    rot[half:, :half] = -np.eye(half, dtype=np.float32)  # out[:half] = -in[half:]
    rot[:half, half:] = np.eye(half, dtype=np.float32)  # out[half:] = in[:half]
    scale = np.float32(1.0 / np.sqrt(D))

    def per_head(m: np.ndarray, r: np.ndarray) -> np.ndarray:
        # m [hidden, n*D] times R within each head.
        n = m.shape[1] // D
        return np.einsum("hnd,de->hne", m.reshape(m.shape[0], n, D), r).reshape(m.shape[0], n * D)

    for i in range(L):
        p = f"model.layers.{i}."
        h = g.norm(x, weight, p + "input_layernorm.weight", cfg["eps"])

        def fused(p: str = p) -> np.ndarray:
            wq = weight(p + "self_attn.q_proj.weight").T * scale
            wk = weight(p + "self_attn.k_proj.weight").T
            wv = weight(p + "self_attn.v_proj.weight").T
            qk = np.concatenate([wq, wk], axis=1)
            return np.concatenate([qk, per_head(qk, rot), wv], axis=1).astype(np.float32)

        proj = g.linear(h, g.init(p + "self_attn.qkv_rope.weight_t", fused))  # [B, S, (2(H+KV)+KV)*D]
        a, r, v = g.op("Split", [proj, g.const([(H + KV) * D, (H + KV) * D, KV * D])], n_out=3, axis=-1)
        shape4 = g.const([0, 0, H + KV, D])
        qk_rot = g.op("Add", [g.op("Mul", [g.op("Reshape", [a, shape4]), cos]), g.op("Mul", [g.op("Reshape", [r, shape4]), sin])])
        qk_rot = g.op("Transpose", [qk_rot], perm=[0, 2, 1, 3])  # [B, H+KV, S, D]
        q, k = g.op("Split", [qk_rot, g.const([H, KV])], n_out=2, axis=1)  # [B, H, S, D], [B, KV, S, D]
        v = g.op("Transpose", [g.op("Reshape", [v, g.const([0, 0, KV, D])])], perm=[0, 2, 1, 3])  # [B, KV, S, D]
        past_k, past_v = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
        if decode:
            g.nodes.append(helper.make_node("Identity", [k], [f"new_key_values.{i}.key"], name=f"new_{i}_key"))
            g.nodes.append(helper.make_node("Identity", [v], [f"new_key_values.{i}.value"], name=f"new_{i}_value"))
        else:
            g.nodes.append(helper.make_node("Concat", [past_k, k], [f"present.{i}.key"], name=f"present_{i}_key", axis=2))
            g.nodes.append(helper.make_node("Concat", [past_v, v], [f"present.{i}.value"], name=f"present_{i}_value", axis=2))
        qg = g.op("Reshape", [q, g.const([0, KV, -1, D])])  # [B, KV, group*S, D]: one KV head's queries
        if decode:
            # Against the cache and the new keys separately, so the cache is only read, never
            # copied (the score rows are D times smaller than the cache).
            s_past = g.op("MatMul", [qg, g.op("Transpose", [past_k], perm=[0, 1, 3, 2])])  # [B, KV, gS, past]
            s_new = g.op("MatMul", [qg, g.op("Transpose", [k], perm=[0, 1, 3, 2])])  # [B, KV, gS, S]
            scores = g.op("Add", [g.op("Concat", [s_past, s_new], axis=-1), bias])
            probs = g.op("Softmax", [scores], axis=-1)
            p_past = g.op("Slice", [probs, g.const([0]), past_1d, g.const([-1])])
            p_new = g.op("Slice", [probs, past_1d, g.const([np.iinfo(np.int64).max]), g.const([-1])])
            ctx = g.op("Add", [g.op("MatMul", [p_past, past_v]), g.op("MatMul", [p_new, v])])  # [B, KV, gS, D]
        else:
            # Against the concatenated cache (the present outputs): cheapest for long inputs.
            k_all, v_all = f"present.{i}.key", f"present.{i}.value"
            scores = g.op("Add", [g.op("MatMul", [qg, g.op("Transpose", [k_all], perm=[0, 1, 3, 2])]), bias])
            ctx = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v_all])  # [B, KV, gS, D]
        ctx = g.op("Reshape", [ctx, g.const([0, H, -1, D])])
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), g.const([0, 0, H * D])])
        x = g.op("Add", [x, g.linear(ctx, g.weight_t(weight, p + "self_attn.o_proj.weight"))])

        h = g.norm(x, weight, p + "post_attention_layernorm.weight", cfg["eps"])
        x = g.op("Add", [x, g.swiglu_mlp(h, weight, p)])

    if decode:
        # Only the newest position's logits: [B, hidden] before the final norm and the head.
        # (`seq` is a 1-element vector: np.ascontiguousarray makes the scalar constants 1-D.)
        last = g.op("Squeeze", [g.op("Sub", [seq, g.const(1)]), g.const([0])])
        x = g.op("Gather", [x, last], axis=1)
    x = g.norm(x, weight, "model.norm.weight", cfg["eps"])
    _head(g, x, weight, cfg, embed, "last_logits" if decode else "logits", flat=decode)

    graph = helper.make_graph(g.nodes, "llama_decode" if decode else "llama", inputs, outputs, initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="cdpo-kit")
    model.ir_version = 8  # widely readable; opset 18 needs IR >= 8
    return model


def _build_score_graph(cfg: dict[str, Any], weight: Callable[[str], np.ndarray], config: dict[str, Any],
                       model_dir: Path, data: _DataFile):
    """The score graph (see the module docstring): no cache, fused attention, log-probs in the graph."""
    from onnx import TensorProto, helper

    L, H, KV, D = cfg["layers"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
    g = _Graph(data)
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
        helper.make_tensor_value_info("target_ids", TensorProto.INT64, ["batch", "seq"]),
    ]
    outputs = [
        helper.make_tensor_value_info("log_probs", TensorProto.FLOAT, ["batch", "seq", cfg["vocab"]]),
        helper.make_tensor_value_info("target_log_probs", TensorProto.FLOAT, ["batch", "seq"]),
    ]
    embed = g.init("model.embed_tokens.weight", lambda: weight("model.embed_tokens.weight"))
    x = g.op("Gather", [embed, "input_ids"], axis=0)  # [B, S, hidden]

    # RotaryEmbedding takes the tables as [positions, D/2] (transformers' tables repeat their first
    # half) and positions 0..S-1 for every row: padding sits to the right, where causality already
    # hides it from the real tokens.
    cos_t, sin_t = _rope_tables(config, cfg["max_pos"])
    cos = g.init("rope.cos_half", cos_t[:, : D // 2])
    sin = g.init("rope.sin_half", sin_t[:, : D // 2])
    shape = g.op("Shape", ["input_ids"])
    seq = g.op("Gather", [shape, g.const(1)], axis=0)  # 1-element vector (see the decode graph)
    positions = g.op("Expand", [g.op("Range", [g.const(0), g.op("Squeeze", [seq, g.const([0])]), g.const(1)]), shape])

    for i in range(L):
        p = f"model.layers.{i}."
        h = g.norm(x, weight, p + "input_layernorm.weight", cfg["eps"])
        # One GEMM for q, k and v then a Split: three narrow GEMMs cost more than the Split's copy.
        qkv = lambda p=p: np.concatenate([weight(p + f"self_attn.{n}_proj.weight").T for n in ("q", "k", "v")], axis=1)  # noqa: E731
        packed = g.linear(h, g.init(p + "self_attn.qkv_proj.weight_t", qkv))  # [B, S, (H + 2 KV) D]
        q, k, v = g.op("Split", [packed, g.const([H * D, KV * D, KV * D])], n_out=3, axis=-1)
        q = g.op("RotaryEmbedding", [q, cos, sin, positions], num_heads=H, interleaved=0)
        k = g.op("RotaryEmbedding", [k, cos, sin, positions], num_heads=KV, interleaved=0)
        # [B, S, H D] in and out; causal, grouped heads, scale 1/sqrt(D): one kernel, no transposes.
        attn = g.op("Attention", [q, k, v], q_num_heads=H, kv_num_heads=KV, is_causal=1)
        x = g.op("Add", [x, g.linear(attn, g.weight_t(weight, p + "self_attn.o_proj.weight"))])
        h = g.norm(x, weight, p + "post_attention_layernorm.weight", cfg["eps"])
        x = g.op("Add", [x, g.swiglu_mlp(h, weight, p)])

    x = g.norm(x, weight, "model.norm.weight", cfg["eps"])
    _head(g, x, weight, cfg, embed, "logits", flat=False)
    g.nodes.append(helper.make_node("LogSoftmax", ["logits"], ["log_probs"], name="log_probs", axis=-1))
    picked = g.op("Unsqueeze", ["target_ids", g.const([-1])])  # [B, S, 1]
    g.nodes.append(helper.make_node("GatherND", ["log_probs", picked], ["target_log_probs"], name="target_log_probs",
                                    batch_dims=2))

    graph = helper.make_graph(g.nodes, "llama_score", inputs, outputs, initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", SCORE_OPSET)], producer_name="cdpo-kit")
    model.ir_version = 11  # opset 23 needs IR >= 11
    return model


def _head(g: _Graph, x: str, weight: Callable[[str], np.ndarray], cfg: dict[str, Any], embed: str,
          out_name: str, flat: bool) -> None:
    """The LM head on the final hidden states `x` ([B, hidden] when `flat`, else [B, S, hidden]),
    writing the logits to `out_name`."""
    from onnx import helper

    def emit(op_type: str, inputs: list[str], **attrs: Any) -> None:
        g.nodes.append(helper.make_node(op_type, inputs, [out_name], name="logits", **attrs))

    if not cfg["tied"]:
        emit("MatMul", [x, g.weight_t(weight, "lm_head.weight")])
    elif flat:
        # Tied head: reuse the embedding initializer through Gemm(transB), so the weights are
        # stored once; on a 2-D view when x has a sequence axis.
        emit("Gemm", [x, embed], transB=1)
    else:
        logits2 = g.op("Gemm", [g.op("Reshape", [x, g.const([-1, cfg["hidden"]])]), embed], transB=1)
        out_shape = g.op("Concat", [g.op("Shape", ["input_ids"]), g.const([cfg["vocab"]])], axis=0)
        emit("Reshape", [logits2, out_shape])


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


if __name__ == "__main__":
    import sys

    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python -m cdpo_trainer.models.onnx_export MODEL_DIR [ONNX_PATH]")
    print(export_onnx(*sys.argv[1:]))
