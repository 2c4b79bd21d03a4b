"""Melodies over a chord progression, bar by bar (MidiNet), as MIDI, audio and a piano roll."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..chords import NOTE_NAMES, key_of, name_chord, parse_progression
from ..errors import InvalidParameterError
from ..midi import GM_PROGRAMS, N_PITCHES, STEPS_PER_BAR, Note, chord_voicing, first_bar_with_notes, notes_to_steps, read_midi, register_of, steps_to_notes, write_midi
from ..melody_stats import TrainingBars
from ..models.midinet import JOINTS, Discriminator, Generator, candidate_noise, draw_register, generate_bars, with_tune
from ..pianoroll import piano_roll
from ..synth import SAMPLE_RATE, fluidsynth_wav, synthesise, wav_bytes
from ..validation import check_choice, check_int, check_seed, shown
from .base import Pipeline, seeded_generator

MAX_BARS = 32
MAX_CHORDS = 64
MAX_PRIMER_BYTES = 1 << 20
TRAINING_BARS = "training_bars"  # checkpoint tensor: (M, 16) uint8 bar keys, see melody_stats.TrainingBars
TUNE_REGISTERS = "tune_registers"  # checkpoint tensor: (tunes, 2) float, each training tune's key and register
CANDIDATES = 8  # noise draws each bar is chosen among
# how the discriminator's choice among them leans (see generate_bars): towards chord tones on the
# beats, away from leaps into a bar from the one before and from notes struck again; set on the
# held-out training tunes
HARMONY = 1.5
CONTINUITY = 2.0
REPETITION = 1.0
LEANING = {"harmony": HARMONY, "continuity": CONTINUITY, "repetition": REPETITION}  # generate_bars' keywords
KEYS = list(NOTE_NAMES)
_ENHARMONIC = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb", "Cb": "B", "E#": "F", "Fb": "E", "B#": "C"}
PRESETS = {
    "Pop (I-V-vi-IV)": "C G Am F",
    "Fifties (I-vi-IV-V)": "C Am F G",
    "Folk (I-IV-V-I)": "G C D G",
    "Minor (i-VI-III-VII)": "Am F C G",
    "Jazz ii-V-I": "Dm7 G7 Cmaj7 Cmaj7",
    "Twelve-bar blues": "C7 C7 C7 C7 F7 F7 C7 C7 G7 F7 C7 G7",
    "Canon": "C G Am Em F C F G",
}


@dataclass
class MusicResult:
    """A song: the melody tokens (bars, 16), its chords, MIDI and WAV bytes, a picture."""

    melody: np.ndarray
    chords: list[str]
    midi: bytes
    wav: bytes
    piano_roll: Image.Image
    metadata: dict[str, Any] = field(default_factory=dict)

    def png_bytes(self) -> bytes:
        from .image import png_with_metadata

        return png_with_metadata(self.piano_roll, self.metadata)


def key_shift(key: str) -> int:
    """Semitones from C to `key`, taken the short way (-5..+6) so the melody stays in range."""
    text = key.strip() if isinstance(key, str) else key
    text = _ENHARMONIC.get(text, text)
    name = check_choice("key", text, KEYS)
    shift = KEYS.index(name)
    return shift - 12 if shift > 6 else shift


def program_number(instrument: str) -> int:
    """A General MIDI program by name (case-insensitive)."""
    by_name = {name.lower(): i for i, name in enumerate(GM_PROGRAMS)}
    text = instrument.strip().lower() if isinstance(instrument, str) else None
    if text not in by_name:
        raise InvalidParameterError(
            f"instrument must be a General MIDI program name such as Acoustic Grand Piano, Flute, Violin, "
            f"Trumpet or Alto Sax; got {shown(instrument)}"
        )
    return by_name[text]


def primer_bytes(primer: bytes | str | PathLike | None) -> bytes | None:
    if primer is None or primer == "":
        return None
    if isinstance(primer, (bytes, bytearray)):
        data = bytes(primer)
    elif not isinstance(primer, (str, PathLike)):  # open() takes an int as a file descriptor: never from a caller
        raise InvalidParameterError(f"primer must be a MIDI file path or its bytes, got {shown(primer)}")
    else:
        try:
            with open(primer, "rb") as f:
                data = f.read(MAX_PRIMER_BYTES + 1)
        except (OSError, ValueError) as e:  # ValueError: a NUL in the path
            raise InvalidParameterError(f"cannot read the primer file: {getattr(e, 'strerror', None) or e}") from None
    if len(data) > MAX_PRIMER_BYTES:
        raise InvalidParameterError("the primer MIDI file is larger than 1 MB; a melody's first bar needs far less")
    return data


def studio_choice(judge: Discriminator | None, guard: TrainingBars | None = None) -> dict[str, Any]:
    """How the studio chooses each bar among its noise draws, as `training.music.evaluate`
    takes it: with a discriminator to judge them or training bars to guard against (None:
    evaluate's own), CANDIDATES draws, else one; the judge's choice leaning as HARMONY,
    CONTINUITY and REPETITION say (see generate_bars)."""
    return {"candidates": CANDIDATES if judge is not None or guard is not None else 1, "judge": judge, "guard": guard,
            **LEANING}


class MusicPipeline(Pipeline):
    """Folk-style melodies over a chord progression from a MidiNet trained on Nottingham.

    Example:
        >>> from ganstudio import MusicPipeline
        >>> pipe = MusicPipeline.from_pretrained("checkpoints/nottingham-midinet")
        >>> song = pipe(chords="C G Am F", bars=8, seed=1)
        >>> open("song.mid", "wb").write(song.midi)
    """

    family = "midinet"

    def __init__(self, config, tensors, device, path):
        super().__init__(config, tensors, device, path)
        gen = Generator(**config["args"]["generator"])
        prefix = "generator_ema" if any(k.startswith("generator_ema.") for k in tensors) else "generator"
        self.generator = self.load_module(gen, tensors, prefix)
        has_d = "discriminator" in config["args"] and any(k.startswith("discriminator.") for k in tensors)
        self.discriminator = self.build(Discriminator, config["args"]["discriminator"], tensors, "discriminator") if has_d else None
        # Each bar is chosen among CANDIDATES noise draws: the one the discriminator scores most
        # real, and never (while another draw will do) a copy of one of the training bars the
        # checkpoint holds, in any key: the originality guard.
        self.training_bars = TrainingBars(tensors[TRAINING_BARS].numpy()) if TRAINING_BARS in tensors else None
        self.choice = studio_choice(self.discriminator, self.training_bars)
        # A model conditioned on the tune as well gets the song's key from its chords and a register:
        # the primer's, or a training tune's moved to that key, drawn by the seed.
        self.registers = tensors[TUNE_REGISTERS].float() if self.generator.tune else None

    def conditions(self, chords: list[list[float]], register: float | None, generator: torch.Generator) -> tuple[torch.Tensor, float | None]:
        """(1, bars, cond_dim) conditions for a song's chord vectors, and its register (None
        for a model without a tune condition); `register` None: drawn."""
        cond = torch.tensor([chords])
        if not self.generator.tune:
            return cond, None
        key = key_of(chords)
        if register is None:
            register = draw_register(self.registers, key, generator)
        return with_tune(cond, torch.tensor([key]), torch.tensor([register]), N_PITCHES), register

    @torch.inference_mode()
    def realness_of(self, midi: bytes, max_bars: int = 64) -> list[float]:
        """The discriminator's P(real) for each bar of a MIDI file's melody over its chords.

        The melody is the track named `melody` (else the first with notes), read as one voice
        in sixteenths; each bar's chord is named from the notes of the track named `chords`
        that sound in it (no chords track: no chord). A high value says the bar looks like the
        Nottingham bars the discriminator was trained against, nothing about who wrote it.
        """
        if self.discriminator is None:
            raise InvalidParameterError("this music checkpoint has no discriminator to score with")
        contents = read_midi(midi)
        named = dict(zip(contents.names, contents.tracks))
        melody = named.get("melody") or next((t for t in contents.tracks if t), [])
        if not melody:
            raise InvalidParameterError("the MIDI file has no notes to score")
        step = contents.ticks_per_beat / 4
        bar_ticks = STEPS_PER_BAR * step
        bars = min(max_bars, int(np.ceil(max(n.end for n in melody) / bar_ticks)))
        tokens = notes_to_steps(melody, step, bars * STEPS_PER_BAR).reshape(bars, STEPS_PER_BAR)
        chord_notes = named.get("chords", [])
        chords = [
            name_chord({n.pitch % 12 for n in chord_notes if n.start < (b + 1) * bar_ticks and n.end > b * bar_ticks}).vector()
            for b in range(bars)
        ]
        bar = torch.nn.functional.one_hot(torch.as_tensor(tokens), self.discriminator.pitches + 2).float()[:, None]
        register = register_of(tokens, empty=N_PITCHES / 2)  # a tune condition's register: the melody's own
        cond, _ = self.conditions(chords, register, torch.Generator())
        logits, _ = self.discriminator(bar.to(self.device), cond[0].to(self.device))
        return torch.sigmoid(logits.float()).cpu().tolist()

    def __call__(
        self,
        chords: str = "C G Am F",
        bars: int = 8,
        tempo: int = 120,
        key: str = "C",
        instrument: str = "Acoustic Grand Piano",
        creativity: int = 1,
        seed: int = 0,
        primer: bytes | str | PathLike | None = None,
    ) -> MusicResult:
        """Write `bars` bars of melody over `chords` (one chord a bar, repeated to fill).

        `key` transposes the song from C to that key (the chords as typed are read in C).
        `creativity` 0-4: how free each bar is from the one before (0: the previous bar joins
        all four generator layers; 4: none). `primer`, MIDI bytes or a path, gives the bar
        the first generated bar follows: the first bar of that file with notes.
        """
        progression = parse_progression(chords)
        if len(progression) > MAX_CHORDS:
            raise InvalidParameterError(f"chords may hold at most {MAX_CHORDS} chords, got {len(progression)}")
        bars = check_int("bars", bars, 1, MAX_BARS)
        tempo = check_int("tempo", tempo, 40, 240)
        shift = key_shift(key)
        program = program_number(instrument)
        creativity = check_int("creativity", creativity, 0, JOINTS)
        seed = check_seed(seed)
        primer_data = primer_bytes(primer)
        first_prev = None
        if primer_data is not None:
            try:
                tokens = first_bar_with_notes(read_midi(primer_data))
            except InvalidParameterError as e:
                raise InvalidParameterError(f"primer: {e}") from None
            first_prev = torch.as_tensor(tokens)[None]

        song = [progression[i % len(progression)].transpose(shift) for i in range(bars)]
        guard = self.training_bars.copies if self.training_bars is not None else None
        rng = seeded_generator(seed)
        z = candidate_noise(1, bars, self.generator.z_dim, self.choice["candidates"], rng)
        cond, register = self.conditions([c.vector() for c in song], register_of(first_prev.numpy()) if first_prev is not None else None, rng)
        with torch.inference_mode():
            tokens = generate_bars(self.generator, z.to(self.device), cond.to(self.device), first_prev, creativity, guard,
                                   self.discriminator, **LEANING)[0].cpu().numpy()

        melody = steps_to_notes(tokens)
        chord_notes = [Note(i * STEPS_PER_BAR, (i + 1) * STEPS_PER_BAR, p, 64) for i, c in enumerate(song) for p in chord_voicing(c)]
        names = [str(c) for c in song]
        metadata = {
            **self.base_metadata(),
            "task": "music",
            "parameters": {
                "chords": " ".join(str(c) for c in progression), "bars": bars, "tempo": tempo, "key": KEYS[shift % 12],
                "instrument": GM_PROGRAMS[program], "creativity": creativity, "seed": seed,
                "primer_sha256": hashlib.sha256(primer_data).hexdigest() if primer_data is not None else None,
            },
            "song_chords": names,
            **({"register": round(register, 2)} if register is not None else {}),
        }
        midi = write_midi(melody, song, tempo, program, metadata)
        wav = fluidsynth_wav(midi)
        metadata["audio_renderer"] = "fluidsynth" if wav is not None else "built-in"
        if wav is None:
            wav = wav_bytes(synthesise(melody, chord_notes, 60.0 / tempo / 4, program, bars * STEPS_PER_BAR), SAMPLE_RATE)
        return MusicResult(tokens, names, midi, wav, piano_roll(melody, chord_notes, names, bars), metadata)
