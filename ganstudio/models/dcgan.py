"""Class-conditional DCGAN for 28x28 single-channel images (MNIST).

Generator: the DCGAN shape (a projection of z to a 7x7 map, then stride-2 transposed
convolutions with batch norm and ReLU, tanh out), made class-conditional with conditional
batch norm: each class owns the gain and bias of every normalisation layer, so the class
steers every layer rather than only the input (Miyato & Koyama 2018; BigGAN).

Discriminator: the DCGAN shape (stride-2 convolutions, LeakyReLU 0.2), with spectral norm
instead of batch norm (it bounds the Lipschitz constant, the main cause of DCGAN collapse)
and a projection head for the class (Miyato & Koyama 2018): score = psi(h) + <embed(y), h>.
Trained with the hinge loss; an EMA copy of the generator is what ships.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose affine gain and bias are looked up per class.

    `y` is either class indices (B,) or class weights (B, num_classes); weights let a latent
    walk morph from one digit into another.
    """

    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Embedding(num_classes, channels)
        self.bias = nn.Embedding(num_classes, channels)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if y.dtype.is_floating_point:
            gain, bias = y @ self.gain.weight, y @ self.bias.weight
        else:
            gain, bias = self.gain(y), self.bias(y)
        if self.training:
            return self.bn(x) * gain[:, :, None, None] + bias[:, :, None, None]
        # Inference: the running statistics and the class's gain and bias folded into one
        # scale and shift per sample and channel, a single pass over x.
        scale = gain * torch.rsqrt(self.bn.running_var + self.bn.eps)
        shift = bias - self.bn.running_mean * scale
        return torch.addcmul(shift[:, :, None, None], x, scale[:, :, None, None])


class Generator(nn.Module):
    def __init__(self, z_dim: int = 128, num_classes: int = 10, width: int = 64, channels: int = 1):
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        c1, c2, c3 = 4 * width, 2 * width, width
        self.project = nn.Linear(z_dim, c1 * 7 * 7)
        self.bn0 = ConditionalBatchNorm2d(c1, num_classes)
        self.up1 = nn.ConvTranspose2d(c1, c2, 4, 2, 1, bias=False)  # 7 -> 14
        self.bn1 = ConditionalBatchNorm2d(c2, num_classes)
        self.up2 = nn.ConvTranspose2d(c2, c3, 4, 2, 1, bias=False)  # 14 -> 28
        self.bn2 = ConditionalBatchNorm2d(c3, num_classes)
        self.out = nn.Conv2d(c3, channels, 3, 1, 1)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(z.shape[0], -1, 7, 7)
        h = F.relu(self.bn0(h, y))
        h = F.relu(self.bn1(self.up1(h), y))
        h = F.relu(self.bn2(self.up2(h), y))
        return torch.tanh(self.out(h))


class Discriminator(nn.Module):
    def __init__(self, num_classes: int = 10, width: int = 64, channels: int = 1):
        super().__init__()
        c1, c2, c3 = width, 2 * width, 4 * width
        self.features = nn.Sequential(
            spectral_norm(nn.Conv2d(channels, c1, 4, 2, 1)),  # 28 -> 14
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(c1, c2, 4, 2, 1)),  # 14 -> 7
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(c2, c3, 3, 2, 1)),  # 7 -> 4
            nn.LeakyReLU(0.2),
        )
        self.head = spectral_norm(nn.Linear(c3, 1))
        self.embed = spectral_norm(nn.Embedding(num_classes, c3))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.features(x).sum(dim=(2, 3))  # sum pooling keeps the scale SN expects
        return self.head(h).squeeze(1) + (self.embed(y) * h).sum(dim=1)
