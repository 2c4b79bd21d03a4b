"""The named outputs of each pipeline Result, signed for export, and regenerated for checking.

An artefact name says which file of a Result a manifest describes, so that running the
recorded pipeline again can rebuild exactly that file:

    image        grid-marked (the grid with its visible mark), grid, sample-<i>
    image_walk   strip
    music        midi, wav, piano-roll
    text         txt (header and samples), lines (one sample a line)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ProvenanceError
from .formats import module, sniff
from .label import with_ai_mark
from .sign import Signed, sign_and_embed

ARTEFACTS = {"image": ("grid-marked", "grid", "sample-<i>"), "image_walk": ("strip",),
             "music": ("midi", "wav", "piano-roll"), "text": ("txt", "lines")}
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def artefact_bytes(result: Any, artefact: str) -> bytes:
    """The unsigned file `artefact` of a pipeline Result."""
    from ..pipelines.image import ImageResult, WalkResult, png_with_metadata
    from ..pipelines.music import MusicResult
    from ..pipelines.text import TextResult

    if isinstance(result, ImageResult):
        if artefact == "grid-marked":
            return png_with_metadata(with_ai_mark(result.grid), result.metadata)
        if artefact == "grid":
            return result.png_bytes()
        index = _sample_index(artefact, len(result.images))
        if index is not None:
            return result.png_bytes(result.images[index])
    elif isinstance(result, WalkResult) and artefact == "strip":
        return png_with_metadata(result.strip, result.metadata)
    elif isinstance(result, MusicResult) and artefact in ("midi", "wav", "piano-roll"):
        return {"midi": lambda: result.midi, "wav": lambda: result.wav, "piano-roll": result.png_bytes}[artefact]()
    elif isinstance(result, TextResult) and artefact == "txt":
        return result.txt_bytes()
    elif isinstance(result, TextResult) and artefact == "lines":
        return "".join(s + "\n" for s in result.samples).encode("utf-8")
    raise ProvenanceError(f"{type(result).__name__} has no output {artefact!r}")


def _sample_index(artefact: str, count: int) -> int | None:
    match = re.fullmatch(r"sample-(\d{1,3})", artefact)
    return int(match.group(1)) if match and int(match.group(1)) < count else None


def export(result: Any, artefact: str, title: str = "output", c2pa: bool = True) -> Signed:
    """The artefact of `result`, signed, labelled and recorded in the ledger.

        >>> grid_png = export(pipe(label="3", seed=1), "grid-marked").data
    """
    return sign_and_embed(artefact_bytes(result, artefact), result.metadata, artefact, title, c2pa)


def export_many(result: Any, artefacts: list[str], c2pa: bool = False) -> list[Signed]:
    """Several artefacts of `result`, signed, with their ledger records written in one go."""
    from . import ledger

    signed = [sign_and_embed(artefact_bytes(result, a), result.metadata, a, a, c2pa, record=False) for a in artefacts]
    ledger.append_many([s.manifest for s in signed])
    return signed


@dataclass
class Regeneration:
    identical: bool
    message: str
    recorded_sha256: str
    regenerated_sha256: str | None = None


def regenerate(manifest: dict[str, Any], checkpoints: Path, device: str | None = None) -> Regeneration:
    """Run the model, seed and parameters recorded in `manifest` again and compare the content."""
    from ..errors import CheckpointError, InvalidParameterError
    from ..pipelines import ImagePipeline, MusicPipeline, TextPipeline

    recorded = str(manifest.get("content_sha256"))
    generation, model = manifest.get("generation") or {}, manifest.get("model") or {}
    task, params, artefact = generation.get("task"), generation.get("parameters"), manifest.get("artefact")
    name = model.get("name")
    if task not in ARTEFACTS or not isinstance(params, dict) or not isinstance(artefact, str):
        raise ProvenanceError("the manifest does not record a task, parameters and output this studio can run again")
    if not isinstance(name, str) or not MODEL_NAME.match(name) or name.startswith(".."):
        raise ProvenanceError(f"the manifest names a model {name!r} that is not a checkpoint name")
    path = Path(checkpoints) / name
    if not (path / "config.json").exists():
        raise ProvenanceError(f"the model {name} is not installed here, so the output cannot be regenerated")
    if params.get("primer_sha256"):
        raise ProvenanceError("this melody followed a primer MIDI file, which the manifest identifies only by its hash; it cannot be regenerated without it")
    params = {k: v for k, v in params.items() if k != "primer_sha256"}
    cls = {"image": ImagePipeline, "image_walk": ImagePipeline, "music": MusicPipeline, "text": TextPipeline}[task]
    try:
        pipe = cls.from_pretrained(path, device=device)
        if pipe.checkpoint_sha256 != model.get("checkpoint_sha256"):
            return Regeneration(False, f"the installed {name} is not the checkpoint that made this output (its SHA-256 differs)", recorded)
        result = pipe.walk(**params) if task == "image_walk" else pipe(**params)
    except TypeError:
        raise ProvenanceError(f"the manifest's parameters ({', '.join(map(str, params))}) do not fit the {task} pipeline") from None
    except (InvalidParameterError, CheckpointError) as e:
        raise ProvenanceError(f"cannot regenerate: {e}") from None
    data = artefact_bytes(result, artefact)
    again = module(sniff(data)).content_sha256(data)
    note = "" if generation.get("device") in (None, pipe.device.type) else f" (made on {generation.get('device')}, regenerated on {pipe.device.type}: small numeric differences are possible)"
    if again == recorded:
        return Regeneration(True, "identical: the recorded model, seed and parameters give exactly this content" + note, recorded, again)
    return Regeneration(False, "different: the recorded model, seed and parameters give other content than this file's manifest records" + note, recorded, again)
