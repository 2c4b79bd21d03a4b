"""MidiNet (Yang, Chou & Yang, ISMIR 2017): a convolutional GAN that writes one bar at a time.

A bar is a (16 steps x VOCAB) one-hot image: per sixteenth, a note-on of one of 48 pitches,
a hold, or a rest (see ganstudio/midi.py). The generator gets three things:

    z        noise, one vector per bar
    cond     the 1-D condition: the bar's chord, root one-hot (12) + minor flag (1); with
             `tune=True` also the tune's: its key (the major key's tonic, one-hot 12; a minor
             key is its relative major) and its register (mean pitch, one number), which
             hold a melody written one bar at a time to one scale and one place on the staff
    prev     the 2-D condition: the previous bar, read by a conditioner CNN whose feature maps
             at time resolutions 2, 4, 8, 16 are concatenated to the generator's layers

The generator grows the bar along time (2 -> 4 -> 8 -> 16 steps) with transposed
convolutions, then spreads each step over the vocabulary with a (1 x VOCAB) transposed
convolution, as in the paper. The 1-D condition is broadcast and concatenated to every layer.

Creativity, the paper's knob: the previous bar joins the last (4 - creativity) of the four
joints, so creativity 0 follows the previous bar most closely and creativity 4 ignores it.
Training draws the creativity per sample, so one set of weights serves every setting.

The discriminator sees the bar with its chord (concatenated to its input and hidden layers).
Its first layer's features are what the generator's feature-matching loss compares. Beside
the paper's layers it has a small contour branch (see Discriminator) so that leaps are easy
to tell from steps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

STEPS = 16
CHORD_DIM = 13
TUNE_DIM = 13  # key one-hot (12) + register (1)
JOINTS = 4  # generator layers the previous-bar condition can join
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)


def condition_dim(tune: bool) -> int:
    return CHORD_DIM + (TUNE_DIM if tune else 0)


def tune_condition(key: torch.Tensor, register: torch.Tensor, pitches: int) -> torch.Tensor:
    """(B,) keys (0-11, the major tonic) and registers (mean pitch, in the model's pitch
    columns 0..pitches-1) -> (B, 13): the key one-hot and the register centred and in octaves."""
    return torch.cat([F.one_hot(key.long() % 12, 12).float(), ((register.float() - pitches / 2) / 12)[:, None]], 1)


def _tile(v: torch.Tensor, steps: int, width: int = 1) -> torch.Tensor:
    """(B, C) -> (B, C, steps, width): a 1-D condition broadcast over a feature map."""
    return v[:, :, None, None].expand(-1, -1, steps, width)


class Conditioner(nn.Module):
    """Reads the previous bar into feature maps at 16, 8, 4 and 2 steps."""

    def __init__(self, vocab: int, channels: int):
        super().__init__()
        self.read = nn.Conv2d(1, channels, (1, vocab))  # each step across the whole vocabulary
        self.down = nn.ModuleList([nn.Conv2d(channels, channels, (2, 1), (2, 1)) for _ in range(3)])
        self.norms = nn.ModuleList([nn.BatchNorm2d(channels) for _ in range(4)])

    def forward(self, prev: torch.Tensor) -> list[torch.Tensor]:
        h = F.leaky_relu(self.norms[0](self.read(prev)), 0.2)
        maps = [h]
        for conv, bn in zip(self.down, self.norms[1:]):
            h = F.leaky_relu(bn(conv(h)), 0.2)
            maps.append(h)
        return maps[::-1]  # steps 2, 4, 8, 16: the order the generator needs them


class Generator(nn.Module):
    def __init__(self, z_dim: int = 100, vocab: int = 50, width: int = 128, cond_channels: int = 16, tune: bool = False):
        super().__init__()
        self.z_dim, self.vocab, self.tune = z_dim, vocab, tune
        self.cond_dim = c = condition_dim(tune)
        self.conditioner = Conditioner(vocab, cond_channels)
        self.fc = nn.Sequential(
            nn.Linear(z_dim + c, 1024), nn.BatchNorm1d(1024), nn.ReLU(),
            nn.Linear(1024, width * 2), nn.BatchNorm1d(width * 2), nn.ReLU(),
        )
        self.width = width
        joint = width + c + cond_channels
        self.up = nn.ModuleList([nn.ConvTranspose2d(joint, width, (2, 1), (2, 1)) for _ in range(3)])  # 2->4->8->16
        self.norms = nn.ModuleList([nn.BatchNorm2d(width) for _ in range(3)])
        self.out = nn.ConvTranspose2d(joint, 1, (1, vocab))  # each step out over the vocabulary

    def forward(self, z: torch.Tensor, chord: torch.Tensor, prev: torch.Tensor, creativity: torch.Tensor | int = 0) -> torch.Tensor:
        """Logits (B, 1, 16, vocab). `chord` is the 1-D condition (B, cond_dim); `prev` the
        previous bar (B, 1, 16, vocab), all zeros when there is none; `creativity` an int or a
        (B,) tensor in 0..4."""
        b = z.shape[0]
        maps = self.conditioner(prev)
        if not torch.is_tensor(creativity):
            creativity = torch.full((b,), int(creativity), device=z.device)
        h = self.fc(torch.cat([z, chord], 1)).view(b, self.width, 2, 1)
        layers = [*zip(self.up, self.norms), (self.out, None)]
        for i, ((layer, bn), cmap) in enumerate(zip(layers, maps)):
            keep = (creativity.to(z.device) <= i).to(h.dtype)[:, None, None, None]  # joint i gets prev iff i >= creativity
            steps = h.shape[2]
            h = torch.cat([h, _tile(chord, steps), cmap.to(h.dtype) * keep], 1)
            h = layer(h)
            if bn is not None:
                h = F.relu(bn(h))
        return h

    @torch.no_grad()
    def sample(self, z, chord, prev, creativity=0) -> torch.Tensor:
        """Token indices (B, 16): the most likely token at each step."""
        return self.forward(z, chord, prev, creativity)[:, 0].argmax(-1)


class Discriminator(nn.Module):
    """The paper's discriminator (convolutions across the whole vocabulary, the 1-D condition
    joined to each layer), plus a contour branch: the sounding pitch at each step and the
    chord's tones (with `tune=True` also the key's scale and each pitch's distance from the
    tune's register), convolved along the pitch axis, so that the size of a step between notes,
    whether a note belongs to the chord or the scale, and how far it strays from the register
    are things it can see directly."""

    def __init__(self, vocab: int = 50, width: int = 64, contour_width: int = 16, hidden: int = 512, tune: bool = False):
        super().__init__()
        self.tune = tune
        c = condition_dim(tune)
        self.pitches = vocab - 2
        self.first = nn.Conv2d(1 + c, width, (2, vocab), (2, 1))  # -> (width, 8, 1)
        self.second = nn.Conv2d(width + c, 2 * width, (4, 1), (2, 1))  # -> (2w, 3, 1)
        # 4 steps x 25 semitones (an octave either way), sliding along pitch: key-independent
        self.contour = nn.Conv2d(7 if tune else 4, contour_width, (4, 25), (2, 1), padding=(0, 12))  # -> 7 positions
        self.fc = nn.Linear(2 * width * 3 + contour_width * 7 + c, hidden)
        self.head = nn.Linear(hidden, 1)

    def contour_inputs(self, bar: torch.Tensor, chord: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What the contour branch reads, over the pitch axis: (B, 3 or 5, 16, pitches) that
        change with the step: note-ons, the pitch sounding at each step (held notes too), the
        sounding pitch where it is a chord tone; with a tune condition also the sounding pitch
        where it is in the key's scale, and the sounding pitch weighted by its distance from the
        register (octaves); and (B, 1 or 2, pitches) that do not: the chord's triad over all
        octaves (and the key's scale). A condition tiled as input channels only shifts a
        convolution's bias, so it is spelled out here as pitches for the branch to compare the
        melody with."""
        onsets, hold = bar[:, 0, :, : self.pitches], bar[:, 0, :, self.pitches]
        steps = [onsets[:, 0]]
        for t in range(1, STEPS):
            steps.append(onsets[:, t] + hold[:, t, None] * steps[-1])
        sounding = torch.stack(steps, 1)
        octaves = self.pitches // 12  # pitch column i is pitch class i % 12 (the lowest pitch is a C)
        tones = triad(chord).repeat(1, octaves)
        moving, fixed = [onsets, sounding, sounding * tones[:, None]], [tones]
        if self.tune:
            key, register = chord[:, CHORD_DIM : CHORD_DIM + 12], chord[:, CHORD_DIM + 12 :]
            scale = sum(torch.roll(key, i, 1) for i in MAJOR_SCALE).repeat(1, octaves)
            column = (torch.arange(self.pitches, device=bar.device, dtype=bar.dtype) - self.pitches / 2) / 12
            moving += [sounding * scale[:, None], sounding * (column[None, None, :] - register[:, :, None])]
            fixed.append(scale)
        return torch.stack(moving, 1), torch.stack(fixed, 1)

    def contour_features(self, bar: torch.Tensor, chord: torch.Tensor) -> torch.Tensor:
        """(B, contour_width, 7): the contour convolution, strongest over pitch. Its input
        channels are [note-ons, sounding, triad, sounding x triad] (+ [scale, sounding x scale,
        sounding x distance] with a tune condition); the triad and scale are the same at every
        step, so their share is one convolution along pitch with the kernel summed over its
        steps (exact, and a fraction of the work), added to that of the channels that move."""
        moving, fixed = self.contour_inputs(bar, chord)
        w = self.contour.weight
        fixed_at = [2, 4] if self.tune else [2]
        moving_at = [i for i in range(w.shape[1]) if i not in fixed_at]
        # channels-last: oneDNN's fast path for this many-tap convolution on a CPU
        h = F.conv2d(moving.contiguous(memory_format=torch.channels_last), w[:, moving_at], self.contour.bias, (2, 1), (0, 12))
        h = h + F.conv1d(fixed, w[:, fixed_at].sum(2), padding=12)[:, :, None]
        return F.leaky_relu(h, 0.2).amax(3)

    def forward(self, bar: torch.Tensor, chord: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logit (B,), first-layer features (B, width, 8, 1) for feature matching). `chord` is
        the 1-D condition, as the generator's."""
        h1 = F.leaky_relu(_conv_with_condition(self.first, bar, chord), 0.2)
        h = F.leaky_relu(_conv_with_condition(self.second, h1, chord), 0.2)
        h = F.leaky_relu(self.fc(torch.cat([h.flatten(1), self.contour_features(bar, chord).flatten(1), chord], 1)), 0.2)
        return self.head(h).squeeze(1), h1


