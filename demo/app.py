"""The GAN Studio Blocks app: a tab per medium; each tab says so if its model is missing."""

from __future__ import annotations

import os
from pathlib import Path

import gradio as gr

from . import image_tab, music_tab, provenance_tab, text_tab

CHECKPOINTS = Path(os.environ.get("GANSTUDIO_CHECKPOINTS", Path(__file__).resolve().parent.parent / "checkpoints"))
TABS = [("Image", image_tab), ("Text", text_tab), ("Music", music_tab), ("Provenance", provenance_tab)]


def build_app(checkpoints: Path = CHECKPOINTS) -> gr.Blocks:
    with gr.Blocks(title="GAN Studio", delete_cache=(3600, 3600)) as demo:
        gr.Markdown("# GAN Studio\nDigits, text and melodies made by generative adversarial networks. "
                    "Everything made here is **AI-generated** and labelled as such, visibly and in its metadata.")
        for name, module in TABS:
            with gr.Tab(name):
                module.render(Path(checkpoints))
    return demo
