"""The Provenance tab: check an uploaded file's signature, see its manifest, regenerate it,
and ask the image discriminator how real it looks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr

from ganstudio.errors import InvalidParameterError
from ganstudio.pipelines.image import ImagePipeline
from ganstudio.pipelines.music import MusicPipeline
from ganstudio.pipelines.text import TextPipeline
from ganstudio.provenance import ProvenanceError, fingerprint, public_key, regenerate, verify_bytes
from ganstudio.provenance.formats import read_limited, sniff
from ganstudio.provenance.formats.png import load_image
from ganstudio.provenance.formats.text import body_text

from .common import load_or_reason, user_errors

TEXT_MODELS = ("coco-seqgan", "poems-seqgan")
ICONS = {"trusted": "✅", "unknown_key": "⚠️", "altered": "❌", "no_provenance": "❔"}
TEXT_SCORE_HELP = (
    "**What this score can and cannot tell.** It is the text discriminator's probability that a sentence is "
    "from the training text rather than from the generator. It was trained against one generator on one corpus "
    "(captions or quatrains); it judges short sentences in that corpus's vocabulary only. It cannot tell "
    "whether a person or a model wrote the text, and a high value is no proof of authenticity. For provenance, "
    "use the signature check above."
)
MAX_SCORED_LINES = 32
SCORE_HELP = (
    "**What this score can and cannot tell.** The discriminator was trained only to tell MNIST digits from "
    "this studio's generated digits. Its score is a raw hinge-loss output: above 0 leans *looks like the real "
    "training digits*, below 0 leans *looks like a generated one*; shown for the digit class it scores highest. "
    "At the end of training the generator had learnt to fool it, so real and generated digits get overlapping "
    "scores. The score therefore says how typical of handwritten MNIST digits this image looks to one network. "
    "It **cannot** tell whether a person or a model made an image, it means nothing for images unlike MNIST "
    "(anything else is squeezed to 28×28 grey), and a high score is no proof of authenticity. For provenance, "
    "use the signature check above."
)


def flatten(value: Any, prefix: str = "") -> list[list[str]]:
    """A nested manifest as (field, value) rows: model.name, generation.parameters.seed, ..."""
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in flatten(v, f"{prefix}{k}.")]
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return [[prefix.rstrip("."), text]]


def _read(file: str | None, sidecar: str | None) -> tuple[bytes, bytes | None]:
    if not file:
        raise ProvenanceError("upload a PNG, WAV, MIDI or text file first")
    return read_limited(file), (read_limited(sidecar) if sidecar else None)


def _score_image(image_pipe: ImagePipeline | None, data: bytes) -> str:
    if image_pipe is None or image_pipe.discriminator is None:
        return "The image model with its discriminator is not installed, so there is nothing to score with."
    scores = image_pipe.discriminator_scores(load_image(data))
    label, best = max(scores.items(), key=lambda kv: kv[1])
    metrics = image_pipe.config.get("metrics", {})
    ref = (f" At the end of training its average was {metrics['d_real']:+.2f} on real digits and "
           f"{metrics['d_fake']:+.2f} on generated ones." if {"d_real", "d_fake"} <= set(metrics) else "")
    return f"**{best:+.2f}** (as a {label}; leaning {'real' if best > 0 else 'generated'}).{ref}\n\n{SCORE_HELP}"


def _score_text(text_pipes: dict[str, TextPipeline], data: bytes) -> str:
    lines = [line for line in body_text(data).split("\n") if line.strip() and not line.startswith("#")][:MAX_SCORED_LINES]
    if not lines:
        return "The text has no lines to score."
    for name, pipe in text_pipes.items():
        try:
            scores = [pipe.realness_of(line) for line in lines]
        except InvalidParameterError:
            continue  # this model does not know some of the words; try the next
        rows = "\n".join(f"| {score:.2f} | {line.replace('|', '/')} |" for line, score in zip(lines, scores))
        return f"Scored by the {name} discriminator (P(real), 0-1):\n\n| P(real) | Line |\n|---|---|\n{rows}\n\n{TEXT_SCORE_HELP}"
    installed = ", ".join(text_pipes) or "none installed"
    return f"No installed text model knows every word of this text (models: {installed}), so it cannot be scored."


MUSIC_SCORE_HELP = (
    "What this can tell: how much each bar resembles, to the melody discriminator, the Nottingham folk-tune bars it "
    "was trained against, given the bar's chord. What it cannot tell: whether a person or a model wrote the melody "
    "(the generator was trained to fool exactly this judge), nor whether it is good music outside that style."
)


def _score_music(music_pipe: MusicPipeline | None, data: bytes) -> str:
    if music_pipe is None:
        return "The music model is not installed, so melodies cannot be scored."
    scores = music_pipe.realness_of(data)
    rows = "\n".join(f"| {i + 1} | {score:.2f} |" for i, score in enumerate(scores))
    return (f"Scored by the melody discriminator (P(real) per bar, 0-1; mean {sum(scores) / len(scores):.2f}):\n\n"
            f"| Bar | P(real) |\n|---|---|\n{rows}\n\n{MUSIC_SCORE_HELP}")


def make_functions(checkpoints: Path, image_pipe: ImagePipeline | None = None, text_pipes: dict[str, TextPipeline] | None = None,
                   music_pipe: MusicPipeline | None = None):
    """The tab's callbacks, plain functions that tests can call without a browser."""

    @user_errors
    def verify(file: str | None = None, sidecar: str | None = None):
        """Check who signed a file and whether it changed since: trusted, unknown_key, altered or no_provenance.

        Args:
            file: a PNG, WAV, MIDI or UTF-8 text file made by GAN Studio
            sidecar: the text's .provenance.json, when the text lost its footer
        """
        result = verify_bytes(*_read(file, sidecar))
        verdict = f"### {ICONS[result.status]} {result.headline}\n{result.detail}\n\n*{result.c2pa}*"
        return verdict, flatten(result.manifest or {}), result.ledger, result.to_dict()

    @user_errors
    def regenerate_file(file: str | None = None, sidecar: str | None = None) -> str:
        """Run the model, seed and parameters a file's manifest records and say whether the content is identical.

        Args:
            file: a PNG, WAV, MIDI or UTF-8 text file made by GAN Studio
            sidecar: the text's .provenance.json, when the text lost its footer
        """
        result = verify_bytes(*_read(file, sidecar))
        if result.manifest is None:
            return "Nothing to regenerate: the file carries no manifest."
        outcome = regenerate(result.manifest, checkpoints)
        caveat = "" if result.status == "trusted" else f"\n\n(The file's own verdict is *{result.headline.lower()}*; the manifest was run as recorded.)"
        return f"**{'Identical' if outcome.identical else 'Not identical'}.** {outcome.message}.{caveat}"

    @user_errors
    def discriminator_score(file: str | None = None) -> str:
        """How real the matching discriminator finds an image or a text, with what that can and cannot tell.

        Args:
            file: a PNG image, a MIDI melody or a UTF-8 text file
        """
        data, _ = _read(file, None)
        fmt = sniff(data)
        if fmt == "png":
            return _score_image(image_pipe, data)
        if fmt == "text":
            return _score_text(text_pipes or {}, data)
        if fmt == "midi":
            return _score_music(music_pipe, data)
        return "Only images (PNG), melodies (MIDI) and text can be scored; a WAV has no discriminator to judge it."

    return verify, regenerate_file, discriminator_score


