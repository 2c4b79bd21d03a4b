"""Statistics of melodies over chords, for comparing generated tunes with real ones.

A song is `tokens` (bars, 16) in the ganstudio.midi encoding plus `chord_pcs` (bars,): the
sounding chord of each bar as a 12-bit pitch-class set (0: no chord).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .midi import N_PITCHES, STEPS_PER_BAR, steps_to_notes

LENGTH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16)  # sixteenths; the last bucket also takes longer notes


def bar_key(bar: np.ndarray) -> tuple[int, ...]:
    """A bar with its pitches moved so the lowest onset is 0: equal keys = the same bar in
    some key (the training data holds every bar in all 12 keys)."""
    bar = np.asarray(bar)
    onsets = bar < N_PITCHES
    low = int(bar[onsets].min()) if onsets.any() else 0
    return tuple(np.where(onsets, bar - low, bar + N_PITCHES).tolist())


def melody_statistics(songs: Iterable[tuple[np.ndarray, np.ndarray]], training_bars: set | None = None) -> dict[str, float]:
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
            for bar in tokens:
                if (bar < N_PITCHES).any():
                    counted += 1
                    copied += bar_key(bar) in training_bars
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


def training_bar_set(tokens: Sequence[np.ndarray]) -> set:
    return {bar_key(b) for b in tokens if (np.asarray(b) < N_PITCHES).any()}
