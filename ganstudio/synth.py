"""Audio for a song: FluidSynth with a General MIDI soundfont when both are installed,
else a small wavetable synthesiser in numpy (enough to hear the melody over the chords).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from .midi import Note

SAMPLE_RATE = 22050
_TABLE = 2048
# Where Debian, Fedora, Arch and Homebrew put a GM soundfont; $GANSTUDIO_SOUNDFONT wins.
SOUNDFONT_PLACES = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/opt/homebrew/share/soundfonts/default.sf2",
)

# GM family (program // 8) -> (harmonic amplitudes, attack s, decay per s (0: sustained))
_TIMBRES = {
    "piano": ((1, 0.5, 0.25, 0.12, 0.06), 0.005, 2.5),
    "pluck": ((1, 0.6, 0.3, 0.2, 0.1), 0.003, 4.0),
    "organ": ((1, 0.8, 0.5, 0.0, 0.3, 0.0, 0.2), 0.01, 0.0),
    "strings": ((1, 0.6, 0.4, 0.3, 0.2, 0.15), 0.06, 0.0),
    "reed": ((1, 0.1, 0.6, 0.1, 0.4, 0.1, 0.2), 0.03, 0.0),
    "flute": ((1, 0.25, 0.08), 0.04, 0.0),
    "bell": ((1, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.3), 0.002, 3.0),
}
_FAMILY_TIMBRE = ["piano", "bell", "organ", "pluck", "pluck", "strings", "strings", "reed",
                  "reed", "flute", "reed", "strings", "strings", "pluck", "bell", "flute"]


def timbre_of(program: int) -> str:
    return _FAMILY_TIMBRE[program // 8]


def _table(harmonics: tuple[float, ...]) -> np.ndarray:
    phase = np.arange(_TABLE) / _TABLE * 2 * np.pi
    wave_ = sum(a * np.sin((k + 1) * phase) for k, a in enumerate(harmonics))
    return (wave_ / np.abs(wave_).max()).astype(np.float32)


_TABLES = {name: _table(h) for name, (h, _, _) in _TIMBRES.items()}


def _add_note(out: np.ndarray, start: int, length: int, pitch: int, gain: float, timbre: str) -> None:
    _, attack, decay = _TIMBRES[timbre]
    release = int(0.03 * SAMPLE_RATE)
    n = min(length + release, len(out) - start)
    if n <= 0:
        return
    t = np.arange(n, dtype=np.float32) / SAMPLE_RATE
    freq = 440.0 * 2 ** ((pitch - 69) / 12)
    idx = (t * (freq * _TABLE)).astype(np.int64) % _TABLE
    env = np.minimum(1.0, t / attack) * (np.exp(-decay * t) if decay else 1.0)
    tail = np.arange(n) >= length
    env[tail] *= np.linspace(1.0, 0.0, int(tail.sum()), dtype=np.float32)
    out[start : start + n] += gain * env * _TABLES[timbre][idx]


def synthesise(melody: list[Note], chords: list[Note], step_seconds: float, program: int, total_steps: int) -> np.ndarray:
    """Mono float32 audio at SAMPLE_RATE: the melody in a timbre picked from its GM family,
    the chords softly on an organ-like tone."""
    per_step = step_seconds * SAMPLE_RATE
    out = np.zeros(int(total_steps * per_step) + int(0.5 * SAMPLE_RATE), dtype=np.float32)
    timbre = timbre_of(program)
    for n in melody:
        _add_note(out, int(n.start * per_step), int((n.end - n.start) * per_step), n.pitch, 0.5, timbre)
    for n in chords:
        _add_note(out, int(n.start * per_step), int((n.end - n.start) * per_step), n.pitch, 0.12, "strings")
    peak = float(np.abs(out).max())
    return out * (0.9 / peak) if peak > 0 else out


def wav_bytes(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def find_soundfont() -> Path | None:
    for place in (os.environ.get("GANSTUDIO_SOUNDFONT"), *SOUNDFONT_PLACES):
        if place and Path(place).is_file():
            return Path(place)
    return None


def fluidsynth_wav(midi: bytes) -> bytes | None:
    """The MIDI rendered by FluidSynth, or None when FluidSynth or a soundfont is missing
    (or FluidSynth fails)."""
    exe, font = shutil.which("fluidsynth"), find_soundfont()
    if exe is None or font is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = Path(tmp) / "song.mid", Path(tmp) / "song.wav"
        mid.write_bytes(midi)
        try:
            subprocess.run([exe, "-ni", "-g", "0.8", "-r", str(SAMPLE_RATE), "-F", str(wav), str(font), str(mid)],
                           check=True, capture_output=True, timeout=60)
            return wav.read_bytes()
        except (subprocess.SubprocessError, OSError):
            return None
