"""The GAN Studio Blocks app: a tab per medium; each tab says so if its model is missing."""

from __future__ import annotations

import importlib.util
import os
from argparse import Namespace
from pathlib import Path
from typing import Any

import gradio as gr

from . import image_tab, music_tab, provenance_tab, text_tab

CHECKPOINTS = Path(os.environ.get("GANSTUDIO_CHECKPOINTS", Path(__file__).resolve().parent.parent / "checkpoints"))
TABS = [("Image", image_tab), ("Text", text_tab), ("Music", music_tab), ("Provenance", provenance_tab)]


def build_app(checkpoints: Path = CHECKPOINTS) -> gr.Blocks:
    with gr.Blocks(title="GAN Studio", delete_cache=(600, 600)) as demo:
        gr.Markdown("# GAN Studio\nDigits, text and melodies made by generative adversarial networks. "
                    "Everything made here is **AI-generated** and labelled as such, visibly and in its metadata.")
        for name, module in TABS:
            with gr.Tab(name):
                module.render(Path(checkpoints))
    return demo


MAX_UPLOAD = "5mb"  # primers, files to verify: all small; a cap keeps uploads from filling the disk


def launch_options(args: Namespace) -> dict[str, Any]:
    """Blocks.launch keyword arguments for the command line of app.py."""
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            raise SystemExit("--auth must be USER:PASSWORD")
        auth = (user, password)
    return {
        "server_name": args.host,
        "server_port": args.port,
        "share": args.share,
        "auth": auth,
        "max_file_size": MAX_UPLOAD,
        # MCP needs the optional `mcp` package (pip install "gradio[mcp]").
        "mcp_server": not args.no_mcp and importlib.util.find_spec("mcp") is not None,
    }
