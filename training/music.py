"""Train MidiNet on bars of melody over chords (Nottingham), and write its checkpoint.

    python -m training music --data PATH/TO/nottingham/MIDI --out checkpoints/nottingham-midinet

`--data` is the Nottingham MIDI folder or the .npz that `python -m training.music_data` makes
of it. Each step: one discriminator update on real bars against generated ones, then
`--g-steps` generator updates (the paper's G is updated more often than D). Every bar is
moved to a random key (-6..+5 semitones, chord root with it) each time it is drawn, which is
the 12-key augmentation. The generator's losses are the paper's: the adversarial loss plus
feature matching of the mean bar (lambda_1, --fm-data) and of the mean of the
discriminator's first-layer features (lambda_2, --fm-features); --fm-chord adds feature
matching of where notes start relative to the bar's chord (`chord_profile`) against that of
the whole training set, which the mean bar, averaged over twelve keys, cannot see.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from ganstudio.checkpoint import CheckpointError, load_pretrained, prefixed, save_pretrained, sub_state
from ganstudio.melody_stats import TrainingBars, melody_statistics, target_score
from ganstudio.midi import HOLD, LOWEST, N_PITCHES, REST, STEPS_PER_BAR, VOCAB
from ganstudio.models.midinet import JOINTS, Discriminator, Generator, candidate_noise, draw_register, generate_bars, tune_condition, with_tune
from ganstudio.pipelines.music import CANDIDATES, LEANING, TRAINING_BARS, TUNE_REGISTERS, studio_choice

from . import music_data
from .engine import EMA, Run, add_common_arguments, budget_spent, epoch_batches, mean_metrics, setup, snapshot, steps_per_epoch, teardown, unwrap

NAME = "nottingham-midinet"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_common_arguments(p, epochs=30, batch_size=72, lr=2e-4)
    p.add_argument("--z-dim", type=int, default=100)
    p.add_argument("--g-width", type=int, default=128)
    p.add_argument("--d-width", type=int, default=64)
    p.add_argument("--d-hidden", type=int, default=512)
    p.add_argument("--g-steps", type=int, default=2, help="generator updates per discriminator update")
    p.add_argument("--fm-data", type=float, default=0.1, help="lambda_1: mean-bar feature matching")
    p.add_argument("--fm-features", type=float, default=1.0, help="lambda_2: discriminator-feature matching")
    p.add_argument("--fm-chord", type=float, default=0.0,
                   help="feature matching of the chord-relative profile of note starts (`chord_profile`) to the training set's; "
                        "0: the paper's losses only")
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--eval-seeds", type=int, default=2, help="--keep-best: the held-out statistics are the mean over this many seeds")
    p.add_argument("--tune", action=argparse.BooleanOptionalAction, default=True,
                   help="condition both networks on the tune's key and register too, not only the bar's chord and the bar before")
    p.add_argument("--init", metavar="CHECKPOINT",
                   help="fine-tune: start from a music checkpoint's generator (as both the trained generator and its "
                        "average) and discriminator, with fresh optimisers; the networks' sizes are the checkpoint's")
    p.add_argument("--eval-every", type=int, default=1, help="measure the statistics (and save resumable state) every N epochs")
    p.add_argument("--keep-best", action="store_true",
                   help="hold out every 10th training tune and ship the generator and discriminator of the evaluation whose "
                        "melodies over those tunes' chords (written as the studio writes them) best meet the targets, not the last")


def chord_vectors(roots: torch.Tensor, minor: torch.Tensor) -> torch.Tensor:
    """(B,) roots (-1: no chord) and minor flags -> (B, 13) MidiNet chord conditions."""
    v = torch.zeros(roots.shape[0], 13, device=roots.device)
    has = roots >= 0
    v[has, roots[has].long()] = 1.0
    v[:, 12] = (minor & has).float()
    return v


def transpose_tokens(tokens: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Move note-on tokens by shift (B,) semitones; pitches leaving the range move an octave back."""
    notes = tokens < N_PITCHES
    moved = tokens + shift[:, None]
    moved = torch.where(moved < 0, moved + 12, moved)
    moved = torch.where(moved >= N_PITCHES, moved - 12, moved)
    return torch.where(notes, moved, tokens)


