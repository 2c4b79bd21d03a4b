"""Data for the SeqGAN trainer: the oracle's synthetic corpus, or a text file, one sequence a line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from ganstudio.models.seqgan import Generator
from ganstudio.text import Vocabulary, tokenize


def load_oracle(path: str | Path) -> Generator:
    """The SeqGAN oracle from an .npz of its published arrays (see the data set's README)."""
    with np.load(path, allow_pickle=False) as arrays:
        return Generator.from_oracle({k: arrays[k] for k in arrays.files}).eval().requires_grad_(False)


def oracle_corpus(oracle: Generator, n: int, seed: int, batch: int = 2000) -> torch.Tensor:
    """`n` sequences sampled from the oracle; the seed alone fixes them (noise drawn on the CPU)."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.rand(n, oracle.seq_len, generator=g)
    return torch.cat([oracle.sample(len(c), noise=c).cpu() for c in noise.split(batch)])


def read_lines(path: str | Path) -> list[str]:
    return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def split_holdout(lines: list[str], fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """(train, held out): a `fraction` of the lines, chosen by a permutation fixed by `seed`."""
    if not fraction:
        return lines, []
    perm = torch.randperm(len(lines), generator=torch.Generator().manual_seed(seed)).tolist()
    k = int(round(len(lines) * fraction))
    held = set(perm[:k])
    return [s for i, s in enumerate(lines) if i not in held], [lines[i] for i in sorted(held)]


def encode_lines(vocab: Vocabulary, lines: list[str], seq_len: int) -> torch.Tensor:
    """Lines as (N, seq_len) ids, <eos>-padded; lines with unknown tokens or too long are left out."""
    rows = []
    for line in lines:
        toks = tokenize(line, vocab.kind)
        if len(toks) < seq_len and all(t in vocab.index for t in toks):
            rows.append(vocab.encode(line, seq_len))
    return torch.tensor(rows, dtype=torch.long).view(-1, seq_len)


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
