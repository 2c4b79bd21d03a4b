"""The manifest (what was made, by which model, how) and its signed envelope.

An envelope is JSON: {"format", "manifest", "signature", "public_key"}; the signature is
Ed25519 over the canonical JSON of the manifest.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from .canonical import canonical_json, loads_strict
from .errors import ProvenanceError

ENVELOPE_FORMAT = "ganstudio-provenance/1"
MAX_ENVELOPE_CHARS = 1 << 20
CONTENT_COVERS = {
    "png": "pixels: mode, size and raw bytes",
    "wav": "samples: sample format and raw audio data",
    "midi": "notes: start, end, pitch and velocity of every note, per track",
    "text": "the text without the provenance footer (Unicode NFC, line ends and trailing spaces normalised)",
}
REQUIRED = {"content_id": str, "created": str, "ai_generated": bool, "studio": dict, "model": dict,
            "generation": dict, "artefact": str, "media": str, "content_sha256": str}


def build_manifest(metadata: dict[str, Any], media: str, artefact: str, content_sha256: str) -> dict[str, Any]:
    """The manifest for one output, from the metadata of the pipeline Result that made it."""
    from .. import __version__

    parameters = dict(metadata.get("parameters", {}))
    generation = {k: v for k, v in metadata.items() if k not in ("model", "family", "checkpoint_sha256", "ai_generated", "parameters")}
    generation.update(seed=parameters.get("seed"), parameters=parameters)
    return {
        "content_id": f"urn:uuid:{uuid.uuid4()}",
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "ai_generated": True,
        "label": "AI-generated content",
        "studio": {"name": "GAN Studio", "version": __version__},
        "model": {"name": metadata.get("model"), "family": metadata.get("family"), "checkpoint_sha256": metadata.get("checkpoint_sha256")},
        "generation": generation,
        "artefact": artefact,
        "media": media,
        "content_sha256": content_sha256,
        "content_hash_covers": CONTENT_COVERS[media],
    }


def make_envelope(manifest: dict[str, Any], signature: str, public_key: str) -> str:
    """The envelope as one line of ASCII JSON (fits a PNG tEXt chunk or a MIDI meta event)."""
    return json.dumps({"format": ENVELOPE_FORMAT, "manifest": manifest, "signature": signature, "public_key": public_key},
                      sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def signed_bytes(manifest: dict[str, Any]) -> bytes:
    return canonical_json(manifest)


def parse_envelope(text: str) -> dict[str, Any]:
    """The envelope as a dict, checked for shape; a damaged one is a ProvenanceError saying how."""
    if not isinstance(text, str) or len(text) > MAX_ENVELOPE_CHARS:
        raise ProvenanceError("the provenance record is missing or larger than 1 MB")
    try:
        envelope = loads_strict(text)
    except ValueError as e:
        raise ProvenanceError(f"the provenance record is not valid JSON ({str(e)[:200]})") from None
    if not isinstance(envelope, dict) or envelope.get("format") != ENVELOPE_FORMAT:
        raise ProvenanceError(f"the provenance record is not in the {ENVELOPE_FORMAT} format")
    if not all(isinstance(envelope.get(k), str) for k in ("signature", "public_key")):
        raise ProvenanceError("the provenance record has no signature or public key")
    manifest = envelope.get("manifest")
    if not isinstance(manifest, dict):
        raise ProvenanceError("the provenance record has no manifest")
    wrong = [k for k, t in REQUIRED.items() if not isinstance(manifest.get(k), t)]
    if wrong:
        raise ProvenanceError(f"the manifest lacks or has malformed fields: {', '.join(wrong)}")
    if manifest["media"] not in CONTENT_COVERS:
        raise ProvenanceError(f"the manifest names an unknown media type {manifest['media']!r}")
    return envelope
