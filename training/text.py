"""Train SeqGAN: MLE pretraining, discriminator pretraining, then policy-gradient adversarial training.

    python -m training text --data oracle.npz --out checkpoints/oracle-seqgan
    python -m training text --data captions.txt --test-data test.txt --out checkpoints/coco-seqgan
    python -m training text --data poems.txt --kind char --holdout 0.1 --out checkpoints/poems-seqgan

The schedule is the SeqGAN authors' (defaults): 120 MLE epochs (Adam 0.01, batch 64, gradient
norm clipped at 5); 50 discriminator rounds, each on 10,000 fresh negatives for 3 epochs
(Adam 1e-4, L2 0.2 on the output layer); then `--epochs` (200) adversarial epochs, each one
policy-gradient step of the generator (rewards from 16 Monte Carlo rollouts scored by the
discriminator), the rollout network moved 20% of the way to the generator (delay 0.8), and 5
discriminator rounds of 3 epochs on fresh negatives.

With `--mle-every N` the SeqGAN generator also trains one MLE epoch every N adversarial epochs
(interleaved training, as in LeakGAN); with `--twin-every N` too, both generators see the same
MLE epochs and differ only by the policy-gradient steps.

The MLE baseline trains in the same run: at the end of pretraining the generator is copied and
the copy goes on with one MLE epoch per adversarial epoch, so both are measured side by side
(NLL-oracle for the oracle data, held-out NLL and BLEU for text) at every evaluation.

Each epoch of each phase is one unit of the run's schedule; state is saved after each, so
`--resume` continues from the last one finished.
"""

from __future__ import annotations

import argparse
import copy
import math
import shlex
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ganstudio.checkpoint import prefixed, save_pretrained
from ganstudio.metrics_text import bleu, nll_oracle, self_bleu
from ganstudio.models.seqgan import PAPER_FILTER_SIZES, PAPER_NUM_FILTERS, Discriminator, Generator
from ganstudio.text import TOKENIZERS, Vocabulary

from .engine import Context, Run, add_common_arguments, epoch_batches, setup, snapshot, teardown
from .text_data import encode_lines, file_sha256, load_oracle, oracle_corpus, read_lines, split_holdout

NAN = float("nan")
METRIC_KEYS = ("g_loss", "mle_loss", "d_loss", "d_acc", "reward", "nll_oracle", "nll_oracle_mle", "test_nll", "test_nll_mle")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common_arguments(p, epochs=200, batch_size=64, lr=0.01)
    p.set_defaults(save_every=0)
    p.add_argument("--kind", choices=["oracle", *TOKENIZERS], help="oracle (an .npz), word (English) or char (Chinese); default: oracle for .npz, else word")
    p.add_argument("--test-data", help="held-out text file (references for BLEU, held-out NLL)")
    p.add_argument("--holdout", type=float, default=0.0, help="fraction of --data held out as the test split when --test-data is not given")
    p.add_argument("--oracle-samples", type=int, default=10_000, help="size of the oracle's synthetic training set")
    p.add_argument("--emb-dim", type=int, default=32)
    p.add_argument("--hidden-dim", type=int, default=32)
    p.add_argument("--mle-epochs", type=int, default=120)
    p.add_argument("--grad-clip", type=float, default=5.0)
    p.add_argument("--d-pretrain-rounds", type=int, default=50)
    p.add_argument("--d-pretrain-epochs", type=int, default=3)
    p.add_argument("--d-rounds", type=int, default=5, help="discriminator rounds per adversarial epoch")
    p.add_argument("--d-epochs", type=int, default=3, help="epochs over each round's real + fresh negatives")
    p.add_argument("--d-batch-size", type=int, default=64)
    p.add_argument("--d-lr", type=float, default=1e-4)
    p.add_argument("--d-emb-dim", type=int, default=64)
    p.add_argument("--d-dropout", type=float, default=0.25, help="drop probability (the paper keeps 0.75)")
    p.add_argument("--d-l2", type=float, default=0.2)
    p.add_argument("--negatives", type=int, default=10_000, help="fresh negatives per discriminator round")
    p.add_argument("--g-steps", type=int, default=1, help="policy-gradient steps per adversarial epoch")
    p.add_argument("--pg-batch-size", type=int, default=0, help="sequences per policy-gradient step (default: --batch-size)")
    p.add_argument("--rollouts", type=int, default=16)
    p.add_argument("--rollout-delay", type=float, default=0.8, help="rollout net <- delay * rollout + (1 - delay) * generator")
    p.add_argument("--reward-chunk", type=int, default=8192, help="rollout sequences scored per discriminator call")
    p.add_argument("--twin-every", type=int, default=1, help="the MLE baseline trains one epoch every N adversarial epochs")
    p.add_argument("--mle-every", type=int, default=0, help="the SeqGAN generator also trains one MLE epoch every N adversarial epochs (interleaved training, as LeakGAN; 0: never, as the paper)")
    p.add_argument("--eval-every", type=int, default=5, help="evaluate every N units of the schedule (and at each phase's end)")
    p.add_argument("--eval-samples", type=int, default=0, help="samples per evaluation (default: 10,000 for the oracle, 1,000 for text)")
    p.add_argument("--keep-best", action="store_true", help="ship the SeqGAN generator of the adversarial evaluation with the lowest NLL-oracle (oracle) or held-out NLL (text), not the last one")


