"""Save, load and verify a checkpoint directory.

A checkpoint is a directory in the shape the Hugging Face hub expects:

    config.json        family, class, constructor arguments, vocabulary or labels, data set,
                       training schedule, final metrics, SHA-256 of the weights, format version
    model.safetensors  the weights; safetensors cannot carry code, so loading cannot run any
    README.md          the model card

Every file is written to a temporary name and renamed into place, so a run killed while
saving never leaves a half-written checkpoint behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .errors import CheckpointError

FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "README.md"


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; checkpoints are meant to be shared
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def save_pretrained(
    directory: str | os.PathLike,
    config: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    card: str,
) -> dict[str, Any]:
    """Write a checkpoint directory; returns the config as written (hash and version added)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / WEIGHTS_NAME
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".model.", suffix=".tmp")
    os.close(fd)
    try:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, tmp)
        os.chmod(tmp, 0o644)
        digest = sha256_file(tmp)
        os.replace(tmp, weights)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    config = {**config, "format_version": FORMAT_VERSION, "weights_sha256": digest}
    atomic_write_text(directory / CONFIG_NAME, json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(directory / CARD_NAME, card)
    return config


def read_config(directory: str | os.PathLike) -> dict[str, Any]:
    """Read and check config.json without touching the weights."""
    directory = Path(directory)
    path = directory / CONFIG_NAME
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint directory not found: {directory}")
    if not path.is_file():
        raise CheckpointError(f"{directory} is not a checkpoint: it has no {CONFIG_NAME}")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path} is not valid JSON ({e})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{path} must hold a JSON object")
    version = config.get("format_version")
    if not isinstance(version, int):
        raise CheckpointError(f"{path} has no integer format_version")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{directory} is checkpoint format version {version}, newer than this ganstudio "
            f"reads (version {FORMAT_VERSION}); upgrade ganstudio to load it"
        )
    for key in ("family", "class", "args", "weights_sha256"):
        if key not in config:
            raise CheckpointError(f"{path} lacks the required key {key!r}")
    return config


def verify(directory: str | os.PathLike) -> dict[str, Any]:
    """Check that the weights file is the one the config recorded; returns the config."""
    directory = Path(directory)
    config = read_config(directory)
    weights = directory / WEIGHTS_NAME
    if not weights.is_file():
        raise CheckpointError(f"{directory} has no {WEIGHTS_NAME}")
    actual = sha256_file(weights)
    if actual != config["weights_sha256"]:
        raise CheckpointError(
            f"{weights} does not match its config: SHA-256 is {actual[:16]}..., config.json "
            f"records {config['weights_sha256'][:16]}...; the file was altered or is truncated"
        )
    return config


def load_pretrained(directory: str | os.PathLike) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Verify and load a checkpoint: (config, tensors on the CPU)."""
    config = verify(directory)
    try:
        tensors = load_file(Path(directory) / WEIGHTS_NAME, device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"cannot read the weights in {directory}: {e}") from None
    return config, tensors


def sub_state(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors under `prefix.`, with the prefix removed (one module's state dict)."""
    p = prefix + "."
    return {k[len(p):]: v for k, v in tensors.items() if k.startswith(p)}


def prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in state.items()}
