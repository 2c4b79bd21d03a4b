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


def make_studio_checkpoints(root: Path, seed: int = 0) -> Path:
    """Tiny untrained checkpoints of every family, named as the shipped ones: a whole studio in a second."""
    from ganstudio.midi import VOCAB
    from ganstudio.models import dcgan, midinet, seqgan

    torch.manual_seed(seed)
    g_args, d_args = {"z_dim": 16, "num_classes": 10, "width": 4}, {"num_classes": 10, "width": 4}
    save_pretrained(root / "mnist-cdcgan", {"name": "mnist-cdcgan", "family": "dcgan", "class": "ConditionalDCGAN",
                                            "args": {"generator": g_args, "discriminator": d_args}, "labels": [str(i) for i in range(10)]},
                    {**prefixed("generator_ema", dcgan.Generator(**g_args).state_dict()),
                     **prefixed("discriminator", dcgan.Discriminator(**d_args).state_dict())}, "# tiny\n")
    for name, kind, tokens in [("coco-seqgan", "word", ["a", "dog", "cat", "man", "on", "the", "mat", "."]),
                               ("poems-seqgan", "char", list("春风明月山水，。"))]:
        tokens = ["<eos>", "<bos>", *tokens]
        g_args = {"vocab_size": len(tokens), "emb_dim": 4, "hidden_dim": 4, "seq_len": 6, "start_token": 1}
        d_args = {"vocab_size": len(tokens), "seq_len": 6, "emb_dim": 4, "filter_sizes": [1, 2], "num_filters": [2, 2]}
        save_pretrained(root / name, {"name": name, "family": "seqgan", "class": "SeqGAN", "args": {"generator": g_args, "discriminator": d_args},
                                      "vocabulary": {"kind": kind, "tokens": tokens}},
                        {**prefixed("generator", seqgan.Generator(**g_args).state_dict()),
                         **prefixed("discriminator", seqgan.Discriminator(**d_args).state_dict())}, "# tiny\n")
    g_args, d_args = {"z_dim": 8, "vocab": VOCAB, "width": 16}, {"vocab": VOCAB, "width": 8, "hidden": 16}
    save_pretrained(root / "nottingham-midinet", {"name": "nottingham-midinet", "family": "midinet", "class": "MidiNet",
                                                  "args": {"generator": g_args, "discriminator": d_args}},
                    {**prefixed("generator", midinet.Generator(**g_args).eval().state_dict()),
                     **prefixed("discriminator", midinet.Discriminator(**d_args).state_dict())}, "# tiny\n")
    return root


@pytest.fixture(scope="session")
def studio_checkpoints(tmp_path_factory) -> Path:
    return make_studio_checkpoints(tmp_path_factory.mktemp("studio-checkpoints"))


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
def full_studio_url(tmp_path_factory):
    """Every tab available, served as app.py serves it (queue limits, upload cap): the shipped
    checkpoints where present, tiny untrained ones for the families not shipped yet."""
    import shutil

    from app import QUEUE
    from demo.app import MAX_UPLOAD, build_app

    checkpoints = make_studio_checkpoints(tmp_path_factory.mktemp("full-studio"))
    for folder in checkpoints.iterdir():
        if (SHIPPED / folder.name / "config.json").exists():
            shutil.rmtree(folder)
            folder.symlink_to(SHIPPED / folder.name, target_is_directory=True)
    demo = build_app(checkpoints)
    port = free_port()
    demo.queue(**QUEUE).launch(server_name="127.0.0.1", server_port=port, max_file_size=MAX_UPLOAD,
                               prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def connect(url: str, wait_s: float = 30):
    """A gradio_client Client, retried while the server starts."""
    from gradio_client import Client

    deadline = time.time() + wait_s
    while True:
        try:
            return Client(url, verbose=False)
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture(scope="session")
def client(studio_url):
    return connect(studio_url)


@pytest.fixture(scope="session")
def full_client(full_studio_url):
    return connect(full_studio_url)
