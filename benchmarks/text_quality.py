"""Text quality of the shipped SeqGAN checkpoints, MLE generator and SeqGAN generator side by side.

    python benchmarks/text_quality.py --oracle DATA/seqgan_oracle/oracle.npz \
        --coco-test DATA/coco_captions/test.txt --coco-train DATA/coco_captions/train.txt \
        --poems DATA/chinese_poems/poems.txt --json benchmarks/text_quality.json

Each checkpoint holds both generators of one run (`generator`: SeqGAN, `mle_generator`: the
MLE-only twin). Measured here:

- oracle: NLL-oracle (mean per-token NLL under the oracle of 10,000 samples), at temperature 1
  and over the temperatures; NLL-test (each generator's NLL of 10,000 fresh oracle samples: the
  diversity NLL-oracle cannot see); and the curve over training from the run's metrics.csv
  when --runs has it;
- COCO: 1,000 samples at each temperature; BLEU-2..5 of each against the whole test file
  (nltk sentence_bleu, method1 smoothing, uniform weights, computed by ganstudio.metrics_text,
  which equals it exactly) and Self-BLEU-2..5 (each sample against the other 999). As a
  calibration, 1,000 training captions are scored the same way;
- poems: BLEU-2 of 1,000 samples (at each temperature) against the held-out split the trainer used (all tokens of
  the file, punctuation included), recovered from the checkpoint's config.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganstudio.checkpoint import load_pretrained  # noqa: E402
from ganstudio.metrics_text import References, nll_oracle, self_bleu  # noqa: E402
from ganstudio.models.seqgan import Generator  # noqa: E402
from ganstudio.text import Vocabulary, tokenize  # noqa: E402
from training.text_data import load_oracle, oracle_corpus, read_lines, split_holdout  # noqa: E402

TEMPERATURES = (0.7, 0.8, 0.9, 0.93, 1.0, 1.1)
FRESH_ORACLE_SEED = 20_170_204  # not a seed any trainer's --seed defaults to


def generators(path: Path) -> tuple[dict, dict[str, Generator]]:
    config, tensors = load_pretrained(path)
    nets = {}
    for key, prefix in (("MLE", "mle_generator"), ("SeqGAN", "generator")):
        g = Generator(**config["args"]["generator"])
        g.load_state_dict({k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")})
        nets[key] = g.eval()
    return config, nets


def samples(g: Generator, n: int, seed: int, temperature: float = 1.0, vocab: Vocabulary | None = None):
    torch.manual_seed(seed)
    out = torch.cat([g.sample(min(500, n - i), temperature=temperature, banned=(Vocabulary.bos,) if vocab else ()) for i in range(0, n, 500)])
    return out if vocab is None else [vocab.decode_tokens(row) for row in out.tolist()]


def oracle(args, out: dict) -> None:
    config, nets = generators(args.checkpoints / "oracle-seqgan")
    target = load_oracle(args.oracle)
    out["oracle"] = {k: round(nll_oracle(target, samples(g, 10_000, args.seed)), 4) for k, g in nets.items()}
    # The other side of the trade: each generator's NLL of fresh oracle samples (a seed the
    # trainer's corpus does not use). Sharpening a generator lowers NLL-oracle and raises this.
    fresh = oracle_corpus(target, 10_000, seed=FRESH_ORACLE_SEED)
    out["oracle"]["nll_test"] = {k: round(nll_oracle(g, fresh), 4) for k, g in nets.items()}
    out["oracle"]["by_temperature"] = {f"{k} T={t}": round(nll_oracle(target, samples(g, 10_000, args.seed, t)), 4)
                                       for t in TEMPERATURES for k, g in nets.items()}
    print(out["oracle"], flush=True)
    out["oracle"]["training"] = config["training"]
    curve = args.runs / "oracle-seqgan" / "metrics.csv"
    if curve.is_file():
        rows = [r for r in csv.DictReader(curve.open()) if r["nll_oracle"] not in ("", "nan")]
        out["oracle"]["curve"] = [(int(r["epoch"]), r["phase"], float(r["nll_oracle"]), float(r["nll_oracle_mle"])) for r in rows]


def coco(args, out: dict) -> None:
    config, nets = generators(args.checkpoints / "coco-seqgan")
    vocab = Vocabulary(config["vocabulary"]["tokens"], config["vocabulary"]["kind"])
    refs = References([tokenize(s, "word") for s in read_lines(args.coco_test)], 5)
    rows = []

    def score(name, temperature, toks):
        row = {"model": name, "temperature": temperature}
        row.update({f"BLEU-{n}": round(refs.bleu(toks, n), 3) for n in (2, 3, 4, 5)})
        row.update({f"Self-BLEU-{n}": round(self_bleu(toks, n), 3) for n in (2, 3, 4, 5)})
        rows.append(row)
        print(row, flush=True)

    if args.coco_train:
        lines = read_lines(args.coco_train)
        score("training captions", None, [tokenize(s, "word") for s in random.Random(args.seed).sample(lines, min(1000, len(lines)))])
    for t in TEMPERATURES:
        for name, g in nets.items():
            score(name, t, samples(g, 1000, args.seed, t, vocab))
    out["coco"] = {"rows": rows, "training": config["training"]}


def poems(args, out: dict) -> None:
    config, nets = generators(args.checkpoints / "poems-seqgan")
    vocab = Vocabulary(config["vocabulary"]["tokens"], config["vocabulary"]["kind"])
    hold = config["dataset"]["holdout"]
    _, held = split_holdout(read_lines(args.poems), hold["fraction"], hold["seed"])
    refs = References([tokenize(s, "char") for s in held], 2)
    curve = {f"{name} T={t}": round(refs.bleu(samples(g, 1000, args.seed, t, vocab), 2), 4) for t in TEMPERATURES for name, g in nets.items()}
    print(curve, flush=True)
    out["poems"] = {name: curve[f"{name} T=1.0"] for name in nets}
    out["poems"].update(by_temperature=curve, held_out=len(held), training=config["training"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoints", type=Path, default=Path("checkpoints"))
    p.add_argument("--runs", type=Path, default=Path("runs"), help="run directories (for the oracle's curve)")
    p.add_argument("--oracle", type=Path)
    p.add_argument("--coco-test", type=Path)
    p.add_argument("--coco-train", type=Path, help="optional: score 1,000 training captions as a calibration")
    p.add_argument("--poems", type=Path)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    out: dict = {"machine": f"{torch.get_num_threads()} CPU threads, torch {torch.__version__}"}
    with torch.no_grad():
        for name, fn, needed in (("oracle", oracle, args.oracle), ("coco", coco, args.coco_test), ("poems", poems, args.poems)):
            if needed:
                t = time.time()
                fn(args, out)
                out[name]["benchmark_seconds"] = round(time.time() - t, 1)
    text = json.dumps(out, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
