"""Batch concurrent requests into one forward pass without changing anyone's result.

A network's output for one sample can differ in the last bits with the batch size it was
computed in (the kernels block the work differently). Run every forward pass at one fixed
batch size, padding the rest, and a sample's output no longer depends on how many requests
shared its pass, nor where in the batch it sat: batching stays invisible in the bytes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

import torch


class BlockBatcher:
    """Runs `fn(*tensors)` on blocks of exactly `block` rows, filled from concurrent calls.

    A call with n rows waits at most `window_s` for others to join, then its rows (with any
    others that fit) go through `fn` in one pass; the caller gets exactly its n rows back.
    """

    def __init__(self, fn: Callable[..., torch.Tensor], block: int, window_s: float = 0.003):
        self.fn, self.block, self.window_s = fn, block, window_s
        self._pending: list[tuple[tuple[torch.Tensor, ...], Future]] = []
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None

    def __call__(self, *tensors: torch.Tensor) -> torch.Tensor:
        n = tensors[0].shape[0]
        if n > self.block:  # larger than one block: in block-sized pieces
            return torch.cat([self(*(t[i : i + self.block] for t in tensors)) for i in range(0, n, self.block)])
        future: Future = Future()
        with self._cond:
            self._pending.append((tensors, future))
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="ganstudio-batcher", daemon=True)
                self._worker.start()
            self._cond.notify()
        return future.result()

    def _take_block(self) -> list[tuple[tuple[torch.Tensor, ...], Future]]:
        """Requests, in arrival order, whose rows together fit in one block."""
        taken, rows = [], 0
        while self._pending and rows + self._pending[0][0][0].shape[0] <= self.block:
            item = self._pending.pop(0)
            taken.append(item)
            rows += item[0][0].shape[0]
        return taken

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._cond.wait_for(lambda: bool(self._pending), timeout=30):
                    self._worker = None  # idle: let the thread end; the next call starts one
                    return
                deadline = time.monotonic() + self.window_s
                while sum(t[0].shape[0] for t, _ in self._pending) < self.block and time.monotonic() < deadline:
                    self._cond.wait(timeout=max(deadline - time.monotonic(), 0))
                batch = self._take_block()
            self._execute(batch)

    def _execute(self, batch) -> None:
        try:
            inputs = [torch.cat([t[i] for t, _ in batch]) for i in range(len(batch[0][0]))]
            rows = inputs[0].shape[0]
            padded = [torch.cat([x, x[:1].expand(self.block - rows, *x.shape[1:])]) if rows < self.block else x for x in inputs]
            out = self.fn(*padded)[:rows]
        except BaseException as e:  # hand the failure to every waiting caller
            for _, future in batch:
                future.set_exception(e)
            return
        start = 0
        for tensors, future in batch:
            n = tensors[0].shape[0]
            future.set_result(out[start : start + n])
            start += n
