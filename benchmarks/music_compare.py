"""Compare MidiNet checkpoints on the held-out training tunes, as `--keep-best` judges them.

    python benchmarks/music_compare.py --data .data/nottingham-bars.npz CHECKPOINT [CHECKPOINT ...] [--seeds 5 6 7]

The held-out tunes are every 10th training tune (`training.music_data.hold_out`), which a run
with `--keep-best` never trains on; the test tunes are not looked at, so choosing among runs
here leaves the test figures of `music_quality.py` honest. Each checkpoint writes a melody over
every held-out tune's chords, as the studio writes them, once per seed; the row is the mean
over the seeds, its target score (`ganstudio.melody_stats.target_score`: targets missed, then
by how much) and each statistic, starred where it misses its target against the real melodies.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganstudio.melody_stats import TARGETS, TrainingBars, meets, target_score  # noqa: E402
from ganstudio.pipelines.music import MusicPipeline  # noqa: E402
from training import music_data  # noqa: E402
from training.music import evaluate, seed_mean  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--seeds", type=int, nargs="+", default=[5, 6, 7])
    args = p.parse_args()

    torch.set_num_threads(1)
    rest, held = music_data.hold_out(music_data.split(music_data.load(args.data), test=False))
    train_bars = TrainingBars.of(rest["tokens"])
    print("| checkpoint | score | " + " | ".join(TARGETS) + " |")
    print("| --- " * (len(TARGETS) + 2) + "|")
    real = None
    for path in args.checkpoints:
        pipe = MusicPipeline.from_pretrained(path, device="cpu")
        runs = [evaluate(pipe.generator, held, train_bars, torch.device("cpu"), seed=s, registers=pipe.registers, **pipe.choice)
                for s in args.seeds]
        real = runs[0]["real"]
        gen = seed_mean(runs)
        cells = [f"{gen[k]:.3f}{'' if meets(k, gen[k], real[k]) else '*'}" for k in TARGETS]
        print(f"| {path} | {target_score(gen, real):.3f} | " + " | ".join(cells) + " |", flush=True)
    print("| real held-out melodies | | " + " | ".join(f"{real[k]:.3f}" for k in TARGETS) + " |")


if __name__ == "__main__":
    main()
