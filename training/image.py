"""Class-conditional DCGAN on MNIST (or any folder of class folders of small images).

The loop follows pytorch/examples/dcgan: one discriminator step, then one generator step,
Adam(2e-4, beta1=0.5). What changes from the 2015 recipe, and why, is in the model card:
hinge loss, spectral norm and a projection head in D, conditional batch norm in G, and an
exponential moving average of G's weights that is what ships.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganstudio.checkpoint import prefixed, save_pretrained
from ganstudio.metrics import features_and_predictions, frechet_distance, load_classifier, to_model_range
from ganstudio.models.dcgan import Discriminator, Generator
from ganstudio.pipelines.image import make_grid, png_with_metadata, to_uint8

from .engine import EMA, Run, add_common_arguments, budget_spent, epoch_batches, mean_metrics, setup, steps_per_epoch, teardown, unwrap
from .image_data import load_image_dataset


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common_arguments(p, epochs=20, batch_size=128, lr=2e-4)
    p.add_argument("--z-dim", type=int, default=128)
    p.add_argument("--g-width", type=int, default=32, help="base channel width of G (sets inference speed)")
    p.add_argument("--d-width", type=int, default=64, help="base channel width of D (training only)")
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--ema-decay", type=float, default=0.999)
    p.add_argument("--classifier", help="checkpoints/mnist-classifier: measure class accuracy and FID after each epoch")
    p.add_argument("--eval-samples", type=int, default=10_000, help="samples for the per-epoch accuracy/FID")
    p.add_argument("--compile", action="store_true", help="torch.compile the two networks (CUDA)")


@torch.no_grad()
def evaluate(generator, classifier, real_features, n: int, z_dim: int, num_classes: int, device, seed: int = 1234):
    """Classifier accuracy on the requested class and FID against `real_features`."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % num_classes
    z = torch.randn(n, z_dim, generator=g)
    fake = torch.cat([generator(z[i : i + 1000].to(device), y[i : i + 1000].to(device)) for i in range(0, n, 1000)])
    feats, preds = features_and_predictions(classifier, fake.float())
    return {"class_accuracy": round((preds == y).float().mean().item(), 5), "fid": round(frechet_distance(feats, real_features), 4)}


def train(args: argparse.Namespace) -> None:
    ctx = setup(args)
    x_np, y_np, label_names = load_image_dataset(args.data)
    x_all = to_model_range(x_np).to(ctx.device)  # the whole set lives on the device: no loader
    y_all = torch.as_tensor(y_np).to(ctx.device)
    num_classes = len(label_names)
    if ctx.device.type == "cuda":
        x_all = x_all.contiguous(memory_format=torch.channels_last)

    g_args = {"z_dim": args.z_dim, "num_classes": num_classes, "width": args.g_width}
    d_args = {"num_classes": num_classes, "width": args.d_width}
    G, D = ctx.wrap(Generator(**g_args)), ctx.wrap(Discriminator(**d_args))
    fused = ctx.device.type == "cuda"
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(args.beta1, 0.999), fused=fused)
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(args.beta1, 0.999), fused=fused)
    ema = EMA(G, args.ema_decay)
    run = Run(args, ctx)
    objects = {"G": G, "D": D, "opt_g": opt_g, "opt_d": opt_d, "ema": ema.module}
    if args.resume:
        run.restore(objects)
    g_step, d_eval = (torch.compile(unwrap(G)), torch.compile(unwrap(D))) if args.compile else (G, unwrap(D))

    classifier = real_features = None
    if args.classifier and ctx.is_main:
        classifier = load_classifier(args.classifier, ctx.device)
        real_features, _ = features_and_predictions(classifier, x_all[:10_000].float())
    fixed_z = torch.randn(100, args.z_dim, generator=torch.Generator().manual_seed(0)).to(ctx.device)
    fixed_y = (torch.arange(100) % num_classes).to(ctx.device)

    steps = steps_per_epoch(len(x_all), args.batch_size, ctx)
    metrics: dict[str, float] = {}
    started = time.time()
    for epoch in range(run.epoch, args.epochs):
        run.epoch = epoch
        skip, run.step_in_epoch = run.step_in_epoch, 0
        sums = {k: torch.zeros((), device=ctx.device) for k in ("d_loss", "g_loss", "d_real", "d_fake")}
        epoch_start, seen = time.time(), 0
        G.train()
        D.train()
        batches = epoch_batches(len(x_all), args.batch_size, args.seed, epoch, ctx, skip=skip)
        for i, idx in enumerate(run.progress(batches, steps - skip, f"epoch {epoch}"), start=skip):
            idx = idx.to(ctx.device)
            real, y = x_all[idx], y_all[idx]
            z = torch.randn(len(idx), args.z_dim, device=ctx.device)

            # Discriminator: hinge loss, real and fake in one forward pass (one DDP all-reduce).
            with ctx.autocast():
                fake = g_step(z, y)
                scores = D(torch.cat([real, fake.detach()]), torch.cat([y, y]))
                d_real, d_fake = scores.float().chunk(2)
                d_loss = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()

            # Generator: raise D's score of its samples. D is frozen for this pass, so no
            # gradient reaches its weights (nor, under DDP, its gradient hooks).
            D.requires_grad_(False)
            with ctx.autocast():
                g_loss = -d_eval(fake, y).float().mean()
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            D.requires_grad_(True)
            ema.update(G)

            for k, v in (("d_loss", d_loss), ("g_loss", g_loss), ("d_real", d_real.mean()), ("d_fake", d_fake.mean())):
                sums[k] += v.detach()
            seen += len(idx)
            run.global_step += 1
            run.step_in_epoch = i + 1
            if args.save_every and run.global_step % args.save_every == 0:
                run.save(objects)
            if budget_spent(args, run.global_step, started):
                break
        metrics = mean_metrics(sums, max(run.step_in_epoch - skip, 1), ctx)
        metrics["samples_per_s"] = round(seen * ctx.world_size / (time.time() - epoch_start), 1)
        if classifier is not None:
            metrics.update(evaluate(ema.module, classifier, real_features, args.eval_samples, args.z_dim, num_classes, ctx.device))
        done = budget_spent(args, run.global_step, started)
        run.step_in_epoch = 0 if not done else run.step_in_epoch
        run.epoch = epoch + 1 if not done else epoch
        run.log_epoch(metrics)
        run.save(objects)
        if ctx.is_main:
            with torch.no_grad():
                grid = make_grid(to_uint8(ema.module(fixed_z, fixed_y)), ncol=10)
            grid.save(run.dir / "samples" / f"epoch-{epoch:03d}.png")
            print(f"epoch {epoch}: {metrics}", flush=True)
            export(args, ema, D, g_args, d_args, label_names, metrics, run, time.time() - started, grid)
        if done:
            break
    teardown(ctx)


