"""SeqGAN (Yu, Zhang, Wang, Yu; AAAI 2017): an LSTM generator and a CNN discriminator.

Generator: embedding -> one LSTM layer -> a linear layer to the vocabulary. It is the same
network as the SeqGAN oracle ("target LSTM"), so `Generator.from_oracle` loads the authors'
published oracle into it, and NLL-oracle is `oracle.nll(samples)`.

Discriminator: the paper's CNN classifier over the whole sequence: an embedding, one
convolution per filter width (1-10, 15, 20 tokens wide, 100-200 maps each), ReLU and
max-over-time pooling, a highway layer, dropout, then real/fake logits.

`Generator.rollout` completes every prefix of a batch of sequences `n` times at once: the
Monte Carlo search whose scores by the discriminator are SeqGAN's rewards.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The paper's discriminator (the authors' code for the synthetic experiment).
PAPER_FILTER_SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
PAPER_NUM_FILTERS = (100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160)
ORACLE_ARRAYS = ("embedding", "W_i", "U_i", "W_f", "U_f", "W_o", "U_o", "W_c", "U_c", "b_i", "b_f", "b_o", "b_c", "W_out", "b_out")


def draw(probs: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
    """One token per row of `probs` (B, V) by inverting its CDF at `u` (B, 1) uniforms.

    Much faster than torch.multinomial on the CPU, and a fixed `u` fixes the draw.
    """
    if u is None:
        u = torch.rand(probs.shape[0], 1, device=probs.device)
    cdf = probs.cumsum(-1)
    return torch.searchsorted(cdf, u * cdf[:, -1:]).squeeze(1).clamp_max(probs.shape[-1] - 1)


class Generator(nn.Module):
    """An autoregressive LSTM over tokens; every sequence starts from `start_token`.

    `seq_len` is the length of the sequences it makes (and of those it was trained on).
    """

    def __init__(self, vocab_size: int = 5000, emb_dim: int = 32, hidden_dim: int = 32, seq_len: int = 20, start_token: int = 0):
        super().__init__()
        self.vocab_size, self.seq_len, self.start_token = vocab_size, seq_len, start_token
        self.embedding = nn.Embedding(vocab_size, emb_dim)
        self.lstm = nn.LSTM(emb_dim, hidden_dim, batch_first=True)
        self.out = nn.Linear(hidden_dim, vocab_size)
        for p in self.parameters():  # as the authors' code: N(0, 0.1) everywhere
            nn.init.normal_(p, 0.0, 0.1)

    @classmethod
    def from_oracle(cls, arrays: Mapping[str, np.ndarray]) -> "Generator":
        """The SeqGAN oracle from its published arrays (row-vector convention, x @ W).

        nn.LSTM computes W_ih x + b_ih + W_hh h + b_hh with gates stacked i, f, g, o;
        the oracle's matrices are transposed into that layout and its bias put in b_ih.
        """
        missing = [k for k in ORACLE_ARRAYS if k not in arrays]
        if missing:
            raise ValueError(f"oracle arrays lack {', '.join(missing)}")
        a = {k: torch.as_tensor(np.asarray(arrays[k]), dtype=torch.float32) for k in ORACLE_ARRAYS}
        vocab, emb = a["embedding"].shape
        hidden = a["U_i"].shape[0]
        g = cls(vocab, emb, hidden, seq_len=20, start_token=0)
        with torch.no_grad():
            g.embedding.weight.copy_(a["embedding"])
            g.lstm.weight_ih_l0.copy_(torch.cat([a["W_i"].T, a["W_f"].T, a["W_c"].T, a["W_o"].T]))
            g.lstm.weight_hh_l0.copy_(torch.cat([a["U_i"].T, a["U_f"].T, a["U_c"].T, a["U_o"].T]))
            g.lstm.bias_ih_l0.copy_(torch.cat([a["b_i"], a["b_f"], a["b_c"], a["b_o"]]))
            g.lstm.bias_hh_l0.zero_()
            g.out.weight.copy_(a["W_out"].T)
            g.out.bias.copy_(a["b_out"])
        return g

    def inputs_for(self, seqs: torch.Tensor) -> torch.Tensor:
        """Teacher-forcing inputs: the start token, then each sequence shifted right by one."""
        start = torch.full_like(seqs[:, :1], self.start_token)
        return torch.cat([start, seqs[:, :-1]], dim=1)

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, V) of each token of `seqs` given the tokens before it."""
        h, _ = self.lstm(self.embedding(self.inputs_for(seqs)))
        return self.out(h)

    def token_log_probs(self, seqs: torch.Tensor) -> torch.Tensor:
        """log G(y_t | y_<t) of each token, (B, T), in float32."""
        logp = F.log_softmax(self(seqs).float(), dim=-1)
        return logp.gather(-1, seqs.unsqueeze(-1)).squeeze(-1)

    def nll(self, seqs: torch.Tensor) -> torch.Tensor:
        """Mean per-token negative log-likelihood of `seqs` (the MLE loss; NLL-oracle for the oracle)."""
        return F.cross_entropy(self(seqs).flatten(0, 1).float(), seqs.flatten())

    def step(self, tokens: torch.Tensor, state=None):
        """One step: logits (B, V) of the next token after `tokens` (B,), and the new state."""
        h, state = self.lstm(self.embedding(tokens).unsqueeze(1), state)
        return self.out(h.squeeze(1)).float(), state

    @torch.no_grad()
    def sample(
        self,
        n: int,
        length: int | None = None,
        prefix: torch.Tensor | None = None,
        temperature: float = 1.0,
        top_k: int = 0,
        noise: torch.Tensor | None = None,
        banned: tuple[int, ...] = (),
        stop: int | None = None,
    ) -> torch.Tensor:
        """`n` sequences of `length` tokens (default seq_len), (n, length).

        `prefix` (P,) fixes the first tokens. With `noise` (n, length) uniforms in [0, 1) the
        draws are made by inverting the CDF, so a seeded noise tensor fixes the output on any
        device; without it, they come from the global RNG. `banned` tokens are never drawn.
        With `stop`, drawing ends once every row has drawn that token, and each row holds
        only that token after it.
        """
        length = length or self.seq_len
        device = self.embedding.weight.device
        seqs = torch.zeros(n, length, dtype=torch.long, device=device)
        tokens = torch.full((n,), self.start_token, dtype=torch.long, device=device)
        p = 0 if prefix is None else len(prefix)
        if p:
            seqs[:, :p] = prefix.to(device)
            _, state = self.lstm(self.embedding(self.inputs_for(seqs[:, :p])))
            tokens = seqs[:, p - 1]
        else:
            state = None
        for t in range(p, length):
            logits, state = self.step(tokens, state)
            if banned:
                logits[:, list(banned)] = -float("inf")
            if top_k and top_k < logits.shape[-1]:
                kth = logits.topk(top_k, dim=-1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, -float("inf"))
            u = None if noise is None else noise[:, t : t + 1].to(device)
            tokens = draw(F.softmax(logits / temperature, dim=-1), u)
            seqs[:, t] = tokens
            if stop is not None and bool((seqs[:, p : t + 1] == stop).any(dim=1).all()):
                break
        if stop is not None:  # after its stop token a row holds nothing else
            after = (seqs[:, p:] == stop).cumsum(dim=1) > 0
            seqs[:, p:] = seqs[:, p:].masked_fill(after, stop)
        return seqs

    @torch.no_grad()
    def rollout(self, seqs: torch.Tensor, n: int) -> torch.Tensor:
        """Monte Carlo completions of every proper prefix of `seqs`, all at once.

        Returns (B, T-1, n, T): [b, t, m] is the prefix seqs[b, :t+1] completed by sampling
        from this network (the m-th of `n` draws). One pass over `seqs` gives the state after
        each prefix; the n completions of prefix t branch from that state when the search
        reaches position t+1 and advance with all the branches started before them, so no
        step is spent re-reading a prefix: T-1 batched steps of sum_t (t+1) * B * n rows,
        half the work of running every row from the start.
        """
        B, T = seqs.shape
        emb = self.embedding(self.inputs_for(seqs))
        prefix_states, state = [], None
        for k in range(T):  # prefix_states[k]: after reading start, y_0 .. y_(k-1)
            _, state = self.lstm(emb[:, k : k + 1], state)
            prefix_states.append(state)
        # drawn[t, b, m, p]: the p-th token of completion m of prefix t of sequence b
        drawn = seqs[None, :, None, :].expand(T - 1, B, n, T).clone()
        h = c = tokens = None
        for p in range(1, T):
            # completions of prefix p-1 (given y_0 .. y_(p-1)) start here, from its state
            h_new, c_new = (s.repeat_interleave(n, dim=1) for s in prefix_states[p])
            if h is None:
                h, c = h_new, c_new
            else:
                _, (h, c) = self.lstm(self.embedding(tokens).unsqueeze(1), (h, c))
                h, c = torch.cat([h, h_new], dim=1), torch.cat([c, c_new], dim=1)
            tokens = draw(F.softmax(self.out(h[-1]).float(), dim=-1))
            drawn[:p, :, :, p] = tokens.view(p, B, n)
        return drawn.permute(1, 0, 2, 3)


