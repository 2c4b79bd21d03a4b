"""The machinery every trainer shares: devices and DDP, resumable state, metrics, progress.

A trainer (image.py, text.py, music.py) owns its loop; this module owns everything around it,
so that each loop reads like the pytorch/examples DCGAN loop, with nothing hidden.

Run directory (`--run-dir`, default runs/<name of --out>):
    state.pt      resumable state: weights, optimiser moments, step, RNG; written atomically
    metrics.csv   one row per epoch (and TensorBoard events in tb/ when tensorboard is installed)
    samples/      what the model makes after each epoch
"""

from __future__ import annotations

import argparse
import copy
import csv
import io
import math
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel

from ganstudio.checkpoint import atomic_write_bytes
from ganstudio.device import autocast, pick_device


def add_common_arguments(p: argparse.ArgumentParser, *, epochs: int, batch_size: int, lr: float) -> None:
    p.add_argument("--data", required=True, help="data set path")
    p.add_argument("--out", required=True, help="checkpoint directory to write")
    p.add_argument("--run-dir", help="where resumable state, metrics and samples go (default runs/<name of --out>)")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=batch_size, help="per process")
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: CUDA when present)")
    p.add_argument("--no-amp", action="store_true", help="disable bf16 mixed precision on CUDA")
    p.add_argument("--resume", action="store_true", help="continue from the run directory's state.pt")
    p.add_argument("--save-every", type=int, default=500, help="also save resumable state every N steps")
    p.add_argument("--max-steps", type=int, default=0, help="stop after N optimiser steps (0: no limit)")
    p.add_argument("--time-limit", "--max-seconds", dest="time_limit", type=float, default=0,
                   help="stop after this many seconds of this invocation and write the checkpoint (0: no limit)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")


@dataclass
class Context:
    """Where this process runs and its place among the DDP processes."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    amp: bool = True

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def autocast(self):
        return autocast(self.device, self.amp)

    def wrap(self, module: nn.Module) -> nn.Module:
        """The module to train with: DDP-wrapped when several processes run (torchrun)."""
        module = module.to(self.device)
        if self.world_size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            return DistributedDataParallel(module, device_ids=ids)
        return module

    def all_mean(self, value: float) -> float:
        if self.world_size == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.item() / self.world_size


def setup(args: argparse.Namespace) -> Context:
    """Initialise DDP when launched by torchrun (RANK/WORLD_SIZE set), pick the device, seed."""
    if args.threads:
        torch.set_num_threads(args.threads)
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world_size > 1:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        want_cuda = torch.cuda.is_available() and (args.device or "cuda").startswith("cuda")
        device = torch.device(f"cuda:{local_rank}") if want_cuda else torch.device("cpu")
        if want_cuda:
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if want_cuda else "gloo")
    else:
        device = pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    seed_everything(args.seed + rank)
    return Context(device=device, rank=rank, world_size=world_size, amp=not args.no_amp)


def teardown(ctx: Context) -> None:
    if ctx.world_size > 1 and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def budget_spent(args: argparse.Namespace, global_step: int, started: float) -> bool:
    """--max-steps reached, or --time-limit seconds gone since this invocation `started`."""
    return bool((args.max_steps and global_step >= args.max_steps) or (args.time_limit and time.time() - started >= args.time_limit))


def unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, DistributedDataParallel) else module


def snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of a module's weights on the CPU that later training steps leave alone (what
    --keep-best keeps; it travels in the resumable state)."""
    return {k: v.detach().cpu().clone() for k, v in unwrap(module).state_dict().items()}


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int, ctx: Context, skip: int = 0) -> Iterator[torch.Tensor]:
    """Index batches of one epoch: a permutation fixed by (seed, epoch), split across ranks.

    Being a pure function of (seed, epoch), a resumed run can skip the batches already done
    and see exactly the data it would have seen.
    """
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
    perm = perm[ctx.rank :: ctx.world_size]
    steps = len(perm) // batch_size
    for i in range(skip, steps):
        yield perm[i * batch_size : (i + 1) * batch_size]


