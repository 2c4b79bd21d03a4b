"""The Music tab: a melody over a chord progression, as a piano roll, audio and MIDI."""

from __future__ import annotations

import random
from pathlib import Path

import gradio as gr

from ganstudio.chords import ACCEPTED
from ganstudio.midi import GM_PROGRAMS
from ganstudio.pipelines.music import KEYS, MAX_BARS, PRESETS, MusicPipeline
from ganstudio.provenance import export

from .common import AI_LABEL, load_or_reason, unavailable, user_errors, write_output


def make_functions(pipe: MusicPipeline):
    """The tab's callback, a plain function that tests can call without a browser."""

    @user_errors
    def generate_music(
        chords: str = "C G Am F",
        bars: float = 8,
        tempo: float = 120,
        key: str = "C",
        instrument: str = "Acoustic Grand Piano",
        creativity: float = 1,
        seed: float = 0,
        primer: str | None = None,
    ):
        song = pipe(chords=chords, bars=bars, tempo=tempo, key=key, instrument=instrument,
                    creativity=creativity, seed=seed, primer=primer)
        stem = f"melody-seed{song.metadata['parameters']['seed']}"
        roll = write_output(export(song, "piano-roll", f"{stem}.png").data, f"{stem}.png")
        audio = write_output(export(song, "wav", f"{stem}.wav").data, f"{stem}.wav")
        midi = write_output(export(song, "midi", f"{stem}.mid").data, f"{stem}.mid")
        return roll, audio, midi, song.metadata

    return generate_music


def render(checkpoints: Path) -> None:
    pipe, reason = load_or_reason(MusicPipeline, checkpoints / "nottingham-midinet")
    if pipe is None:
        unavailable(reason)
        return
    generate_music = make_functions(pipe)
    gr.Markdown(
        "Type a chord progression, one chord a bar; a MidiNet trained on Nottingham folk tunes writes a "
        f"melody over it, bar by bar. Every song is {AI_LABEL}, and its MIDI file says so."
    )
    with gr.Row():
        with gr.Column(scale=1):
            preset = gr.Dropdown(list(PRESETS), value=None, label="Preset progression")
            chords = gr.Textbox("C G Am F", label="Chords (one a bar)", info=ACCEPTED)
            bars = gr.Slider(1, MAX_BARS, value=8, step=1, label="Bars", info="the progression repeats to fill them")
            tempo = gr.Slider(40, 240, value=120, step=1, label="Tempo (BPM)")
            with gr.Row():
                key = gr.Dropdown(KEYS, value="C", label="Key", info="transposes the song from C")
                instrument = gr.Dropdown(GM_PROGRAMS, value="Acoustic Grand Piano", label="Melody instrument")
            creativity = gr.Slider(0, 4, value=1, step=1, label="Creativity",
                                   info="0: each bar follows the previous closely; 4: bars ignore each other")
            with gr.Row():
                seed = gr.Number(0, precision=0, minimum=0, maximum=2**32 - 1, label="Seed")
                dice = gr.Button("🎲 Random seed", size="sm")
            primer = gr.File(label="Primer MIDI (optional): its first bar leads into the melody",
                             file_types=[".mid", ".midi"], type="filepath")
            go = gr.Button("Compose", variant="primary")
        with gr.Column(scale=2):
            roll = gr.Image(label=f"Piano roll: melody (orange) over chords ({AI_LABEL})", type="filepath")
            audio = gr.Audio(label=f"Listen ({AI_LABEL})", type="filepath")
            midi = gr.File(label="MIDI (tracks melody and chords; provenance in its meta events)")
            meta = gr.JSON(label="Parameters and provenance")
    preset.change(lambda name: PRESETS.get(name, gr.skip()) if name else gr.skip(), preset, chords, api_name=False)
    dice.click(lambda: random.randint(0, 2**32 - 1), None, seed, api_name=False)
    go.click(generate_music, [chords, bars, tempo, key, instrument, creativity, seed, primer],
             [roll, audio, midi, meta], api_name="generate_music")
