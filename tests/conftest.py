"""Shared fixtures: tiny checkpoints made on the spot, and a studio server on a free port."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
import torch

from ganstudio.checkpoint import prefixed, save_pretrained
from ganstudio.models.dcgan import Generator

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "checkpoints"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_image_checkpoint(path: Path, seed: int = 0) -> Path:
    """An untrained tiny DCGAN checkpoint: enough to test loading, shapes and determinism."""
    torch.manual_seed(seed)
    g_args = {"z_dim": 16, "num_classes": 10, "width": 4}
    g = Generator(**g_args).eval()
    config = {"name": path.name, "family": "dcgan", "class": "ConditionalDCGAN",
              "args": {"generator": g_args, "discriminator": {"num_classes": 10, "width": 4}},
              "labels": [str(i) for i in range(10)]}
    save_pretrained(path, config, prefixed("generator_ema", g.state_dict()), "# tiny test model\n")
    return path


@pytest.fixture(scope="session", autouse=True)
def _studio_home(tmp_path_factory):
    """Signing keys and the ledger of a test run live in a temporary GANSTUDIO_HOME, never the user's."""
    before = os.environ.get("GANSTUDIO_HOME")
    os.environ["GANSTUDIO_HOME"] = str(tmp_path_factory.mktemp("ganstudio-home"))
    yield
    if before is None:
        os.environ.pop("GANSTUDIO_HOME", None)
    else:
        os.environ["GANSTUDIO_HOME"] = before


@pytest.fixture
def tiny_image_checkpoint(tmp_path) -> Path:
    return make_image_checkpoint(tmp_path / "tiny-cdcgan")


@pytest.fixture(scope="session")
def studio_url():
    """The studio with the shipped checkpoints, served on loopback for the whole session."""
    from demo.app import build_app

    demo = build_app(SHIPPED)
    port = free_port()
    demo.queue(default_concurrency_limit=4).launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    yield url
    demo.close()


@pytest.fixture(scope="session")
def client(studio_url):
    from gradio_client import Client

    deadline = time.time() + 30
    while True:
        try:
            return Client(studio_url, verbose=False)
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.5)