class Highway(nn.Module):
    """y = t * relu(W x) + (1 - t) * x with t = sigmoid(W_t x + b_t); b_t starts at -2 (carry)."""

    def __init__(self, size: int):
        super().__init__()
        self.transform = nn.Linear(size, size)
        self.gate = nn.Linear(size, size)
        nn.init.constant_(self.gate.bias, -2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.sigmoid(self.gate(x))
        return t * F.relu(self.transform(x)) + (1 - t) * x


class Discriminator(nn.Module):
    """Real/fake CNN over whole sequences of `seq_len` tokens; logits (B, 2), index 1 = real."""

    def __init__(
        self,
        vocab_size: int = 5000,
        seq_len: int = 20,
        emb_dim: int = 64,
        filter_sizes: tuple[int, ...] | list[int] = PAPER_FILTER_SIZES,
        num_filters: tuple[int, ...] | list[int] = PAPER_NUM_FILTERS,
        dropout: float = 0.25,
    ):
        super().__init__()
        if len(filter_sizes) != len(num_filters):
            raise ValueError("filter_sizes and num_filters must have the same length")
        # A filter wider than the sequence has nowhere to go.
        pairs = [(w, k) for w, k in zip(filter_sizes, num_filters) if w <= seq_len]
        self.seq_len = seq_len
        self.embedding = nn.Embedding(vocab_size, emb_dim)
        self.convs = nn.ModuleList(nn.Conv1d(emb_dim, k, w) for w, k in pairs)
        total = sum(k for _, k in pairs)
        self.highway = Highway(total)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(total, 2)
        nn.init.uniform_(self.embedding.weight, -1.0, 1.0)
        for layer in [*self.convs, self.out]:
            nn.init.trunc_normal_(layer.weight, std=0.1, a=-0.2, b=0.2)
            nn.init.constant_(layer.bias, 0.1)

    def forward(self, seqs: torch.Tensor, pad: int | None = None) -> torch.Tensor:
        return self.out(self.dropout(self.highway(self.pooled(seqs, pad))))

    def pooled(self, seqs: torch.Tensor, pad: int | None = None) -> torch.Tensor:
        """The max-over-time features, (B, total filters).

        With `pad` (the token that fills sequences out to `seq_len`), the columns after the
        last one where any row holds another token are padding in every row. A window wholly
        inside them reads the same tokens wherever it sits, so the convolutions run only over
        the windows that start before those columns, and the padding window's value joins the
        max once: the same features, for a fraction of the work on short texts.
        """
        T = seqs.shape[1]
        used = T
        if pad is not None:
            content = (seqs != pad).any(dim=0).nonzero()
            used = int(content[-1]) + 1 if len(content) else 0
        x = self.embedding(seqs).transpose(1, 2)  # (B, E, T)
        features = []
        for conv in self.convs:
            w = conv.kernel_size[0]
            end = min(T, max(used + w - 1, w))
            f = F.relu(conv(x[:, :, :end])).amax(dim=2)
            if end < T:  # windows wholly in the padding: one value for all of them
                window = self.embedding.weight[pad][None, :, None].expand(1, -1, w)
                f = torch.maximum(f, F.relu(conv(window))[:, :, 0])
            features.append(f)
        return torch.cat(features, dim=1)

    def realness(self, seqs: torch.Tensor, pad: int | None = None) -> torch.Tensor:
        """P(real) of each sequence, (B,): SeqGAN's reward."""
        return F.softmax(self(seqs, pad).float(), dim=-1)[:, 1]

    def l2_penalty(self) -> torch.Tensor:
        """The authors' L2 term: on the output layer only, as tf.nn.l2_loss (half the squared norm)."""
        return 0.5 * (self.out.weight.float().pow(2).sum() + self.out.bias.float().pow(2).sum())
