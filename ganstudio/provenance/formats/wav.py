"""WAV: the content is the sample format and the samples; the envelope is a RIFF chunk.

Beside it goes a LIST/INFO chunk whose comment reads that the audio is AI-generated, which
ordinary audio tools show.
"""

from __future__ import annotations

import struct

from ..canonical import canonical_json, sha256_hex
from ..errors import ProvenanceError

CHUNK_ID = b"gspv"
LABEL = b"AI-generated audio (GAN Studio); provenance in the gspv chunk\0"


def _chunks(data: bytes):
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ProvenanceError("not a WAV file")
    pos = 12
    while pos + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[pos:pos + 8])
        end = pos + 8 + length
        if end > len(data):
            raise ProvenanceError("the WAV file is truncated")
        yield pos, end + (length & 1), kind, data[pos + 8:end]
        pos = end + (length & 1)


def content_sha256(data: bytes) -> str:
    fmt = samples = None
    for _, _, kind, body in _chunks(data):
        if kind == b"fmt " and len(body) >= 16:
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            fmt = {"format": tag, "channels": channels, "rate": rate, "bits": bits}
        elif kind == b"data":
            samples = body
    if fmt is None or samples is None:
        raise ProvenanceError("the WAV file has no fmt or no data chunk")
    return sha256_hex(canonical_json(fmt) + b"\0" + samples)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack("<4sI", kind, len(body)) + body + (b"\0" if len(body) & 1 else b"")


def _is_ours(kind: bytes, body: bytes) -> bool:
    return kind == CHUNK_ID or (kind == b"LIST" and body.startswith(b"INFO") and LABEL in body)


def embed(data: bytes, envelope: str) -> bytes:
    kept = [data[start:end] for start, end, kind, body in _chunks(data) if not _is_ours(kind, body)]
    info = b"INFO" + _chunk(b"ICMT", LABEL) + _chunk(b"ISFT", b"GAN Studio\0")
    body = b"".join(kept) + _chunk(b"LIST", info) + _chunk(CHUNK_ID, envelope.encode("ascii"))
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def extract(data: bytes) -> str | None:
    for _, _, kind, body in _chunks(data):
        if kind == CHUNK_ID:
            return body.decode("latin-1")
    return None
