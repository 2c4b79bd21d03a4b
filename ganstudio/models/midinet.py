"""MidiNet (Yang, Chou & Yang, ISMIR 2017): a convolutional GAN that writes one bar at a time.

A bar is a (16 steps x VOCAB) one-hot image: per sixteenth, a note-on of one of 48 pitches,
a hold, or a rest (see ganstudio/midi.py). The generator gets three things:

    z        noise, one vector per bar
    chord    the 1-D condition: root one-hot (12) + minor flag (1)
    prev     the 2-D condition: the previous bar, read by a conditioner CNN whose feature maps
             at time resolutions 2, 4, 8, 16 are concatenated to the generator's layers

The generator grows the bar along time (2 -> 4 -> 8 -> 16 steps) with transposed
convolutions, then spreads each step over the vocabulary with a (1 x VOCAB) transposed
convolution, as in the paper. The chord is broadcast and concatenated to every layer.

Creativity, the paper's knob: the previous bar joins the last (4 - creativity) of the four
joints, so creativity 0 follows the previous bar most closely and creativity 4 ignores it.
Training draws the creativity per sample, so one set of weights serves every setting.

The discriminator sees the bar with its chord (concatenated to its input and hidden layers).
Its first layer's features are what the generator's feature-matching loss compares.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

STEPS = 16
CHORD_DIM = 13
JOINTS = 4  # generator layers the previous-bar condition can join


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
    def __init__(self, z_dim: int = 100, vocab: int = 50, width: int = 128, cond_channels: int = 16):
        super().__init__()
        self.z_dim, self.vocab = z_dim, vocab
        self.conditioner = Conditioner(vocab, cond_channels)
        self.fc = nn.Sequential(
            nn.Linear(z_dim + CHORD_DIM, 1024), nn.BatchNorm1d(1024), nn.ReLU(),
            nn.Linear(1024, width * 2), nn.BatchNorm1d(width * 2), nn.ReLU(),
        )
        self.width = width
        joint = width + CHORD_DIM + cond_channels
        self.up = nn.ModuleList([nn.ConvTranspose2d(joint, width, (2, 1), (2, 1)) for _ in range(3)])  # 2->4->8->16
        self.norms = nn.ModuleList([nn.BatchNorm2d(width) for _ in range(3)])
        self.out = nn.ConvTranspose2d(joint, 1, (1, vocab))  # each step out over the vocabulary

    def forward(self, z: torch.Tensor, chord: torch.Tensor, prev: torch.Tensor, creativity: torch.Tensor | int = 0) -> torch.Tensor:
        """Logits (B, 1, 16, vocab). `prev` is the previous bar (B, 1, 16, vocab), all zeros when
        there is none; `creativity` an int or a (B,) tensor in 0..4."""
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
    def __init__(self, vocab: int = 50, width: int = 64):
        super().__init__()
        c = CHORD_DIM
        self.first = spectral_norm(nn.Conv2d(1 + c, width, (2, vocab), (2, 1)))  # -> (width, 8, 1)
        self.second = spectral_norm(nn.Conv2d(width + c, 2 * width, (4, 1), (2, 1)))  # -> (2w, 3, 1)
        self.fc = spectral_norm(nn.Linear(2 * width * 3 + c, 1024))
        self.head = spectral_norm(nn.Linear(1024, 1))

    def forward(self, bar: torch.Tensor, chord: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logit (B,), first-layer features (B, width, 8, 1) for feature matching)."""
        h1 = F.leaky_relu(self.first(torch.cat([bar, _tile(chord, STEPS, bar.shape[3])], 1)), 0.2)
        h = F.leaky_relu(self.second(torch.cat([h1, _tile(chord, h1.shape[2])], 1)), 0.2)
        h = F.leaky_relu(self.fc(torch.cat([h.flatten(1), chord], 1)), 0.2)
        return self.head(h).squeeze(1), h1


@torch.no_grad()
def generate_bars(
    generator: Generator,
    z: torch.Tensor,
    chords: torch.Tensor,
    first_prev: torch.Tensor | None = None,
    creativity: int = 0,
) -> torch.Tensor:
    """Write songs bar by bar, each bar conditioned on the one before.

    z (B, bars, z_dim), chords (B, bars, 13), first_prev (B, 16) tokens of a primer bar or
    None (no previous bar: zeros). Returns tokens (B, bars, 16).
    """
    b, bars = z.shape[:2]
    prev = torch.zeros(b, 1, STEPS, generator.vocab, device=z.device)
    if first_prev is not None:
        prev = F.one_hot(first_prev.long(), generator.vocab).float()[:, None].to(z.device)
    out = []
    for i in range(bars):
        tokens = generator.sample(z[:, i], chords[:, i], prev, creativity)
        out.append(tokens)
        prev = F.one_hot(tokens, generator.vocab).float()[:, None]
    return torch.stack(out, 1)
