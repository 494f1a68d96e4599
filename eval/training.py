"""What the project's two trainers (eval/reader_train.py, eval/rerank_train.py) share: the
optimiser and its schedule, one optimisation step, and writing the adapter with its record.

Both fit a LoRA adapter and a head over e5 on two CPU cores, so both use AdamW over the
trainable parameters only, a linear warm-up over the first 6% of steps and a linear decay
to zero, and gradients clipped to norm 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.reader import trainable_state

WARMUP_SHARE = 0.06
WEIGHT_DECAY = 0.01
MAX_GRAD_NORM = 1.0


class Optimiser:
    """AdamW over the model's trainable parameters with warm-up and linear decay over ``steps``."""

    def __init__(self, model: Any, lr: float, steps: int) -> None:
        import torch

        self.params = [q for q in model.parameters() if q.requires_grad]
        self.opt = torch.optim.AdamW(self.params, lr=lr, weight_decay=WEIGHT_DECAY)
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: min(1.0, (s + 1) / (WARMUP_SHARE * steps)) * max(0.0, 1 - s / steps))

    def step(self, loss: Any) -> float:
        """Backpropagate ``loss``, clip, step and clear; returns the loss as a number."""
        import torch

        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, MAX_GRAD_NORM)
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad()
        return float(loss.detach())


def save_adapter(model: Any, out_dir: Path, record_name: str, record: dict[str, Any]) -> None:
    """Write what training changed (``adapter.safetensors``) and the training record beside it."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(trainable_state(model), str(out_dir / "adapter.safetensors"))
    (out_dir / record_name).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
