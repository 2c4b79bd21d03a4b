"""One byte form for JSON that is signed or hashed, and the hash used everywhere."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _no_constants(name: str):
    raise ValueError(f"{name} is not a JSON number")


def loads_strict(text: str) -> Any:
    """json.loads without NaN and Infinity, which canonical_json refuses; too deep a nesting
    is a ValueError too."""
    try:
        return json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise ValueError("nested too deeply") from None
