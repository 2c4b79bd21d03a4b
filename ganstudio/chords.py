"""Chord symbols: parsing what a person types, naming what a MIDI chord track plays.

The model knows a chord as MidiNet does, 13 numbers: the root's pitch class (one-hot, 12)
and one flag for minor. Everything richer that a person types (7ths, 9ths, sus, slash
chords) is kept for the accompaniment and mapped to that pair for the melody generator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidParameterError
from .validation import shown

NOTE_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
_LETTER = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

# quality -> (intervals above the root, counts as minor for the model)
QUALITIES: dict[str, tuple[tuple[int, ...], bool]] = {
    "": ((0, 4, 7), False),
    "m": ((0, 3, 7), True),
    "7": ((0, 4, 7, 10), False),
    "maj7": ((0, 4, 7, 11), False),
    "m7": ((0, 3, 7, 10), True),
    "mmaj7": ((0, 3, 7, 11), True),
    "6": ((0, 4, 7, 9), False),
    "m6": ((0, 3, 7, 9), True),
    "9": ((0, 4, 7, 10, 2), False),
    "maj9": ((0, 4, 7, 11, 2), False),
    "m9": ((0, 3, 7, 10, 2), True),
    "add9": ((0, 4, 7, 2), False),
    "sus2": ((0, 2, 7), False),
    "sus4": ((0, 5, 7), False),
    "7sus4": ((0, 5, 7, 10), False),
    "dim": ((0, 3, 6), True),
    "dim7": ((0, 3, 6, 9), True),
    "m7b5": ((0, 3, 6, 10), True),
    "aug": ((0, 4, 8), False),
    "5": ((0, 7), False),
}
# Other spellings people type, mapped to the names above.
ALIASES = {
    "maj": "", "M": "", "major": "", "min": "m", "minor": "m", "-": "m", "mi": "m",
    "M7": "maj7", "Maj7": "maj7", "^7": "maj7", "Δ": "maj7", "Δ7": "maj7", "ma7": "maj7",
    "min7": "m7", "-7": "m7", "mi7": "m7", "dom7": "7", "min6": "m6", "-6": "m6",
    "M9": "maj9", "min9": "m9", "-9": "m9", "sus": "sus4", "7sus": "7sus4",
    "o": "dim", "°": "dim", "d": "dim", "o7": "dim7", "°7": "dim7", "ø": "m7b5", "ø7": "m7b5", "min7b5": "m7b5", "-7b5": "m7b5",
    "+": "aug", "a": "aug", "mM7": "mmaj7", "minmaj7": "mmaj7",
}
NO_CHORD = ("N.C.", "NC", "N.C", "N")

_SYMBOL = re.compile(r"^([A-Ga-g])([#b♯♭]?)(.*?)(?:/([A-Ga-g])([#b♯♭]?))?$")

ACCEPTED = (
    "a root A-G with optional # or b, then a quality: (major), m, 7, maj7, m7, 6, m6, 9, maj9, m9, add9, "
    "sus2, sus4, 7sus4, dim, dim7, m7b5, aug, 5 (also min, -, M7, ^7, °, ø, +), optionally /bass; "
    "N.C. for no chord. Example: C G Am F or Dm7 G7 Cmaj7 C/E"
)


@dataclass(frozen=True)
class Chord:
    """One chord; root None means no chord (N.C.)."""

    root: int | None
    quality: str = ""
    bass: int | None = None

    @property
    def minor(self) -> bool:
        return self.root is not None and QUALITIES[self.quality][1]

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        if self.root is None:
            return ()
        return tuple((self.root + i) % 12 for i in QUALITIES[self.quality][0])

    @property
    def triad(self) -> tuple[int, ...]:
        """The chord as the model sees it: the major or minor triad on the root."""
        if self.root is None:
            return ()
        return tuple((self.root + i) % 12 for i in ((0, 3, 7) if self.minor else (0, 4, 7)))

    def transpose(self, semitones: int) -> "Chord":
        if self.root is None:
            return self
        bass = None if self.bass is None else (self.bass + semitones) % 12
        return Chord((self.root + semitones) % 12, self.quality, bass)

    def vector(self) -> list[float]:
        """MidiNet's 13-value condition: root one-hot, then 1.0 for minor (all zero: no chord)."""
        v = [0.0] * 13
        if self.root is not None:
            v[self.root] = 1.0
            v[12] = float(self.minor)
        return v

    def __str__(self) -> str:
        if self.root is None:
            return "N.C."
        return NOTE_NAMES[self.root] + self.quality + ("" if self.bass is None else "/" + NOTE_NAMES[self.bass])


