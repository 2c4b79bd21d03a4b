"""The studio's Ed25519 key pair and the list of public keys it trusts.

The private key is made on first use in the studio data directory (owner-only file) and is
never returned by any function here: callers get `sign` and the public key only.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .canonical import loads_strict, sha256_hex
from .errors import ProvenanceError
from .home import studio_home, write_private_once

PRIVATE_NAME = "signing-key.pem"
TRUSTED_NAME = "trusted-keys.json"
_lock = threading.Lock()
_loaded: dict[Path, Ed25519PrivateKey] = {}


def _private_key() -> Ed25519PrivateKey:
    path = studio_home() / PRIVATE_NAME
    with _lock:
        if path in _loaded and path.exists():
            return _loaded[path]
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            write_private_once(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as e:
            raise ProvenanceError(f"the studio signing key {PRIVATE_NAME} in the data directory is unreadable ({e}); move it away to make a new one") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ProvenanceError(f"the studio signing key {PRIVATE_NAME} is not an Ed25519 key")
    _loaded[path] = key
    return key


def encode_public(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode("ascii")


def decode_public(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(str(text).strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError, TypeError):
        raise ProvenanceError("a public key must be 32 bytes of Ed25519 key in base64 (as `ganstudio key` shows)") from None


def public_key() -> str:
    """This studio's public key, base64 of the 32 raw bytes."""
    return encode_public(_private_key().public_key())


def fingerprint(public: str) -> str:
    """A short name for a key: the first 16 hex digits of the SHA-256 of its raw bytes."""
    return sha256_hex(base64.b64decode(public))[:16]


def sign(message: bytes) -> tuple[str, str]:
    """(signature, public key), both base64, for `message` signed with the studio key."""
    key = _private_key()
    return base64.b64encode(key.sign(message)).decode("ascii"), encode_public(key.public_key())


def signature_valid(message: bytes, signature: str, public: str) -> bool:
    try:
        decode_public(public).verify(base64.b64decode(str(signature), validate=True), message)
        return True
    except (InvalidSignature, ProvenanceError, binascii.Error, ValueError, TypeError):
        return False


def _trusted_path() -> Path:
    return studio_home() / TRUSTED_NAME


def _listed() -> dict[str, str]:
    """The trusted-keys file as {public key: name}."""
    path = _trusted_path()
    if not path.exists():
        return {}
    try:
        return {str(k["public_key"]): str(k.get("name", "")) for k in loads_strict(path.read_text(encoding="utf-8"))}
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ProvenanceError(f"{TRUSTED_NAME} in the studio data directory is malformed ({e}); fix or remove it") from None


def trusted_keys() -> dict[str, str]:
    """Trusted public keys (base64) to a name; this studio's own key is always among them."""
    return {**_listed(), public_key(): "this studio"}


def trust(public: str, name: str = "") -> None:
    """Add a public key (base64) to the trusted list."""
    public = encode_public(decode_public(public))
    with _lock:
        listed = {**_listed(), public: name}
        rows = [{"public_key": k, "name": n} for k, n in listed.items()]
        _trusted_path().write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