class Data:
    """The real sequences, the references and the vocabulary (or the oracle)."""

    def __init__(self, args: argparse.Namespace, device: torch.device):
        self.kind = args.kind or ("oracle" if str(args.data).endswith(".npz") else "word")
        self.oracle, self.vocab = None, None
        self.source = {"file": Path(args.data).name, "sha256": file_sha256(args.data)}
        self.test = torch.empty(0, 1, dtype=torch.long)
        self.references: list[list[str]] = []
        if self.kind == "oracle":
            self.oracle = load_oracle(args.data).to(device)
            self.real = oracle_corpus(self.oracle, args.oracle_samples, args.seed)
            self.seq_len, self.vocab_size, self.start_token = self.oracle.seq_len, self.oracle.vocab_size, self.oracle.start_token
            self.source.update(oracle_samples=args.oracle_samples, sample_seed=args.seed)
            return
        lines = read_lines(args.data)
        if args.test_data:
            train, held = lines, read_lines(args.test_data)
            self.source["test"] = {"file": Path(args.test_data).name, "sha256": file_sha256(args.test_data), "lines": len(held)}
        else:
            train, held = split_holdout(lines, args.holdout, args.seed)
            self.source["holdout"] = {"fraction": args.holdout, "seed": args.seed, "lines": len(held)}
        self.vocab = Vocabulary.build(train, self.kind)
        self.seq_len = max(len(self.vocab.encode(s)) for s in train) + 1  # room for <eos>
        self.vocab_size, self.start_token = len(self.vocab), Vocabulary.bos
        self.real = encode_lines(self.vocab, train, self.seq_len)
        self.test = encode_lines(self.vocab, held, self.seq_len)
        from ganstudio.text import tokenize

        self.references = [tokenize(s, self.kind) for s in held]
        self.source.update(lines=len(train), seq_len=self.seq_len, vocab_size=self.vocab_size)

    def decode(self, ids: torch.Tensor) -> list[str]:
        if self.vocab is None:
            return [" ".join(map(str, row)) for row in ids.tolist()]
        return [self.vocab.decode(row) for row in ids.tolist()]

    def tokens(self, ids: torch.Tensor) -> list[list[str]]:
        return [self.vocab.decode_tokens(row) for row in ids.tolist()]


def clip_step(opt: torch.optim.Optimizer, module: torch.nn.Module, loss: torch.Tensor, clip: float) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip:
        torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
    opt.step()


