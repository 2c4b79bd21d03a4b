"""The Image tab: class-conditional digits and latent walks."""

from __future__ import annotations

import json
import random
from pathlib import Path

import gradio as gr

from ganstudio.pipelines.image import ImagePipeline
from ganstudio.provenance import export, export_many

from .common import AI_LABEL, load_or_reason, unavailable, user_errors, write_output, write_outputs

LABELS = ["any", *map(str, range(10))]


def make_functions(pipe: ImagePipeline):
    """The tab's callbacks, plain functions that tests can call without a browser."""

    @user_errors
    def generate_image(label: str = "any", count: float = 16, seed: float = 0, truncation: float = 2.0, mark: bool = True):
        result = pipe(label=label, count=count, seed=seed, truncation=truncation)
        # Each sample as its own signed PNG (no C2PA: a dozen at 0.1 s each would be slow).
        samples = export_many(result, [f"sample-{i}" for i in range(len(result.images))])
        paths = write_outputs([(s.data, f"digit-{y}-{i}.png") for i, (s, y) in enumerate(zip(samples, result.labels))])
        gallery = [(path, f"{AI_LABEL} · digit {y}") for path, y in zip(paths, result.labels)]
        signed = export(result, "grid-marked" if mark else "grid", "digits.png")
        grid = write_output(signed.data, f"digits-{result.metadata['parameters']['seed']}.png")
        return gallery, grid, result.metadata

    @user_errors
    def latent_walk(label: str = "any", seed_a: float = 0, seed_b: float = 1, frames: float = 24, truncation: float = 2.0):
        result = pipe.walk(label=label, seed_a=seed_a, seed_b=seed_b, frames=frames, truncation=truncation)
        gif = write_output(result.gif_bytes(), "walk.gif")
        strip = write_output(export(result, "strip", "walk-strip.png").data, "walk-strip.png")
        return gif, strip, result.metadata

    return generate_image, latent_walk


def render(checkpoints: Path) -> None:
    pipe, reason = load_or_reason(ImagePipeline, checkpoints / "mnist-cdcgan")
    if pipe is None:
        unavailable(reason)
        return
    generate_image, latent_walk = make_functions(pipe)
    gr.Markdown(f"Handwritten digits from a class-conditional DCGAN trained on MNIST. Every image is {AI_LABEL}.")
    with gr.Row():
        with gr.Column(scale=1):
            label = gr.Dropdown(LABELS, value="any", label="Digit", info='"any" gives 0-9 in turn')
            count = gr.Slider(1, 64, value=16, step=1, label="Number of images")
            with gr.Row():
                seed = gr.Number(0, label="Seed", info="0 to 4294967295")
                dice = gr.Button("🎲 Random seed", size="sm")
            truncation = gr.Slider(0.1, 4.0, value=2.0, step=0.05, label="Truncation", info="lower: more typical digits; higher: more varied")
            mark = gr.Checkbox(True, label="Visible \"AI-generated\" mark on the grid PNG", info="the label is in its signed metadata either way")
            go = gr.Button("Generate", variant="primary")
        with gr.Column(scale=2):
            gallery = gr.Gallery(label=f"Samples ({AI_LABEL})", columns=8, height="auto", object_fit="contain")
            grid = gr.File(label="Grid PNG (signed; parameters and provenance in its metadata)")
            meta = gr.JSON(label="Parameters and provenance")
    dice.click(lambda: random.randint(0, 2**32 - 1), None, seed, api_name=False)
    go.click(generate_image, [label, count, seed, truncation, mark], [gallery, grid, meta], api_name="generate_image")

    gr.Markdown("### Latent walk\nMorph from one seed's sample to another's. With digit \"any\", the digit itself morphs too.")
    with gr.Row():
        with gr.Column(scale=1):
            w_label = gr.Dropdown(LABELS, value="any", label="Digit")
            with gr.Row():
                seed_a = gr.Number(0, label="From seed")
                seed_b = gr.Number(1, label="To seed")
            frames = gr.Slider(2, 120, value=24, step=1, label="Frames")
            w_trunc = gr.Slider(0.1, 4.0, value=2.0, step=0.05, label="Truncation")
            walk = gr.Button("Walk", variant="primary")
        with gr.Column(scale=2):
            animation = gr.Image(label=f"Animation ({AI_LABEL})", type="filepath")
            strip = gr.Image(label="Frames", type="filepath")
            w_meta = gr.JSON(label="Parameters and provenance")
    walk.click(latent_walk, [w_label, seed_a, seed_b, frames, w_trunc], [animation, strip, w_meta], api_name="latent_walk")