def _conv_with_condition(conv: nn.Conv2d, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
    """`conv` (unpadded) over x with the (B, C) condition tiled as extra input channels after
    x's, computed as what it is: the convolution of x plus a per-sample bias, the condition
    times the kernel's condition weights summed over the window."""
    w = conv.weight
    return F.conv2d(x, w[:, : x.shape[1]], conv.bias, conv.stride) + (cond @ w[:, x.shape[1] :].sum((2, 3)).T)[:, :, None, None]


def with_tune(chords: torch.Tensor, key: torch.Tensor, register: torch.Tensor, pitches: int) -> torch.Tensor:
    """(B, bars, 13) chord conditions and each song's (B,) key and register -> (B, bars, 26)."""
    tune = tune_condition(key, register, pitches).to(chords.device)
    return torch.cat([chords, tune[:, None].expand(-1, chords.shape[1], -1)], 2)


def draw_register(table: torch.Tensor, key: int, generator: torch.Generator) -> float:
    """A register for a song in `key`: that of a training tune drawn at random from `table`
    ((tunes, 2): each one's key and register), moved to `key` the way training moves a tune
    (-6..+5 semitones), so songs spread over the registers the model learnt."""
    k, register = table[int(torch.randint(len(table), (1,), generator=generator))].tolist()
    return register + (key - int(k) + 6) % 12 - 6


def candidate_noise(songs: int, bars: int, z_dim: int, candidates: int, generator: torch.Generator) -> torch.Tensor:
    """(songs, bars, candidates, z_dim) noise; the first candidates are the (songs, bars,
    z_dim) draw one candidate would make, so a song changes only where a bar had to."""
    first = torch.randn(songs, bars, 1, z_dim, generator=generator)
    rest = torch.randn(songs, bars, candidates - 1, z_dim, generator=generator)
    return torch.cat([first, rest], 2)


def triad(chord: torch.Tensor) -> torch.Tensor:
    """(B, >=13) conditions -> (B, 12) the pitch classes of each chord's triad (root, third,
    fifth) as 1.0; all zero for no chord."""
    root, minor = chord[:, :12], chord[:, 12:13]
    return root + torch.roll(root, 7, 1) + minor * torch.roll(root, 3, 1) + (1 - minor) * torch.roll(root, 4, 1)


def chord_fit(tokens: torch.Tensor, chords: torch.Tensor, pitches: int) -> torch.Tensor:
    """(N, steps) bar tokens and their (N, >=13) conditions -> (N,) the share of the notes
    starting on a beat (every fourth sixteenth) that are tones of the chord's triad: where a
    folk melody states its chord, leaving the steps between to passing notes. 0 for a bar
    without notes on its beats or without a chord. Token i < pitches is a note start of pitch
    class i % 12 (the lowest pitch is a C)."""
    on_beat = (tokens < pitches) & (torch.arange(tokens.shape[1], device=tokens.device) % 4 == 0)
    on_chord = triad(chords).gather(1, tokens % 12) > 0
    return (on_beat & on_chord).sum(1) / on_beat.sum(1).clamp(min=1)


def latest_start(tokens: torch.Tensor, pitches: int) -> torch.Tensor:
    """(N, steps) bar tokens -> (N, steps) the step of the latest note start at or before
    each step; -1 before the bar's first."""
    steps = torch.arange(tokens.shape[1], device=tokens.device)
    return torch.where(tokens < pitches, steps, -1).cummax(1).values


def last_note(tokens: torch.Tensor, pitches: int, before: torch.Tensor | None = None) -> torch.Tensor:
    """(N, steps) bar tokens -> (N,) the pitch (token) of each bar's last note start; where a
    bar has none, `before` (the last note of the bars before it), else -1."""
    at = latest_start(tokens, pitches)[:, -1]
    last = torch.where(at >= 0, tokens.gather(1, at.clamp(min=0)[:, None])[:, 0], -1)
    return last if before is None else torch.where(last >= 0, last, before)


def seam_leap(tokens: torch.Tensor, before: torch.Tensor, pitches: int) -> torch.Tensor:
    """(N, steps) bar tokens and (N,) the pitch of the note before each bar (-1: none) -> (N,)
    the leap in semitones from that note to the bar's first note start; 0 without either."""
    starts = tokens < pitches
    first = tokens.gather(1, starts.float().argmax(1, keepdim=True))[:, 0]
    return torch.where(starts.any(1) & (before >= 0), (first - before).abs(), 0)


def repeated_notes(tokens: torch.Tensor, before: torch.Tensor, pitches: int) -> torch.Tensor:
    """(N, steps) bar tokens and (N,) the pitch of the note before each bar (-1: none) -> (N,)
    the share of the bar's note starts that strike again the pitch of the note before them."""
    starts = tokens < pitches
    at = latest_start(tokens, pitches)
    previous = torch.cat([torch.full_like(at[:, :1], -1), at[:, :-1]], 1)  # each step's latest note start before it
    before_pitch = torch.where(previous >= 0, tokens.gather(1, previous.clamp(min=0)), before[:, None])
    return (starts & (tokens == before_pitch)).sum(1) / starts.sum(1).clamp(min=1)


@torch.no_grad()
def generate_bars(
    generator: Generator,
    z: torch.Tensor,
    chords: torch.Tensor,
    first_prev: torch.Tensor | None = None,
    creativity: int = 0,
    is_copy: Callable[[np.ndarray], np.ndarray] | None = None,
    judge: Discriminator | None = None,
    harmony: float = 0.0,
    continuity: float = 0.0,
    repetition: float = 0.0,
) -> torch.Tensor:
    """Write songs bar by bar, each bar conditioned on the one before.

    z (B, bars, z_dim), or (B, bars, K, z_dim) for K candidate noises a bar; chords (B, bars,
    cond_dim) 1-D conditions; first_prev (B, 16) tokens of a primer bar or None (no previous
    bar: zeros). Returns tokens (B, bars, 16). Which of a bar's K candidates is kept:

    - `judge` (a Discriminator): the one it scores most real over its chord (the generator
      proposes, the discriminator it was trained against chooses; copies of training bars, by
      `is_copy`, are passed over unless all K are copies), its logit raised by `harmony` times
      the share of the bar's notes on its beats that are chord tones (`chord_fit`) and lowered
      by `continuity` times the leap, in octaves, from the last note before the bar to its
      first (`seam_leap`: a bar is written whole, so its join to the one before is where
      leaps gather), and by `repetition` times the share of its notes that strike the pitch
      of the note before again (`repeated_notes`);
    - else `is_copy` ((N, 16) token array -> (N,) bool array, e.g. `TrainingBars.copies`): the
      first, unless it is a copy: then the candidate that is not one and differs from the first
      in the fewest steps (the least change that avoids the copy; the first when all are copies);
    - else the first.
    """
    if z.dim() == 3:
        z = z[:, :, None]
    b, bars, k = z.shape[:3]
    prev = torch.zeros(b, 1, STEPS, generator.vocab, device=z.device)
    if first_prev is not None:
        prev = F.one_hot(first_prev.long(), generator.vocab).float()[:, None].to(z.device)
    one_hot = lambda tokens: F.one_hot(tokens, generator.vocab).float()[:, None]  # noqa: E731
    pitches = generator.vocab - 2
    last = torch.full((b,), -1, device=z.device) if first_prev is None else last_note(first_prev.long().to(z.device), pitches)
    out = []
    for i in range(bars):
        if judge is not None and k > 1:
            chord = chords[:, i].repeat_interleave(k, 0)
            cand = generator.sample(z[:, i].flatten(0, 1), chord, prev.repeat_interleave(k, 0), creativity)
            score = judge(one_hot(cand), chord)[0].float() + harmony * chord_fit(cand, chord, pitches)
            before = last.repeat_interleave(k, 0)
            score = score - continuity / 12 * seam_leap(cand, before, pitches) - repetition * repeated_notes(cand, before, pitches)
            if is_copy is not None:
                score = score.masked_fill(torch.as_tensor(is_copy(cand.cpu().numpy()), device=z.device), float("-inf"))
            tokens = cand.view(b, k, STEPS)[torch.arange(b, device=z.device), score.view(b, k).argmax(1)]
        else:
            tokens = generator.sample(z[:, i, 0], chords[:, i], prev, creativity)
            copied = torch.as_tensor(is_copy(tokens.cpu().numpy()), device=z.device).nonzero().squeeze(1) \
                if is_copy is not None and k > 1 else []
            if len(copied):  # the other candidates are drawn only for the bars whose first one is a copy
                n = len(copied)
                cand = generator.sample(z[copied, i, 1:].flatten(0, 1), chords[copied, i].repeat_interleave(k - 1, 0),
                                        prev[copied].repeat_interleave(k - 1, 0), creativity).view(n, k - 1, STEPS)
                fresh = ~torch.as_tensor(is_copy(cand.flatten(0, 1).cpu().numpy()), device=z.device).view(n, k - 1)
                # the fresh candidate nearest the first (fewest steps changed; ties: the earlier one)
                changed = (cand != tokens[copied, None]).sum(-1) + torch.arange(k - 1, device=z.device) / k
                best = cand[torch.arange(n, device=z.device), changed.masked_fill(~fresh, float("inf")).argmin(1)]
                tokens[copied] = torch.where(fresh.any(1)[:, None], best, tokens[copied])
        out.append(tokens)
        prev = one_hot(tokens)
        last = last_note(tokens, pitches, last)
    return torch.stack(out, 1)