class Bars:
    """One split on the device, drawn in random keys; with `tune`, each bar's condition carries
    its tune's key and register (moved with the bar)."""

    def __init__(self, split: dict[str, np.ndarray], device: torch.device, tune: bool = True):
        t = lambda a: torch.as_tensor(np.asarray(a)).to(device)  # noqa: E731
        self.tokens, self.prev = t(split["tokens"].astype(np.int64)), t(split["prev"].astype(np.int64))
        self.has_prev, self.roots, self.minor = t(split["has_prev"]), t(split["roots"].astype(np.int64)), t(split["minor"])
        self.key, self.register, self.tune = t(split["key"]), t(split["register"]), tune
        self.n = len(self.tokens)

    def batch(self, idx: torch.Tensor, generator: torch.Generator | None = None):
        idx = idx.to(self.tokens.device)
        shift = torch.randint(-6, 6, (len(idx),), generator=generator).to(self.tokens.device)
        bar = F.one_hot(transpose_tokens(self.tokens[idx], shift), VOCAB).float()[:, None]
        prev = F.one_hot(transpose_tokens(self.prev[idx], shift), VOCAB).float()[:, None]
        prev = prev * self.has_prev[idx].float()[:, None, None, None]
        roots = self.roots[idx]
        roots = torch.where(roots >= 0, (roots + shift) % 12, roots)
        cond = chord_vectors(roots, self.minor[idx])
        if self.tune:
            cond = torch.cat([cond, tune_condition(self.key[idx] + shift, self.register[idx] + shift, N_PITCHES)], 1)
        return bar, prev, cond


def straight_through(logits: torch.Tensor) -> torch.Tensor:
    """One-hot of the argmax going forward, the softmax's gradient going back: the
    discriminator sees bars of the same kind as the real ones (one token a step)."""
    soft = logits.softmax(-1)
    hard = F.one_hot(soft.argmax(-1), soft.shape[-1]).to(soft.dtype)
    return hard + soft - soft.detach()


# pitch column -> pitch class; step -> strong beat (the four crotchet beats) or not
_FOLD = F.one_hot((torch.arange(N_PITCHES) + LOWEST) % 12, 12).float()
_BEATS = F.one_hot((torch.arange(STEPS_PER_BAR) % 4 != 0).long(), 2).float()
_RELATIVE = (torch.arange(12)[:, None] - torch.arange(12)[None, :]) % 12  # [pc, degree] -> root


