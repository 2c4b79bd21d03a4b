"""Melody statistics of the shipped MidiNet against the real test melodies, and render speed.

    python benchmarks/music_quality.py --data .data/nottingham-bars.npz \
        [--checkpoint checkpoints/nottingham-midinet] [--seeds 3] [--out benchmarks/RESULTS-music.md]

`--data` is the Nottingham MIDI folder or the .npz `python -m training.music_data` makes of it
(the same split as training: test tunes are never trained on). For each test tune the model
writes a melody over that tune's own chords, bar for bar (three seeds by default); the real
melodies of those tunes are the reference. The copy rate counts non-empty bars equal, in some
key, to a bar of the training tunes (the real test melodies' own rate is shown beside it).
Render speed: 8 bars written to MIDI and audio (built-in synthesiser), and the whole pipeline
call, timed on this machine.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganstudio.chords import parse_progression  # noqa: E402
from ganstudio.melody_stats import TARGETS, TrainingBars, meets, melody_statistics  # noqa: E402
from ganstudio.midi import STEPS_PER_BAR, Note, chord_voicing, steps_to_notes, write_midi  # noqa: E402
from ganstudio.pipelines.music import MusicPipeline  # noqa: E402
from ganstudio.synth import synthesise, wav_bytes  # noqa: E402
from training import music_data  # noqa: E402
from training.music import evaluate, seed_mean  # noqa: E402


def render_times(pipe: MusicPipeline, repeats: int) -> list[float]:
    """Seconds to turn 8 generated bars into MIDI bytes and WAV bytes (the model excluded)."""
    song = pipe(chords="C G Am F", bars=8, seed=0)
    melody = steps_to_notes(song.melody)
    chords = parse_progression("C G Am F C G Am F")
    chord_notes = [Note(i * STEPS_PER_BAR, (i + 1) * STEPS_PER_BAR, p, 64) for i, c in enumerate(chords) for p in chord_voicing(c)]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        write_midi(melody, chords, 120, 0, song.metadata)
        wav_bytes(synthesise(melody, chord_notes, 0.125, 0, 8 * STEPS_PER_BAR))
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--checkpoint", default=str(Path(__file__).resolve().parent.parent / "checkpoints" / "nottingham-midinet"))
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--creativity", type=int, default=1)
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--out", help="write the results as Markdown here")
    args = p.parse_args()

    torch.set_num_threads(1)
    pipe = MusicPipeline.from_pretrained(args.checkpoint, device="cpu")
    data = music_data.load(args.data)
    train, test = music_data.split(data, test=False), music_data.split(data, test=True)
    train_bars = TrainingBars.of(train["tokens"])
    # as the studio writes them: each bar chosen among its noise draws by the discriminator,
    # avoiding the training bars the checkpoint holds; copies are counted against every training tune
    # (a model with a tune condition: each tune's key read from its chords, its register drawn
    # from the training tunes' the checkpoint holds, as the studio does; the real one is not used)
    tune = {"registers": pipe.registers}
    studio = {**pipe.choice, **tune}
    runs = [evaluate(pipe.generator, test, train_bars, torch.device("cpu"), seed=s, creativity=args.creativity, **studio)
            for s in range(args.seeds)]
    raw = [evaluate(pipe.generator, test, train_bars, torch.device("cpu"), seed=s, creativity=args.creativity, **tune)["generated"]
           for s in range(args.seeds)]
    real = runs[0]["real"]
    gen = seed_mean(runs)
    spread = {k: float(np.std([r["generated"][k] for r in runs])) for k in real}
    by_creativity = {c: evaluate(pipe.generator, test, train_bars, torch.device("cpu"), seed=0, creativity=c, **studio)["generated"]
                     for c in range(5)}
    times = render_times(pipe, args.repeats)
    whole = []
    for seed in range(args.repeats):
        t0 = time.perf_counter()
        pipe(chords="C G Am F", bars=8, seed=seed)
        whole.append(time.perf_counter() - t0)

    command = "python benchmarks/music_quality.py " + " ".join(sys.argv[1:])
    lines = [
        "# Music quality: nottingham-midinet",
        "",
        f"Command: `{command}`  ",
        f"Machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread(s), "
        f"Python {platform.python_version()}, torch {torch.__version__}  ",
        f"Checkpoint: `{pipe.checkpoint_sha256[:16]}...`; {len(np.unique(test['tune']))} test tunes, {len(test['tokens'])} bars; "
        f"generated over their own chords, creativity {args.creativity}, seeds 0-{args.seeds - 1} (mean ± s.d.), "
        f"as the studio writes them: each bar is the one of {studio['candidates']} noise draws that the discriminator scores most real, "
        f"its logit raised by {studio['harmony']:g} x the share of the notes on the beats that are chord tones and lowered by "
        f"{studio['continuity']:g} x the leap into the bar in octaves and {studio['repetition']:g} x the share of its notes "
        "that strike the pitch before again, passing over copies of training bars."
        + (" Each tune's key is read from its chords and its register drawn from the training tunes', as the studio does."
           if pipe.generator.tune else ""),
        "",
        "| statistic | generated | real test melodies | target | met |",
        "| --- | --- | --- | --- | --- |",
    ]
    for k in TARGETS:
        lines.append(f"| {k} | {gen[k]:.3f} ± {spread[k]:.3f} | {real[k]:.3f} | {TARGETS[k]} | {'yes' if meets(k, gen[k], real[k]) else 'no'} |")
    lines += ["", f"The generator alone (one noise draw a bar, no choice, no originality guard), same seeds: "
              + ", ".join(f"{k} {np.mean([r[k] for r in raw]):.3f}" for k in TARGETS) + "."]
    lines += ["", "Note lengths (share of notes, in sixteenths):", "",
              "| length | generated | real |", "| --- | --- | --- |"]
    lines += [f"| {k.removeprefix('note_length_')} | {gen[k]:.3f} | {real[k]:.3f} |" for k in real if k.startswith("note_length_")]
    lines += ["", "By creativity (seed 0):", "", "| creativity | chord-tone ratio | mean interval | pitch range | copy rate |",
              "| --- | --- | --- | --- | --- |"]
    lines += [f"| {c} | {s['chord_tone_ratio']:.3f} | {s['mean_interval']:.2f} | {s['pitch_range']:.1f} | {s['training_copy_rate']:.3f} |"
              for c, s in by_creativity.items()]
    lines += ["", f"Rendering 8 bars to MIDI and audio (built-in synthesiser, {args.repeats} runs): "
              f"p50 {1000 * statistics.median(times):.1f} ms, p90 {1000 * sorted(times)[int(0.9 * len(times))]:.1f} ms. "
              f"The whole pipeline call (8 bars generated, MIDI, audio, piano roll): p50 {1000 * statistics.median(whole):.1f} ms.", ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
