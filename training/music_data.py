"""Nottingham folk tunes as bars of melody tokens with a chord label each.

    python -m training.music_data --data PATH/TO/nottingham/MIDI --out .data/nottingham-bars.npz

reads `melody/*.mid` and `chords/*.mid` (same file names) and writes one .npz that the
trainer and the benchmark read (so machines without a MIDI library can train).

Choices, stated plainly:
- Meter: only tunes whose every time signature is 4/4 or 2/2 are kept (16 sixteenths a bar,
  the model's bar). 6/8, 3/4, 2/4, 9/8 ... tunes are left out rather than forced into 16 steps,
  which keeps 535 of the 1,034 tunes (those with a chord file).
- Bars are counted from the start of the file; the files pad a pickup to a full bar, so bar
  lines fall on multiples of 16 sixteenths. A leading bar whose first half is silent (such a
  padded pickup) is dropped. Notes are rounded to the nearest sixteenth.
- One voice (the highest note starting at a step); one chord per bar: the pitch-class set that
  sounds for the most sixteenths of the bar, named by template (ganstudio.chords.name_chord).
- Train/test split by tune (10% of tunes to test, fixed seed), so no test bar's tune is seen.
- Transposition to all 12 keys happens when batches are drawn (training/music.py), not here.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import numpy as np

from ganstudio.chords import key_of, name_chord
from ganstudio.midi import N_PITCHES, REST, STEPS_PER_BAR, notes_to_steps, read_midi, register_of

METERS = {(4, 4), (2, 2)}
TEST_FRACTION = 0.1


def chord_labels(chord_notes, step_ticks: float, n_bars: int) -> list:
    """One Chord per bar: the pitch-class set sounding for most of the bar's sixteenths."""
    n_steps = n_bars * STEPS_PER_BAR
    sounding = [set() for _ in range(n_steps)]
    for n in chord_notes:
        for s in range(int(round(n.start / step_ticks)), min(n_steps, int(round(n.end / step_ticks)))):
            sounding[s].add(n.pitch)
    labels = []
    for b in range(n_bars):
        counts = collections.Counter(frozenset(sounding[s]) for s in range(b * STEPS_PER_BAR, (b + 1) * STEPS_PER_BAR))
        pitches = max(counts, key=lambda k: (counts[k], len(k)))
        labels.append(name_chord({p % 12 for p in pitches}, min(pitches) % 12 if pitches else None))
    return labels


