"""Each file format the studio writes: what its content is, and where its provenance goes.

A format module has `content_sha256(data)` (the hash of what a person sees or hears, not of
the file's bytes), `embed(data, envelope)` and `extract(data)` (the envelope text or None).
"""

from __future__ import annotations

import os
from types import ModuleType

from ...validation import shown
from ..errors import ProvenanceError
from . import midi, png, text, wav

MAX_UPLOAD_BYTES = 64 << 20
FORMATS: dict[str, ModuleType] = {"png": png, "wav": wav, "midi": midi, "text": text}
MEDIA_TYPES = {"png": "image/png", "wav": "audio/wav", "midi": "audio/midi", "text": "text/plain"}


def sniff(data: bytes) -> str:
    """The format of `data` from its first bytes; anything else is a ProvenanceError."""
    if not isinstance(data, (bytes, bytearray)):
        raise ProvenanceError("expected the file's bytes")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ProvenanceError(f"the file is {len(data) >> 20} MB; files above {MAX_UPLOAD_BYTES >> 20} MB are not checked")
    if not data:
        raise ProvenanceError("the file is empty")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data.startswith(b"MThd"):
        return "midi"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProvenanceError("not a PNG, WAV, MIDI or UTF-8 text file; those are the kinds GAN Studio signs") from None
    return "text"


def read_limited(path) -> bytes:
    """A file's bytes, refusing (ProvenanceError) one too large or unreadable."""
    if not isinstance(path, (str, os.PathLike)):  # open() takes an int as a file descriptor: never from a caller
        raise ProvenanceError(f"expected a file path, got {shown(path)}")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_UPLOAD_BYTES + 1)
    except OSError as e:
        raise ProvenanceError(f"cannot read {e.filename or path}: {e.strerror or e}") from None
    except ValueError as e:  # a NUL in the path
        raise ProvenanceError(f"cannot read {shown(path)}: {e}") from None
    if len(data) > MAX_UPLOAD_BYTES:
        raise ProvenanceError(f"the file is larger than {MAX_UPLOAD_BYTES >> 20} MB; files that large are not checked")
    return data


def module(fmt: str) -> ModuleType:
    return FORMATS[fmt]
