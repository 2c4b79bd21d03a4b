"""Tokens and vocabularies for the text models.

Two tokenisations: "word" for English (lower case, `. , ! ? ; :` split off, whitespace split:
the tokens that BLEU is measured on) and "char" for Chinese (one token per character,
whitespace ignored). A vocabulary is a list of tokens whose first two entries are the special
tokens: <eos> ends a sentence and pads it to the model's fixed length; <bos> starts it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

EOS, BOS = "<eos>", "<bos>"
SPECIALS = (EOS, BOS)
PUNCTUATION = ".,!?;:"
_PUNCT_RE = re.compile(f"([{re.escape(PUNCTUATION)}])")
TOKENIZERS = ("word", "char")


def tokenize(text: str, kind: str = "word") -> list[str]:
    if kind == "word":
        return _PUNCT_RE.sub(r" \1 ", text.lower()).split()
    if kind == "char":
        return [c for c in text if not c.isspace()]
    raise ValueError(f"unknown tokenizer {kind!r}; expected one of {', '.join(TOKENIZERS)}")


def detokenize(tokens: Sequence[str], kind: str = "word") -> str:
    """Readable text: for words, punctuation joins the word before it ("a dog ." -> "a dog.")."""
    if kind == "char":
        return "".join(tokens)
    out = ""
    for tok in tokens:
        out += tok if (tok in PUNCTUATION and out) else (" " + tok if out else tok)
    return out


class Vocabulary:
    """Token <-> id. Built from training text; ids 0 and 1 are <eos> and <bos>."""

    def __init__(self, tokens: Sequence[str], kind: str = "word"):
        if tuple(tokens[:2]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        if kind not in TOKENIZERS:
            raise ValueError(f"unknown tokenizer {kind!r}")
        self.tokens, self.kind = list(tokens), kind
        self.index = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("a vocabulary may not list a token twice")

    eos, bos = 0, 1

    @classmethod
    def build(cls, texts: Iterable[str], kind: str = "word") -> "Vocabulary":
        """Every token of `texts`, most frequent first (ties in first-seen order)."""
        counts = Counter(t for text in texts for t in tokenize(text, kind))
        return cls([*SPECIALS, *(t for t, _ in counts.most_common() if t not in SPECIALS)], kind)

    def __len__(self) -> int:
        return len(self.tokens)

    def unknown(self, text: str) -> list[str]:
        """Tokens of `text` that are not in the vocabulary, in order, without repeats."""
        return list(dict.fromkeys(t for t in tokenize(text, self.kind) if t not in self.index))

    def encode(self, text: str, length: int | None = None) -> list[int]:
        """Ids of `text`; with `length`, <eos>-terminated and padded (or cut) to exactly that."""
        ids = [self.index[t] for t in tokenize(text, self.kind)]
        if length is None:
            return ids
        return (ids + [self.eos] * length)[:length]

    def decode_tokens(self, ids: Iterable[int]) -> list[str]:
        """Tokens up to the first <eos>; <bos> is dropped."""
        out = []
        for i in ids:
            if i == self.eos:
                break
            if i != self.bos:
                out.append(self.tokens[i])
        return out

    def decode(self, ids: Iterable[int]) -> str:
        return detokenize(self.decode_tokens(ids), self.kind)
