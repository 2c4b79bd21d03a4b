"""Check a file: who signed it, whether it changed since, whether the ledger knows it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from . import c2pa_support, ledger
from .errors import ProvenanceError
from .formats import module, sniff
from .keys import fingerprint, signature_valid, trusted_keys
from .manifest import parse_envelope, signed_bytes

TRUSTED, UNKNOWN_KEY, ALTERED, NONE = "trusted", "unknown_key", "altered", "no_provenance"
EXIT_CODES = {TRUSTED: 0, ALTERED: 1, NONE: 3, UNKNOWN_KEY: 4}
HEADLINES = {
    TRUSTED: "Signed by this studio (or a key it trusts), unaltered",
    UNKNOWN_KEY: "Signed by an unknown key: intact since signing, but not by a key this studio trusts",
    ALTERED: "Altered since signing (or the signature is invalid)",
    NONE: "No provenance: this file carries no GAN Studio signature",
}


@dataclass
class Verification:
    status: str
    detail: str
    media: str
    content_sha256: str | None = None
    manifest: dict[str, Any] | None = None
    signer: str | None = None
    ledger: str = "not checked"
    c2pa: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        return HEADLINES[self.status]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "headline": self.headline}


def verify_bytes(data: bytes, sidecar: str | bytes | None = None) -> Verification:
    """Verify the file `data`, with the envelope from `sidecar` (a .provenance.json's text)
    when given, else the one embedded in the file. Unreadable input is a ProvenanceError."""
    fmt = sniff(data)
    fmt_module = module(fmt)
    content = fmt_module.content_sha256(data)
    c2pa = c2pa_support.status(data, fmt)
    if isinstance(sidecar, bytes):
        try:
            sidecar = sidecar.decode("utf-8")
        except UnicodeDecodeError:
            raise ProvenanceError("the sidecar is not UTF-8 JSON") from None
    text = sidecar if sidecar else fmt_module.extract(data)
    if text is None:
        return Verification(NONE, "no provenance record found" + ("" if fmt != "text" else " (no footer; upload its .provenance.json too)"),
                            fmt, content, c2pa=c2pa, ledger=_ledger_status(content, None))
    try:
        envelope = parse_envelope(text)
    except ProvenanceError as e:
        return Verification(ALTERED, str(e), fmt, content, c2pa=c2pa)
    manifest, key = envelope["manifest"], envelope["public_key"]
    result = Verification(ALTERED, "", fmt, content, manifest, signer=_signer(key), c2pa=c2pa,
                          ledger=_ledger_status(content, manifest["content_id"]))
    if not signature_valid(signed_bytes(manifest), envelope["signature"], key):
        result.detail = "the signature does not match the manifest: the manifest was changed, or it was never signed by that key"
    elif manifest["media"] != fmt:
        result.detail = f"the manifest describes a {manifest['media']} file, this is a {fmt} file"
    elif manifest["content_sha256"] != content:
        result.detail = f"the {fmt} content differs from what was signed ({manifest.get('content_hash_covers', 'content')})"
    elif key not in trusted_keys():
        result.status, result.detail = UNKNOWN_KEY, f"the signature is valid, by key {fingerprint(key)}, which is not in this studio's trusted keys"
    else:
        result.status, result.detail = TRUSTED, "the signature is valid and the content is exactly what was signed"
    return result


def _signer(key: str) -> str:
    try:
        name = trusted_keys().get(key)
        return f"{fingerprint(key)} ({name})" if name else f"{fingerprint(key)} (unknown)"
    except (ProvenanceError, ValueError):
        return "unreadable key"


def _ledger_status(content: str, content_id: str | None) -> str:
    record = ledger.find(content, content_id)
    if record is not None:
        return f"known: ledger record #{record['seq']} of {record['time']}"
    if content_id is not None and ledger.find(content) is not None:
        return "the content is in the ledger under another content id"
    return "not in this studio's ledger"
