"""The Text tab: SeqGAN captions and quatrains, each sample with the discriminator's realness."""

from __future__ import annotations

import random
from pathlib import Path

import gradio as gr

from ganstudio.pipelines.text import MAX_COUNT, TextPipeline
from ganstudio.provenance import export
from ganstudio.validation import check_choice

from .common import AI_LABEL, load_or_reason, unavailable, user_errors, write_output

MODELS = {"coco": ("English captions", "coco-seqgan"), "poems": ("中文五言绝句 (Chinese quatrains)", "poems-seqgan")}


def make_functions(pipes: dict[str, TextPipeline]):
    """The tab's callback, a plain function that tests can call without a browser."""

    @user_errors
    def generate_text(model: str = "coco", prefix: str = "", count: float = 4, max_length: float = 0,
                      temperature: float = 1.0, top_k: float = 0, seed: float = 0):
        pipe = pipes[check_choice("model", model, list(pipes))]
        # 0 (or empty) max_length means "as long as the model was trained for".
        result = pipe(prefix=prefix, count=count, max_length=max_length or None, temperature=temperature, top_k=top_k, seed=seed)
        table = [[i + 1, text, score] for i, (text, score) in enumerate(zip(result.samples, result.realness))]
        path = write_output(export(result, "txt").data, f"{model}-seqgan-seed{result.metadata['parameters']['seed']}.txt")
        return table, path, result.metadata

    return generate_text


def render(checkpoints: Path) -> None:
    pipes, reasons = {}, []
    for key, (label, folder) in MODELS.items():
        pipe, reason = load_or_reason(TextPipeline, checkpoints / folder)
        if pipe is None:
            reasons.append(f"{label}: {reason}")
        else:
            pipes[key] = pipe
    if not pipes:
        unavailable("\n\n".join(reasons))
        return
    generate_text = make_functions(pipes)
    gr.Markdown(
        "Text from SeqGAN generators (an LSTM trained by maximum likelihood, then by policy gradient "
        f"against a CNN discriminator). Every sample is {AI_LABEL}; the realness column is the "
        "discriminator's probability that the text is human-written."
        + ("".join(f"\n\n*Not available:* {r}" for r in reasons))
    )
    with gr.Row():
        with gr.Column(scale=1):
            model = gr.Radio([(MODELS[k][0], k) for k in pipes], value=next(iter(pipes)), label="Model")
            prefix = gr.Textbox("", label="Beginning (optional)", placeholder="e.g. a man riding  /  春 风")
            count = gr.Slider(1, MAX_COUNT, value=4, step=1, label="Number of samples")
            max_length = gr.Slider(0, max(p.max_tokens for p in pipes.values()), value=0, step=1,
                                   label="Maximum length", info="tokens (words or characters); 0: the model's own")
            temperature = gr.Slider(0.05, 2.0, value=1.0, step=0.05, label="Temperature", info="lower: safer; higher: more varied")
            top_k = gr.Slider(0, 100, value=0, step=1, label="Top-k", info="0: off")
            with gr.Row():
                seed = gr.Number(0, precision=0, minimum=0, maximum=2**32 - 1, label="Seed")
                dice = gr.Button("🎲 Random seed", size="sm")
            go = gr.Button("Generate", variant="primary")
        with gr.Column(scale=2):
            table = gr.Dataframe(headers=["#", f"Sample ({AI_LABEL})", "Realness"], datatype=["number", "str", "number"],
                                 label=f"Samples ({AI_LABEL})", wrap=True, interactive=False)
            download = gr.File(label="Download .txt (signed provenance in its footer)")
            meta = gr.JSON(label="Parameters and provenance")
    dice.click(lambda: random.randint(0, 2**32 - 1), None, seed, api_name=False)
    go.click(generate_text, [model, prefix, count, max_length, temperature, top_k, seed], [table, download, meta], api_name="generate_text")