def load_tune(melody_path: Path, chords_path: Path):
    """(tokens (bars, 16), [Chord] per bar) or None when the tune's meter is not kept."""
    melody = read_midi(melody_path.read_bytes())
    if not melody.time_signatures or any((num, den) not in METERS for _, num, den in melody.time_signatures):
        return None
    chords = read_midi(chords_path.read_bytes())
    step = melody.ticks_per_beat / 4
    notes = [n for tr in melody.tracks for n in tr]
    if not notes:
        return None
    n_bars = -(-int(round(max(n.end for n in notes) / step)) // STEPS_PER_BAR)
    tokens = notes_to_steps(notes, step, n_bars * STEPS_PER_BAR).reshape(n_bars, STEPS_PER_BAR)
    labels = chord_labels([n for tr in chords.tracks for n in tr], chords.ticks_per_beat / 4, n_bars)
    return tokens, labels


def build(data_dir: Path, seed: int = 0) -> dict[str, np.ndarray]:
    files = sorted((data_dir / "melody").glob("*.mid"))
    if not files:
        raise SystemExit(f"no melody/*.mid under {data_dir}; point --data at the Nottingham MIDI folder")
    tokens, roots, minor, chord_pcs, tune_of, names = [], [], [], [], [], []
    for f in files:
        chord_file = data_dir / "chords" / f.name
        if not chord_file.exists():
            continue
        tune = load_tune(f, chord_file)
        if tune is None:
            continue
        bars, labels = tune
        # The files pad a pickup to a whole bar of mostly rest; a tune starts at its first bar
        # that opens with a note (or holds one from the middle on), so "no previous bar" means
        # a real opening bar, not an upbeat.
        start = 0
        while start < len(bars) - 1 and (bars[start][: STEPS_PER_BAR // 2] == REST).all():
            start += 1
        bars, labels = bars[start:], labels[start:]
        t = len(names)
        names.append(f.stem)
        for bar, chord in zip(bars, labels):
            tokens.append(bar)
            roots.append(-1 if chord.root is None else chord.root)
            minor.append(chord.minor)
            chord_pcs.append(sum(1 << pc for pc in chord.pitch_classes))
            tune_of.append(t)
    rng = np.random.default_rng(seed)
    test_tunes = np.zeros(len(names), dtype=bool)
    test_tunes[rng.permutation(len(names))[: round(TEST_FRACTION * len(names))]] = True
    return {
        "tokens": np.stack(tokens).astype(np.uint8),
        "roots": np.array(roots, dtype=np.int8),
        "minor": np.array(minor, dtype=bool),
        "chord_pcs": np.array(chord_pcs, dtype=np.uint16),  # bit pc set: the full chord, 7ths included
        "tune": np.array(tune_of, dtype=np.int32),
        "names": np.array(names),
        "test_tunes": test_tunes,
    }


def load(path: str | Path) -> dict[str, np.ndarray]:
    """The bars from an .npz written by this module, or built from a MIDI folder."""
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    return build(path)


def tune_keys_and_registers(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per bar, its tune's key (`ganstudio.chords.key_of` of the tune's chords, as the studio
    reads a typed progression) and register (the mean pitch of its notes, pitch columns)."""
    key = np.zeros(len(data["tune"]), dtype=np.int64)
    register = np.zeros(len(data["tune"]), dtype=np.float32)
    for t in np.unique(data["tune"]):
        k = data["tune"] == t
        vectors = np.zeros((int(k.sum()), 13))
        has = data["roots"][k] >= 0
        vectors[np.flatnonzero(has), data["roots"][k][has]] = 1.0
        vectors[:, 12] = data["minor"][k] & has
        key[k] = key_of(vectors)
        register[k] = register_of(data["tokens"][k], empty=N_PITCHES / 2)
    return key, register


def split(data: dict[str, np.ndarray], test: bool) -> dict[str, np.ndarray]:
    """The bars of the train (test=False) or test tunes, with each bar's previous bar
    (has_prev False for a tune's first bar, whose previous bar the model sees as all zeros)
    and its tune's key and register."""
    keep = data["test_tunes"][data["tune"]] == test
    tune = data["tune"]
    key, register = tune_keys_and_registers(data)
    has_prev = np.concatenate([[False], tune[1:] == tune[:-1]])
    prev_index = np.arange(len(tune)) - 1
    return {
        "tokens": data["tokens"][keep],
        "prev": np.where(has_prev[:, None], data["tokens"][prev_index], REST)[keep],
        "has_prev": has_prev[keep],
        "roots": data["roots"][keep],
        "minor": data["minor"][keep],
        "chord_pcs": data["chord_pcs"][keep],
        "tune": tune[keep],
        "key": key[keep],
        "register": register[keep],
    }


def hold_out(split: dict[str, np.ndarray], every: int = 10) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(rest, held out): every `every`-th tune of a split set aside whole, to choose among
    checkpoints without looking at the test tunes."""
    held = np.isin(split["tune"], np.unique(split["tune"])[::every])
    return {k: v[~held] for k, v in split.items()}, {k: v[held] for k, v in split.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="the Nottingham MIDI folder (with melody/ and chords/)")
    p.add_argument("--out", required=True, help=".npz to write")
    args = p.parse_args()
    data = build(Path(args.data))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **data)
    n_test = int(data["test_tunes"][data["tune"]].sum())
    print(f"{len(data['names'])} tunes, {len(data['tokens'])} bars ({n_test} in test tunes) -> {args.out}")


if __name__ == "__main__":
    main()
