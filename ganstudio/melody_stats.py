"""Statistics of melodies over chords, for comparing generated tunes with real ones.

A song is `tokens` (bars, 16) in the ganstudio.midi encoding plus `chord_pcs` (bars,): the
sounding chord of each bar as a 12-bit pitch-class set (0: no chord).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .midi import N_PITCHES, STEPS_PER_BAR, steps_to_notes

LENGTH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16)  # sixteenths; the last bucket also takes longer notes


def bar_keys(bars: np.ndarray) -> np.ndarray:
    """(N, 16) token bars -> (N, 16) uint8 keys: each bar with its pitches moved so its lowest
    onset is 0 (holds and rests above every pitch). Equal keys = the same bar in some key (the
    training data holds every bar in all 12 keys)."""
    bars = np.asarray(bars).reshape(-1, STEPS_PER_BAR)
    onsets = bars < N_PITCHES
    low = np.where(onsets, bars, N_PITCHES).min(axis=1, keepdims=True) % N_PITCHES
    return np.where(onsets, bars - low, bars + N_PITCHES).astype(np.uint8)


def melody_statistics(songs: Iterable[tuple[np.ndarray, np.ndarray]], training_bars: TrainingBars | None = None) -> dict[str, float]:
    ct = notes = empty = bars = 0
    pcs_per_bar: list[int] = []
    lengths: list[int] = []
    ranges: list[int] = []
    intervals: list[int] = []
    copied = counted = 0
    for tokens, chord_pcs in songs:
        tokens = np.asarray(tokens)
        melody = steps_to_notes(tokens)
        n_bars = len(tokens)
        bars += n_bars
        covered = np.zeros(n_bars, dtype=bool)
        bar_pcs: list[set[int]] = [set() for _ in range(n_bars)]
        for n in melody:
            b = n.start // STEPS_PER_BAR
            covered[b : (n.end - 1) // STEPS_PER_BAR + 1] = True
            bar_pcs[b].add(n.pitch % 12)
            lengths.append(n.end - n.start)
            if chord_pcs[b]:
                notes += 1
                ct += bool(int(chord_pcs[b]) >> (n.pitch % 12) & 1)
        empty += int((~covered).sum())
        pcs_per_bar += [len(s) for s in bar_pcs if s]
        pitches = [n.pitch for n in melody]
        if pitches:
            ranges.append(max(pitches) - min(pitches))
            intervals += np.abs(np.diff(pitches)).tolist()
        if training_bars is not None:
            with_notes = tokens[(tokens < N_PITCHES).any(axis=1)]
            counted += len(with_notes)
            copied += int(training_bars.copies(with_notes).sum())
    hist = np.histogram(np.minimum(lengths, LENGTH_BUCKETS[-1]), bins=[*LENGTH_BUCKETS, LENGTH_BUCKETS[-1] + 1])[0]
    hist = hist / max(1, hist.sum())
    out = {
        "chord_tone_ratio": ct / max(1, notes),
        "empty_bar_rate": empty / max(1, bars),
        "pitch_classes_per_bar": float(np.mean(pcs_per_bar)) if pcs_per_bar else 0.0,
        "mean_note_length": float(np.mean(lengths)) if lengths else 0.0,
        "pitch_range": float(np.mean(ranges)) if ranges else 0.0,
        "mean_interval": float(np.mean(intervals)) if intervals else 0.0,
        "large_leap_rate": float(np.mean(np.array(intervals) > 12)) if intervals else 0.0,
        "notes_per_bar": len(lengths) / max(1, bars),
    }
    for b, share in zip(LENGTH_BUCKETS, hist):
        out[f"note_length_{b}{'+' if b == LENGTH_BUCKETS[-1] else ''}"] = float(share)
    if training_bars is not None:
        out["training_copy_rate"] = copied / max(1, counted)
    return out


# statistic -> how generated melodies are judged against real ones (the targets)
TARGETS = {
    "chord_tone_ratio": "at least the real value",
    "empty_bar_rate": "within 10% (or both under 1%)",
    "pitch_classes_per_bar": "within 10%",
    "mean_note_length": "within 10%",
    "pitch_range": "within 10%",
    "mean_interval": "within 10%",
    "large_leap_rate": "within 10% (or both under 1%)",
    "notes_per_bar": "within 10%",
    "training_copy_rate": "under 1%",
}
RARE = 0.01  # rates below this, in both, count as equal


def used(name: str, generated: float, real: float) -> float:
    """How much of its allowance `generated`'s difference from `real` uses (1: exactly the
    allowed 10% off; above 1: missed)."""
    if name == "chord_tone_ratio":  # no allowance below the real value: at it, the edge; 10% above it, all the room
        return max(0.0, 1.0 + (real - generated) / (0.1 * real))
    if name == "training_copy_rate":
        return generated / RARE
    if name in ("empty_bar_rate", "large_leap_rate") and generated < RARE and real < RARE:
        return 0.0
    return abs(generated - real) / (0.1 * max(abs(real), RARE))


def shortfall(name: str, generated: float, real: float) -> float:
    """How far `generated` misses its target against `real`, as a fraction of the allowance
    (0: met; 1: twice the allowed 10% off, ...)."""
    return max(0.0, used(name, generated, real) - 1.0)


def meets(name: str, generated: float, real: float) -> bool:
    return shortfall(name, generated, real) == 0.0


def target_score(generated: dict[str, float], real: dict[str, float]) -> float:
    """Lower is better (for choosing among checkpoints on held-out tunes): the number of
    targets missed, then by how much, then how close the closest call comes to missing (so
    that of two checkpoints that meet every target, the one with room to spare wins)."""
    spent = [used(k, generated[k], real[k]) for k in TARGETS]
    misses = sum(max(0.0, u - 1.0) for u in spent)
    rest = misses + min(1.0, max(spent))
    return sum(u > 1.0 for u in spent) + rest / (1 + rest)


class TrainingBars:
    """The bars a model was trained on, in every key at once: which bars are copies of them.

    Only bars with notes count (an empty bar copies nothing). `keys` is the (M, 16) uint8 array
    of their `bar_keys`, which a checkpoint stores so that the studio can avoid them.
    """

    def __init__(self, keys: np.ndarray):
        self.keys = np.unique(np.asarray(keys, dtype=np.uint8).reshape(-1, STEPS_PER_BAR), axis=0)
        self._set = {k.tobytes() for k in self.keys}

    @classmethod
    def of(cls, tokens: Sequence[np.ndarray] | np.ndarray) -> TrainingBars:
        tokens = np.asarray(tokens).reshape(-1, STEPS_PER_BAR)
        return cls(bar_keys(tokens[(tokens < N_PITCHES).any(axis=1)]))

    def copies(self, bars: np.ndarray) -> np.ndarray:
        """(N, 16) token bars -> (N,) bool: the bar, in some key, is one of the training bars."""
        bars = np.asarray(bars).reshape(-1, STEPS_PER_BAR)
        has_notes = (bars < N_PITCHES).any(axis=1)
        return np.array([n and k.tobytes() in self._set for k, n in zip(bar_keys(bars), has_notes)], dtype=bool)

    def __len__(self) -> int:
        return len(self.keys)