def render(checkpoints: Path) -> None:
    image_pipe, _ = load_or_reason(ImagePipeline, checkpoints / "mnist-cdcgan")
    text_pipes = {name: pipe for name in TEXT_MODELS if (pipe := load_or_reason(TextPipeline, checkpoints / name)[0])}
    music_pipe, _ = load_or_reason(MusicPipeline, checkpoints / "nottingham-midinet")
    verify, regenerate_file, discriminator_score = make_functions(checkpoints, image_pipe, text_pipes, music_pipe)
    try:
        key = public_key()
        key_line = f"This studio's public key: `{key}` (fingerprint `{fingerprint(key)}`)."
    except (ProvenanceError, InvalidParameterError) as e:
        key_line = f"This studio has no usable signing key: {e}"
    gr.Markdown(
        "Check a file made here: a PNG, WAV, MIDI, or text file (with its `.provenance.json` if the text lost its footer). "
        "Every output is signed with this studio's key; the verdict says whether it is signed by this studio, by an "
        f"unknown key, altered since signing, or carries no provenance. {key_line}"
    )
    with gr.Row():
        with gr.Column(scale=1):
            file = gr.File(label="File to check", file_types=[".png", ".wav", ".mid", ".midi", ".txt"], type="filepath")
            sidecar = gr.File(label="Sidecar .provenance.json (optional, for text)", file_types=[".json"], type="filepath")
            check = gr.Button("Verify", variant="primary")
            again = gr.Button("Regenerate and compare")
            score = gr.Button("How real does the discriminator think it is?")
        with gr.Column(scale=2):
            verdict = gr.Markdown()
            ledger = gr.Textbox(label="Ledger", interactive=False)
            table = gr.Dataframe(headers=["Field", "Value"], datatype=["str", "str"], label="Manifest", wrap=True, interactive=False)
            details = gr.JSON(label="Verification (as the API returns it)")
            regenerated = gr.Markdown()
            scored = gr.Markdown()
    check.click(verify, [file, sidecar], [verdict, table, ledger, details], api_name="verify")
    again.click(regenerate_file, [file, sidecar], regenerated, api_name="regenerate")
    score.click(discriminator_score, file, scored, api_name="discriminator_score")
