"""Faults: a training run killed with SIGKILL and resumed; broken checkpoints refused at load
with a message naming the problem, and the app starting with that tab saying why."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import gradio as gr
import numpy as np
import pytest
import torch

from demo.app import build_app
from ganstudio import CheckpointError, ImagePipeline
from ganstudio.checkpoint import CONFIG_NAME, WEIGHTS_NAME, verify

from .conftest import ROOT, make_studio_checkpoints

TINY = ["--z-dim", "8", "--g-width", "4", "--d-width", "4", "--batch-size", "16", "--device", "cpu", "--threads", "1"]


def saved_position(state_path) -> tuple[int, int, int] | None:
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError):
        return None
    return state["epoch"], state["step_in_epoch"], state["global_step"]


def test_sigkill_mid_epoch_then_resume_continues_from_the_saved_step(tmp_path):
    rng = np.random.default_rng(0)
    data, out, run = tmp_path / "digits.npz", tmp_path / "ck", tmp_path / "run"
    images, epochs = 1600, 3
    np.savez(data, x_train=rng.integers(0, 256, (images, 28, 28), dtype=np.uint8), y_train=rng.integers(0, 10, images, dtype=np.uint8))
    steps_per_epoch = images // 16
    cmd = [sys.executable, "-m", "training", "image", "--data", str(data), "--out", str(out), "--run-dir", str(run),
           "--epochs", str(epochs), "--save-every", "1", *TINY]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TQDM_DISABLE": "1", "OMP_NUM_THREADS": "1"}

    first = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    position = None
    while time.time() < deadline and first.poll() is None:
        position = saved_position(run / "state.pt")
        if position and position[0] >= 1 and 0 < position[1] < steps_per_epoch - 5:
            break  # past one whole epoch, in the middle of the next
        time.sleep(0.02)
    assert first.poll() is None, f"the run ended before it could be killed: {first.communicate()[1][-2000:]}"
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL
    epoch, step_in_epoch, saved_step = saved_position(run / "state.pt")
    assert epoch >= 1 and 0 < step_in_epoch < steps_per_epoch and saved_step == epoch * steps_per_epoch + step_in_epoch
    done_samples = {p.name: p.stat().st_mtime_ns for p in (run / "samples").glob("epoch-*.png")}
    assert "epoch-000.png" in done_samples

    second = subprocess.run([*cmd, "--resume"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    finished = [int(line.split(":")[0].split()[1]) for line in second.stdout.splitlines() if line.startswith("epoch ")]
    assert finished == list(range(epoch, epochs)), second.stdout  # the epochs done before the kill are not redone
    for name, mtime in done_samples.items():
        if int(name[6:9]) < epoch:
            assert (run / "samples" / name).stat().st_mtime_ns == mtime, f"{name} was made again"
    rows = [line.split(",")[:2] for line in (run / "metrics.csv").read_text().splitlines()[1:]]
    assert rows == [[str(e), str(e * steps_per_epoch)] for e in range(1, epochs + 1)]  # each epoch once, numbered from 1

    config = verify(out)
    assert config["training"]["steps"] == epochs * steps_per_epoch and config["training"]["epochs_done"] == epochs
    result = ImagePipeline.from_pretrained(out, device="cpu")(label="5", count=2, seed=1)
    assert len(result.images) == 2


# ---- broken checkpoints --------------------------------------------------------------------

def truncate(path):
    weights = path / WEIGHTS_NAME
    weights.write_bytes(weights.read_bytes()[:200])


def flip_a_byte(path):
    weights = path / WEIGHTS_NAME
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))


def edit_config(change):
    def edit(path):
        config = json.loads((path / CONFIG_NAME).read_text())
        change(config)
        (path / CONFIG_NAME).write_text(json.dumps(config))
    return edit


BROKEN = {
    "truncated weights": (truncate, "altered or is truncated"),
    "one byte changed": (flip_a_byte, "does not match its config"),
    "config not matching the weights": (edit_config(lambda c: c["args"]["generator"].update(width=8)), "do not match config.json"),
    "newer format version": (edit_config(lambda c: c.update(format_version=99)), "version 99"),
    "unknown constructor argument": (edit_config(lambda c: c["args"]["generator"].update(depth=3)), "depth"),
    "wrong type in the config": (edit_config(lambda c: c["args"]["generator"].update(width="four")), "config.json"),
    "weights missing": (lambda path: (path / WEIGHTS_NAME).unlink(), f"has no {WEIGHTS_NAME}"),
    "config not JSON": (lambda path: (path / CONFIG_NAME).write_text("{\"family\": "), "not valid JSON"),
}


@pytest.mark.parametrize("fault", list(BROKEN))
def test_a_broken_checkpoint_is_refused_and_its_tab_says_why(tmp_path, fault):
    break_it, words = BROKEN[fault]
    checkpoints = make_studio_checkpoints(tmp_path)
    break_it(checkpoints / "mnist-cdcgan")
    with pytest.raises(CheckpointError, match=words):
        ImagePipeline.from_pretrained(checkpoints / "mnist-cdcgan", device="cpu")

    demo = build_app(checkpoints)  # starts anyway
    notices = [b.value for b in demo.blocks.values() if isinstance(b, gr.Markdown) and "Not available" in str(b.value)]
    assert len(notices) == 1 and "could not be loaded" in notices[0] and words in notices[0], notices
    apis = {fn.api_name for fn in demo.fns.values()}
    assert "generate_image" not in apis and {"generate_text", "generate_music", "verify"} <= apis
