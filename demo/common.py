"""What the tabs share: loading a pipeline or saying why not, error display, output files."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
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


# Gradio copies each returned file into its own cache as the request ends (that cache is cleaned
# by Blocks(delete_cache=...)); our copy is needed only until then, so old ones are removed.
OUTPUT_MAX_AGE_S = 600
_last_prune = 0.0


def prune_outputs(max_age_s: float = OUTPUT_MAX_AGE_S) -> None:
    """Remove output folders older than `max_age_s`: without this the folder grows with every request."""
    cutoff = time.time() - max_age_s
    for folder in OUTPUT_DIR.iterdir():
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # removed by a concurrent prune
            pass


def write_output(data: bytes, name: str) -> str:
    """Write an output file under a fresh directory (so concurrent users never collide)."""
    return write_outputs([(data, name)])[0]


def write_outputs(files: list[tuple[bytes, str]]) -> list[str]:
    """Write (data, name) files together under one fresh directory; their paths, in order."""
    global _last_prune
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    if time.time() - _last_prune > 60:
        _last_prune = time.time()
        prune_outputs()
    folder = Path(tempfile.mkdtemp(dir=OUTPUT_DIR))
    paths = []
    for data, name in files:
        path = folder / os.path.basename(name)
        path.write_bytes(data)
        paths.append(str(path))
    return paths
