"""Sign an output and embed the signature: the one call every exporter makes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import c2pa_support, ledger
from .formats import module, sniff
from .keys import sign
from .manifest import build_manifest, make_envelope, signed_bytes


@dataclass
class Signed:
    """A signed file: its bytes, its manifest, and the envelope (also the sidecar's content)."""

    data: bytes
    manifest: dict[str, Any]
    envelope: str

    def sidecar(self) -> str:
        """The .provenance.json text: the envelope, indented for people."""
        return json.dumps(json.loads(self.envelope), indent=2, ensure_ascii=False) + "\n"


def sign_and_embed(data: bytes, metadata: dict[str, Any], artefact: str, title: str = "output", c2pa: bool = True,
                   record: bool = True) -> Signed:
    """Sign the file `data` (PNG, WAV, MIDI or UTF-8 text) made with `metadata` (a pipeline
    Result's), embed the envelope in it (and a C2PA manifest where available), and append it
    to the ledger. `artefact` names which output of the Result it is, for regeneration.
    `c2pa=False` skips the C2PA manifest (about 0.1 s a file), for previews made by the dozen;
    `record=False` leaves the ledger to the caller (who appends many at once).

        >>> signed = sign_and_embed(result.png_bytes(), result.metadata, "grid")
        >>> open("digits.png", "wb").write(signed.data)
    """
    fmt = sniff(data)
    fmt_module = module(fmt)
    manifest = build_manifest(metadata, fmt, artefact, fmt_module.content_sha256(data))
    signature, public = sign(signed_bytes(manifest))
    envelope = make_envelope(manifest, signature, public)
    out = fmt_module.embed(data, envelope)
    if c2pa:
        out = c2pa_support.add_manifest(out, fmt, envelope, title)
    if record:
        ledger.append(manifest)
    return Signed(out, manifest, envelope)
