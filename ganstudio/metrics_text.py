"""BLEU, Self-BLEU and NLL-oracle, as the text-GAN literature measures them.

`bleu` gives exactly what `nltk.translate.bleu_score.sentence_bleu(references, hyp, weights,
smoothing_function=SmoothingFunction().method1)` gives for each hypothesis against the same
(large) set of references, averaged over the hypotheses, but fast: nltk recounts every
reference for every hypothesis; here each n-gram's largest count over the references is
counted once. Self-BLEU scores each sample against all the others, so it needs, per n-gram,
the largest count in any *other* sample: the two largest counts are kept for that.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import torch

EPSILON = 0.1  # nltk SmoothingFunction().method1


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _closest(lengths: Counter, hyp_len: int) -> int:
    """nltk's closest_ref_length: nearest length, the shorter one on a tie."""
    return min((length for length, c in lengths.items() if c > 0), key=lambda r: (abs(r - hyp_len), r))


def _sentence_score(hyp: Sequence[str], max_count, closest: int, order: int) -> float:
    """BLEU-`order` with uniform weights and method1 smoothing, given the clipping counts."""
    logs = []
    for n in range(1, order + 1):
        counts = _ngrams(hyp, n)
        numerator = sum(min(c, max_count(g, c)) for g, c in counts.items())
        denominator = max(1, sum(counts.values()))
        if n == 1 and numerator == 0:
            return 0.0
        logs.append(math.log((numerator or EPSILON) / denominator))
    hyp_len = len(hyp)
    if hyp_len > closest:
        bp = 1.0
    elif hyp_len == 0:
        bp = 0.0
    else:
        bp = math.exp(1 - closest / hyp_len)
    return bp * math.exp(math.fsum(lg / order for lg in logs))


class References:
    """A reference set counted once: each n-gram's largest count in any reference, and the lengths."""

    def __init__(self, references: Sequence[Sequence[str]], max_order: int = 5):
        self.max_order = max_order
        self.best: dict[tuple, int] = {}
        for ref in references:
            for n in range(1, max_order + 1):
                for g, c in _ngrams(ref, n).items():
                    if c > self.best.get(g, 0):
                        self.best[g] = c
        self.lengths = Counter(len(r) for r in references)

    def bleu(self, hypotheses: Sequence[Sequence[str]], order: int) -> float:
        """Mean sentence BLEU-`order` of `hypotheses` against all the references."""
        if not hypotheses:
            raise ValueError("no hypotheses")
        if order > self.max_order:
            raise ValueError(f"counted up to {self.max_order}-grams, asked for BLEU-{order}")
        get = lambda g, c: self.best.get(g, 0)  # noqa: E731
        return sum(_sentence_score(h, get, _closest(self.lengths, len(h)), order) for h in hypotheses) / len(hypotheses)


def bleu(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]], order: int) -> float:
    """Mean sentence BLEU-`order` of `hypotheses` against all of `references`."""
    return References(references, order).bleu(hypotheses, order)


def self_bleu(samples: Sequence[Sequence[str]], order: int) -> float:
    """Mean BLEU-`order` of each sample against all the other samples (lower: more diverse)."""
    if len(samples) < 2:
        raise ValueError("Self-BLEU needs at least two samples")
    # Per n-gram: (largest count, how many samples have it, second largest count).
    top: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    per_sample = []
    for s in samples:
        grams = Counter()
        for n in range(1, order + 1):
            grams.update(_ngrams(s, n))
        per_sample.append(grams)
        for g, c in grams.items():
            t = top[g]
            if c > t[0]:
                t[:] = [c, 1, t[0]]
            elif c == t[0]:
                t[1] += 1
            elif c > t[2]:
                t[2] = c
    lengths = Counter(len(s) for s in samples)
    total = 0.0
    for s in samples:
        def others_max(g, c):
            first, holders, second = top[g]
            return second if (c == first and holders == 1) else first

        lengths[len(s)] -= 1
        total += _sentence_score(s, others_max, _closest(lengths, len(s)), order)
        lengths[len(s)] += 1
    return total / len(samples)


@torch.no_grad()
def nll_oracle(oracle: torch.nn.Module, samples: torch.Tensor, batch_size: int = 1000) -> float:
    """Mean per-token NLL of `samples` (N, T) under `oracle` (a seqgan Generator)."""
    total = 0.0
    for i in range(0, len(samples), batch_size):
        chunk = samples[i : i + batch_size]
        total += oracle.nll(chunk).item() * len(chunk)
    return total / len(samples)
