"""What the tabs share: loading a pipeline or saying why not, error display, output files."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

import gradio as gr

from ganstudio.errors import CheckpointError, InvalidParameterError

AI_LABEL = "🤖 AI-generated"
OUTPUT_DIR = Path(tempfile.gettempdir()) / "ganstudio-outputs"


def load_or_reason(pipeline_cls, path: Path):
    """(pipeline, None) when the checkpoint loads, else (None, a sentence saying why)."""
    if not (path / "config.json").exists():
        return None, f"The model is not installed: no checkpoint at `{path.name}/`. Train it with `python -m training` (see the README)."
    try:
        return pipeline_cls.from_pretrained(path), None
    except CheckpointError as e:
        return None, f"The model could not be loaded: {e}"


def unavailable(reason: str) -> None:
    gr.Markdown(f"### Not available\n{reason}")


def user_errors(fn):
    """Show InvalidParameterError as a readable error in the UI instead of a stack trace."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InvalidParameterError as e:
            raise gr.Error(str(e), print_exception=False) from None

    return wrapper


def write_output(data: bytes, name: str) -> str:
    """Write an output file under a fresh directory (so concurrent users never collide)."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=OUTPUT_DIR))
    path = folder / os.path.basename(name)
    path.write_bytes(data)
    return str(path)
