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
    from .provenance import export

    pipe = ImagePipeline.from_pretrained(args.checkpoint or DEFAULT_CHECKPOINTS / "mnist-cdcgan", device=args.device)
    result = pipe(label=args.label, count=args.n, seed=args.seed, truncation=args.truncation)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "grid.png").write_bytes(export(result, "grid" if args.no_mark else "grid-marked", "grid.png").data)
    for i in range(len(result.images)):
        (out / f"sample-{i:03d}.png").write_bytes(export(result, f"sample-{i}", f"sample-{i:03d}.png").data)
    print(f"wrote {out / 'grid.png'} and {len(result.images)} samples, signed and labelled AI-generated")


TEXT_MODELS = {"coco": "coco-seqgan", "poems": "poems-seqgan", "oracle": "oracle-seqgan"}


def _text(args: argparse.Namespace) -> None:
    from .pipelines.text import TextPipeline
    from .provenance import export

    pipe = TextPipeline.from_pretrained(args.checkpoint or DEFAULT_CHECKPOINTS / TEXT_MODELS[args.model], device=args.device)
    result = pipe(prefix=args.prefix, count=args.n, max_length=args.max_length, temperature=args.temperature, top_k=args.top_k, seed=args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    signed = export(result, "lines", out.name)
    out.write_bytes(signed.data)  # one sample a line, then the provenance footer
    provenance = out.with_name(out.name + ".provenance.json")
    provenance.write_text(signed.sidecar(), encoding="utf-8")
    print(f"wrote {len(result.samples)} AI-generated samples to {out} (provenance in {provenance.name})")


def _music(args: argparse.Namespace) -> None:
    from .pipelines.music import MusicPipeline
    from .provenance import export

    pipe = MusicPipeline.from_pretrained(args.checkpoint or DEFAULT_CHECKPOINTS / "nottingham-midinet", device=args.device)
    song = pipe(chords=args.chords, bars=args.bars, tempo=args.tempo, key=args.key, instrument=args.instrument,
                creativity=args.creativity, seed=args.seed, primer=args.primer)
    written = [args.out]
    Path(args.out).write_bytes(export(song, "midi", Path(args.out).name).data)
    if args.wav:
        Path(args.wav).write_bytes(export(song, "wav", Path(args.wav).name).data)
        written.append(args.wav)
    if args.png:
        Path(args.png).write_bytes(export(song, "piano-roll", Path(args.png).name).data)
        written.append(args.png)
    print(f"wrote {', '.join(written)}: {len(song.chords)} bars over {' '.join(song.chords)} (AI-generated)")


def _verify(args: argparse.Namespace) -> int:
    import json

    from .provenance import verify_bytes
    from .provenance.formats import read_limited

    path = Path(args.file)
    sidecar = Path(args.sidecar) if args.sidecar else Path(args.file + ".provenance.json")
    side = read_limited(sidecar) if args.sidecar or sidecar.is_file() else None
    result = verify_bytes(read_limited(path), side)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(f"{result.headline}\n  {result.detail}")
        if result.manifest:
            m = result.manifest
            print(f"  model {m['model'].get('name')} ({str(m['model'].get('checkpoint_sha256'))[:12]}…), "
                  f"made {m['created']}, parameters {json.dumps(m['generation'].get('parameters'), ensure_ascii=False)}")
            print(f"  signer {result.signer}")
        print(f"  ledger: {result.ledger}\n  {result.c2pa}")
    return result.exit_code


def _ledger(args: argparse.Namespace) -> int:
    from .provenance import verify_ledger
    from .provenance.ledger import ledger_path

    report = verify_ledger()
    if report.ok:
        print(f"ledger intact: {report.records} records ({ledger_path()})")
        return 0
    print(f"ledger damaged: {len(report.problems)} problem(s) in {report.records} records", file=sys.stderr)
    for problem in report.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


def _key(args: argparse.Namespace) -> None:
    from .provenance import fingerprint, public_key, trust, trusted_keys

    if args.trust:
        trust(args.trust, args.name or "")
        print(f"now trusting key {fingerprint(args.trust.strip())}")
        return
    key = public_key()
    print(f"public key (Ed25519, base64): {key}\nfingerprint: {fingerprint(key)}")
    others = {k: n for k, n in trusted_keys().items() if k != key}
    for k, n in others.items():
        print(f"also trusted: {fingerprint(k)} {n}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ganstudio", description="Generate digits, text and melodies with GANs.")
    parser.add_argument("--device", help="cpu or cuda (default: CUDA when present)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("image", help="class-conditional MNIST digits")
    p.add_argument("--label", default="any", help='digit "0"-"9" or "any" (default any)')
    p.add_argument("--n", type=int, default=16, help="number of images, 1-64")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--truncation", type=float, default=2.0)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--no-mark", action="store_true", help='no visible "AI-generated" band on the grid (the metadata says so anyway)')
    p.add_argument("--checkpoint", help="checkpoint directory (default: the shipped one)")
    p.set_defaults(func=_image)

    p = sub.add_parser("text", help="SeqGAN text: English captions, Chinese quatrains, oracle token ids")
    p.add_argument("--model", choices=list(TEXT_MODELS), default="coco")
    p.add_argument("--n", type=int, default=4, help="number of samples, 1-32")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--prefix", default="", help="the beginning to continue (for oracle: token ids)")
    p.add_argument("--max-length", type=int, help="most tokens per sample (default: the model's)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=0, help="keep the k likeliest tokens at each step (0: off)")
    p.add_argument("--out", required=True, help="text file: one sample per line")
    p.add_argument("--checkpoint", help="checkpoint directory (default: the shipped one for --model)")
    p.set_defaults(func=_text)

    p = sub.add_parser("music", help="a melody over a chord progression, as MIDI (and WAV)")
    p.add_argument("--chords", default="C G Am F", help='one chord a bar, e.g. "C G Am F" or "Dm7 G7 Cmaj7"')
    p.add_argument("--bars", type=int, default=8, help="1-32; the progression repeats to fill them")
    p.add_argument("--tempo", type=int, default=120, help="beats per minute, 40-240")
    p.add_argument("--key", default="C", help="transpose the song from C to this key")
    p.add_argument("--instrument", default="Acoustic Grand Piano", help="General MIDI program name of the melody")
    p.add_argument("--creativity", type=int, default=1, help="0-4: how freely each bar departs from the one before")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--primer", help="MIDI file whose first bar the melody follows")
    p.add_argument("--out", required=True, help="MIDI file to write")
    p.add_argument("--wav", help="also write the audio here")
    p.add_argument("--png", help="also write the piano roll here")
    p.add_argument("--checkpoint", help="checkpoint directory (default: the shipped one)")
    p.set_defaults(func=_music)

    p = sub.add_parser("verify", help="check a file's provenance: exit 0 trusted, 1 altered, 3 none, 4 unknown key")
    p.add_argument("file", help="a PNG, WAV, MIDI or text file")
    p.add_argument("--sidecar", help="the .provenance.json of a text (default: FILE.provenance.json when present)")
    p.add_argument("--json", action="store_true", help="print the verdict and manifest as JSON")
    p.set_defaults(func=_verify)

    p = sub.add_parser("ledger", help="the log of everything this studio signed")
    p.add_argument("action", choices=["verify"], help="verify: check the hash chain (exit 1 when broken)")
    p.set_defaults(func=_ledger)

    p = sub.add_parser("key", help="show this studio's public key, or trust another studio's")
    p.add_argument("--trust", metavar="PUBLIC_KEY", help="add this public key (base64) to the trusted keys")
    p.add_argument("--name", help="a name for the key given with --trust")
    p.set_defaults(func=_key)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except (InvalidParameterError, CheckpointError) as e:
        print(f"ganstudio: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # an --out that is a file, a folder, or not writable
        print(f"ganstudio: error: cannot write {e.filename or 'the output'}: {e.strerror or e}", file=sys.stderr)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