def steps_per_epoch(n: int, batch_size: int, ctx: Context) -> int:
    return (n // ctx.world_size) // batch_size


class EMA:
    """Exponential moving average of a module's weights (buffers copied as they are)."""

    def __init__(self, module: nn.Module, decay: float = 0.999):
        self.decay = decay
        self.module = copy.deepcopy(unwrap(module)).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        src = unwrap(module)
        # One fused kernel per group of tensors rather than one per tensor.
        torch._foreach_lerp_(list(self.module.parameters()), [p.detach() for p in src.parameters()], 1 - self.decay)
        torch._foreach_copy_(list(self.module.buffers()), list(src.buffers()))


class Run:
    """Resumable state, metrics and samples of one training run."""

    def __init__(self, args: argparse.Namespace, ctx: Context):
        self.ctx = ctx
        self.dir = Path(args.run_dir or Path("runs") / Path(args.out).name)
        self.state_path = self.dir / "state.pt"
        self.epoch, self.step_in_epoch, self.global_step = 0, 0, 0
        self.started = time.time()
        self._tb = None
        if ctx.is_main:
            (self.dir / "samples").mkdir(parents=True, exist_ok=True)
            if not args.resume and (self.dir / "metrics.csv").exists():
                (self.dir / "metrics.csv").unlink()
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(self.dir / "tb"))
            except Exception:  # tensorboard is optional
                self._tb = None

    # -- resumable state -------------------------------------------------------------------
    def save(self, objects: dict[str, Any], **extra: Any) -> None:
        """Atomically save the state_dicts of `objects` and the position in the schedule."""
        if not self.ctx.is_main:
            return
        state = {
            "objects": {k: unwrap(v).state_dict() if hasattr(v, "state_dict") else v for k, v in objects.items()},
            "epoch": self.epoch,
            "step_in_epoch": self.step_in_epoch,
            "global_step": self.global_step,
            "torch_rng": torch.get_rng_state(),
            "extra": extra,
        }
        buf = io.BytesIO()
        torch.save(state, buf)
        atomic_write_bytes(self.state_path, buf.getvalue())

    def restore(self, objects: dict[str, Any]) -> dict[str, Any]:
        """Load state.pt into `objects` (modules, optimisers, EMA modules); returns `extra`."""
        if not self.state_path.exists():
            raise SystemExit(f"--resume: no saved state at {self.state_path}")
        state = torch.load(self.state_path, map_location="cpu", weights_only=True)
        for k, v in objects.items():
            unwrap(v).load_state_dict(state["objects"][k])
        self.epoch, self.step_in_epoch, self.global_step = state["epoch"], state["step_in_epoch"], state["global_step"]
        torch.set_rng_state(state["torch_rng"])
        if self.ctx.device.type == "cuda":  # optimiser moments load on the CPU; move them
            for v in objects.values():
                if isinstance(v, torch.optim.Optimizer):
                    for s in v.state.values():
                        for name, t in s.items():
                            if torch.is_tensor(t) and name != "step":
                                s[name] = t.to(self.ctx.device)
        return state.get("extra", {})

    # -- metrics ---------------------------------------------------------------------------
    def log_epoch(self, metrics: dict[str, float]) -> None:
        if not self.ctx.is_main:
            return
        row = {"epoch": self.epoch, "step": self.global_step, "elapsed_s": round(time.time() - self.started, 1), **metrics}
        path = self.dir / "metrics.csv"
        new = not path.exists()
        with path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
        if self._tb is not None:
            for k, v in metrics.items():
                if isinstance(v, (int, float)) and math.isfinite(v):
                    self._tb.add_scalar(k, v, self.global_step)
            self._tb.flush()

    def progress(self, iterable, total: int, desc: str):
        """A tqdm bar on the main process (plain iteration where tqdm is absent or elsewhere)."""
        if not self.ctx.is_main:
            return iterable
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return iterable
        return tqdm(iterable, total=total, desc=desc, dynamic_ncols=True, leave=False, mininterval=1.0)


def mean_metrics(sums: dict[str, torch.Tensor], count: int, ctx: Context) -> dict[str, float]:
    """Per-epoch means of losses accumulated on the device (one host sync per epoch)."""
    return {k: round(ctx.all_mean((v / max(count, 1)).item()), 5) for k, v in sums.items()}
