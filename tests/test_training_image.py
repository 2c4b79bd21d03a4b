"""The image trainer on data the test makes: a few steps, resume, DDP with gloo, loaders."""

import csv
import gzip
import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from ganstudio import ImagePipeline
from training.__main__ import main as train_main
from training.image_data import load_image_dataset

from .conftest import ROOT

TINY = ["--z-dim", "8", "--g-width", "4", "--d-width", "4", "--batch-size", "16", "--device", "cpu", "--threads", "1"]


@pytest.fixture
def tiny_mnist(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "tiny.npz"
    np.savez(path, x_train=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), y_train=rng.integers(0, 10, 64, dtype=np.uint8))
    return path


def metrics_rows(run_dir):
    with open(run_dir / "metrics.csv") as f:
        return list(csv.DictReader(f))


def test_a_few_steps_write_a_loadable_checkpoint(tiny_mnist, tmp_path):
    out, run = tmp_path / "ck", tmp_path / "run"
    train_main(["image", "--data", str(tiny_mnist), "--out", str(out), "--run-dir", str(run), "--epochs", "2", *TINY])
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["steps"] == 8  # 64 images / 16 per batch x 2 epochs
    assert config["training"]["command"].startswith("python -m training image --data tiny.npz --out checkpoints/ck")
    rows = metrics_rows(run)
    assert [r["epoch"] for r in rows] == ["1", "2"] and all(np.isfinite(float(r["d_loss"])) for r in rows)
    assert (run / "samples" / "epoch-001.png").exists() and (run / "state.pt").exists()
    result = ImagePipeline.from_pretrained(out, device="cpu")(label="2", count=4, seed=0)
    assert len(result.images) == 4


def test_resume_continues_from_the_saved_step(tiny_mnist, tmp_path):
    out, run = tmp_path / "ck", tmp_path / "run"
    args = ["image", "--data", str(tiny_mnist), "--out", str(out), "--run-dir", str(run), "--epochs", "3", *TINY]
    train_main([*args, "--max-steps", "2"])  # stops mid-epoch 0
    state = torch.load(run / "state.pt", weights_only=True)
    assert (state["epoch"], state["step_in_epoch"], state["global_step"]) == (0, 2, 2)
    train_main([*args, "--resume"])
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["steps"] == 12  # 2 + the rest: (4 - 2) + 4 + 4
    assert config["training"]["epochs_done"] == 3


@pytest.mark.parametrize("flag", ["--time-limit", "--max-seconds"])
def test_time_limit_stops_after_the_step_that_spends_it(tiny_mnist, tmp_path, flag):
    out, run = tmp_path / "ck", tmp_path / "run"
    train_main(["image", "--data", str(tiny_mnist), "--out", str(out), "--run-dir", str(run), "--epochs", "3", *TINY, flag, "1e-9"])
    state = torch.load(run / "state.pt", weights_only=True)
    assert (state["epoch"], state["step_in_epoch"], state["global_step"]) == (0, 1, 1)
    assert json.loads((out / "config.json").read_text())["training"]["steps"] == 1  # and the checkpoint is written


def test_ddp_two_gloo_processes(tiny_mnist, tmp_path):
    out, run = tmp_path / "ck", tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "training", "image", "--data", str(tiny_mnist), "--out", str(out), "--run-dir", str(run), "--epochs", "1", *TINY]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TQDM_DISABLE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["processes"] == 2
    assert config["training"]["steps"] == 2  # 64 images split over 2 ranks, 16 per batch
    ImagePipeline.from_pretrained(out, device="cpu")(count=2)


def test_idx_gz_and_class_folder_loaders(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    y = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">HBB3I", 0, 8, 3, 5, 28, 28) + x.tobytes())
    with gzip.open(tmp_path / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">HBBI", 0, 8, 1, 5) + y.tobytes())
    xi, yi, names = load_image_dataset(tmp_path)
    assert np.array_equal(xi, x) and yi.tolist() == [3, 1, 4, 1, 5] and names[3] == "3"

    root = tmp_path / "folders"
    for cls, value in (("circle", 200), ("square", 50)):
        (root / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (56, 56), value).save(root / cls / f"{i}.png")
    xf, yf, names = load_image_dataset(root)
    assert names == ["circle", "square"] and xf.shape == (6, 28, 28)
    assert yf.tolist() == [0, 0, 0, 1, 1, 1] and xf[0, 0, 0] == 200 and xf[5, 0, 0] == 50
