"""A bar of melody as a row of tokens, and MIDI files to and from those rows.

A bar is 16 steps of a sixteenth note (4/4 or 2/2). Each step holds one token:

    0 .. N_PITCHES-1   a note starts here, pitch LOWEST + token
    HOLD               the note sounding at the previous step goes on
    REST               silence

Telling a new note from a held one keeps repeated notes (two crotchets on E) apart from
sustained ones (a minim on E), which a plain piano roll of "pitch on" cells cannot do.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import numpy as np

from .chords import Chord
from .errors import InvalidParameterError
from .validation import plain_reason

STEPS_PER_BAR = 16
LOWEST = 48  # C3; 48 pitches reach B6, room for the data's 55-88 moved by up to 6 semitones either way
N_PITCHES = 48
HOLD = N_PITCHES
REST = N_PITCHES + 1
VOCAB = N_PITCHES + 2
TICKS_PER_BEAT = 480

GM_PROGRAMS = [
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano", "Electric Piano 1",
    "Electric Piano 2", "Harpsichord", "Clavinet", "Celesta", "Glockenspiel", "Music Box", "Vibraphone", "Marimba",
    "Xylophone", "Tubular Bells", "Dulcimer", "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ",
    "Reed Organ", "Accordion", "Harmonica", "Tango Accordion", "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)",
    "Electric Guitar (jazz)", "Electric Guitar (clean)", "Electric Guitar (muted)", "Overdriven Guitar",
    "Distortion Guitar", "Guitar Harmonics", "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)",
    "Fretless Bass", "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2", "Violin", "Viola", "Cello",
    "Contrabass", "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp", "Timpani", "String Ensemble 1",
    "String Ensemble 2", "Synth Strings 1", "Synth Strings 2", "Choir Aahs", "Voice Oohs", "Synth Choir",
    "Orchestra Hit", "Trumpet", "Trombone", "Tuba", "Muted Trumpet", "French Horn", "Brass Section", "Synth Brass 1",
    "Synth Brass 2", "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn", "Bassoon",
    "Clarinet", "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)", "Lead 5 (charang)",
    "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)", "Pad 1 (new age)", "Pad 2 (warm)",
    "Pad 3 (polysynth)", "Pad 4 (choir)", "Pad 5 (bowed)", "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)", "FX 5 (brightness)",
    "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)", "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bagpipe",
    "Fiddle", "Shanai", "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom",
    "Synth Drum", "Reverse Cymbal", "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet",
    "Telephone Ring", "Helicopter", "Applause", "Gunshot",
]


@dataclass
class Note:
    start: int  # in steps (sixteenths) unless said otherwise
    end: int
    pitch: int
    velocity: int = 90


@dataclass
class MidiContents:
    """What a MIDI file holds that matters here: notes per track in ticks, and the meter."""

    ticks_per_beat: int
    tracks: list[list[Note]]
    names: list[str]
    time_signatures: list[tuple[int, int, int]] = field(default_factory=list)  # (tick, numerator, denominator)
    meta: dict[str, str] = field(default_factory=dict)  # text-like meta events by type (last wins)


def read_midi(data: bytes) -> MidiContents:
    """Parse MIDI bytes; anything that is not a readable MIDI file is an InvalidParameterError."""
    import mido

    try:
        mf = mido.MidiFile(file=io.BytesIO(data))
    except Exception as e:  # mido raises OSError, EOFError, ValueError, KeyError ... on bad input
        raise InvalidParameterError(f"not a readable MIDI file ({plain_reason(e)})") from None
    if mf.type == 2:
        raise InvalidParameterError("MIDI type 2 (independent sequences) is not supported; use type 0 or 1")
    tracks, names, sigs, meta = [], [], [], {}
    for track in mf.tracks:
        tick, name, open_notes, notes = 0, "", {}, []
        for msg in track:
            tick += msg.time
            if msg.type == "track_name":
                name = msg.name
            elif msg.type == "time_signature":
                sigs.append((tick, msg.numerator, msg.denominator))
            elif msg.type in ("text", "copyright"):
                meta[msg.type] = msg.text
            elif msg.type == "note_on" and msg.velocity > 0:
                open_notes.setdefault((msg.channel, msg.note), []).append((tick, msg.velocity))
            elif msg.type in ("note_off", "note_on"):
                started = open_notes.get((msg.channel, msg.note))
                if started:
                    t0, vel = started.pop(0)
                    if tick > t0:
                        notes.append(Note(t0, tick, msg.note, vel))
        tracks.append(sorted(notes, key=lambda n: (n.start, -n.pitch)))
        names.append(name)
    return MidiContents(mf.ticks_per_beat, tracks, names, sorted(sigs), meta)


def fold_pitch(pitch: int) -> int:
    """Move a pitch by octaves into the model's range."""
    while pitch < LOWEST:
        pitch += 12
    while pitch >= LOWEST + N_PITCHES:
        pitch -= 12
    return pitch