def mle_epoch(g: Generator, opt, real: torch.Tensor, args, ctx: Context, unit: int) -> float:
    g.train()
    total, n = torch.zeros((), device=ctx.device), 0
    for idx in epoch_batches(len(real), args.batch_size, args.seed, unit, ctx):
        batch = real[idx].to(ctx.device, non_blocking=True)
        with ctx.autocast():
            loss = g.nll(batch)
        clip_step(opt, g, loss, args.grad_clip)
        total += loss.detach()
        n += 1
    return (total / max(n, 1)).item()


def sample_many(g: Generator, n: int, chunk: int = 5000) -> torch.Tensor:
    g.eval()
    return torch.cat([g.sample(min(chunk, n - i)).cpu() for i in range(0, n, chunk)])


def d_round(d: Discriminator, opt, g: Generator, real: torch.Tensor, epochs: int, args, ctx: Context, unit: int) -> tuple[float, float]:
    """Train D for `epochs` epochs on fresh negatives and as many real sequences (a fresh subset
    when there are more real ones; with the defaults, all 10,000 of the oracle's)."""
    n = min(args.negatives, len(real)) if args.negatives else len(real)
    if n < len(real):
        real = real[torch.randperm(len(real))[:n]]
    fake = sample_many(g, n)
    x = torch.cat([real, fake])
    y = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).long()
    d.train()
    loss_sum, acc_sum, n = torch.zeros((), device=ctx.device), torch.zeros((), device=ctx.device), 0
    for e in range(epochs):
        for idx in epoch_batches(len(x), args.d_batch_size, args.seed + 7, unit * 100 + e, ctx):
            xb, yb = x[idx].to(ctx.device, non_blocking=True), y[idx].to(ctx.device, non_blocking=True)
            with ctx.autocast():
                logits = d(xb)
                loss = F.cross_entropy(logits.float(), yb) + args.d_l2 * d.l2_penalty()
            clip_step(opt, d, loss, 0.0)
            loss_sum += loss.detach()
            acc_sum += (logits.argmax(1) == yb).float().mean()
            n += 1
    return (loss_sum / max(n, 1)).item(), (acc_sum / max(n, 1)).item()


@torch.no_grad()
def rewards(rollout_net: Generator, d: Discriminator, seqs: torch.Tensor, n_rollouts: int, chunk: int) -> torch.Tensor:
    """SeqGAN's reward of each token, (B, T): the mean realness of `n_rollouts` completions of
    the sequence up to it; the last token's reward is the realness of the sequence itself."""
    B, T = seqs.shape
    done = rollout_net.rollout(seqs, n_rollouts).reshape(-1, T)
    d.eval()
    scores = torch.cat([d.realness(c) for c in done.split(chunk)])
    partial = scores.view(B, T - 1, n_rollouts).mean(dim=2)
    return torch.cat([partial, d.realness(seqs)[:, None]], dim=1)


def policy_gradient_step(g: Generator, opt, rollout_net: Generator, d: Discriminator, args, ctx: Context) -> tuple[float, float]:
    """One REINFORCE step: loss = -sum_t log G(y_t | y_<t) * Q(y_<t, y_t), as the authors (summed)."""
    g.eval()
    seqs = g.sample(args.pg_batch_size or args.batch_size)
    r = rewards(rollout_net, d, seqs, args.rollouts, args.reward_chunk)
    g.train()
    with ctx.autocast():
        loss = -(g.token_log_probs(seqs) * r).sum()
    clip_step(opt, g, loss, args.grad_clip)
    return loss.item() / seqs.numel(), r.mean().item()


@torch.no_grad()
def follow(rollout_net: Generator, g: Generator, delay: float) -> None:
    """Move the rollout net toward the generator; the embedding is copied, as the authors do."""
    for (name, r), p in zip(rollout_net.named_parameters(), g.parameters()):
        if name.startswith("embedding."):
            r.copy_(p)
        else:
            r.lerp_(p, 1 - delay)


