"""The whole pipeline on one page: the six steps from an English sentence to Chinese text.

    1. token embeddings (词元嵌入)         words -> ids -> vectors, scaled by sqrt(d_model)
    2. positional encoding (位置编码)    + the sinusoidal code of each position
    3. encoder (编码器)                  self-attention + feed-forward, N times -> memory
    4. decoder (解码器)                  masked self-attention + cross-attention to the memory + feed-forward
    5. output distribution (输出分布)    linear layer + softmax over the Chinese vocabulary
    6. generation (生成)                 pick a token, append it, repeat until <eos>

`trace_translation(translator, sentence)` runs these steps one at a time on a trained translator and
keeps what each produces, for the tour and lesson 07.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

import torch

from .._validate import shape_str
from ..decoding import greedy_decode
from ..i18n import translator
from ..multihead import capture_attention
from ..runtime import eval_mode
from .data import BOS, EOS, join_chinese
from .translator import Translator

__all__ = ["PipelineTrace", "trace_translation"]

_ = translator("capstone")


@dataclass
class PipelineTrace:
    """What each of the six steps produced for one sentence (tensors without gradients)."""
    words: list[str]                    # the English words the model reads
    ids: torch.Tensor                   # (1, S)
    embedded: torch.Tensor              # (1, S, d_model)   step 1
    with_positions: torch.Tensor        # (1, S, d_model)   step 2
    memory: torch.Tensor                # (1, S, d_model)   step 3
    target_tokens: list[str]            # generated Chinese words (no <bos>/<eos>)
    decoder_states: torch.Tensor        # (1, T, d_model)   step 4, T = len(target_tokens) + 1
    probabilities: torch.Tensor         # (1, T, V)         step 5
    chosen_probabilities: list[float]   # P(chosen token) at each step, the last one for <eos>
    translation: str                    # step 6
    attention: dict[str, torch.Tensor]  # each attention module's weights in steps 3-4, e.g.
                                        # "encoder.layers.0.self_attn": (1, h, S, S), "decoder.layers.1.cross_attn": (1, h, T, S)

    def table(self) -> str:
        """The six steps as a small text table: name, output shape, what it holds."""
        emitted = self.target_tokens + ["<eos>"]
        picks = " ".join(f"{t}({p:.2f})" for t, p in zip(emitted, self.chosen_probabilities))
        rows = [
            ("1 token embeddings", "词元嵌入", shape_str(self.embedded.shape),
             _("{n} words -> ids {ids}", n=len(self.words), ids=self.ids[0].tolist())),
            ("2 positional encoding", "位置编码", shape_str(self.with_positions.shape),
             "embedding * sqrt(d_model) + PE"),
            ("3 encoder", "编码器", shape_str(self.memory.shape), _("one context-aware vector per English word")),
            ("4 decoder", "解码器", shape_str(self.decoder_states.shape),
             _("one vector per Chinese position, <bos> first")),
            ("5 output distribution", "输出分布", shape_str(self.probabilities.shape),
             _("each row sums to {total:.3f}", total=self.probabilities[0].sum(-1).mean().item())),
            ("6 generation", "生成", "", _("greedy picks: {picks}", picks=picks)),
            ("", "", "", f"-> {self.translation}"),
        ]
        lines = [f"{_pad(_('step'), 24)}{_pad('中文', 10)}{_pad(_('output shape'), 15)}{_('what it holds')}"]
        lines += [f"{name:24s}{_pad(zh, 10)}{shape:15s}{what}" for name, zh, shape, what in rows]
        return "\n".join(line.rstrip() for line in lines)


def _pad(text: str, width: int) -> str:
    """Pad to `width` terminal columns, counting a Chinese character as two, so columns line up."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - columns, 1)


def trace_translation(translator, sentence: str) -> PipelineTrace:
    """Run the six steps one at a time for `sentence` with greedy decoding, keeping every intermediate."""
    if not isinstance(translator, Translator):
        raise TypeError(f"expected a transformer_lesson.Translator, got {type(translator).__name__}")
    model = translator.model
    words = translator.source_words(sentence)                      # clear error for unknown words
    ids = translator.encode_source(sentence)                        # (1, S)
    with eval_mode(model):
        embedded = model.src_embed(ids) * math.sqrt(model.d_model)              # step 1: (1, S, d)
        with_positions = model.positional(embedded)                             # step 2: + PE
        src_mask = model.source_mask(ids)
        generated = greedy_decode(model, ids, bos_id=BOS, eos_id=EOS)[0].tokens  # step 6 (the loop)
        tgt = torch.tensor([[BOS] + generated])                                  # (1, T)
        with capture_attention(model) as captured:
            memory = model.encoder(with_positions, src_mask)                    # step 3
            states = model.decode(tgt, memory, src_mask)                        # step 4: (1, T, d)
        torch.testing.assert_close(memory, model.encode(ids), msg="trace differs from model.encode")
        probabilities = torch.softmax(model.generator(states), dim=-1)          # step 5: (1, T, V)
    attention = {name: calls[-1] for name, calls in captured.items()}
    chosen = generated + [EOS]
    chosen_probs = [probabilities[0, t, tok].item() for t, tok in enumerate(chosen)]
    target_tokens = translator.tgt_vocab.decode(generated)
    return PipelineTrace(words, ids, embedded, with_positions, memory, target_tokens, states,
                         probabilities, chosen_probs, join_chinese(target_tokens), attention)