def _pitch_class(letter: str, accidental: str) -> int:
    return (_LETTER[letter.upper()] + {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(accidental, 0)) % 12


def parse_chord(symbol: str) -> Chord:
    """`Am7`, `F#m`, `Bb/D`, `G7sus4`, `N.C.` ... ; raises InvalidParameterError otherwise."""
    text = symbol.strip()
    if text.upper() in NO_CHORD:
        return Chord(None)
    m = _SYMBOL.match(text)
    if m is None:
        raise InvalidParameterError(f"cannot read the chord {shown(symbol)}; accepted: {ACCEPTED}")
    letter, acc, quality, bass_letter, bass_acc = m.groups()
    quality = ALIASES.get(quality, quality)
    if quality not in QUALITIES:
        raise InvalidParameterError(f"cannot read the chord {shown(symbol)} (unknown quality {shown(quality)}); accepted: {ACCEPTED}")
    bass = _pitch_class(bass_letter, bass_acc) if bass_letter else None
    return Chord(_pitch_class(letter, acc), quality, bass)


def parse_progression(text: str) -> list[Chord]:
    """One chord per bar, separated by spaces, commas or bar lines: "C G | Am F"."""
    if not isinstance(text, str):
        raise InvalidParameterError(f"chords must be text such as 'C G Am F', got {type(text).__name__}")
    symbols = [s for s in re.split(r"[\s,|]+", text) if s]
    if not symbols:
        raise InvalidParameterError(f"chords is empty; give one chord per bar; accepted: {ACCEPTED}")
    return [parse_chord(s) for s in symbols]


def name_chord(pitch_classes: set[int] | frozenset[int], bass: int | None = None) -> Chord:
    """The chord a set of sounding pitch classes spells (for labelling a MIDI chord track).

    The exact template wins, preferring the bass note as root; otherwise the template sharing
    the most notes with the fewest extra ones. Two or fewer notes fall back to their lowest.
    """
    pcs = frozenset(pitch_classes)
    if not pcs:
        return Chord(None)
    best, best_score = Chord(None), None
    for root in range(12):
        for quality, (intervals, _) in QUALITIES.items():
            tpl = {(root + i) % 12 for i in intervals}
            score = (len(tpl & pcs) - len(tpl - pcs) - len(pcs - tpl), root == bass, -len(tpl), quality in ("", "m"))
            if best_score is None or score > best_score:
                best, best_score = Chord(root, quality, None if bass in (None, root) else bass), score
    return best


_DIATONIC = {(0, False), (5, False), (7, False), (2, True), (4, True), (9, True)}  # I IV V ii iii vi


def key_of(chords) -> int:
    """The key a progression is in, as the tonic of its major key (0-11; a minor key is given
    as its relative major, the same scale): `chords` is a sequence of 13-value chord vectors
    (`Chord.vector`; all zero: no chord). The key whose diatonic triads (I ii iii IV V vi) make
    up the most bars wins; ties go to the key whose scale holds the most of the chords' notes,
    then to the one whose tonic (or relative minor's) opens the progression, then closes it.
    No chords at all: C."""
    named = [(v.index(1.0), bool(v[12])) for v in map(list, chords) if 1.0 in v[:12]]
    if not named:
        return 0
    scale = {0, 2, 4, 5, 7, 9, 11}

    def fit(key: int) -> tuple:
        triads = [((r - key) % 12, m) for r, m in named]
        tones = sum(((d + i) % 12) in scale for d, m in triads for i in ((0, 3, 7) if m else (0, 4, 7)))
        tonic = lambda d, m: (d, m) in ((0, False), (9, True))  # noqa: E731
        return sum(t in _DIATONIC for t in triads), tones, tonic(*triads[0]), tonic(*triads[-1]), -key

    return max(range(12), key=fit)