def evaluate(data: Data, g: Generator, twin: Generator | None, args, device) -> dict[str, float]:
    n = args.eval_samples or (10_000 if data.oracle is not None else 1_000)
    out = {}
    for key, net in (("", g), ("_mle", twin if twin is not None else g)):
        net.eval()
        with torch.no_grad():
            if data.oracle is not None:
                out["nll_oracle" + key] = round(nll_oracle(data.oracle, sample_many(net, n).to(device)), 4)
            elif len(data.test):
                out["test_nll" + key] = round(nll_oracle(net, data.test.to(device)), 4)
    return out


def final_metrics(data: Data, g: Generator, twin: Generator, args, device) -> dict:
    metrics = evaluate(data, g, twin, args, device)
    if data.vocab is not None and data.references:
        for key, net in (("seqgan", g), ("mle", twin)):
            toks = data.tokens(sample_many(net, 1000))
            for k in (2, 3, 4, 5):
                metrics[f"bleu{k}_{key}"] = round(bleu(toks, data.references, k), 4)
            metrics[f"self_bleu4_{key}"] = round(self_bleu(toks, 4), 4)
    return metrics


def model_card(name: str, data: Data, config: dict, command: str, metrics: dict, samples: list[str]) -> str:
    what = {
        "oracle": "the SeqGAN synthetic benchmark: 10,000 sequences of 20 tokens sampled from the SeqGAN authors' published oracle LSTM (vocabulary 5,000)",
        "word": "English image captions (MS-COCO captions as selected by the Texygen benchmark), word level",
        "char": "Chinese classical quatrains (五言绝句), character level",
    }[data.kind]
    licence = {
        "oracle": "oracle parameters from the SeqGAN authors' public repository; the sequences are synthetic",
        "word": "COCO captions CC BY 4.0; selection MIT (Texygen)",
        "char": "public-domain poems; selection MIT (Texygen)",
    }[data.kind]
    rows = "\n".join(f"| {k} | {v} |" for k, v in metrics.items())
    shown = "\n".join(f"    {s}" for s in samples)
    return f"""---
license: mit
tags: [seqgan, gan, text-generation]
---
# {name}

A SeqGAN (Yu et al., AAAI 2017): an LSTM generator (embedding {config['args']['generator']['emb_dim']}, hidden
{config['args']['generator']['hidden_dim']}, vocabulary {data.vocab_size}, sequences of {data.seq_len} tokens) trained by
maximum likelihood, then by policy gradient against a CNN discriminator with Monte Carlo
rollouts. The weights hold the SeqGAN generator (`generator.*`), the MLE-only generator trained
alongside it in the same run (`mle_generator.*`) and the discriminator (`discriminator.*`),
whose realness score the Studio shows beside each sample.

## Data and licence
{what}. Licence: {licence}. Data set file and SHA-256 in `config.json` (`dataset`).

## Training
```
{command}
```
Schedule (all values in `config.json`, `schedule`): {config['schedule']['mle_epochs']} MLE epochs,
{config['schedule']['d_pretrain_rounds']} discriminator pretraining rounds, {config['schedule']['epochs']} adversarial epochs
({config['schedule']['rollouts']} rollouts, delay {config['schedule']['rollout_delay']}); completed: {config['training']['done']}.
Device: {config['training']['device']}, {config['training']['seconds']:.0f} s.

## Metrics at the end of training
| metric | value |
| --- | --- |
{rows}

## Samples (AI-generated)
{shown}

## Intended use and limits
Demonstration and research on adversarial text generation. Every output is AI-generated text
with no meaning or intent behind it and must be labelled as such; it can reproduce phrases of
the training data and carries its biases. Not for factual content.
"""


