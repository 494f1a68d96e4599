"""Embed: text to unit vectors, queries and documents separately.

Queries and passages are embedded by separate methods from day one because e5 (and
bge, gte...) prefix them differently ("query: " / "passage: "); mixing them costs
several points of recall.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """What the index and retriever need of an embedding model."""

    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A local sentence-transformers folder; never touches a model hub."""

    def __init__(self, path: Path, *, name: str, batch_size: int = 16, dtype: str = "float32") -> None:
        import os

        # No model hub is reachable from these machines: fail fast rather than retry.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        self.name = name
        self.batch_size = batch_size
        kwargs = {"torch_dtype": torch.bfloat16} if dtype == "bfloat16" else {}
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True, model_kwargs=kwargs)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        dim = get_dim()
        if dim is None:
            raise ValueError(f"{path}: the model does not declare its embedding dimension")
        self.dim = int(dim)
        prompts = getattr(self.model, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._doc_prompt = "document" if "document" in prompts else ("passage" if "passage" in prompts else None)

    def _encode(self, texts: Sequence[str], prompt_name: str | None, progress: bool) -> np.ndarray:
        vecs = self.model.encode(
            list(texts), prompt_name=prompt_name, batch_size=self.batch_size,
            normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=progress,
        )
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 1:
            # One question is embedded by the retriever and again by the composer: remember it.
            return self._one_query(texts[0]).copy()[None, :]
        return self._encode(texts, self._query_prompt, False)

    @lru_cache(maxsize=256)  # noqa: B019 - one embedder per process; the cache dies with it
    def _one_query(self, text: str) -> np.ndarray:
        return self._encode([text], self._query_prompt, False)[0]

    def embed_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._encode(texts, self._doc_prompt, progress)


class HashingEmbedder:
    """Character uni- and bigrams hashed into a fixed-size vector.

    Deterministic, instant and dependency-free: for tests of the plumbing and for machines
    without the real model. It ranks by shared characters, nothing more.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hashing-char12-{dim}"

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        chars = [c for c in text if not c.isspace()]
        grams = chars + [a + b for a, b in zip(chars, chars[1:], strict=False)]
        for g in grams:
            # sha1, not hash(): hash() is salted per process and vectors must be reproducible.
            h = int.from_bytes(hashlib.sha1(g.encode("utf-8")).digest()[:4], "little")
            v[h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self.embed_queries(texts)


def model_name_for(spec: str) -> str:
    """The name an index built with ``spec`` records in its manifest (cheap: loads nothing)."""
    if spec == "e5-small":
        from rag.e5_convert import MODEL_NAME

        return MODEL_NAME
    if spec.startswith("hashing"):
        return HashingEmbedder(_hashing_dim(spec)).name
    return str(Path(spec).resolve())


def _hashing_dim(spec: str) -> int:
    _, _, dim = spec.partition(":")
    return int(dim) if dim else 256


def set_torch_threads(n: int) -> None:
    """Intra-op threads for torch in this process. A server runs one query per request
    thread: with 2 threads each on 2 cores, concurrent requests oversubscribe the CPU
    (query embedding p50 3.9 s under load against 395 ms with 1 thread)."""
    try:
        import torch
    except ImportError:  # the hashing embedder needs no torch
        return
    torch.set_num_threads(n)


def load_embedder(spec: str, *, cache_dir: Path, batch_size: int = 16, dtype: str = "float32") -> Embedder:
    """Build the embedder named by settings: "e5-small", "hashing[:dim]", or a local folder."""
    if spec.startswith("hashing"):
        return HashingEmbedder(_hashing_dim(spec))
    if spec == "e5-small":
        from rag.e5_convert import MODEL_NAME, ensure_model

        return SentenceTransformerEmbedder(ensure_model(cache_dir / "models"), name=MODEL_NAME,
                                           batch_size=batch_size, dtype=dtype)
    path = Path(spec)
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ValueError(
            f"embedding model {spec!r} is neither 'e5-small', 'hashing' nor a local "
            "sentence-transformers folder (no model hub is reachable to download it)"
        )
    return SentenceTransformerEmbedder(path, name=model_name_for(spec), batch_size=batch_size, dtype=dtype)


class CachedEmbedder:
    """Wraps an embedder with an on-disk cache keyed by the text (and query/passage role).

    For evaluation and rebuilds: the same 5,000 distractor articles are embedded for several
    evaluation sets, and at ~15 passages/s on two cores that is minutes each time.
    """

    def __init__(self, inner: Embedder, directory: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        safe = hashlib.sha256(inner.name.encode()).hexdigest()[:12]
        self.dir = Path(directory) / safe
        self._mem: dict[str, np.ndarray] = {}
        self._new: dict[str, np.ndarray] = {}
        keys_path, vecs_path = self.dir / "keys.txt", self.dir / "vectors.npy"
        if keys_path.is_file() and vecs_path.is_file():
            import fcntl

            with (self.dir / "lock").open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_SH)  # never read keys of one save with vectors of another
                keys = keys_path.read_text(encoding="utf-8").split()
                vecs = np.load(vecs_path)
            if len(keys) == len(vecs):
                self._mem = dict(zip(keys, vecs, strict=True))

    @staticmethod
    def _key(role: str, text: str) -> str:
        return hashlib.sha256(f"{role}\x1f{text}".encode()).hexdigest()

    def _get(self, role: str, texts: Sequence[str], fn, progress: bool) -> np.ndarray:
        keys = [self._key(role, t) for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self._mem}.items())
        if todo:
            vecs = fn([t for _, t in todo], progress) if role == "d" else fn([t for _, t in todo])
            for (k, _), v in zip(todo, vecs, strict=True):
                self._mem[k] = self._new[k] = np.asarray(v, np.float32)
        if not keys:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._mem[k] for k in keys])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._get("q", texts, self.inner.embed_queries, False)

    def embed_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self._get("d", texts, lambda t, p: self.inner.embed_documents(t, progress=p), progress)

    def save(self) -> None:
        """Write the cache if anything is new, merged with what other processes saved meanwhile.

        Several evaluations may share one cache: under an exclusive lock the file on disk is
        re-read and merged, and written under this process's own temporary names, so no
        process drops another's vectors and a reader never pairs keys and vectors of two writes.
        """
        if not self._new:
            return
        import fcntl
        import os

        self.dir.mkdir(parents=True, exist_ok=True)
        with (self.dir / "lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            keys_path, vecs_path = self.dir / "keys.txt", self.dir / "vectors.npy"
            if keys_path.is_file() and vecs_path.is_file():
                disk_keys = keys_path.read_text(encoding="utf-8").split()
                disk_vecs = np.load(vecs_path)
                if len(disk_keys) == len(disk_vecs):
                    for k, v in zip(disk_keys, disk_vecs, strict=True):
                        self._mem.setdefault(k, v)
            keys = list(self._mem)
            tmp = f".tmp-{os.getpid()}"
            # Vectors first, keys last: keys.txt is what a reader pairs the vectors with.
            np.save(self.dir / f"vectors{tmp}.npy", np.stack([self._mem[k] for k in keys]))
            (self.dir / f"keys{tmp}.txt").write_text("\n".join(keys), encoding="utf-8")
            (self.dir / f"vectors{tmp}.npy").replace(vecs_path)
            (self.dir / f"keys{tmp}.txt").replace(keys_path)
        self._new.clear()
        log.info("embedding cache: %d vectors in %s", len(keys), self.dir)