def notes_to_steps(notes: list[Note], step_ticks: int, n_steps: int) -> np.ndarray:
    """Quantise notes (in ticks) to sixteenths and keep one voice: the highest note starting
    at a step wins, and a note ends where the next one starts. Returns n_steps tokens."""
    tokens = np.full(n_steps, REST, dtype=np.int64)
    onsets: dict[int, Note] = {}
    for n in notes:
        s = int(round(n.start / step_ticks))
        if 0 <= s < n_steps and (s not in onsets or n.pitch > onsets[s].pitch):
            onsets[s] = n
    starts = sorted(onsets)
    for i, s in enumerate(starts):
        n = onsets[s]
        e = max(s + 1, int(round(n.end / step_ticks)))
        if i + 1 < len(starts):
            e = min(e, starts[i + 1])
        e = min(e, n_steps)
        tokens[s] = fold_pitch(n.pitch) - LOWEST
        tokens[s + 1 : e] = HOLD
    return tokens


def steps_to_notes(tokens: np.ndarray) -> list[Note]:
    """Tokens (any length, bars joined) to notes in steps; a HOLD after silence is silence."""
    notes: list[Note] = []
    current: Note | None = None
    for t, tok in enumerate(np.asarray(tokens).reshape(-1).tolist()):
        if tok == HOLD and current is not None:
            current.end = t + 1
            continue
        current = None
        if tok < N_PITCHES:
            current = Note(t, t + 1, LOWEST + tok)
            notes.append(current)
    return notes


def register_of(tokens: np.ndarray, empty: float | None = None) -> float | None:
    """A melody's register: the mean pitch (in the model's pitch columns) of its note-ons in
    `tokens` (any shape); `empty` when it has none."""
    pitches = np.asarray(tokens)[np.asarray(tokens) < N_PITCHES]
    return float(pitches.mean()) if len(pitches) else empty


def first_bar_with_notes(contents: MidiContents) -> np.ndarray:
    """The primer: the first bar (16 sixteenths from a bar line at tick 0) that has melody,
    taking the highest voice over all tracks. A pickup bar counts if it has notes."""
    notes = [n for tr in contents.tracks for n in tr]
    if not notes:
        raise InvalidParameterError("the primer MIDI file has no notes")
    step = contents.ticks_per_beat / 4
    bar = int(min(n.start for n in notes) / step) // STEPS_PER_BAR
    offset = bar * STEPS_PER_BAR * step
    shifted = [Note(n.start - offset, n.end - offset, n.pitch) for n in notes if n.end > offset]
    tokens = notes_to_steps(shifted, step, STEPS_PER_BAR)
    return tokens


def chord_voicing(chord: Chord) -> list[int]:
    """Close position around C3-C4, root (or slash bass) below."""
    if chord.root is None:
        return []
    root = 48 + chord.root
    if root > 54:
        root -= 12
    pitches = sorted({root + (pc - chord.root) % 12 for pc in chord.pitch_classes})
    if chord.bass is not None:
        pitches = [36 + chord.bass] + pitches
    return pitches


def write_midi(
    melody: list[Note],
    chords: list[Chord],
    tempo_bpm: float,
    program: int,
    metadata: dict,
    chord_program: int = 0,
) -> bytes:
    """A type-1 MIDI file: a conductor track (tempo, 4/4, copyright and provenance meta events),
    then tracks named `melody` and `chords`. Note times are in sixteenth steps."""
    import mido

    step = TICKS_PER_BEAT // 4
    mf = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("track_name", name="GAN Studio (AI-generated)", time=0))
    conductor.append(mido.MetaMessage("copyright", text=f"AI-generated by GAN Studio, model {metadata.get('model', '?')}; no human author", time=0))
    conductor.append(mido.MetaMessage("text", text="ganstudio " + json.dumps(metadata, sort_keys=True, ensure_ascii=True), time=0))
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0))
    conductor.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    mf.tracks.append(conductor)

    chord_notes = [Note(i * STEPS_PER_BAR, (i + 1) * STEPS_PER_BAR, p, 64) for i, c in enumerate(chords) for p in chord_voicing(c)]
    for name, channel, prog, notes in (("melody", 0, program, melody), ("chords", 1, chord_program, chord_notes)):
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=name, time=0))
        track.append(mido.Message("program_change", channel=channel, program=prog, time=0))
        events = [(n.end * step, 0, n.pitch, 0) for n in notes] + [(n.start * step, 1, n.pitch, n.velocity) for n in notes]
        now = 0
        for tick, is_on, pitch, vel in sorted(events):  # offs before ons at the same tick
            kind = "note_on" if is_on else "note_off"
            track.append(mido.Message(kind, channel=channel, note=pitch, velocity=vel, time=tick - now))
            now = tick
        mf.tracks.append(track)
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()