def train(args: argparse.Namespace) -> None:
    ctx = setup(args)
    run = Run(args, ctx)
    data = Data(args, ctx.device)
    g_args = dict(vocab_size=data.vocab_size, emb_dim=args.emb_dim, hidden_dim=args.hidden_dim, seq_len=data.seq_len, start_token=data.start_token)
    d_args = dict(vocab_size=data.vocab_size, seq_len=data.seq_len, emb_dim=args.d_emb_dim, filter_sizes=list(PAPER_FILTER_SIZES), num_filters=list(PAPER_NUM_FILTERS), dropout=args.d_dropout)
    g = Generator(**g_args).to(ctx.device)
    # The MLE baseline, split off from g at the end of pretraining, and the rollout net; fresh
    # modules rather than deep copies, which would break cuDNN's single weight buffer.
    twin = Generator(**g_args).to(ctx.device)
    rollout_net = Generator(**g_args).to(ctx.device).requires_grad_(False)
    d = Discriminator(**d_args).to(ctx.device)
    adam = dict(fused=True) if ctx.device.type == "cuda" else {}
    g_opt = torch.optim.Adam(g.parameters(), lr=args.lr, **adam)
    twin_opt = torch.optim.Adam(twin.parameters(), lr=args.lr, **adam)
    pg_opt = torch.optim.Adam(g.parameters(), lr=args.lr, **adam)
    d_opt = torch.optim.Adam(d.parameters(), lr=args.d_lr, **adam)
    objects = {"g": g, "twin": twin, "rollout": rollout_net, "d": d, "g_opt": g_opt, "twin_opt": twin_opt, "pg_opt": pg_opt, "d_opt": d_opt}
    seconds, best = 0.0, None  # best: the generator kept by --keep-best, with its unit and value
    if args.resume:
        extra = run.restore(objects)
        seconds, best = extra.get("seconds", 0.0), extra.get("best")
    criterion = "nll_oracle" if data.oracle is not None else "test_nll"
    pre, dpre = args.mle_epochs, args.d_pretrain_rounds
    total = pre + dpre + args.epochs
    invoked = time.time()
    start = invoked - seconds
    bar = run.progress(range(run.epoch, total), total=total - run.epoch, desc=f"seqgan {Path(args.out).name}")
    for unit in bar:
        run.epoch = unit
        m = dict.fromkeys(METRIC_KEYS, NAN)
        if unit < pre:
            phase = "mle"
            m["mle_loss"] = mle_epoch(g, g_opt, data.real, args, ctx, unit)
            if unit == pre - 1:  # pretraining done: the MLE baseline and the rollout net start here
                twin.load_state_dict(g.state_dict())
                # a deep copy: load_state_dict keeps the very tensors it is given, and the two
                # optimisers must not share their moments or step counts
                twin_opt.load_state_dict(copy.deepcopy(g_opt.state_dict()))
                rollout_net.load_state_dict(g.state_dict())
        elif unit < pre + dpre:
            phase = "d_pretrain"
            m["d_loss"], m["d_acc"] = d_round(d, d_opt, g, data.real, args.d_pretrain_epochs, args, ctx, unit)
        else:
            phase = "adversarial"
            for _ in range(args.g_steps):
                m["g_loss"], m["reward"] = policy_gradient_step(g, pg_opt, rollout_net, d, args, ctx)
            follow(rollout_net, g, args.rollout_delay)
            losses = [d_round(d, d_opt, g, data.real, args.d_epochs, args, ctx, unit * 10 + k) for k in range(args.d_rounds)]
            m["d_loss"], m["d_acc"] = (sum(x) / len(x) for x in zip(*losses)) if losses else (NAN, NAN)
            if (unit - pre - dpre) % args.twin_every == 0:
                m["mle_loss"] = mle_epoch(twin, twin_opt, data.real, args, ctx, unit)
            if args.mle_every and (unit - pre - dpre) % args.mle_every == args.mle_every - 1:
                mle_epoch(g, g_opt, data.real, args, ctx, unit)
        last_of_phase = unit in (pre - 1, pre + dpre - 1, total - 1)
        if phase != "d_pretrain" and (unit % args.eval_every == 0 or last_of_phase):
            m.update(evaluate(data, g, twin if phase == "adversarial" else None, args, ctx.device))
            value = m.get(criterion, NAN)
            if args.keep_best and phase == "adversarial" and math.isfinite(value) and (best is None or value < best["value"]):
                best = {"unit": unit, "value": value, "state": snapshot(g)}
            if ctx.is_main:
                text = "\n".join(data.decode(sample_many(g, 8))) + "\n"
                (run.dir / "samples" / f"{unit:04d}-{phase}.txt").write_text(text, encoding="utf-8")
        run.global_step = unit + 1
        run.log_epoch({"phase": phase, **{k: (round(v, 5) if isinstance(v, float) and math.isfinite(v) else v) for k, v in m.items()}})
        run.epoch = unit + 1
        run.save(objects, seconds=time.time() - start, **({"best": best} if best is not None else {}))
        if args.time_limit and time.time() - invoked >= args.time_limit and run.epoch < total:
            print(f"time limit reached after {run.epoch} of {total} units; writing the checkpoint", flush=True)
            break
    seconds = time.time() - start
    units_done = (min(run.epoch, pre), max(0, min(run.epoch - pre, dpre)), max(0, run.epoch - pre - dpre))
    if best is not None:  # --keep-best: the kept generator is the one measured and shipped
        g.load_state_dict(best["state"])
        print(f"keeping the generator of unit {best['unit']} ({criterion} {best['value']} at evaluation)", flush=True)
    if ctx.is_main:
        metrics = final_metrics(data, g, twin, args, ctx.device)
        if best is not None:
            metrics["kept_unit"], metrics[f"kept_{criterion}_at_evaluation"] = best["unit"], best["value"]
        save_checkpoint(args, data, g, twin, d, g_args, d_args, metrics, seconds, ctx, units_done)
        print(f"wrote {args.out}: {metrics}")
    teardown(ctx)


