"""Image quality of the shipped class-conditional DCGAN.

For 10,000 generated digits (1,000 per class): the accuracy of the committed MNIST
classifier on the requested class, and the Fréchet distance in that classifier's 128-d
feature space against the MNIST test set. The floor is the same distance between 10,000
MNIST training images and the test set.

    python benchmarks/image_quality.py --data path/to/mnist.npz
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from ganstudio import ImagePipeline
from ganstudio.metrics import features_and_predictions, frechet_distance, load_classifier, to_model_range


def generated_digits(pipe: ImagePipeline, per_class: int, truncation: float) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = [], []
    for digit in range(10):
        for start in range(0, per_class, 64):
            n = min(64, per_class - start)
            r = pipe(label=str(digit), count=n, seed=digit * 1_000_003 + start, truncation=truncation)
            images += [np.asarray(im) for im in r.images]
            labels += r.labels
    return to_model_range(np.stack(images)), torch.tensor(labels)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    p.add_argument("--data", required=True, help="mnist.npz")
    p.add_argument("--checkpoint", default="checkpoints/mnist-cdcgan")
    p.add_argument("--classifier", default="checkpoints/mnist-classifier")
    p.add_argument("--per-class", type=int, default=1000)
    p.add_argument("--truncation", type=float, nargs="+", default=[4.0, 2.0, 1.0])
    args = p.parse_args()

    classifier = load_classifier(args.classifier)
    with np.load(args.data, allow_pickle=False) as d:
        x_train, x_test, y_test = d["x_train"][:10_000], d["x_test"], torch.as_tensor(d["y_test"])
    test_feats, test_pred = features_and_predictions(classifier, to_model_range(x_test))
    train_feats, _ = features_and_predictions(classifier, to_model_range(x_train))
    print(f"classifier accuracy on the MNIST test set: {(test_pred == y_test).float().mean():.4f}")
    floor = frechet_distance(train_feats, test_feats)
    print("| samples | truncation | class accuracy | FID (classifier features) vs test | FID / floor | seconds |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| MNIST train (10,000) | - | - | {floor:.3f} | 1.00 | - |")
    pipe = ImagePipeline.from_pretrained(args.checkpoint, device="cpu")
    for t in args.truncation:
        start = time.time()
        x, y = generated_digits(pipe, args.per_class, t)
        feats, pred = features_and_predictions(classifier, x)
        acc = (pred == y).float().mean().item()
        fid = frechet_distance(feats, test_feats)
        print(f"| generated ({len(y):,}) | {t} | {acc:.4f} | {fid:.3f} | {fid / floor:.2f} | {time.time() - start:.0f} |")


if __name__ == "__main__":
    main()