def chord_profile(bars: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
    """(B, 1, steps, vocab) one-hot bars and their (B, >=13) conditions -> (2, 2, 12): the mean
    number of notes a bar starts on each degree above its chord's root (0-11), on the strong
    beats and off them, over the major-chord bars and over the minor-chord bars of the batch.
    Bars without a chord count in neither. Differentiable in `bars`."""
    onsets = bars[:, 0, :, :N_PITCHES]
    by_class = torch.einsum("bsp,pc,sk->bkc", onsets, _FOLD.to(bars), _BEATS.to(bars))  # (B, beat, pitch class)
    root = cond[:, :12]
    relative = torch.einsum("bkc,bcd->bkd", by_class, root[:, _RELATIVE.to(bars.device)])  # (B, beat, degree)
    has_chord = root.sum(1, keepdim=True)
    minor = cond[:, 12:13] * has_chord
    weights = torch.cat([has_chord - minor, minor], 1)  # (B, quality)
    return torch.einsum("bq,bkd->qkd", weights, relative) / weights.sum(0).clamp(min=1)[:, None, None]


def training_profile(bars: Bars, seed: int = 0) -> torch.Tensor:
    """--fm-chord's target: the `chord_profile` of every training bar at once, each moved to a
    random key as training draws them (the profile is relative to the chord's root, so the key
    changes nothing but the rare note an octave move brings back into range). Against a batch's
    own real bars, the few minor-chord bars of a batch make the target mostly sampling noise."""
    bar, _, cond = bars.batch(torch.arange(bars.n), torch.Generator().manual_seed(seed))
    return chord_profile(bar, cond)


def register_table(split: dict[str, np.ndarray]) -> torch.Tensor:
    """(tunes, 2): each tune's key and register, for `draw_register`."""
    first = np.unique(split["tune"], return_index=True)[1]
    return torch.tensor(np.stack([split["key"][first], split["register"][first]], 1), dtype=torch.float32)


def evaluate(generator: Generator, split: dict[str, np.ndarray], train_bars: TrainingBars, device: torch.device, seed: int = 0,
             creativity: int = 1, candidates: int = 1, judge: Discriminator | None = None,
             guard: TrainingBars | None = None, registers: torch.Tensor | None = None, harmony: float = 0.0,
             continuity: float = 0.0, repetition: float = 0.0) -> dict[str, float]:
    """Write a melody over each test tune's own chords; its statistics and the real ones'.
    `candidates` > 1: each bar chosen among that many noise draws as `generate_bars` does with
    the originality guard (and the `judge`, when given), as the studio writes them. The guard
    avoids the bars of `guard` (default `train_bars`, against which copies are counted). A
    generator with a tune condition gets each tune's key read from its chords and a register
    drawn from `registers` (the training tunes', `register_table`), as the studio gets them."""
    generator.eval()
    tunes = np.unique(split["tune"])
    lengths = [int((split["tune"] == t).sum()) for t in tunes]
    longest = max(lengths)
    g = torch.Generator().manual_seed(seed)
    z = candidate_noise(len(tunes), longest, generator.z_dim, candidates, g)
    chords = torch.zeros(len(tunes), longest, 13)
    keys = []
    for i, t in enumerate(tunes):
        k = split["tune"] == t
        chords[i, : lengths[i]] = chord_vectors(torch.as_tensor(split["roots"][k].astype(np.int64)), torch.as_tensor(split["minor"][k]))
        keys.append(int(split["key"][k][0]))
    if generator.tune:
        register = torch.tensor([draw_register(registers, k, g) for k in keys])
        chords = with_tune(chords, torch.tensor(keys), register, N_PITCHES)
    is_copy = (guard if guard is not None else train_bars).copies if candidates > 1 else None
    fake = generate_bars(generator, z.to(device), chords.to(device), creativity=creativity, is_copy=is_copy, judge=judge,
                         harmony=harmony, continuity=continuity, repetition=repetition).cpu().numpy()
    real_songs, fake_songs = [], []
    for i, t in enumerate(tunes):
        k = split["tune"] == t
        real_songs.append((split["tokens"][k], split["chord_pcs"][k]))
        fake_songs.append((fake[i, : lengths[i]], split["chord_pcs"][k]))
    return {
        "generated": melody_statistics(fake_songs, train_bars),
        "real": melody_statistics(real_songs, train_bars),
    }


def seed_mean(runs: list[dict[str, dict[str, float]]]) -> dict[str, float]:
    """The generated statistics of several `evaluate` runs (one per seed), averaged."""
    return {k: float(np.mean([r["generated"][k] for r in runs])) for k in runs[0]["generated"]}


def initial_checkpoint(path: str) -> dict:
    """A music checkpoint to fine-tune from: its config, shipped generator and discriminator."""
    try:
        config, tensors = load_pretrained(path)
    except CheckpointError as e:
        raise SystemExit(f"--init: {e}") from None
    discriminator = sub_state(tensors, "discriminator")
    if config.get("family") != "midinet" or not discriminator:
        raise SystemExit(f"--init: {path} is not a MidiNet checkpoint with a discriminator")
    generator = sub_state(tensors, "generator_ema") or sub_state(tensors, "generator")
    return {"config": config, "generator": generator, "discriminator": discriminator}


def kept_text(config: dict) -> str:
    kept = config.get("kept")
    if not kept:
        return ""
    return (f" With `--keep-best`, every 10th training tune ({kept['held_out_tunes']} tunes) was held out, and the"
            f" generator and discriminator shipped are those of step {kept['step']}, the evaluation whose melodies over"
            f" the held-out tunes' chords, written as the studio writes them, best met the targets (score"
            f" {kept['held_out_score']}: targets missed, then by how much); the test tunes were not looked at until the end.")


def tune_text(config: dict) -> str:
    if not config["representation"].get("tune"):
        return ""
    return (", and, beyond the paper, on the tune: its key (read from its chords, as the studio reads a typed progression)"
            " and its register (the mean pitch of its melody; in the studio, the primer's, or a training tune's moved to the"
            " song's key, drawn by the seed: tensor `tune_registers`). Both networks see them; the discriminator's contour"
            " branch also sees the key's scale and each note's distance from the register, so that a bar out of key or out"
            " of place is plain to it")


def init_text(config: dict) -> str:
    init = config.get("init")
    if not init:
        return ""
    return (f" These steps fine-tuned (the last command above) the checkpoint the commands before it write (weights"
            f" SHA-256 {init['weights_sha256'][:16]}..., {init['steps']} steps, its kept pair that of step"
            f" {init['kept_step']}), its generator and discriminator taken up with fresh optimisers.")


def leaning(choice: dict) -> str:
    """How the card describes the studio's leaning choice (`generate_bars`); nothing for a
    checkpoint measured before it."""
    if "harmony" not in choice:
        return ""
    return (f", its logit raised by {choice['harmony']:g} x the share of the bar's notes on its beats that are chord"
            f" tones and lowered by {choice['continuity']:g} x the leap into the bar (octaves) and"
            f" {choice['repetition']:g} x the share of its notes that strike the pitch before again")


def model_card(config: dict) -> str:
    m = config["metrics"]
    rows = "\n".join(
        f"| {k} | {m['generated'][k]:.3f} | {m['real'][k]:.3f} |" for k in m["generated"]
    )
    return f"""---
license: gpl-3.0
library_name: ganstudio
tags: [gan, midinet, music, melody-generation, symbolic-music]
datasets: [nottingham]
---

# nottingham-midinet

A MidiNet-style convolutional GAN (Yang, Chou & Yang, ISMIR 2017) that writes a melody one bar
of 16 sixteenth notes at a time, conditioned on the bar's chord (root and major/minor) and on
the previous bar{tune_text(config)}. Monophonic, with held notes told apart from repeated ones. Beside the paper's
layers, the discriminator has a small contour branch that sees the sounding pitches and the
chord's tones along the pitch axis. Everything it makes is **AI-generated**; the studio marks
its MIDI files so (copyright and text meta events).

## Data and licence

The Nottingham folk-tune database as cleaned and converted to MIDI by Jukedeck (GPL-3.0; the
tunes are traditional). Only the tunes in 4/4 or 2/2 are used (the model's bar is 16
sixteenths): {config['data']['tunes']} tunes, {config['data']['train_bars']} training bars from
{config['data']['train_tunes']} tunes, {config['data']['test_bars']} test bars from
{config['data']['test_tunes']} other tunes; every bar drawn in a random one of 12 keys. Each bar's
chord is the pitch-class set sounding longest in the bar's chord track. Because the data is
GPL-3.0, these weights are shared under GPL-3.0 as well.

## Training

```
python -m training.music_data --data path/to/nottingham/MIDI --out .data/nottingham-bars.npz
{chr(10).join(config["commands"])}
```

{config['schedule']['steps']} optimiser steps ({config['schedule']['epochs']} epochs, batch
{config['schedule']['batch_size']}, Adam lr {config['schedule']['lr']}, {config['schedule']['g_steps']}
generator updates per discriminator update, feature matching lambda_1 = {config['schedule']['fm_data']},
lambda_2 = {config['schedule']['fm_features']}, chord-relative note starts
{config['schedule'].get('fm_chord', 0.0)}) in {config['schedule']['seconds']:.0f} s on
{config['schedule']['device']}. The shipped generator is an exponential moving average
(decay {config['schedule']['ema']}) of the trained one.{init_text(config)}{kept_text(config)}

## Metrics

Melodies written over the chords of each held-out test tune (creativity 1, seed 0), against
the real melodies of those tunes. The chord-tone ratio counts melody notes whose pitch class
is in the bar's chord (7ths included); the copy rate counts non-empty bars equal, in some
key, to a training bar. The generated melodies are written as the studio writes them: each
bar is the one of {config['originality']['candidates']} noise draws that the discriminator
scores most real{leaning(config['originality'])}, passing over copies of training bars (the
checkpoint holds the {config['originality']['training_bars']} distinct training bars, tensor
`training_bars`, key-free).

| statistic | generated | real test melodies |
| --- | --- | --- |
{rows}

## Intended use

Sketching folk-style melodies over a chord progression in GAN Studio (`MusicPipeline`,
the Music tab, `ganstudio music`). It knows only major and minor triads per bar, 4/4 time, and
the style of English and American folk dance tunes; it is a research-grade model, not a
composer. Outputs are AI-generated and should be labelled so when shared.
"""


def train(args: argparse.Namespace) -> None:
    ctx = setup(args)
    data = music_data.load(args.data)
    train_split, test_split = music_data.split(data, test=False), music_data.split(data, test=True)
    # what the per-evaluation figures are measured on: held-out training tunes with --keep-best
    # (the test tunes stay unseen until the end), else the test tunes (raw generator, for watching)
    watch = None
    if args.keep_best:
        train_split, watch = music_data.hold_out(train_split)
    base = initial_checkpoint(args.init) if args.init else None
    if base is not None:
        g_args, d_args = base["config"]["args"]["generator"], base["config"]["args"]["discriminator"]
    else:
        g_args = {"z_dim": args.z_dim, "vocab": VOCAB, "width": args.g_width, "tune": args.tune}
        d_args = {"vocab": VOCAB, "width": args.d_width, "hidden": args.d_hidden, "tune": args.tune}
    tune = g_args.get("tune", False)
    bars = Bars(train_split, ctx.device, tune)
    registers = register_table(train_split)
    profile = training_profile(bars, args.seed)
    G, D = Generator(**g_args).to(ctx.device), Discriminator(**d_args).to(ctx.device)
    if base is not None:
        G.load_state_dict(base["generator"])
        D.load_state_dict(base["discriminator"])
    ema = EMA(G, args.ema)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    G_train, D_train = ctx.wrap(G), ctx.wrap(D)
    run = Run(args, ctx)
    objects = {"G": G, "D": D, "ema": ema.module, "opt_g": opt_g, "opt_d": opt_d}
    extra = run.restore(objects) if args.resume else {}
    seconds_before, best = extra.get("seconds", 0.0), extra.get("best")
    started = time.time()

    def save_state() -> None:
        run.save(objects, seconds=seconds_before + time.time() - started, **({"best": best} if best is not None else {}))

    per_epoch = steps_per_epoch(bars.n, args.batch_size, ctx)
    train_bars = TrainingBars.of(train_split["tokens"])
    done = False

    def held_out() -> dict[str, float]:
        """Judge the current pair on the held-out tunes (--keep-best); keep it if it is the best yet."""
        nonlocal best
        runs = [evaluate(ema.module, watch, train_bars, ctx.device, seed=s, registers=registers, **studio_choice(unwrap(D)))
                for s in range(args.eval_seeds)]
        generated = seed_mean(runs)
        score = target_score(generated, runs[0]["real"])
        if best is None or score < best["score"]:
            best = {"score": score, "epoch": run.epoch, "step": run.global_step, "G": snapshot(ema.module), "D": snapshot(D)}
        return {**{f"val_{k}": round(v, 4) for k, v in generated.items() if not k.startswith("note_length_")}, "val_score": round(score, 4)}

    if base is not None and watch is not None and run.global_step == 0 and ctx.is_main:
        # the starting pair is a candidate too: fine-tuning ships nothing worse on the held-out tunes
        print("step 0 (the --init checkpoint): " + ", ".join(f"{k} {v:.3g}" for k, v in held_out().items()), flush=True)

    while run.epoch < args.epochs and not done:
        sums: dict[str, torch.Tensor] = {}
        count = 0
        # The key shifts and the noise are drawn from a generator fixed by (seed, epoch, step),
        # so a resumed run continues with the same draws it would have made.
        batches = epoch_batches(bars.n, args.batch_size, args.seed, run.epoch, ctx, skip=run.step_in_epoch)
        for idx in run.progress(batches, per_epoch - run.step_in_epoch, f"epoch {run.epoch}"):
            rng = torch.Generator().manual_seed(args.seed * 1_000_003 + run.global_step)
            real, prev, chord = bars.batch(idx, rng)
            b = real.shape[0]
            creativity = torch.randint(0, JOINTS + 1, (b,), generator=rng).to(ctx.device)

            with ctx.autocast():
                z = torch.randn(b, G.z_dim, generator=rng).to(ctx.device)
                fake = straight_through(G_train(z, chord, prev, creativity).float())
                d_real, f_real = D_train(real, chord)
                d_fake, _ = D_train(fake.detach(), chord)
                f_real_mean = f_real.detach().float().mean(0)  # the feature-matching target below
                loss_d = F.binary_cross_entropy_with_logits(d_real.float(), torch.full_like(d_real.float(), 0.9)) + \
                    F.binary_cross_entropy_with_logits(d_fake.float(), torch.zeros_like(d_fake.float()))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()

            for _ in range(args.g_steps):
                with ctx.autocast():
                    z = torch.randn(b, G.z_dim, generator=rng).to(ctx.device)
                    fake = straight_through(G_train(z, chord, prev, creativity).float())
                    d_fake, f_fake = D_train(fake, chord)
                    adv = F.binary_cross_entropy_with_logits(d_fake.float(), torch.ones_like(d_fake.float()))
                    fm_data = (real.mean(0) - fake.mean(0)).pow(2).sum()
                    fm_feat = (f_real_mean - f_fake.float().mean(0)).pow(2).sum()
                    fm_chord = (profile - chord_profile(fake, chord)).pow(2).sum()
                    loss_g = adv + args.fm_data * fm_data + args.fm_features * fm_feat + args.fm_chord * fm_chord
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
            ema.update(G)

            for k, v in {"loss_d": loss_d, "loss_g_adv": adv, "fm_data": fm_data, "fm_features": fm_feat, "fm_chord": fm_chord,
                         "d_real": torch.sigmoid(d_real.float()).mean(), "d_fake": torch.sigmoid(d_fake.float()).mean()}.items():
                sums[k] = sums.get(k, 0) + v.detach()
            count += 1
            run.step_in_epoch += 1
            run.global_step += 1
            if args.save_every and run.global_step % args.save_every == 0:
                save_state()
            if budget_spent(args, run.global_step, started):
                done = True
                break
        metrics = mean_metrics(sums, count, ctx)
        if ctx.is_main and (done or (run.step_in_epoch >= per_epoch and (run.epoch + 1) % args.eval_every == 0)):
            if watch is None:
                quick = evaluate(ema.module, test_split, train_bars, ctx.device, registers=registers)["generated"]
                metrics.update({f"test_{k}": round(v, 4) for k, v in quick.items() if not k.startswith("note_length_")})
            else:
                metrics.update(held_out())
            print(f"epoch {run.epoch} step {run.global_step}: " + ", ".join(f"{k} {v:.3g}" for k, v in metrics.items()), flush=True)
        run.log_epoch(metrics)
        if run.step_in_epoch >= per_epoch:
            run.epoch, run.step_in_epoch = run.epoch + 1, 0
        if done or run.epoch % args.eval_every == 0:
            save_state()

    if ctx.is_main:
        seconds = seconds_before + time.time() - started
        if best is not None:  # --keep-best: the kept pair is the one measured and shipped
            ema.module.load_state_dict(best["G"])
            unwrap(D).load_state_dict(best["D"])
            print(f"keeping the generator and discriminator of step {best['step']} (held-out score {best['score']:.4f})", flush=True)
        final = evaluate(ema.module, test_split, train_bars, ctx.device, registers=registers, **studio_choice(unwrap(D).eval()))
        n_tunes = len(data["names"])
        command = "python -m training music " + " ".join(shlex.quote(a) for a in sys.argv[1:] if a != "music")
        config = {
            "name": NAME,
            "family": "midinet",
            "class": "MidiNet",
            "args": {"generator": g_args, "discriminator": d_args},
            "representation": {"steps_per_bar": STEPS_PER_BAR, "lowest_pitch": LOWEST, "pitches": N_PITCHES,
                                "hold_token": HOLD, "rest_token": REST, "chord": "12 root one-hot + minor flag",
                                "tune": ("key (major tonic one-hot, from the chords) + register (mean pitch, drawn from "
                                         "the training tunes')") if tune else None},
            "creativity": {"min": 0, "max": JOINTS, "default": 1,
                           "meaning": "the previous bar joins the last (4 - creativity) of the generator's 4 layers"},
            "data": {"name": "Nottingham (Jukedeck MIDI), 4/4 and 2/2 tunes", "licence": "GPL-3.0", "tunes": n_tunes,
                     "train_tunes": int(len(np.unique(train_split["tune"]))), "test_tunes": int(data["test_tunes"].sum()),
                     "train_bars": int(len(train_split["tokens"])), "test_bars": int(len(test_split["tokens"])),
                     "augmentation": "random transposition to one of 12 keys per draw"},
            "schedule": {"epochs": run.epoch, "steps": run.global_step, "batch_size": args.batch_size, "lr": args.lr,
                         "g_steps": args.g_steps, "fm_data": args.fm_data, "fm_features": args.fm_features,
                         "fm_chord": args.fm_chord, "ema": args.ema,
                         "seconds": round(seconds, 1), "device": f"{ctx.device.type} ({platform.machine()})", "seed": args.seed},
            "originality": {"training_bars": len(train_bars), "candidates": CANDIDATES, **LEANING},
            "kept": ({"step": best["step"], "epoch": best["epoch"], "held_out_score": round(best["score"], 4),
                      "held_out_tunes": int(len(np.unique(watch["tune"])))} if best is not None else None),
            "init": ({"weights_sha256": base["config"]["weights_sha256"], "steps": base["config"]["schedule"]["steps"],
                      "kept_step": (base["config"].get("kept") or {}).get("step")} if base is not None else None),
            "commands": (base["config"].get("commands", []) if base is not None else []) + [command],
            "metrics": {k: {m: round(v, 4) for m, v in d.items()} for k, d in final.items()},
        }
        tensors = {**prefixed("generator_ema", ema.module.state_dict()), **prefixed("generator", unwrap(G).state_dict()),
                   **prefixed("discriminator", unwrap(D).state_dict()), TRAINING_BARS: torch.from_numpy(train_bars.keys),
                   **({TUNE_REGISTERS: registers} if tune else {})}
        written = save_pretrained(args.out, config, tensors, model_card(config))
        print(json.dumps(written["metrics"], indent=1))
    teardown(ctx)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    train(parser.parse_args())