def training_command(argv: list[str] | None = None) -> str:
    if argv is None:
        argv = sys.argv[1:]
        if "text" in argv:
            argv = argv[argv.index("text") + 1 :]
    # --resume changes where a run starts, not what it computes: the command without it
    # reproduces the checkpoint (the config records that the run was resumed).
    return "python -m training text " + shlex.join(a for a in argv if a != "--resume")


def save_checkpoint(args, data: Data, g, twin, d, g_args, d_args, metrics, seconds, ctx, units_done) -> None:
    name = Path(args.out).name
    schedule = {k: getattr(args, k) for k in (
        "epochs", "batch_size", "lr", "seed", "mle_epochs", "grad_clip", "d_pretrain_rounds", "d_pretrain_epochs",
        "d_rounds", "d_epochs", "d_batch_size", "d_lr", "d_l2", "negatives", "g_steps", "pg_batch_size", "rollouts", "rollout_delay", "twin_every", "mle_every",
        "eval_every", "eval_samples", "keep_best")}
    device = torch.cuda.get_device_name(ctx.device) if ctx.device.type == "cuda" else "cpu"
    config = {
        "name": name,
        "family": "seqgan",
        "class": "Generator",
        "args": {"generator": g_args, "discriminator": d_args},
        "vocabulary": None if data.vocab is None else {"kind": data.kind, "tokens": data.vocab.tokens},
        "dataset": {"kind": data.kind, **data.source},
        "schedule": schedule,
        "training": {"device": device, "seconds": round(seconds, 1), "command": training_command(getattr(args, "argv", None)), "resumed": bool(args.resume),
                     "done": dict(zip(("mle_epochs", "d_pretrain_rounds", "adversarial_epochs"), units_done))},
        "metrics": metrics,
    }
    # The discriminator is stored in bf16 (it only scores samples; its highway layer alone is
    # 1720 x 1720 x 2), which keeps the checkpoint under 25 MB; the generators stay float32.
    d_state = {k: v.to(torch.bfloat16) for k, v in d.state_dict().items()}
    tensors = {**prefixed("generator", g.state_dict()), **prefixed("mle_generator", twin.state_dict()), **prefixed("discriminator", d_state)}
    samples = data.decode(sample_many(g, 6))
    save_pretrained(args.out, config, tensors, model_card(name, data, config, config["training"]["command"], metrics, samples))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training text", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    args.argv = argv
    train(args)


if __name__ == "__main__":
    main()
