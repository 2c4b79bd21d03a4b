"""MNIST classifier, the judge for the image benchmark (accuracy on the asked-for class, FID)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganstudio.checkpoint import prefixed, save_pretrained
from ganstudio.metrics import to_model_range
from ganstudio.models.classifier import DigitClassifier

from .engine import Run, add_common_arguments, budget_spent, epoch_batches, setup, steps_per_epoch


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common_arguments(p, epochs=8, batch_size=128, lr=3e-3)


def train(args: argparse.Namespace) -> None:
    ctx = setup(args)
    with np.load(args.data, allow_pickle=False) as d:
        x_train, y_train = to_model_range(d["x_train"]), torch.as_tensor(d["y_train"]).long()
        x_test, y_test = to_model_range(d["x_test"]), torch.as_tensor(d["y_test"]).long()
    model = DigitClassifier().to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    run = Run(args, ctx)
    steps_total = args.epochs * steps_per_epoch(len(x_train), args.batch_size, ctx)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps_total)
    started = time.time()
    steps = steps_per_epoch(len(x_train), args.batch_size, ctx)
    for epoch in range(args.epochs):
        run.epoch = epoch
        model.train()
        for idx in run.progress(epoch_batches(len(x_train), args.batch_size, args.seed, epoch, ctx), steps, f"epoch {epoch}"):
            x = x_train[idx].to(ctx.device)
            # Small random shifts: the judge must not depend on exact centring.
            x = torch.roll(x, shifts=tuple(np.random.randint(-2, 3, size=2)), dims=(2, 3))
            loss = F.cross_entropy(model(x), y_train[idx].to(ctx.device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            run.global_step += 1
            if budget_spent(args, run.global_step, started):
                break
        model.eval()
        with torch.no_grad():
            acc = (model(x_test.to(ctx.device)).argmax(1).cpu() == y_test).float().mean().item()
        run.log_epoch({"test_accuracy": round(acc, 5)})
        print(f"epoch {epoch}: test accuracy {acc:.4f}")
        if budget_spent(args, run.global_step, started):
            break
    config = {
        "name": "mnist-classifier",
        "family": "classifier",
        "class": "DigitClassifier",
        "args": {"num_classes": 10},
        "data": "MNIST (x_train; evaluated on x_test)",
        "training": {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "seconds": round(time.time() - started, 1)},
        "metrics": {"test_accuracy": round(acc, 5)},
    }
    card = (
        "# mnist-classifier\n\nA small CNN trained on MNIST, used only to judge generated digits "
        f"(class accuracy and Fréchet distance in its 128-d feature space). Test accuracy {acc:.4f}.\n\n"
        f"Trained with `python -m training classifier --data mnist.npz --out checkpoints/{Path(args.out).name}`.\n"
    )
    save_pretrained(args.out, config, prefixed("classifier", model.state_dict()), card)
