"""Image quality: class accuracy and Fréchet distance in a classifier's feature space."""

from __future__ import annotations

import numpy as np
import torch

from .checkpoint import load_pretrained, sub_state
from .models.classifier import DigitClassifier


def load_classifier(path, device: torch.device | str = "cpu") -> DigitClassifier:
    config, tensors = load_pretrained(path)
    model = DigitClassifier(**config["args"])
    model.load_state_dict(sub_state(tensors, "classifier"))
    return model.to(device).eval().requires_grad_(False)


@torch.inference_mode()
def features_and_predictions(model: DigitClassifier, images: torch.Tensor, batch: int = 1000):
    """images (N,1,28,28) in [-1,1] -> (features float64 numpy (N,128), predicted labels (N,))."""
    device = next(model.parameters()).device
    feats, preds = [], []
    for i in range(0, len(images), batch):
        x = images[i : i + batch].to(device, torch.float32)
        f = model.features(x)
        feats.append(f.double().cpu())
        preds.append(model.out(f).argmax(1).cpu())
    return torch.cat(feats).numpy(), torch.cat(preds)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FID between two feature sets: |mu_a - mu_b|^2 + Tr(Ca + Cb - 2 (Ca Cb)^1/2).

    Tr((Ca Cb)^1/2) is computed as the sum of square roots of the eigenvalues of
    Ca^1/2 Cb Ca^1/2, which is symmetric, so no complex matrix square root is needed.
    """
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(ca)
    sqrt_ca = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = sqrt_ca @ cb @ sqrt_ca
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * tr_sqrt)


def to_model_range(images_uint8: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (N,28,28) -> float (N,1,28,28) in [-1,1], the range the networks see."""
    x = torch.as_tensor(images_uint8)
    return (x.float() / 127.5 - 1).unsqueeze(1)
