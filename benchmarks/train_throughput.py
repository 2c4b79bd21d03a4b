"""Training throughput of the image trainer beside a plain reference loop of the same model.

The reference is the pytorch/examples DCGAN loop made conditional: a DataLoader over the
images, real and fake through D in two passes, D's gradients computed in the generator step
too. The studio's loop keeps the data set as one tensor on the device, scores real and fake in
one pass, freezes D in the generator step and, on CUDA, uses bf16 and channels-last. Both run
the same networks (same widths), same batch, same hinge loss, in the same process; the ratio is
the figure that counts.

    python benchmarks/train_throughput.py --data path/to/mnist.npz --steps 30
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from ganstudio.device import autocast, pick_device
from ganstudio.metrics import to_model_range
from ganstudio.models.dcgan import Discriminator, Generator


def reference_steps(x, y, G, D, opt_g, opt_d, steps, batch, z_dim, device):
    loader = DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True, drop_last=True)
    done, start = 0, None
    while done < steps:
        for real, labels in loader:
            real, labels = real.to(device), labels.to(device)
            z = torch.randn(len(real), z_dim, device=device)
            fake = G(z, labels)
            d_loss = F.relu(1 - D(real, labels)).mean() + F.relu(1 + D(fake.detach(), labels)).mean()
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = -D(fake, labels).mean()
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            done += 1
            if done == 3:  # warm-up excluded
                sync(device)
                start = time.perf_counter()
            if done >= steps:
                break
    sync(device)
    return (steps - 3) * batch / (time.perf_counter() - start)


def studio_steps(x, y, G, D, opt_g, opt_d, steps, batch, z_dim, device):
    """The inner loop of training/image.py (EMA aside, which both would pay alike)."""
    x, y = x.to(device), y.to(device)
    if device.type == "cuda":
        x = x.contiguous(memory_format=torch.channels_last)
    start = None
    for step in range(steps):
        idx = torch.randint(len(x), (batch,), device=device)
        real, labels = x[idx], y[idx]
        z = torch.randn(batch, z_dim, device=device)
        with autocast(device):
            fake = G(z, labels)
            d_real, d_fake = D(torch.cat([real, fake.detach()]), torch.cat([labels, labels])).float().chunk(2)
            d_loss = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        D.requires_grad_(False)
        with autocast(device):
            g_loss = -D(fake, labels).float().mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        D.requires_grad_(True)
        if step == 2:
            sync(device)
            start = time.perf_counter()
    sync(device)
    return (steps - 3) * batch / (time.perf_counter() - start)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def fresh(device, g_width, d_width, z_dim, fused):
    torch.manual_seed(0)
    G, D = Generator(z_dim=z_dim, width=g_width).to(device), Discriminator(width=d_width).to(device)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999), fused=fused)
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999), fused=fused)
    return G, D, opt_g, opt_d


def main() -> None:
    p = argparse.ArgumentParser(description="image trainer throughput vs a reference loop")
    p.add_argument("--data", required=True)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--device")
    args = p.parse_args()
    device = pick_device(args.device)
    with np.load(args.data, allow_pickle=False) as d:
        x, y = to_model_range(d["x_train"]), torch.as_tensor(d["y_train"]).long()
    results = {}
    for name, fn, fused in (("reference loop", reference_steps, False), ("studio loop", studio_steps, device.type == "cuda")):
        G, D, og, od = fresh(device, 32, 64, 128, fused)
        results[name] = fn(x, y, G, D, og, od, args.steps, args.batch_size, 128, device)
    print(f"device: {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else f'{torch.get_num_threads()} CPU threads'}), "
          f"batch {args.batch_size}, {args.steps - 3} timed steps")
    for name, v in results.items():
        print(f"{name}: {v:.0f} samples/s")
    print(f"ratio studio / reference: {results['studio loop'] / results['reference loop']:.2f}x")


if __name__ == "__main__":
    main()
