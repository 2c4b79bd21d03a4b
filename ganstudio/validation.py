"""Checks of user-supplied parameters, each raising InvalidParameterError with a usable message."""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Sequence
from typing import Any

from .errors import InvalidParameterError

MAX_SEED = 2**32 - 1

# Error messages quote what was given, shortened: a 100 kB string must not come back in full.
_short = reprlib.Repr()
_short.maxstring, _short.maxlong, _short.maxother = 60, 40, 60


def shown(value: Any) -> str:
    """`value` as repr() writes it, cut to a few dozen characters for an error message."""
    return _short.repr(value)


def plain_reason(e: BaseException) -> str:
    """Why a library could not read a file, for a person: no exception class, no `<... at 0x...>`."""
    if isinstance(e, EOFError):
        return "it ends too early"
    lines = str(e).strip().splitlines()
    text = re.sub(r"\s*<[^<>]* at 0x[0-9a-fA-F]+>", "", lines[0]).strip() if lines else ""
    if isinstance(e, LookupError) or not text:  # a KeyError's message is just the key
        return "it is damaged or incomplete"
    return text[:160]


def check_int(name: str, value: Any, low: int, high: int) -> int:
    """An integer in [low, high]; integral floats (3.0, as JSON clients send) are accepted."""
    if isinstance(value, bool) or value is None:
        raise InvalidParameterError(f"{name} must be a whole number from {low} to {high}, got {shown(value)}")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise InvalidParameterError(f"{name} must be a whole number from {low} to {high}, got {shown(value)}")
        value = int(value)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InvalidParameterError(f"{name} must be a whole number from {low} to {high}, got {shown(value)}") from None
    if not isinstance(value, int):
        raise InvalidParameterError(f"{name} must be a whole number from {low} to {high}, got {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidParameterError(f"{name} must be from {low} to {high}, got {shown(value)}")
    return value


def check_float(name: str, value: Any, low: float, high: float, *, low_open: bool = False) -> float:
    """A finite number in [low, high] (or (low, high] with low_open)."""
    if isinstance(value, bool) or value is None:
        raise InvalidParameterError(f"{name} must be a number, got {shown(value)}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a number, got {shown(value)}") from None
    lower = "above" if low_open else "from"
    if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
        raise InvalidParameterError(f"{name} must be a number {lower} {low:g} to {high:g}, got {shown(value)}")
    return value


def check_seed(value: Any, name: str = "seed") -> int:
    return check_int(name, value, 0, MAX_SEED)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text not in choices:
        raise InvalidParameterError(f"{name} must be one of {', '.join(choices)}; got {shown(value)}")
    return text
