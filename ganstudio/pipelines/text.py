"""Text from a SeqGAN: samples (optionally continuing a beginning), each scored by the discriminator."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import InvalidParameterError
from ..models.seqgan import Discriminator, Generator
from ..text import Vocabulary
from ..validation import check_float, check_int, check_seed
from .base import Pipeline, seeded_generator

MAX_COUNT = 32


@dataclass
class TextResult:
    """The samples, their discriminator "realness" (P(real), 0-1) and the metadata that reproduces them."""

    samples: list[str]
    realness: list[float]
    token_ids: list[list[int]]
    metadata: dict[str, Any] = field(default_factory=dict)

    def txt_bytes(self) -> bytes:
        """A .txt: a provenance header (lines starting with #), then one sample a line."""
        header = [
            "# AI-generated text (GAN Studio, SeqGAN). Not written by a person.",
            "# provenance: " + json.dumps(self.metadata, sort_keys=True, ensure_ascii=False),
        ]
        return ("\n".join(header + self.samples) + "\n").encode("utf-8")


class TextPipeline(Pipeline):
    """SeqGAN text: English captions, Chinese quatrains, or token ids of the synthetic oracle benchmark.

    Example:
        >>> from ganstudio import TextPipeline
        >>> pipe = TextPipeline.from_pretrained("checkpoints/coco-seqgan")
        >>> result = pipe(prefix="a man", count=4, temperature=0.9, seed=1)
        >>> for text, score in zip(result.samples, result.realness):
        ...     print(f"{score:.2f}  {text}")
    """

    family = "seqgan"

    def __init__(self, config, tensors, device, path):
        super().__init__(config, tensors, device, path)
        vocab = config.get("vocabulary")
        self.vocab = Vocabulary(vocab["tokens"], vocab["kind"]) if vocab else None
        self.generator: Generator = self.build(Generator, config["args"]["generator"], tensors, "generator")
        self.discriminator: Discriminator = self.build(Discriminator, config["args"]["discriminator"], tensors, "discriminator")
        self.seq_len = self.generator.seq_len
        # The longest text: every position but the one kept for <eos>.
        self.max_tokens = self.seq_len - 1 if self.vocab else self.seq_len

    def _prefix_ids(self, prefix: str, max_length: int) -> list[int]:
        prefix = "" if prefix is None else str(prefix)
        if self.vocab is None:  # the oracle: token ids separated by spaces
            try:
                ids = [int(t) for t in prefix.split()]
            except ValueError:
                raise InvalidParameterError(f"prefix for the oracle model must be token ids separated by spaces, got {prefix!r}") from None
            bad = [i for i in ids if not 0 <= i < self.generator.vocab_size]
            if bad:
                raise InvalidParameterError(f"prefix token ids must be from 0 to {self.generator.vocab_size - 1}; got {', '.join(map(str, bad))}")
        else:
            unknown = self.vocab.unknown(prefix)
            if unknown:
                shown = ", ".join(repr(t) for t in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
                raise InvalidParameterError(f"the beginning has {len(unknown)} token(s) this model does not know: {shown}; rephrase without them")
            ids = self.vocab.encode(prefix)
        if len(ids) > max_length:
            raise InvalidParameterError(f"the beginning is {len(ids)} tokens long, more than the maximum length {max_length}; shorten it or raise max_length")
        return ids

    @torch.inference_mode()
    def realness_of(self, text: str) -> float:
        """The discriminator's P(real) for one sentence `text`, padded as in training.

        It measures how much the sentence resembles the training text to this one network;
        it is not a test of whether a person wrote it.
        """
        if self.vocab is None:
            ids = self._prefix_ids(text, self.seq_len)
        else:
            unknown = self.vocab.unknown(str(text))
            if unknown:
                raise InvalidParameterError(f"the text has {len(unknown)} token(s) this model does not know, e.g. {unknown[0]!r}, so it cannot be scored")
            ids = self.vocab.encode(str(text))
            if len(ids) > self.max_tokens:
                raise InvalidParameterError(f"the text is {len(ids)} tokens long; this model reads at most {self.max_tokens}")
        padded = torch.tensor([ids + [Vocabulary.eos] * (self.seq_len - len(ids))], device=self.device)
        return round(float(self.discriminator.realness(padded, Vocabulary.eos if self.vocab else None)[0]), 4)

    def __call__(
        self,
        prefix: str = "",
        count: int = 4,
        max_length: int | None = None,
        temperature: float = 1.0,
        top_k: int = 0,
        seed: int = 0,
    ) -> TextResult:
        """Draw `count` (1-32) samples that begin with `prefix`.

        `max_length` caps the tokens of each sample (words, or characters for Chinese; default
        and most: what the model was trained on). `temperature` (above 0, up to 5) sharpens
        (<1) or flattens (>1) each next-token distribution; `top_k` (0: off) keeps only the k
        likeliest tokens at each step. Each sample's realness is the discriminator's P(real).
        """
        count = check_int("count", count, 1, MAX_COUNT)
        max_length = check_int("max_length", self.max_tokens if max_length is None else max_length, 1, self.max_tokens)
        if temperature is None or (isinstance(temperature, (int, float)) and not isinstance(temperature, bool) and temperature <= 0):
            raise InvalidParameterError(f"temperature must be above 0 (up to 5), got {temperature!r}")
        temperature = check_float("temperature", temperature, 0.0, 5.0, low_open=True)
        if isinstance(top_k, (int, float)) and not isinstance(top_k, bool) and top_k < 0:
            raise InvalidParameterError(f"top_k must be 0 (off) or at least 1, got {top_k!r}")
        top_k = check_int("top_k", top_k, 0, self.generator.vocab_size)
        seed = check_seed(seed)
        prefix_ids = self._prefix_ids(prefix, max_length)

        noise = torch.rand(count, max_length, generator=seeded_generator(seed))
        banned = (Vocabulary.bos,) if self.vocab else ()
        with torch.inference_mode():
            prefix_t = torch.tensor(prefix_ids, dtype=torch.long) if prefix_ids else None
            stop = Vocabulary.eos if self.vocab else None
            ids = self.generator.sample(count, max_length, prefix_t, temperature, top_k, noise, banned, stop)
            # The discriminator reads whole sequences of the training length, <eos>-padded as in training.
            pad = self.seq_len - ids.shape[1]
            full = torch.nn.functional.pad(ids, (0, pad), value=Vocabulary.eos) if pad else ids
            realness = self.discriminator.realness(full, stop).cpu().tolist()
        ids = ids.cpu().tolist()
        if self.vocab is None:
            samples = [" ".join(map(str, row)) for row in ids]
            token_ids = ids
        else:
            token_ids = [row[: row.index(Vocabulary.eos)] if Vocabulary.eos in row else row for row in ids]
            samples = [self.vocab.decode(row) for row in token_ids]
        metadata = {
            **self.base_metadata(),
            "task": "text",
            "parameters": {"prefix": prefix or "", "count": count, "max_length": max_length, "temperature": temperature, "top_k": top_k, "seed": seed},
        }
        return TextResult(samples, [round(r, 4) for r in realness], token_ids, metadata)