def export(args, ema: EMA, D, g_args, d_args, label_names, metrics, run: Run, seconds: float, grid) -> None:
    """Write the checkpoint directory (after every epoch, so a stopped run still leaves one)."""
    out = Path(args.out)
    tensors = {**prefixed("generator_ema", ema.module.state_dict()), **prefixed("discriminator", unwrap(D).state_dict())}
    command = (  # paths reduced to names: the command must not carry this machine's layout
        f"python -m training image --data {Path(args.data).name} --out checkpoints/{out.name} --epochs {args.epochs} "
        f"--batch-size {args.batch_size} --lr {args.lr} --seed {args.seed}"
        + (f" --classifier checkpoints/{Path(args.classifier).name}" if args.classifier else "")
    )
    config = {
        "name": out.name,
        "family": "dcgan",
        "class": "ConditionalDCGAN",
        "args": {"generator": g_args, "discriminator": d_args},
        "labels": label_names,
        "data": Path(args.data).name,
        "training": {
            "epochs_done": run.epoch,
            "epochs": args.epochs,
            "steps": run.global_step,
            "batch_size": args.batch_size,
            "processes": run.ctx.world_size,
            "lr": args.lr,
            "betas": [args.beta1, 0.999],
            "loss": "hinge",
            "ema_decay": args.ema_decay,
            "device": run.ctx.device.type,
            "seconds": round(seconds, 1),
            "command": command,
        },
        "metrics": metrics,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "samples.png").write_bytes(png_with_metadata(grid, {"model": out.name, "ai_generated": True}))
    save_pretrained(out, config, tensors, model_card(config))


def model_card(config: dict) -> str:
    m, t = config["metrics"], config["training"]
    metric_lines = "\n".join(f"| {k} | {v} |" for k, v in m.items())
    return f"""---
license: cc-by-sa-3.0
tags: [gan, dcgan, conditional-gan, mnist, ai-generated]
---
# {config['name']}: class-conditional DCGAN

Draws 28x28 handwritten digits of a chosen class. **Everything it makes is AI-generated.**

![samples: rows 0-9](samples.png)

## Data and licence
MNIST (LeCun, Cortes, Burges), CC BY-SA 3.0: the 60,000 training images. The weights are
released under the same licence.

## Model, and why
- **Generator**: DCGAN (Radford et al. 2015): a linear projection of z (dim {config['args']['generator']['z_dim']}) to 7x7,
  two stride-2 transposed convolutions with batch norm and ReLU, tanh output. The class enters
  through **conditional batch norm** (a gain and bias per class in every norm layer), which
  conditions every layer rather than only the input.
- **Discriminator**: DCGAN's stride-2 convolutions and LeakyReLU(0.2), with **spectral norm** in
  place of batch norm (Miyato et al. 2018), which bounds D's Lipschitz constant and prevents
  the collapse DCGAN is known for, and a **projection head** for the class (Miyato & Koyama 2018),
  the conditioning that gives the best class fidelity in the cGAN literature.
- **Loss**: hinge (Lim & Ye 2017; used by SNGAN, SAGAN, BigGAN), steadier than the original
  minimax loss with spectral norm.
- **EMA** of the generator's weights (decay {t['ema_decay']}), which is what ships: averaging the
  last few thousand steps removes the step-to-step wobble of adversarial training.
- Adam, lr {t['lr']}, betas {t['betas']} as in the DCGAN paper; batch {t['batch_size']} per process.

## Training
`{t['command']}` — {t['epochs_done']} of {t['epochs']} epochs, {t['steps']} steps on {t['processes']} {t['device']} process(es), {t['seconds']} s.

## Metrics (end of training; 10,000 samples, 1,000 per class)
Judged by the small MNIST classifier in `checkpoints/mnist-classifier`; FID is computed in its
128-d feature space against the first 10,000 MNIST training images.

| metric | value |
| --- | --- |
{metric_lines}

## Intended use
Demonstrations, teaching, and test data where synthetic digits are acceptable. Not for
anything where a digit must be read as a real person's handwriting. Outputs carry their seed,
parameters and an AI-generated label in their metadata.
"""
