"""PNG: the content is the pixels; the envelope goes in a tEXt chunk added before IEND."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from ..canonical import sha256_hex
from ..errors import ProvenanceError
from ...validation import plain_reason

KEYWORD = b"ganstudio-provenance"
MAX_PIXELS = 1 << 26  # 64 Mpx: a bomb guard far above anything the studio makes


def load_image(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise ProvenanceError(f"the image is {image.width}x{image.height}; too large to check")
        image.load()
        return image
    except ProvenanceError:
        raise
    except Exception as e:  # PIL raises many types on damaged files
        raise ProvenanceError(f"not a readable image ({plain_reason(e)})") from None


def pixels_sha256(image: Image.Image) -> str:
    """Mode, size and raw pixel bytes: re-saving (other compression, other chunks) keeps it."""
    head = f"{image.mode}\0{image.width}x{image.height}\0".encode()
    return sha256_hex(head + image.tobytes())


def content_sha256(data: bytes) -> str:
    return pixels_sha256(load_image(data))


def _chunks(data: bytes):
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise ProvenanceError("the PNG file is truncated")
        yield pos, end, kind, data[pos + 8:pos + 8 + length]
        pos = end


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def embed(data: bytes, envelope: str) -> bytes:
    """Insert the envelope (ASCII JSON) as a tEXt chunk before IEND, replacing an older one."""
    out, body = [data[:8]], KEYWORD + b"\0" + envelope.encode("ascii")
    for start, end, kind, chunk_body in _chunks(data):
        if kind == b"tEXt" and chunk_body.startswith(KEYWORD + b"\0"):
            continue
        if kind == b"IEND":
            out.append(_chunk(b"tEXt", body))
        out.append(data[start:end])
    return b"".join(out)


def extract(data: bytes) -> str | None:
    for _, _, kind, body in _chunks(data):
        if kind == b"tEXt" and body.startswith(KEYWORD + b"\0"):
            return body[len(KEYWORD) + 1:].decode("latin-1")
    return None
