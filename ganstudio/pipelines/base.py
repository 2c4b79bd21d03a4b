"""What every pipeline shares: loading a checkpoint once per process, the device, the seed."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch.overrides import TorchFunctionMode

from ..checkpoint import load_pretrained, sub_state
from ..device import pick_device
from ..errors import CheckpointError


class Pipeline:
    """Base of the media pipelines.

    `from_pretrained` returns one shared instance per (class, directory, device), so the app,
    the CLI and concurrent requests all use the same loaded weights. Inference only reads the
    modules (eval mode, no grad), which is safe from several threads at once.
    """

    family: ClassVar[str]
    _instances: ClassVar[dict[tuple, "Pipeline"]] = {}
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, config: dict[str, Any], tensors: dict[str, torch.Tensor], device: torch.device, path: Path):
        if config.get("family") != self.family:
            raise CheckpointError(
                f"{path} holds a {config.get('family')!r} model; {type(self).__name__} needs {self.family!r}"
            )
        self.config, self.device, self.path = config, device, path
        self.name = config.get("name", path.name)
        self.checkpoint_sha256: str = config["weights_sha256"]

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device | None = None):
        """Load (once per process) the checkpoint directory `path`."""
        path = Path(path).resolve()
        device = pick_device(str(device) if device is not None else None)
        key = (cls, str(path), str(device))
        with cls._instances_lock:
            if key not in cls._instances:
                config, tensors = load_pretrained(path)
                try:
                    cls._instances[key] = cls(config, tensors, device, path)
                except (TypeError, ValueError, KeyError, AttributeError) as e:  # args the model cannot be built from
                    raise CheckpointError(f"{path}: config.json does not describe a model this studio can build ({e})") from None
            return cls._instances[key]

    def load_module(self, module: torch.nn.Module, tensors: dict[str, torch.Tensor], prefix: str) -> torch.nn.Module:
        """Fill `module` with the tensors under `prefix`; a mismatch is a CheckpointError."""
        state = sub_state(tensors, prefix)
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as e:
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise CheckpointError(f"{self.path}: the weights do not match config.json ({prefix}: {first})") from None
        return module.to(self.device).eval().requires_grad_(False)

    def build(self, cls: type[torch.nn.Module], args: dict[str, Any], tensors: dict[str, torch.Tensor], prefix: str):
        """cls(**args) filled from the checkpoint, built without initialising weights that the
        checkpoint replaces anyway (random initialisation of a large model costs seconds)."""
        with skip_weight_init():
            module = cls(**args)
        return self.load_module(module, tensors, prefix)

    def base_metadata(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "family": self.family,
            "checkpoint_sha256": self.checkpoint_sha256,
            "device": self.device.type,
            "ai_generated": True,
        }


class skip_weight_init(TorchFunctionMode):
    """While active (in this thread only), the in-place random fills that weight initialisers
    use fill with zeros instead: a memset, not a random draw per weight.

    Only for modules whose every parameter and buffer is then loaded with strict=True, which
    fails loudly on anything left out, so no unfilled value can survive. A function mode is
    local to its thread, so a request drawing random numbers elsewhere is never affected.
    """

    FILLS = {torch.Tensor.normal_, torch.Tensor.uniform_, torch.Tensor.exponential_, torch.Tensor.random_,
             # the initialisers dispatch as themselves before they reach the fills above
             *(getattr(torch.nn.init, name) for name in ("normal_", "uniform_", "trunc_normal_", "kaiming_uniform_",
                                                         "kaiming_normal_", "xavier_uniform_", "xavier_normal_", "orthogonal_"))}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in self.FILLS:  # the tensor to fill comes first, or by name
            tensor = args[0] if args else (kwargs or {}).get("tensor", (kwargs or {}).get("self"))
            # zeros rather than left as allocated: what an initialiser computes next from the
            # fill (erfinv, scaling) stays cheap, where garbage memory can make it crawl
            with torch.no_grad():
                return tensor.zero_()
        return func(*args, **(kwargs or {}))


def seeded_generator(seed: int) -> torch.Generator:
    """Noise is always drawn on the CPU so a seed means the same thing on every device."""
    return torch.Generator(device="cpu").manual_seed(seed)
