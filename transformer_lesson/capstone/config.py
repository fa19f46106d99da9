"""One configuration object for the translator: the model's size and how it is trained.

`train_translator(config)` trains from it, `Translator.config` is it, and a saved translator file stores
it (`to_dict`), so a file says exactly how its model was made. Every value is checked when the object is
built, and sizes are bounded (`LIMITS`), so a damaged or hostile file cannot make `load` build a model
that takes minutes to allocate.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .._validate import check_number, check_positive_int, check_probability
from ..model import Transformer
from .data import PAD

__all__ = ["TranslatorConfig", "DEFAULTS", "LIMITS"]

# The largest sizes a configuration may ask for. Generous: the course's model uses 64, 4, 2, 128, 64.
LIMITS = dict(d_model=4096, num_heads=64, num_layers=48, d_ff=16384, max_len=8192, epochs=10_000,
              batch_size=65_536, warmup=10_000_000)


@dataclass(frozen=True)
class TranslatorConfig:
    """The course's translator: `num_layers` encoder and decoder layers (Post-LN, as in the paper) of width
    `d_model` with `num_heads` heads and a feed-forward width `d_ff`; trained for `epochs` passes in batches
    of `batch_size`, with the warm-up schedule (`lr_factor`, `warmup`), label smoothing, and embeddings
    that start as normal(0, `embed_init_std`) (None keeps Xavier). `training.py`'s docstring says why."""
    d_model: int = 64
    num_heads: int = 4
    num_layers: int = 2
    d_ff: int = 128
    dropout: float = 0.0
    max_len: int = 64
    epochs: int = 10
    batch_size: int = 64
    lr_factor: float = 0.2
    warmup: int = 100
    label_smoothing: float = 0.1
    embed_init_std: float | None = 0.02
    bucket: bool = True
    seed: int = 0

    def __post_init__(self):
        for name, limit in LIMITS.items():
            check_positive_int(name, getattr(self, name), maximum=limit, because="(a limit of this configuration)")
        if self.d_model % self.num_heads:
            raise ValueError(f"expected d_model divisible by num_heads, got d_model={self.d_model} and "
                             f"num_heads={self.num_heads}")
        check_probability("dropout", self.dropout)
        check_probability("label_smoothing", self.label_smoothing)
        check_number("lr_factor", self.lr_factor, positive=True, example="0.2")
        if self.embed_init_std is not None:
            check_number("embed_init_std", self.embed_init_std, positive=True, example="0.02 (or None)")
        if not isinstance(self.bucket, bool):
            raise TypeError(f"expected bucket to be True or False, got {self.bucket!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise TypeError(f"expected seed to be a non-negative int, got {self.seed!r}")

    def replace(self, **changes) -> "TranslatorConfig":
        """A copy with some values changed: `config.replace(epochs=2)`."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise TypeError(f"unknown translator setting(s) {unknown}; the settings are: "
                            f"{', '.join(f.name for f in dataclasses.fields(self))}")
        return dataclasses.replace(self, **changes)

    def build_model(self, src_vocab_size: int, tgt_vocab_size: int) -> Transformer:
        """A fresh (untrained) course Transformer of this size, the same number of layers on both sides."""
        return Transformer(src_vocab_size, tgt_vocab_size, d_model=self.d_model, num_heads=self.num_heads,
                           num_encoder_layers=self.num_layers, num_decoder_layers=self.num_layers,
                           d_ff=self.d_ff, dropout=self.dropout, max_len=self.max_len, pad_id=PAD)

    def to_dict(self) -> dict:
        """Plain Python values, as a translator file stores them."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values) -> "TranslatorConfig":
        """The inverse of `to_dict`, checking every value (a ValueError or TypeError says which)."""
        if not isinstance(values, dict):
            raise TypeError(f"expected the configuration to be a dict, got {type(values).__name__}")
        return cls().replace(**values)


DEFAULTS = TranslatorConfig()
