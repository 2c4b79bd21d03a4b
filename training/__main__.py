"""`python -m training FAMILY --data ... --out ...`; run under torchrun for several GPUs/processes."""

import argparse
import importlib
import sys

# family -> module exposing add_arguments(parser) and train(args)
FAMILIES = {
    "image": "training.image",
    "classifier": "training.classifier",
    "music": "training.music",
    "text": "training.text",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training", description="Train a GAN Studio model.")
    sub = parser.add_subparsers(dest="family", required=True)
    modules = {}
    for name, module_name in FAMILIES.items():
        module = importlib.import_module(module_name)
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0]))
    args = parser.parse_args(argv)
    modules[args.family].train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
