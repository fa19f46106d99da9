"""transformer_lesson: the helper package of the course "Transformer Principles" (Transformer 原理).

One module per principle, each built from scratch and proven equal to PyTorch's own implementation:
attention (自注意力), positional (位置编码), multihead (多头注意力), residual (残差连接和层归一化),
feedforward (位置感知前馈网络), model (编码器与解码器), decoding (生成).
"""
from .attention import causal_mask, padding_mask, scaled_dot_product_attention
from .decoding import Hypothesis, beam_search, greedy_decode, sample_decode
from .feedforward import PositionwiseFeedForward
from .model import Decoder, DecoderLayer, Encoder, EncoderLayer, Transformer
from .multihead import MultiHeadAttention, capture_attention
from .positional import PositionalEncoding, sinusoidal_encoding
from .residual import LayerNorm, ResidualConnection
from .capstone import Translator, TranslatorConfig, train_translator
from .decoder_only import DecoderOnlyTransformer
from .i18n import language, set_language

__version__ = "0.1.0"

__all__ = [
    "scaled_dot_product_attention", "causal_mask", "padding_mask",
    "sinusoidal_encoding", "PositionalEncoding",
    "MultiHeadAttention", "capture_attention", "LayerNorm", "ResidualConnection", "PositionwiseFeedForward",
    "EncoderLayer", "DecoderLayer", "Encoder", "Decoder", "Transformer",
    "Hypothesis", "greedy_decode", "beam_search", "sample_decode",
    "train_translator", "Translator", "TranslatorConfig", "DecoderOnlyTransformer",
    "set_language", "language",
]
