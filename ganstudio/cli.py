"""The `ganstudio` command line: one subcommand per medium, plus provenance tools.

Bad arguments print one line on stderr and exit with status 2; so does any
InvalidParameterError or CheckpointError raised by a pipeline.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import CheckpointError, InvalidParameterError

DEFAULT_CHECKPOINTS = Path(os.environ.get("GANSTUDIO_CHECKPOINTS", Path(__file__).resolve().parent.parent / "checkpoints"))


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line (its default prints the whole usage too)."""

    def error(self, message: str):
        self.exit(2, f"ganstudio: error: {message}\n")


def _image(args: argparse.Namespace) -> None:
    from .pipelines.image import ImagePipeline

    pipe = ImagePipeline.from_pretrained(args.checkpoint or DEFAULT_CHECKPOINTS / "mnist-cdcgan", device=args.device)
    result = pipe(label=args.label, count=args.n, seed=args.seed, truncation=args.truncation)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "grid.png").write_bytes(result.png_bytes())
    for i, img in enumerate(result.images):
        (out / f"sample-{i:03d}.png").write_bytes(result.png_bytes(img))
    print(f"wrote {out / 'grid.png'} and {len(result.images)} samples")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ganstudio", description="Generate digits, text and melodies with GANs.")
    parser.add_argument("--device", help="cpu or cuda (default: CUDA when present)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("image", help="class-conditional MNIST digits")
    p.add_argument("--label", default="any", help='digit "0"-"9" or "any" (default any)')
    p.add_argument("--n", type=int, default=16, help="number of images, 1-64")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--truncation", type=float, default=1.0)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--checkpoint", help="checkpoint directory (default: the shipped one)")
    p.set_defaults(func=_image)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (InvalidParameterError, CheckpointError) as e:
        print(f"ganstudio: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
