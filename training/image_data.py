"""Image data sets: MNIST as .npz, the official IDX .gz files, or a folder of class folders.

Every loader returns (images uint8 (N, 28, 28), labels int64 (N,), label names).
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}


def load_image_dataset(path: str | Path, size: int = 28) -> tuple[np.ndarray, np.ndarray, list[str]]:
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as d:
            x, y = d["x_train"], d["y_train"]
        return _checked(x, y, [str(i) for i in range(10)])
    if path.is_dir() and list(path.glob("train-images-idx3-ubyte*")):
        x = read_idx(next(path.glob("train-images-idx3-ubyte*")))
        y = read_idx(next(path.glob("train-labels-idx1-ubyte*")))
        return _checked(x, y, [str(i) for i in range(10)])
    if path.is_dir():
        return load_class_folders(path, size)
    raise SystemExit(f"{path}: expected an .npz with x_train/y_train, a folder with MNIST IDX files, or a folder of class folders")


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (optionally gzipped), as MNIST is distributed."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_class_folders(root: Path, size: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """root/<class name>/*.png ...: grayscale, resized to size x size; ink should be light on dark."""
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not classes:
        raise SystemExit(f"{root}: no class sub-folders")
    xs, ys = [], []
    for i, name in enumerate(classes):
        for f in sorted((root / name).iterdir()):
            if f.suffix.lower() in IMAGE_SUFFIXES:
                with Image.open(f) as img:
                    xs.append(np.asarray(img.convert("L").resize((size, size), Image.BILINEAR)))
                ys.append(i)
    if not xs:
        raise SystemExit(f"{root}: no images found in the class folders")
    return _checked(np.stack(xs), np.asarray(ys), classes)


def _checked(x: np.ndarray, y: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) != len(y):
        raise SystemExit(f"expected images of shape (N, 28, 28) with N labels, got {x.shape} and {y.shape}")
    return x.astype(np.uint8), y.astype(np.int64), names
