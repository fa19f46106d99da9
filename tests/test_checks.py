"""The exercise checkers accept every correct implementation and name each known mistake.

The catalogue below holds wrong implementations written the way a learner would write them; each must
be caught by its checker with the right hint (a phrase of the message). Several different correct
implementations of each exercise must pass with one success line.
"""
from __future__ import annotations

import importlib
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import transformer_lesson as tl
from transformer_lesson import checks
from transformer_lesson.positional import shift_matrix as reference_shift_matrix


# ---------------------------------------------------------------------------------------------------
# Lesson 01: attention and the causal mask
# ---------------------------------------------------------------------------------------------------

def attention_like_a_learner(query, key, value, mask=None, *, softmax_dim=-1, divisor="sqrt_dk",
                             mask_how="before"):
    d_k = query.size(-1)
    scores = query @ key.transpose(-2, -1)
    scores = scores / {"sqrt_dk": math.sqrt(d_k), "none": 1.0, "dk": d_k,
                       "sqrt_dv": math.sqrt(value.size(-1))}[divisor]
    if mask is not None and mask_how == "before":
        scores = scores.masked_fill(~mask, float("-inf"))
    if mask is not None and mask_how == "inverted":
        scores = scores.masked_fill(mask, float("-inf"))
    if mask is not None and mask_how == "zero":
        scores = scores.masked_fill(~mask, 0.0)
    weights = torch.softmax(scores, dim=softmax_dim)
    if mask is not None and mask_how == "after":
        weights = weights * mask
    return weights @ value, weights


def attention_einsum_minus_1e9(query, key, value, mask=None):
    scores = torch.einsum("...qd,...kd->...qk", query, key) / query.shape[-1] ** 0.5
    if mask is not None:
        scores = scores.masked_fill(mask == 0, -1e9)
    weights = scores.softmax(-1)
    return torch.einsum("...qk,...kv->...qv", weights, value), weights


def attention_scaled_queries_float64(query, key, value, mask=None):
    q = query.double() / math.sqrt(query.size(-1))
    scores = torch.matmul(q, key.double().transpose(-1, -2))
    if mask is not None:
        scores = torch.where(mask, scores, torch.tensor(float("-inf"), dtype=scores.dtype))
    weights = F.softmax(scores, dim=-1)
    return (weights @ value.double()).to(query.dtype), weights.to(query.dtype)


def attention_with_torch_sdpa(query, key, value, mask=None):
    output = F.scaled_dot_product_attention(query, key, value, attn_mask=mask)
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return output, scores.softmax(dim=-1)


def attention_3d_only(query, key, value, mask=None):
    scores = query @ key.transpose(1, 2) / math.sqrt(query.size(-1))      # works for (B, T, d) only
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(-1)
    return weights @ value, weights


# ---------------------------------------------------------------------------------------------------
# Lesson 02: positional encoding and its shift matrix
# ---------------------------------------------------------------------------------------------------

def pe_like_a_learner(max_len, d_model, *, layout="interleave", exponent="2i", divide=True, start=0, base=10000):
    pos = torch.arange(start, start + max_len, dtype=torch.float32).unsqueeze(1)
    if exponent == "2i":
        two_i = torch.arange(0, d_model, 2, dtype=torch.float32)
        angle = pos / base ** (two_i / d_model) if divide else pos * base ** (two_i / d_model)
    elif exponent == "i":
        i = torch.arange(d_model // 2, dtype=torch.float32)                      # the pair index, without the 2
        angle = pos / base ** (i / d_model)
    elif exponent == "doubled":
        two_i = torch.arange(0, d_model, 2, dtype=torch.float32)
        angle = pos / 10000 ** (2 * two_i / d_model)
    pe = torch.zeros(max_len, d_model)
    if exponent == "j":
        j = torch.arange(d_model, dtype=torch.float32)
        full = pos / 10000 ** (j / d_model)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(full[:, 0::2]), torch.cos(full[:, 1::2])
        return pe
    if layout == "interleave":
        pe[:, 0::2], pe[:, 1::2] = torch.sin(angle), torch.cos(angle)
    elif layout == "swapped":
        pe[:, 0::2], pe[:, 1::2] = torch.cos(angle), torch.sin(angle)
    elif layout == "concat":
        pe = torch.cat([torch.sin(angle), torch.cos(angle)], dim=1)
    elif layout == "concat_cos_first":
        pe = torch.cat([torch.cos(angle), torch.sin(angle)], dim=1)
    return pe


def pe_loop_with_dimension_index(max_len, d_model, swap=False):
    """The formula read with i as the dimension index: every dimension j gets 10000^(2j/d_model)."""
    pe = torch.zeros(max_len, d_model)
    for pos in range(max_len):
        for i in range(d_model):
            angle = pos / 10000 ** (2 * i / d_model)
            pe[pos, i] = math.sin(angle) if (i % 2 == 0) != swap else math.cos(angle)
    return pe


def pe_exp_form_log10(max_len, d_model):
    position = torch.arange(max_len).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log10(10000.0) / d_model))
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


def pe_stack_flatten(max_len, d_model):
    """Correct: sin and cos stacked on a new last axis, then flattened, which interleaves them."""
    angle = torch.arange(max_len)[:, None] * torch.pow(10000.0, -torch.arange(0, d_model, 2) / d_model)
    return torch.stack([angle.sin(), angle.cos()], dim=-1).flatten(1)


def pe_exp_log_form(max_len, d_model):
    position = torch.arange(max_len).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


def pe_python_loops_float64(max_len, d_model):
    rows = [[math.sin(pos / 10000 ** (j / d_model)) if j % 2 == 0 else math.cos(pos / 10000 ** ((j - 1) / d_model))
             for j in range(d_model)] for pos in range(max_len)]
    return torch.tensor(rows, dtype=torch.float64)


def shift_matrix_vectorised(k, d_model):
    w = 1.0 / 10000 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    c, s = torch.cos(k * w), torch.sin(k * w)
    blocks = [torch.tensor([[ci, -si], [si, ci]]) for ci, si in zip(c.tolist(), s.tolist())]
    return torch.block_diag(*blocks)


def shift_matrix_backwards(k, d_model):
    return reference_shift_matrix(k, d_model).T


def shift_matrix_ignores_k(k, d_model):
    return reference_shift_matrix(1, d_model)


def shift_matrix_concat_layout(k, d_model):
    M = torch.zeros(d_model, d_model)
    half = d_model // 2
    for i in range(half):
        a = k / 10000 ** (2 * i / d_model)
        M[i, i], M[i + half, i], M[i, i + half], M[i + half, i + half] = math.cos(a), math.sin(a), -math.sin(a), math.cos(a)
    return M


# ---------------------------------------------------------------------------------------------------
# Lesson 03: multi-head attention
# ---------------------------------------------------------------------------------------------------

def split_heads_view_no_transpose(x, num_heads):
    B, T, d = x.shape
    return x.view(B, num_heads, T, d // num_heads)


def split_heads_forgot_transpose(x, num_heads):
    B, T, d = x.shape
    return x.view(B, T, num_heads, d // num_heads)


def split_heads_interleaved(x, num_heads):
    B, T, d = x.shape
    return x.view(B, T, d // num_heads, num_heads).permute(0, 3, 1, 2)


def split_heads_d_k_first(x, num_heads):
    B, T, d = x.shape
    return x.view(B, T, d // num_heads, num_heads).transpose(1, 2)


def split_heads_d_k_first_transpose_1_3(x, num_heads):
    B, T, d = x.shape
    return x.view(B, T, d // num_heads, num_heads).transpose(1, 3)


def split_heads_unflatten(x, num_heads):
    return x.unflatten(-1, (num_heads, -1)).transpose(1, 2)


def split_heads_by_chunks(x, num_heads):
    return torch.stack(x.chunk(num_heads, dim=-1), dim=1)


def split_heads_reshape_permute(x, num_heads):
    B, T, d = x.shape
    return x.reshape(B, T, num_heads, -1).permute(0, 2, 1, 3)


class LearnerMHA(nn.Module):
    """A learner's multi-head attention; `mistake` switches one known mistake on."""

    mistake = None

    def __init__(self, d_model, num_heads):
        super().__init__()
        self.h, self.d_k = num_heads, d_model // num_heads
        self.w_q, self.w_k = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.w_v, self.w_o = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

    def split(self, x):
        B, T, d = x.shape
        if self.mistake == "view":
            return x.view(B, self.h, T, self.d_k)
        if self.mistake in ("d_k_first", "d_k_first_inverse_merge"):
            return x.view(B, T, self.d_k, self.h).permute(0, 3, 1, 2)
        if self.mistake == "d_k_first_transpose":
            return x.view(B, T, self.d_k, self.h).transpose(1, 2)
        return x.view(B, T, self.h, self.d_k).transpose(1, 2)

    def forward(self, query, key, value, mask=None):
        B, T_q, d = query.shape
        if self.mistake == "keys_from_query":
            key = value = query
        q, k = self.split(self.w_q(query)), self.split(self.w_k(key))
        v = self.split((self.w_k if self.mistake == "value_with_w_k" else self.w_v)(value))
        scale = math.sqrt(d if self.mistake == "sqrt_d_model" else q.size(-1))
        scores = q @ k.transpose(-2, -1) / scale
        if mask is not None:
            scores = scores.masked_fill(mask if self.mistake == "mask_inverted" else ~mask, float("-inf"))
        weights = scores.softmax(-1)
        if self.mistake == "dropout_functional":
            weights = F.dropout(weights, 0.1)                            # training defaults to True
        if self.mistake == "dropout_always_on":
            weights = F.dropout(weights, 0.1, training=True)
        heads = weights @ v
        if self.mistake in ("view", "merge_no_transpose"):
            concat = heads.reshape(B, T_q, d)
        elif self.mistake in ("merge_permute_0231", "d_k_first_inverse_merge"):
            concat = heads.permute(0, 2, 3, 1).reshape(B, T_q, d)
        elif self.mistake == "merge_transpose_2_3":
            concat = heads.transpose(2, 3).reshape(B, T_q, d)
        else:
            concat = heads.transpose(1, 2).reshape(B, T_q, d)
        return concat if self.mistake == "no_w_o" else self.w_o(concat)


def mha_with(mistake):
    return type(f"MHA_{mistake}", (LearnerMHA,), {"mistake": mistake})


class MHAEinsumTorchSDPA(nn.Module):
    """Correct: einsum projections split per head, PyTorch's fused attention."""

    def __init__(self, d_model, num_heads):
        super().__init__()
        self.h = num_heads
        self.w_q, self.w_k = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.w_v, self.w_o = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

    def forward(self, query, key, value, mask=None):
        B, T_q, d = query.shape
        q, k, v = (w(x).unflatten(-1, (self.h, -1)).transpose(1, 2)
                   for w, x in ((self.w_q, query), (self.w_k, key), (self.w_v, value)))
        heads = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)           # (B, h, T_q, d_k)
        return self.w_o(torch.einsum("bhtd->bthd", heads).flatten(2))


class MHAChunksCatDropout(nn.Module):
    """Correct: heads split by chunks and merged by torch.cat, dropout on the weights that .eval() switches off."""

    def __init__(self, d_model, num_heads, dropout=0.1):
        super().__init__()
        self.h = num_heads
        self.w_q, self.w_k = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.w_v, self.w_o = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, query, key, value, mask=None):
        def split(x):
            return torch.stack(x.chunk(self.h, dim=-1), dim=1)            # (B, h, T, d_k)
        q, k, v = split(self.w_q(query)), split(self.w_k(key)), split(self.w_v(value))
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
        if mask is not None:
            scores = scores.masked_fill(~mask, -1e9)
        heads = self.dropout(scores.softmax(-1)) @ v
        return self.w_o(torch.cat(heads.unbind(dim=1), dim=-1))


class MHAPermuteContiguousView(nn.Module):
    """Correct: split with view(B, -1, h, d_k).permute, merge with permute(0, 2, 1, 3).contiguous().view, and
    F.dropout(..., training=self.training)."""

    def __init__(self, d_model, num_heads):
        super().__init__()
        self.h, self.d_k = num_heads, d_model // num_heads
        self.w_q, self.w_k = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.w_v, self.w_o = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

    def forward(self, query, key, value, mask=None):
        B = query.size(0)
        q, k, v = (w(x).view(B, -1, self.h, self.d_k).permute(0, 2, 1, 3)
                   for w, x in ((self.w_q, query), (self.w_k, key), (self.w_v, value)))
        heads, _ = tl.scaled_dot_product_attention(q, k, v, mask)
        heads = F.dropout(heads, 0.1, training=self.training)
        return self.w_o(heads.permute(0, 2, 1, 3).contiguous().view(B, -1, self.h * self.d_k))


class MHAWithOwnNames(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.q_proj = nn.Linear(d_model, d_model)

    def forward(self, query, key, value, mask=None):
        return query


# ---------------------------------------------------------------------------------------------------
# Lesson 04: LayerNorm and the residual connection
# ---------------------------------------------------------------------------------------------------

class LearnerLayerNorm(nn.Module):
    mistake = None

    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.eps = 1e-5 if self.mistake == "hard_coded_eps" else eps
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model))

    def forward(self, x):
        dim = 0 if self.mistake == "batch_axis" else -1
        mean = x.mean(dim, keepdim=True)
        var = x.var(dim, keepdim=True) if self.mistake == "unbiased" else x.var(dim, keepdim=True, unbiased=False)
        if self.mistake == "rms":
            mean, var = 0.0, x.pow(2).mean(-1, keepdim=True)
        if self.mistake == "eps_outside":
            x_hat = (x - mean) / (var.sqrt() + self.eps)
        elif self.mistake == "no_eps":
            x_hat = (x - mean) / var.sqrt()
        else:
            x_hat = (x - mean) / torch.sqrt(var + self.eps)
        if self.mistake == "no_affine":
            return x_hat
        return x_hat * self.weight + self.bias


def layer_norm_with(mistake):
    return type(f"LayerNorm_{mistake}", (LearnerLayerNorm,), {"mistake": mistake})


class LayerNormPlainTensor(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.eps, self.weight, self.bias = eps, torch.ones(d_model), torch.zeros(d_model)

    def forward(self, x):
        return F.layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)


class LayerNormFunctional(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight, self.bias = nn.Parameter(torch.ones(d_model)), nn.Parameter(torch.zeros(d_model))

    def forward(self, x):
        return F.layer_norm(x, (x.size(-1),), self.weight, self.bias, self.eps)


class LayerNormVarMean(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight, self.bias = nn.Parameter(torch.ones(d_model)), nn.Parameter(torch.zeros(d_model))

    def forward(self, x):
        var, mean = torch.var_mean(x, dim=-1, keepdim=True, unbiased=False)
        return self.weight * (x - mean) * torch.rsqrt(var + self.eps) + self.bias


class LayerNormStd(nn.Module):
    def __init__(self, d_model, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight, self.bias = nn.Parameter(torch.ones(d_model)), nn.Parameter(torch.zeros(d_model))

    def forward(self, x):
        centred = x - x.mean(-1, keepdim=True)
        std = torch.sqrt(centred.pow(2).mean(-1, keepdim=True) + self.eps)
        return torch.addcmul(self.bias, centred / std, self.weight)


def residual_correct(x, sublayer, norm, norm_first=False):
    if norm_first:
        return x + sublayer(norm(x))
    return norm(x + sublayer(x))


def residual_swapped(x, sublayer, norm, norm_first=False):
    return residual_correct(x, sublayer, norm, not norm_first)


def residual_missing(x, sublayer, norm, norm_first=False):
    return sublayer(norm(x)) if norm_first else norm(sublayer(x))


def residual_norm_before_add(x, sublayer, norm, norm_first=False):
    return x + sublayer(norm(x)) if norm_first else x + norm(sublayer(x))


def residual_pre_ln_normalised_path(x, sublayer, norm, norm_first=False):
    if norm_first:
        h = norm(x)
        return h + sublayer(h)
    return norm(x + sublayer(x))


# ---------------------------------------------------------------------------------------------------
# Lesson 05: the feed-forward network
# ---------------------------------------------------------------------------------------------------

class LearnerFFN(nn.Module):
    mistake = None

    def __init__(self, d_model, d_ff):
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_model if self.mistake == "square" else d_ff)
        self.linear2 = nn.Linear(d_model if self.mistake == "square" else d_ff, d_model)

    def forward(self, x):
        if self.mistake == "no_activation":
            return self.linear2(self.linear1(x))
        if self.mistake == "relu_last":
            return torch.relu(self.linear2(self.linear1(x)))
        if self.mistake == "gelu":
            return self.linear2(F.gelu(self.linear1(x)))
        if self.mistake == "residual_inside":
            return x + self.linear2(torch.relu(self.linear1(x)))
        return self.linear2(torch.relu(self.linear1(x)))


def ffn_with(mistake):
    return type(f"FFN_{mistake}", (LearnerFFN,), {"mistake": mistake})


class FFNFunctionalDropout(nn.Module):
    def __init__(self, d_model, d_ff, dropout=0.1):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.p = dropout

    def forward(self, x):
        return self.linear2(F.dropout(torch.relu(self.linear1(x)), self.p))


class FFNWithDropoutModule(nn.Module):
    """Correct: an nn.Dropout, which .eval() switches off."""

    def __init__(self, d_model, d_ff, dropout=0.1):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.linear2(self.dropout(torch.relu(self.linear1(x))))


class FFNClamp(nn.Module):
    def __init__(self, d_model, d_ff):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)

    def forward(self, x):
        return self.linear2(self.linear1(x).clamp(min=0))


def ffn_count_by_building(d_model, d_ff):
    return sum(p.numel() for p in tl.PositionwiseFeedForward(d_model, d_ff).parameters())


# ---------------------------------------------------------------------------------------------------
# Lesson 06: encoder and decoder layers
# ---------------------------------------------------------------------------------------------------

class LearnerEncoderLayer(nn.Module):
    mistake = None

    def __init__(self, d_model, num_heads, d_ff):
        super().__init__()
        self.self_attn = tl.MultiHeadAttention(d_model, num_heads)
        self.feed_forward = tl.PositionwiseFeedForward(d_model, d_ff)
        if self.mistake == "shared_norm":
            self.norm1 = self.norm2 = tl.LayerNorm(d_model)
        else:
            self.norm1, self.norm2 = tl.LayerNorm(d_model), tl.LayerNorm(d_model)
        if self.mistake == "one_norm":
            self.norm = nn.LayerNorm(d_model)

    def forward(self, x, mask=None):
        if self.mistake == "pre_ln":
            h = self.norm1(x)
            x = x + self.self_attn(h, h, h, mask)
            return x + self.feed_forward(self.norm2(x))
        if self.mistake == "pre_ln_norm_per_input":                     # norm1 runs three times, on one sub-layer
            x = x + self.self_attn(self.norm1(x), self.norm1(x), self.norm1(x), mask)
            return x + self.feed_forward(self.norm2(x))
        if self.mistake == "ignores_mask":
            mask = None
        if self.mistake == "one_norm":
            x = self.norm(x + self.self_attn(x, x, x, mask))
            return self.norm(x + self.feed_forward(x))
        if self.mistake == "dropout_functional":
            x = self.norm1(x + F.dropout(self.self_attn(x, x, x, mask), 0.1))
            return self.norm2(x + F.dropout(self.feed_forward(x), 0.1))
        x = self.norm1(x + self.self_attn(x, x, x, mask))
        if self.mistake == "no_ffn_residual":
            return self.norm2(self.feed_forward(x))
        if self.mistake == "norm1_twice":
            return self.norm1(x + self.feed_forward(x))
        return self.norm2(x + self.feed_forward(x))


def encoder_with(mistake):
    return type(f"Encoder_{mistake}", (LearnerEncoderLayer,), {"mistake": mistake})


class EncoderLayerNormsListDropout(nn.Module):
    """Correct, written differently: the two LayerNorms kept in a ModuleList too, nn.Dropout on each sub-layer."""

    def __init__(self, d_model, num_heads, d_ff, dropout=0.1):
        super().__init__()
        self.self_attn = tl.MultiHeadAttention(d_model, num_heads)
        self.feed_forward = tl.PositionwiseFeedForward(d_model, d_ff)
        self.norms = nn.ModuleList([nn.LayerNorm(d_model) for _ in range(2)])
        self.norm1, self.norm2 = self.norms
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask=None):
        x = self.norm1(x + self.dropout(self.self_attn(x, x, x, mask)))
        return self.norm2(x + self.dropout(self.feed_forward(x)))


class LearnerDecoderLayer(nn.Module):
    mistake = None

    def __init__(self, d_model, num_heads, d_ff):
        super().__init__()
        self.self_attn = tl.MultiHeadAttention(d_model, num_heads)
        self.cross_attn = self.self_attn if self.mistake == "shared" else tl.MultiHeadAttention(d_model, num_heads)
        self.feed_forward = tl.PositionwiseFeedForward(d_model, d_ff)
        if self.mistake == "shared_norms":
            self.norm1 = self.norm2 = self.norm3 = nn.LayerNorm(d_model)
        else:
            self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)

    def forward(self, x, memory, tgt_mask=None, memory_mask=None):
        m = self.mistake
        if m == "ignores_tgt_mask":
            tgt_mask = None
        if m == "ignores_memory_mask":
            memory_mask = None
        if m == "masks_swapped":
            tgt_mask, memory_mask = memory_mask, tgt_mask

        def self_block(y):
            return self.norm1(y + self.self_attn(y, y, y, tgt_mask))

        def cross_block(y):
            if m == "cross_over_x":
                return self.norm2(y + self.cross_attn(y, y, y))
            if m == "cross_query_from_memory":
                return self.norm2(memory + self.cross_attn(memory, y, y))
            if m == "cross_query_from_memory_masked":
                return self.norm2(y + self.cross_attn(memory, y, y, memory_mask))
            out = self.cross_attn(y, memory, memory, memory_mask)
            if m == "dropout_always_on":
                out = F.dropout(out, p=0.1, training=True)
            return self.norm2(y + out)
        x = cross_block(self_block(x)) if m != "cross_first" else self_block(cross_block(x))
        return (self.norm2 if m == "norm2_for_ffn" else self.norm3)(x + self.feed_forward(x))


def decoder_with(mistake):
    return type(f"Decoder_{mistake}", (LearnerDecoderLayer,), {"mistake": mistake})


class DecoderLayerKeywordsDropout(nn.Module):
    """Correct, written differently: keyword arguments to the attentions, nn.Dropout after each sub-layer."""

    def __init__(self, d_model, num_heads, d_ff, dropout=0.1):
        super().__init__()
        self.self_attn = tl.MultiHeadAttention(d_model, num_heads)
        self.cross_attn = tl.MultiHeadAttention(d_model, num_heads)
        self.feed_forward = tl.PositionwiseFeedForward(d_model, d_ff)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, memory, tgt_mask=None, memory_mask=None):
        x = self.norm1(x + self.dropout(self.self_attn(query=x, key=x, value=x, mask=tgt_mask)))
        x = self.norm2(x + self.dropout(self.cross_attn(query=x, key=memory, value=memory, mask=memory_mask)))
        return self.norm3(x + self.dropout(self.feed_forward(x)))


class DecoderLayerWithPackageResiduals(nn.Module):
    """Correct, written differently: the package's LayerNorm and one helper for 'add & norm'."""

    def __init__(self, d_model, num_heads, d_ff):
        super().__init__()
        self.self_attn = tl.MultiHeadAttention(d_model, num_heads)
        self.cross_attn = tl.MultiHeadAttention(d_model, num_heads)
        self.feed_forward = tl.PositionwiseFeedForward(d_model, d_ff)
        self.norm1, self.norm2, self.norm3 = (tl.LayerNorm(d_model) for _ in range(3))

    def forward(self, x, memory, tgt_mask=None, memory_mask=None):
        def add_norm(norm, y, out):
            return norm(y + out)
        x = add_norm(self.norm1, x, self.self_attn(x, x, x, mask=tgt_mask))
        x = add_norm(self.norm2, x, self.cross_attn(x, memory, memory, mask=memory_mask))
        return add_norm(self.norm3, x, self.feed_forward(x))


# ---------------------------------------------------------------------------------------------------
# Lesson 07: label smoothing, greedy decoding, beam search
# ---------------------------------------------------------------------------------------------------

def smoothing_like_a_learner(logits, target, smoothing, pad_id, *, mistake=None):
    V = logits.size(-1)
    log_p = logits.softmax(-1) if mistake == "probs" else logits.log_softmax(-1)
    if mistake == "others":
        q = torch.full_like(log_p, smoothing / (V - 1))
        q.scatter_(1, target[:, None], 1 - smoothing)
    else:
        q = torch.full_like(log_p, smoothing / V)
        q.scatter_add_(1, target[:, None], torch.full_like(log_p[:, :1], 1 - smoothing))
    if mistake == "none":
        q = F.one_hot(target, V).to(log_p.dtype)
    loss = -(q * log_p).sum(-1)
    if mistake == "kl":
        loss = loss + (q * q.log()).sum(-1)
    keep = target != pad_id
    if mistake == "pad_counted":
        return loss.mean()
    if mistake == "divide_by_all":
        return loss[keep].sum() / len(target)
    if mistake == "per_position":
        return loss * keep
    return loss[keep].mean()


def smoothing_as_mixture(logits, target, smoothing, pad_id):
    log_p = F.log_softmax(logits, dim=-1)
    nll = -log_p.gather(1, target[:, None]).squeeze(1)
    uniform = -log_p.mean(dim=-1)
    loss = (1 - smoothing) * nll + smoothing * uniform
    keep = target != pad_id
    return (loss * keep).sum() / keep.sum()


def greedy_correct(step_fn, bos_id, eos_id, max_len):
    tokens = [bos_id]
    for _ in range(max_len):
        next_token = int(step_fn(tokens).argmax())
        if next_token == eos_id:
            break
        tokens.append(next_token)
    return tokens[1:]


def greedy_tensor_prefix(step_fn, bos_id, eos_id, max_len):
    ys = torch.tensor([bos_id])
    while len(ys) - 1 < max_len:
        token = step_fn(ys).argmax()
        if token.item() == eos_id:
            break
        ys = torch.cat([ys, token.view(1)])
    return ys[1:]


def greedy_with(mistake):
    def greedy(step_fn, bos_id, eos_id, max_len):
        tokens = [bos_id]
        steps = max_len - 1 if mistake == "one_short" else max_len
        for _ in range(steps):
            prefix = tokens[1:] if mistake == "no_bos_in_prefix" else tokens
            if mistake == "no_feedback":
                prefix = [bos_id]
            token = int(step_fn(prefix).argmax())
            tokens.append(token)
            if token == eos_id and mistake != "no_stop":
                break
        if mistake not in ("with_eos", "no_stop") and tokens[-1] == eos_id:
            tokens = tokens[:-1]
        return tokens if mistake == "with_bos" else tokens[1:]
    return greedy


def beam_textbook(step_fn, bos_id, eos_id, max_len, beam_size, alpha=0.6, *, mistake=None):
    """A learner's beam search; `mistake` switches one known mistake on."""
    beams, finished = [([bos_id], 0.0)], []
    for step in range(1, max_len + 1):
        candidates = []
        for tokens, score in beams:
            log_p = step_fn(tokens)
            for t, lp in enumerate(log_p.tolist()):
                candidates.append((tokens + [t], score + lp))
        candidates.sort(key=lambda c: -c[1])
        keep = 1 if mistake == "greedy" else beam_size
        beams = []
        for tokens, score in candidates[:keep]:
            (finished if tokens[-1] == eos_id else beams).append((tokens, score))
        if mistake == "first_finished" and finished:
            return finished[0][0][1:-1]
        if not beams:
            break
    else:
        if mistake != "no_fallback":
            finished += beams
    if not finished:
        return []

    def final(item):
        tokens, logp = item
        n = len(tokens) - 1
        if mistake == "no_penalty":
            return logp
        if mistake == "length_norm":
            return logp / n
        if mistake == "multiplied":
            return logp * ((5 + n) / 6) ** alpha
        return logp / ((5 + n) / 6) ** alpha
    best = max(finished, key=final)[0][1:]
    if mistake != "with_eos" and best and best[-1] == eos_id:
        best = best[:-1]
    return best


def beam_pytorch_style(step_fn, bos_id, eos_id, max_len, beam_size, alpha=0.6):
    """Correct, written differently: tensors, top 2k extensions, stops when no live beam can still win."""
    ys, beam_lp, finished = [[bos_id]], torch.zeros(1, dtype=torch.float64), []
    penalty = lambda n: ((5 + n) / 6) ** alpha                              # noqa: E731
    for step in range(1, max_len + 1):
        log_p = torch.stack([step_fn(y) for y in ys]).double()              # (n, V)
        total = beam_lp[:, None] + log_p
        V = total.size(1)
        top_lp, top_idx = total.flatten().topk(min(2 * beam_size, total.numel()))
        new_ys, new_lp = [], []
        for rank, (lp, idx) in enumerate(zip(top_lp.tolist(), top_idx.tolist())):
            row, token = divmod(idx, V)
            if token == eos_id:
                if rank < beam_size:
                    finished.append((ys[row][1:], lp / penalty(step)))
            elif len(new_ys) < beam_size:
                new_ys.append(ys[row] + [token])
                new_lp.append(lp)
        if not new_ys:
            break
        ys, beam_lp = new_ys, torch.tensor(new_lp, dtype=torch.float64)
        if finished and max(s for _, s in finished) >= beam_lp.max().item() / penalty(max_len):
            break
    else:
        finished += [(y[1:], lp / penalty(max_len)) for y, lp in zip(ys, beam_lp.tolist())]
    return max(finished, key=lambda f: f[1])[0]


def beam_stop_after_k_finished(step_fn, bos_id, eos_id, max_len, beam_size, alpha=0.6):
    """Correct variant: stops once beam_size sentences have finished; length without <eos>."""
    live, done = [([bos_id], 0.0)], []
    for step in range(1, max_len + 1):
        ext = sorted(((seq + [t], lp + float(v)) for seq, lp in live for t, v in enumerate(step_fn(seq))),
                     key=lambda e: e[1], reverse=True)[:beam_size]
        live = [(s, lp) for s, lp in ext if s[-1] != eos_id]
        done += [(s[1:-1], lp / ((5 + len(s) - 2) / 6) ** alpha) for s, lp in ext if s[-1] == eos_id]
        if len(done) >= beam_size or not live:
            break
    else:
        done += [(s[1:], lp / ((5 + max_len) / 6) ** alpha) for s, lp in live]
    return max(done, key=lambda d: d[1])[0]


def beam_with(mistake):
    def beam(step_fn, bos_id, eos_id, max_len, beam_size, alpha=0.6):
        return beam_textbook(step_fn, bos_id, eos_id, max_len, beam_size, alpha, mistake=mistake)
    return beam


# ---------------------------------------------------------------------------------------------------
# The catalogue: every wrong implementation is caught with its hint.
# ---------------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------------
# Lesson 09: one decoding step with a KV cache, top-k / top-p filtering, RoPE
# ---------------------------------------------------------------------------------------------------

def position_code(position, d_model):
    """The sinusoidal code of one position, by the formula (what a learner's own helper computes)."""
    angle = position / 10000 ** (torch.arange(0, d_model, 2) / d_model)
    return torch.stack([angle.sin(), angle.cos()], dim=-1).flatten()[:d_model]


def kv_step_like_a_learner(x_new, cache, W_q, W_k, W_v, *, mistake=None):
    T_past = cache["k"].size(1)
    position = {"plus_one": T_past + 1, "minus_one": T_past - 1, "zero": 0}.get(mistake, T_past)
    x = x_new if mistake == "no_position" else x_new + position_code(position, x_new.size(-1))
    q, k, v = x @ W_q, x @ W_k, x @ W_v
    stored_k, stored_v = {"cache_queries": (q, v), "swap": (v, k)}.get(mistake, (k, v))
    axis = {"feature_axis": -1, "batch_axis": 0}.get(mistake, 1)
    if mistake == "replace":
        new = {"k": stored_k, "v": stored_v}                          # forgets the past
    else:
        new = {"k": torch.cat([cache["k"], stored_k], dim=axis), "v": torch.cat([cache["v"], stored_v], dim=axis)}
    K, V = {"before_append": (cache["k"], cache["v"]), "newest": (k, v)}.get(mistake, (new["k"], new["v"]))
    scores = q @ K.transpose(-2, -1)
    if mistake != "no_scale":
        scores = scores / math.sqrt(k.size(-1))
    if mistake == "first_row":
        n = K.size(1)
        scores = scores.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril()[:1], float("-inf"))
    weights = torch.softmax(scores, dim=1 if mistake == "softmax_dim1" else -1)
    return weights @ V, new


def kv_step_recomputing(x_new, cache, W_q, W_k, W_v):
    """Keeps the inputs and projects every earlier position again at each step: right outputs, no saving."""
    T_past = cache["k"].size(1)
    x = x_new + position_code(T_past, x_new.size(-1))
    xs = torch.cat([cache["k"], x], dim=1) if T_past else x          # (B, T, d_model): the inputs, not the keys
    q = x @ W_q
    K, V = xs @ W_k, xs @ W_v                                        # recomputed for every position
    weights = torch.softmax(q @ K.transpose(1, 2) / math.sqrt(K.size(-1)), dim=-1)
    return weights @ V, {"k": xs, "v": xs}


def kv_step(mistake):
    return lambda *args: kv_step_like_a_learner(*args, mistake=mistake)


def kv_step_sdpa(x_new, cache, W_q, W_k, W_v):
    position = cache["k"].shape[1]
    x = x_new + tl.sinusoidal_encoding(position + 1, x_new.shape[-1])[position]
    cache = dict(cache)
    for name, W in (("k", W_k), ("v", W_v)):
        cache[name] = torch.cat((cache[name], x @ W), dim=1)
    return F.scaled_dot_product_attention(x @ W_q, cache["k"], cache["v"]), cache


def kv_step_einsum_float64(x_new, cache, W_q, W_k, W_v):
    d = x_new.size(-1)
    table = tl.sinusoidal_encoding(64, d).double()
    x = x_new.double() + table[cache["k"].size(1)]
    k, v = (x @ W_k.double()).float(), (x @ W_v.double()).float()
    cache = {"k": torch.cat([cache["k"], k], 1), "v": torch.cat([cache["v"], v], 1)}
    scores = torch.einsum("bqd,bkd->bqk", (x @ W_q.double()).float(), cache["k"]) * k.size(-1) ** -0.5
    return torch.einsum("bqk,bkd->bqd", scores.softmax(-1), cache["v"]), cache


def top_k_like_a_learner(logits, k, *, mistake=None):
    if mistake == "values_only":
        return logits.topk(k, dim=-1).values
    if mistake == "smallest":
        kth = logits.topk(k, dim=-1, largest=False).values[..., -1:]
        return logits.masked_fill(logits > kth, float("-inf"))
    if mistake == "dim0":
        kth = logits.topk(min(k, logits.size(0)), dim=0).values[-1:]
        return logits.masked_fill(logits < kth, float("-inf"))
    if mistake == "sorted":
        ranked = logits.sort(dim=-1, descending=True).values
        ranked[..., k:] = float("-inf")
        return ranked
    n = {"k_plus_one": k + 1}.get(mistake, k)
    kth = logits.topk(min(n, logits.size(-1)), dim=-1).values[..., -1:]
    remove = logits <= kth if mistake == "strict" else logits < kth     # strict: keeps only those above the k-th
    if mistake == "zero":
        return logits.masked_fill(remove, 0.0)
    if mistake == "probs":
        return torch.softmax(logits.masked_fill(remove, float("-inf")), dim=-1)
    if mistake == "probs_zeroed":
        return torch.softmax(logits, dim=-1).masked_fill(remove, 0.0)
    if mistake == "in_place":
        return logits.masked_fill_(remove, float("-inf"))
    return logits.masked_fill(remove, float("-inf"))


def top_k(mistake):
    return lambda logits, k: top_k_like_a_learner(logits, k, mistake=mistake)


def top_k_scatter_minus_1e9(logits, k):
    values, indices = torch.topk(logits, k)
    return torch.full_like(logits, -1e9).scatter(-1, indices, values)


def top_k_where_finfo_min(logits, k):
    threshold = torch.sort(logits, dim=-1, descending=True).values[..., k - 1:k]
    return torch.where(logits >= threshold, logits, torch.finfo(logits.dtype).min)


def top_p_like_a_learner(logits, p, *, mistake=None):
    if mistake == "on_logits":
        weights = logits
    else:
        weights = torch.softmax(logits, dim=-1)
    if mistake == "unsorted":
        ranked, order = weights, None
    else:
        ranked, order = weights.sort(dim=-1, descending=mistake != "ascending")
    total = ranked.cumsum(dim=-1)
    keep = total < p if mistake == "too_few" else total - ranked < p
    if mistake == "too_many":
        keep[..., 1:] = keep[..., 1:] | keep[..., :-1]
    if order is not None and mistake != "no_scatter":
        keep = keep.scatter(-1, order, keep)
    if mistake == "zero":
        return logits.masked_fill(~keep, 0.0)
    if mistake == "probs":
        return torch.softmax(logits.masked_fill(~keep, float("-inf")), dim=-1)
    return logits.masked_fill(~keep, float("-inf"))


def top_p(mistake):
    return lambda logits, p: top_p_like_a_learner(logits, p, mistake=mistake)


def top_p_hugging_face_style(logits, p):
    """Sorted from the least likely up: remove the tokens whose running sum stays at or below 1 - p."""
    ranked, order = logits.sort(dim=-1)
    remove = ranked.softmax(dim=-1).cumsum(dim=-1) <= 1 - p
    remove[..., -1:] = False                                          # the likeliest token always stays
    return logits.masked_fill(remove.scatter(-1, order, remove), float("-inf"))


def top_p_shift_right(logits, p):
    probs, order = torch.sort(torch.softmax(logits, -1), descending=True)
    remove = torch.cumsum(probs, -1) > p
    remove[..., 1:] = remove[..., :-1].clone()                        # keep the token that crosses p
    remove[..., 0] = False
    mask = torch.zeros_like(remove).scatter(-1, order, remove)
    return logits.masked_fill(mask, float("-inf"))


def rope_like_a_learner(q, k, v, positions, *, mistake=None):
    def rotate(x, pos):
        d = x.size(-1)
        i = torch.arange(0, d, 2, dtype=torch.float32)                   # 2i
        inv = {"same_angle": torch.ones(d // 2), "i_over_d": 10000 ** (-(i / 2) / d),
               "four_i": 10000 ** (-2 * i / d)}.get(mistake, 10000 ** (-i / d))
        angle = pos.float()[:, None] * inv                                 # (T, d/2)
        cos, sin = angle.cos(), angle.sin()
        if mistake == "sign":
            sin = -sin
        if mistake == "swap":
            cos, sin = sin, cos
        if mistake == "half":
            a, b = x[..., : d // 2], x[..., d // 2:]
            return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)
        a, b = x[..., 0::2], x[..., 1::2]
        first, second = a * cos - b * sin, a * sin + b * cos
        if mistake == "concat":
            return torch.cat([first, second], dim=-1)
        return torch.stack([first, second], dim=-1).flatten(-2)
    pos = {"arange": torch.arange(q.size(-2)), "plus_one": positions + 1}.get(mistake, positions)
    q_out = rotate(q, pos)
    k_out = k if mistake == "only_q" else rotate(k, pos)
    v_out = rotate(v, pos) if mistake == "values" else v
    return q_out, k_out, v_out


def rope(mistake):
    return lambda q, k, v, positions: rope_like_a_learner(q, k, v, positions, mistake=mistake)


def rope_complex(q, k, v, positions):
    """The original LLaMA way: each (2i, 2i+1) pair as a complex number, times e^(i pos w_i)."""
    d = q.size(-1)
    w = 1.0 / 10000 ** (torch.arange(0, d, 2).double() / d)
    turn = torch.polar(torch.ones(len(positions), d // 2, dtype=torch.float64), positions.double()[:, None] * w)

    def rotate(x):
        z = torch.view_as_complex(x.double().reshape(*x.shape[:-1], d // 2, 2).contiguous())
        return torch.view_as_real(z * turn).flatten(-2).to(x.dtype)
    return rotate(q), rotate(k), v


C = checks
SDPA = C.check_scaled_dot_product_attention
SPLIT_ORDER = "Split as (B, T, h, d_k): heads first, then the d_k features of each head"
DROPOUT_ON = "changes between two calls on the same input in eval mode"
SHARED_NORM_2 = "both sub-layers use the same LayerNorm"
SHARED_NORM_3 = "each residual sub-layer needs its own (three LayerNorms, with their own γ, β)"
CROSS_QUERIES = "takes its queries from the decoder and its keys/values from the encoder memory"


def att(**kw):
    """A learner's attention with one known mistake switched on."""
    return lambda q, k, v, mask=None: attention_like_a_learner(q, k, v, mask, **kw)


WRONG = [
    # scaled dot-product attention
    (SDPA, att(softmax_dim=-2), "weights sum to 1 over the query axis, not the key axis", "sdpa-softmax-over-queries"),
    (SDPA, att(divisor="none"), "缩放 (scaling) is missing", "sdpa-no-scale"),
    (SDPA, att(divisor="dk"), "divided the scores by d_k", "sdpa-divide-by-dk"),
    (SDPA, att(divisor="sqrt_dv"), "sqrt(d_v)", "sdpa-scale-by-dv"),
    (SDPA, att(mask_how="after"), "masked after the softmax", "sdpa-mask-after-softmax"),
    (SDPA, att(mask_how="inverted"), "meaning is inverted", "sdpa-mask-inverted"),
    (SDPA, att(mask_how="zero"), "filled masked scores with 0", "sdpa-mask-zero-fill"),
    (SDPA, att(mask_how="ignored"), "mask is ignored", "sdpa-mask-ignored"),
    (SDPA, lambda q, k, v, mask=None: attention_like_a_learner(q, k, v, mask)[::-1],
     "you returned (weights, output)", "sdpa-returns-swapped-pair"),
    (SDPA, lambda q, k, v, mask=None: attention_like_a_learner(k, q, v[:, :q.size(1)], mask),
     "key @ query^T", "sdpa-scores-transposed"),
    (SDPA, lambda q, k, v, mask=None: attention_like_a_learner(q, k, k, mask),
     "multiplied the weights by the keys", "sdpa-times-keys"),
    (SDPA, lambda q, k, v, mask=None: attention_like_a_learner(q, k, v, mask)[0],
     "expected a pair (output, weights)", "sdpa-returns-output-only"),
    (SDPA, attention_3d_only, "transpose(-2, -1)", "sdpa-only-3d"),
    # causal mask
    (C.check_causal_mask, lambda n: torch.ones(n, n, dtype=torch.bool).tril(-1), "hides the diagonal",
     "causal-hides-diagonal"),
    (C.check_causal_mask, lambda n: torch.ones(n, n, dtype=torch.bool).triu(1), "True marks the positions to hide",
     "causal-true-means-hidden"),
    (C.check_causal_mask, lambda n: torch.ones(n, n, dtype=torch.bool).triu(), "upper triangle", "causal-upper-triangle"),
    (C.check_causal_mask, lambda n: torch.ones(n, n).tril(), "must be boolean", "causal-float-ones"),
    (C.check_causal_mask, lambda n: nn.Transformer.generate_square_subsequent_mask(n), "additive float mask",
     "causal-additive-mask"),
    (C.check_causal_mask, lambda n: torch.ones(n, n, dtype=torch.bool), "everything is allowed", "causal-all-true"),
    (C.check_causal_mask, lambda n: torch.ones(n, n, dtype=torch.bool).tril(1), "see the next one", "causal-one-ahead"),
    # positional encoding
    (C.check_positional_encoding, lambda n, d: pe_like_a_learner(n, d, layout="concat"), "concatenated",
     "pe-concatenated"),
    (C.check_positional_encoding, lambda n, d: pe_like_a_learner(n, d, layout="swapped"), "sin and cos are swapped",
     "pe-swapped"),
    (C.check_positional_encoding, lambda n, d: pe_like_a_learner(n, d, exponent="j"), "j/d_model", "pe-exponent-j"),
    (C.check_positional_encoding, lambda n, d: pe_like_a_learner(n, d, exponent="doubled"), "2j/d_model",
     "pe-exponent-doubled"),
    (C.check_positional_encoding, lambda n, d: pe_like_a_learner(n, d, divide=False), "multiplied the position",
     "pe-multiplied"),
    (C.check_positional_encoding, lambda n, d: pe_like_a_learner(n, d, start=1), "start at 1", "pe-positions-from-1"),
    (C.check_positional_encoding, lambda n, d: pe_like_a_learner(n, d).T, "transposed", "pe-transposed"),
    (C.check_positional_encoding, lambda n, d: pe_like_a_learner(n, d, base=1000), "the wrong base — you used 1000",
     "pe-base-1000"),
    (C.check_positional_encoding, lambda n, d: pe_like_a_learner(n, d, base=100), "A base of 100 instead of 10000",
     "pe-base-100"),
    (C.check_positional_encoding, pe_exp_form_log10, "not math.log10(10000)", "pe-exp-form-log10"),
    (C.check_positional_encoding, lambda n, d: pe_like_a_learner(n, d, exponent="i"), "you used i/d_model",
     "pe-exponent-i"),
    (C.check_positional_encoding, pe_loop_with_dimension_index,
     "you used the dimension index j where the formula has the pair index i", "pe-dimension-index"),
    (C.check_positional_encoding, lambda n, d: pe_loop_with_dimension_index(n, d, swap=True),
     "two mistakes: (1) sin and cos are swapped", "pe-swapped-and-dimension-index"),
    (C.check_positional_encoding, lambda n, d: pe_like_a_learner(n, d, layout="swapped", base=1000),
     "(2) the wrong base — you used 1000", "pe-swapped-and-base-1000"),
    (C.check_positional_encoding, lambda n, d: pe_like_a_learner(n, d, layout="concat_cos_first"), "cosines first",
     "pe-concatenated-cos-first"),
    (C.check_positional_encoding, lambda n, d: pe_like_a_learner(n, d).unsqueeze(0), "without a leading batch axis",
     "pe-batch-axis"),
    # shift matrix
    (C.check_shift_matrix, shift_matrix_backwards, "backwards", "shift-transposed"),
    (C.check_shift_matrix, shift_matrix_ignores_k, "ignores k", "shift-ignores-k"),
    (C.check_shift_matrix, shift_matrix_concat_layout, "concatenated layout", "shift-concat-layout"),
    (C.check_shift_matrix, lambda k, d: torch.eye(d), "identity", "shift-identity"),
    # splitting heads
    (C.check_split_heads, split_heads_view_no_transpose, "view(B, h, T, d_k) and no transpose", "split-view-no-transpose"),
    (C.check_split_heads, split_heads_forgot_transpose, "did not move the head axis", "split-forgot-transpose"),
    (C.check_split_heads, split_heads_interleaved, "every h-th feature", "split-interleaved"),
    (C.check_split_heads, split_heads_d_k_first, SPLIT_ORDER, "split-d-k-first"),
    (C.check_split_heads, split_heads_d_k_first_transpose_1_3, SPLIT_ORDER, "split-d-k-first-transpose-1-3"),
    # multi-head attention
    (C.check_multi_head_attention, mha_with("view"), "view(B, h, T, d_k) and no transpose", "mha-view-no-transpose"),
    (C.check_multi_head_attention, mha_with("merge_no_transpose"), "merged without transposing back",
     "mha-merge-no-transpose"),
    (C.check_multi_head_attention, mha_with("sqrt_d_model"), "sqrt(d_model)", "mha-scale-d-model"),
    (C.check_multi_head_attention, mha_with("no_w_o"), "w_o is missing", "mha-no-output-projection"),
    (C.check_multi_head_attention, mha_with("value_with_w_k"), "projected with w_k", "mha-value-with-w-k"),
    (C.check_multi_head_attention, mha_with("keys_from_query"), "computed from query", "mha-keys-from-query"),
    (C.check_multi_head_attention, mha_with("mask_inverted"), "inverted", "mha-mask-inverted"),
    (C.check_multi_head_attention, MHAWithOwnNames, "expected an attribute w_q", "mha-missing-w-q"),
    (C.check_multi_head_attention, mha_with("d_k_first"), SPLIT_ORDER, "mha-split-d-k-first"),
    (C.check_multi_head_attention, mha_with("d_k_first_inverse_merge"), SPLIT_ORDER,
     "mha-split-d-k-first-inverse-merge"),
    (C.check_multi_head_attention, mha_with("d_k_first_transpose"), SPLIT_ORDER, "mha-split-d-k-first-transpose"),
    (C.check_multi_head_attention, mha_with("merge_permute_0231"), "merged in the wrong order: permute(0, 2, 3, 1)",
     "mha-merge-permute-0231"),
    (C.check_multi_head_attention, mha_with("merge_transpose_2_3"), "merged with transpose(2, 3)",
     "mha-merge-transpose-2-3"),
    (C.check_multi_head_attention, mha_with("dropout_functional"), DROPOUT_ON, "mha-dropout-functional"),
    (C.check_multi_head_attention, mha_with("dropout_always_on"), DROPOUT_ON, "mha-dropout-training-true"),
    # LayerNorm
    (C.check_layer_norm, layer_norm_with("batch_axis"), "wrong axis", "ln-batch-axis"),
    (C.check_layer_norm, layer_norm_with("unbiased"), "biased variance", "ln-unbiased-variance"),
    (C.check_layer_norm, layer_norm_with("eps_outside"), "eps is outside the square root", "ln-eps-outside"),
    (C.check_layer_norm, layer_norm_with("no_eps"), "eps is missing", "ln-no-eps"),
    (C.check_layer_norm, layer_norm_with("hard_coded_eps"), "ignores its eps argument", "ln-hard-coded-eps"),
    (C.check_layer_norm, layer_norm_with("no_affine"), "are not applied", "ln-no-affine"),
    (C.check_layer_norm, layer_norm_with("rms"), "RMSNorm", "ln-rmsnorm"),
    (C.check_layer_norm, LayerNormPlainTensor, "must be an nn.Parameter", "ln-weight-not-parameter"),
    # residual connection
    (C.check_residual_connection, residual_swapped, "you computed Pre-LN", "residual-pre-post-swapped"),
    (C.check_residual_connection, residual_missing, "not added back", "residual-missing"),
    (C.check_residual_connection, residual_norm_before_add, "before adding", "residual-post-norm-before-add"),
    (C.check_residual_connection, residual_pre_ln_normalised_path, "un-normalised", "residual-pre-ln-normalised-path"),
    # feed-forward network
    (C.check_feed_forward, ffn_with("no_activation"), "no activation between the two layers", "ffn-no-activation"),
    (C.check_feed_forward, ffn_with("relu_last"), "comes after linear2", "ffn-relu-last"),
    (C.check_feed_forward, ffn_with("gelu"), "GELU", "ffn-gelu"),
    (C.check_feed_forward, ffn_with("residual_inside"), "added the input back", "ffn-residual-inside"),
    (C.check_feed_forward, ffn_with("square"), "expected linear1 = nn.Linear(8, 32)", "ffn-wrong-width"),
    (C.check_feed_forward, FFNFunctionalDropout, DROPOUT_ON, "ffn-dropout-functional"),
    (C.check_ffn_parameter_count, lambda d, f: 2 * d * f, "not the biases", "count-no-biases"),
    (C.check_ffn_parameter_count, lambda d, f: d * f + f, "only linear1", "count-one-layer"),
    # encoder layer
    (C.check_encoder_layer, encoder_with("pre_ln"), "Pre-LN", "encoder-pre-ln"),
    (C.check_encoder_layer, encoder_with("pre_ln_norm_per_input"), "you built Pre-LN", "encoder-pre-ln-norm-per-input"),
    (C.check_encoder_layer, encoder_with("ignores_mask"), "ignores the mask", "encoder-ignores-mask"),
    (C.check_encoder_layer, encoder_with("no_ffn_residual"), "missing around the feed-forward", "encoder-no-ffn-residual"),
    (C.check_encoder_layer, encoder_with("shared_norm"), SHARED_NORM_2, "encoder-shared-layer-norm"),
    (C.check_encoder_layer, encoder_with("norm1_twice"), SHARED_NORM_2, "encoder-norm1-used-twice"),
    (C.check_encoder_layer, encoder_with("one_norm"), SHARED_NORM_2, "encoder-one-extra-norm-used-twice"),
    (C.check_encoder_layer, encoder_with("dropout_functional"), DROPOUT_ON, "encoder-dropout-functional"),
    # decoder layer
    (C.check_decoder_layer, decoder_with("cross_over_x"), "ignores the encoder", "decoder-cross-over-x"),
    (C.check_decoder_layer, decoder_with("cross_query_from_memory"), CROSS_QUERIES,
     "decoder-cross-queries-from-memory"),
    (C.check_decoder_layer, decoder_with("cross_query_from_memory_masked"), CROSS_QUERIES,
     "decoder-cross-queries-from-memory-crash"),
    (C.check_decoder_layer, decoder_with("shared_norms"), SHARED_NORM_3, "decoder-shared-layer-norms"),
    (C.check_decoder_layer, decoder_with("norm2_for_ffn"), SHARED_NORM_3, "decoder-norm2-used-twice"),
    (C.check_decoder_layer, decoder_with("dropout_always_on"), DROPOUT_ON, "decoder-dropout-training-true"),
    (C.check_decoder_layer, decoder_with("ignores_tgt_mask"), "ignores tgt_mask", "decoder-ignores-causal-mask"),
    (C.check_decoder_layer, decoder_with("ignores_memory_mask"), "ignores memory_mask", "decoder-ignores-memory-mask"),
    (C.check_decoder_layer, decoder_with("masks_swapped"), "did you swap them", "decoder-masks-swapped"),
    (C.check_decoder_layer, decoder_with("cross_first"), "before the masked self-attention", "decoder-cross-first"),
    (C.check_decoder_layer, decoder_with("shared"), "the same module", "decoder-shared-attention"),
    # label-smoothed loss
    (C.check_label_smoothing_loss, lambda *a: smoothing_like_a_learner(*a, mistake="none"), "is missing",
     "smoothing-missing"),
    (C.check_label_smoothing_loss, lambda *a: smoothing_like_a_learner(*a, mistake="pad_counted"), "not ignored",
     "smoothing-pad-counted"),
    (C.check_label_smoothing_loss, lambda *a: smoothing_like_a_learner(*a, mistake="divide_by_all"),
     "still divided by all N", "smoothing-divide-by-all"),
    (C.check_label_smoothing_loss, lambda *a: smoothing_like_a_learner(*a, mistake="others"), "smoothing / (V - 1)",
     "smoothing-over-other-classes"),
    (C.check_label_smoothing_loss, lambda *a: smoothing_like_a_learner(*a, mistake="kl"), "KL(q || p)",
     "smoothing-kl"),
    (C.check_label_smoothing_loss, lambda *a: smoothing_like_a_learner(*a, mistake="probs"), "probabilities",
     "smoothing-probs"),
    (C.check_label_smoothing_loss, lambda *a: smoothing_like_a_learner(*a, mistake="per_position"),
     "one loss per position", "smoothing-per-position"),
    # greedy decoding
    (C.check_greedy_decode, greedy_with("with_bos"), "<bos> at the start", "greedy-with-bos"),
    (C.check_greedy_decode, greedy_with("with_eos"), "<eos> at the end", "greedy-with-eos"),
    (C.check_greedy_decode, greedy_with("no_stop"), "does not stop at <eos>", "greedy-no-stop"),
    (C.check_greedy_decode, greedy_with("no_feedback"), "same prefix", "greedy-no-feedback"),
    (C.check_greedy_decode, greedy_with("no_bos_in_prefix"), "starting with <bos>", "greedy-prefix-without-bos"),
    (C.check_greedy_decode, greedy_with("one_short"), "one token too few", "greedy-one-short"),
    # beam search
    (C.check_beam_search, beam_with("greedy"), "what greedy decoding returns", "beam-collapses-to-greedy"),
    (C.check_beam_search, beam_with("no_penalty"), "ignores the length penalty", "beam-no-length-penalty"),
    (C.check_beam_search, beam_with("length_norm"), "divided by the length", "beam-divides-by-length"),
    (C.check_beam_search, beam_with("multiplied"), "multiplied by the length penalty", "beam-penalty-multiplied"),
    (C.check_beam_search, beam_with("first_finished"), "first sentence to finish", "beam-first-finished"),
    (C.check_beam_search, beam_with("no_fallback"), "best unfinished one", "beam-no-fallback"),
    (C.check_beam_search, beam_with("with_eos"), "leave it out", "beam-with-eos"),
    # one decoding step with a KV cache
    (C.check_kv_cache_step, kv_step("plus_one"), "yours is one more", "kv-position-plus-one"),
    (C.check_kv_cache_step, kv_step("minus_one"), "yours is one less", "kv-position-minus-one"),
    (C.check_kv_cache_step, kv_step("zero"), "the code of position 0", "kv-position-always-zero"),
    (C.check_kv_cache_step, kv_step("no_position"), "no positional code", "kv-no-position"),
    (C.check_kv_cache_step, kv_step("feature_axis"), "grows along the feature axis", "kv-cache-grows-features"),
    (C.check_kv_cache_step, kv_step("batch_axis"), "grows along the batch axis", "kv-cache-grows-batch"),
    (C.check_kv_cache_step, kv_step("replace"), "the cache does not grow", "kv-cache-replaced"),
    (C.check_kv_cache_step, kv_step("swap"), "are keys and values swapped", "kv-cache-swapped"),
    (C.check_kv_cache_step, kv_step_recomputing, "the recomputation a KV cache exists to avoid", "kv-recomputes"),
    (C.check_kv_cache_step, kv_step("cache_queries"), "holds queries", "kv-caches-queries"),
    (C.check_kv_cache_step, kv_step("before_append"), "attend before appending", "kv-attends-before-append"),
    (C.check_kv_cache_step, kv_step("newest"), "only to the newest", "kv-attends-newest-only"),
    (C.check_kv_cache_step, kv_step("first_row"), "first row of a causal mask", "kv-first-mask-row"),
    (C.check_kv_cache_step, kv_step("no_scale"), "divide the scores by sqrt(d_k)", "kv-no-scale"),
    (C.check_kv_cache_step, kv_step("softmax_dim1"), "over the wrong axis", "kv-softmax-over-query-axis"),
    # top-k and top-p filtering
    (C.check_top_k_filter, top_k("k_plus_one"), "keeps k + 1 tokens", "top-k-keeps-k-plus-one"),
    (C.check_top_k_filter, top_k("strict"), "one token too few (k - 1)", "top-k-strict-comparison"),
    (C.check_top_k_filter, top_k("zero"), "set the removed logits to 0", "top-k-zero-not-minus-inf"),
    (C.check_top_k_filter, top_k("probs"), "you return probabilities", "top-k-returns-probabilities"),
    (C.check_top_k_filter, top_k("probs_zeroed"), "filtered after the softmax", "top-k-filters-after-softmax"),
    (C.check_top_k_filter, top_k("smallest"), "k smallest", "top-k-smallest"),
    (C.check_top_k_filter, top_k("dim0"), "along dim 0", "top-k-over-rows"),
    (C.check_top_k_filter, top_k("sorted"), "ranked order", "top-k-returns-sorted"),
    (C.check_top_k_filter, top_k("values_only"), "only the k largest values", "top-k-values-only"),
    (C.check_top_k_filter, top_k("in_place"), "in place", "top-k-in-place"),
    (C.check_top_p_filter, top_p("too_few"), "one token too few", "top-p-one-too-few"),
    (C.check_top_p_filter, top_p("too_many"), "one token too many", "top-p-one-too-many"),
    (C.check_top_p_filter, top_p("unsorted"), "in vocabulary order", "top-p-unsorted"),
    (C.check_top_p_filter, top_p("no_scatter"), "Map it back", "top-p-mask-not-scattered-back"),
    (C.check_top_p_filter, top_p("on_logits"), "you summed the logits", "top-p-sums-logits"),
    (C.check_top_p_filter, top_p("ascending"), "least likely up", "top-p-ascending"),
    (C.check_top_p_filter, top_p("zero"), "set the removed logits to 0", "top-p-zero-not-minus-inf"),
    (C.check_top_p_filter, top_p("probs"), "you return probabilities", "top-p-returns-probabilities"),
    # RoPE
    (C.check_rotary, rope("half"), "'rotate_half' layout", "rope-half-split-pairs"),
    (C.check_rotary, rope("same_angle"), "the same angle", "rope-same-angle-for-all-pairs"),
    (C.check_rotary, rope("i_over_d"), "10000^(-i/d)", "rope-frequency-i-over-d"),
    (C.check_rotary, rope("four_i"), "doubled 2i again", "rope-frequency-4i-over-d"),
    (C.check_rotary, rope("sign"), "the other way", "rope-rotates-backwards"),
    (C.check_rotary, rope("swap"), "cos and sin are swapped", "rope-cos-sin-swapped"),
    (C.check_rotary, rope("concat"), "put back in the wrong place", "rope-pairs-concatenated"),
    (C.check_rotary, rope("values"), "rotated the values too", "rope-rotates-values"),
    (C.check_rotary, rope("only_q"), "rotated only the queries", "rope-only-queries"),
    (C.check_rotary, rope("arange"), "instead of the positions given", "rope-ignores-positions"),
    (C.check_rotary, rope("plus_one"), "not positions + 1", "rope-positions-off-by-one"),
]


@pytest.mark.parametrize("checker, implementation, phrase", [pytest.param(*w[:3], id=w[3]) for w in WRONG])
def test_each_known_mistake_is_caught_with_its_hint(checker, implementation, phrase, capsys):
    with pytest.raises(AssertionError) as caught:
        checker(implementation)
    message = str(caught.value)
    assert phrase in message, message
    assert "✓" not in capsys.readouterr().out


def test_the_catalogue_holds_at_least_163_mistakes_across_every_checker():
    assert len(WRONG) >= 163
    assert {w[0].__name__ for w in WRONG} == {name for name in checks.__all__ if name.startswith("check_")}
    assert len({w[3] for w in WRONG}) == len(WRONG)


@pytest.mark.parametrize("implementation", [
    lambda q, k, v, mask=None: attention_like_a_learner(q, k, v, mask),
    attention_einsum_minus_1e9, attention_scaled_queries_float64, attention_with_torch_sdpa,
    lambda q, k, v, mask=None: tl.scaled_dot_product_attention(q, k, v, mask),
], ids=["matmul", "einsum-minus-1e9", "scaled-queries-float64", "torch-sdpa", "package"])
def test_correct_attention_implementations_pass(implementation, capsys):
    checks.check_scaled_dot_product_attention(implementation)
    assert capsys.readouterr().out.count("\n") == 1


CORRECT = [
    (C.check_causal_mask, tl.causal_mask, "causal-package"),
    (C.check_causal_mask, lambda n: torch.arange(n)[:, None] >= torch.arange(n), "causal-arange-compare"),
    (C.check_causal_mask, lambda n: ~torch.ones(n, n).triu(1).bool(), "causal-not-upper"),
    (C.check_positional_encoding, tl.sinusoidal_encoding, "pe-package"),
    (C.check_positional_encoding, pe_like_a_learner, "pe-float32-power"),
    (C.check_positional_encoding, pe_exp_log_form, "pe-exp-log-form"),
    (C.check_positional_encoding, pe_python_loops_float64, "pe-python-float64"),
    (C.check_positional_encoding, pe_stack_flatten, "pe-stack-flatten"),
    (C.check_shift_matrix, reference_shift_matrix, "shift-package"),
    (C.check_shift_matrix, shift_matrix_vectorised, "shift-block-diag"),
    (C.check_split_heads, split_heads_by_chunks, "split-chunks"),
    (C.check_split_heads, split_heads_reshape_permute, "split-reshape-permute"),
    (C.check_split_heads, split_heads_unflatten, "split-unflatten"),
    (C.check_multi_head_attention, tl.MultiHeadAttention, "mha-package"),
    (C.check_multi_head_attention, LearnerMHA, "mha-learner"),
    (C.check_multi_head_attention, MHAEinsumTorchSDPA, "mha-torch-sdpa"),
    (C.check_multi_head_attention, MHAChunksCatDropout, "mha-chunks-cat-dropout-module"),
    (C.check_multi_head_attention, MHAPermuteContiguousView, "mha-permute-contiguous-view-dropout-training"),
    (C.check_layer_norm, tl.LayerNorm, "ln-package"),
    (C.check_layer_norm, LearnerLayerNorm, "ln-learner"),
    (C.check_layer_norm, LayerNormFunctional, "ln-functional"),
    (C.check_layer_norm, LayerNormVarMean, "ln-var-mean"),
    (C.check_layer_norm, LayerNormStd, "ln-std-addcmul"),
    (C.check_residual_connection, residual_correct, "residual-learner"),
    (C.check_residual_connection,
     lambda x, sublayer, norm, norm_first=False: _package_residual(x, sublayer, norm, norm_first), "residual-package"),
    (C.check_feed_forward, tl.PositionwiseFeedForward, "ffn-package"),
    (C.check_feed_forward, LearnerFFN, "ffn-learner"),
    (C.check_feed_forward, FFNClamp, "ffn-clamp"),
    (C.check_feed_forward, FFNWithDropoutModule, "ffn-dropout-module"),
    (C.check_ffn_parameter_count, lambda d, f: 2 * d * f + d + f, "count-formula"),
    (C.check_ffn_parameter_count, ffn_count_by_building, "count-by-building"),
    (C.check_encoder_layer, LearnerEncoderLayer, "encoder-learner"),
    (C.check_encoder_layer, EncoderLayerNormsListDropout, "encoder-norms-list-dropout-module"),
    (C.check_decoder_layer, LearnerDecoderLayer, "decoder-learner"),
    (C.check_decoder_layer, DecoderLayerWithPackageResiduals, "decoder-add-norm-helper"),
    (C.check_decoder_layer, DecoderLayerKeywordsDropout, "decoder-keywords-dropout-module"),
    (C.check_label_smoothing_loss,
     lambda l, t, s, p: F.cross_entropy(l, t, ignore_index=p, label_smoothing=s), "smoothing-torch"),
    (C.check_label_smoothing_loss, smoothing_like_a_learner, "smoothing-learner"),
    (C.check_label_smoothing_loss, smoothing_as_mixture, "smoothing-mixture"),
    (C.check_greedy_decode, greedy_correct, "greedy-list"),
    (C.check_greedy_decode, greedy_tensor_prefix, "greedy-tensor-prefix"),
    (C.check_beam_search, beam_textbook, "beam-textbook"),
    (C.check_beam_search, beam_pytorch_style, "beam-top-2k-early-stop"),
    (C.check_beam_search, beam_stop_after_k_finished, "beam-stop-after-k-finished"),
    (C.check_kv_cache_step, kv_step(None), "kv-learner"),
    (C.check_kv_cache_step, kv_step_sdpa, "kv-torch-sdpa"),
    (C.check_kv_cache_step, kv_step_einsum_float64, "kv-einsum-float64-table"),
    (C.check_top_k_filter, tl.decoding.top_k_filter, "top-k-package"),
    (C.check_top_k_filter, top_k(None), "top-k-learner"),
    (C.check_top_k_filter, top_k_scatter_minus_1e9, "top-k-scatter-minus-1e9"),
    (C.check_top_k_filter, top_k_where_finfo_min, "top-k-where-finfo-min"),
    (C.check_top_p_filter, tl.decoding.top_p_filter, "top-p-package"),
    (C.check_top_p_filter, top_p(None), "top-p-learner"),
    (C.check_top_p_filter, top_p_hugging_face_style, "top-p-ascending-hugging-face-style"),
    (C.check_top_p_filter, top_p_shift_right, "top-p-shift-right"),
    (C.check_rotary, lambda q, k, v, positions: (tl.positional.apply_rotary(q, positions),
                                                 tl.positional.apply_rotary(k, positions), v), "rope-package"),
    (C.check_rotary, rope(None), "rope-learner"),
    (C.check_rotary, rope_complex, "rope-complex-numbers"),
]


def _package_residual(x, sublayer, norm, norm_first):
    block = tl.ResidualConnection(x.size(-1), norm_first=norm_first)
    block.norm.load_state_dict(norm.state_dict())
    return block(x, sublayer)


@pytest.mark.parametrize("checker, implementation", [pytest.param(*c[:2], id=c[2]) for c in CORRECT])
def test_correct_implementations_pass_with_one_success_line(checker, implementation, capsys):
    checker(implementation)
    out = capsys.readouterr().out
    assert out.startswith("✓ ") and out.count("\n") == 1, out


# ---------------------------------------------------------------------------------------------------
# Runs? Crashes and stubs.
# ---------------------------------------------------------------------------------------------------

def stub(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError()


class StubModule(nn.Module):
    def __init__(self, *args, **kwargs):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError()


class ForwardStubLayerNorm(LearnerLayerNorm):
    def forward(self, x):
        raise NotImplementedError()


FUNCTION_CHECKERS = [C.check_scaled_dot_product_attention, C.check_causal_mask, C.check_positional_encoding,
                     C.check_shift_matrix, C.check_split_heads, C.check_residual_connection,
                     C.check_ffn_parameter_count, C.check_label_smoothing_loss, C.check_greedy_decode,
                     C.check_beam_search, C.check_kv_cache_step, C.check_top_k_filter, C.check_top_p_filter,
                     C.check_rotary]
CLASS_CHECKERS = [C.check_multi_head_attention, C.check_layer_norm, C.check_feed_forward, C.check_encoder_layer,
                  C.check_decoder_layer]


def test_every_checker_is_either_a_function_or_a_class_checker():
    names = {f.__name__ for f in FUNCTION_CHECKERS + CLASS_CHECKERS}
    assert names == {name for name in checks.__all__ if name.startswith("check_")}


@pytest.mark.parametrize("checker", FUNCTION_CHECKERS, ids=lambda f: f.__name__)
def test_a_function_stub_is_reported_kindly_as_not_implemented_yet(checker):
    with pytest.raises(AssertionError, match="not implemented yet") as caught:
        checker(stub)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("checker", CLASS_CHECKERS, ids=lambda f: f.__name__)
def test_a_class_whose_init_is_a_stub_is_reported_as_not_implemented_yet(checker):
    with pytest.raises(AssertionError, match="not implemented yet"):
        checker(StubModule)


def test_a_forward_stub_is_reported_as_not_implemented_yet():
    with pytest.raises(AssertionError, match="not implemented yet"):
        checks.check_layer_norm(ForwardStubLayerNorm)


def test_a_crash_names_the_input_it_crashed_on_and_keeps_the_original_error():
    def crashes(query, key, value, mask=None):
        return query @ key, None                       # (2, 3, 8) @ (2, 7, 8): shapes do not fit
    with pytest.raises(AssertionError) as caught:
        checks.check_scaled_dot_product_attention(crashes)
    message = str(caught.value)
    assert "crashed on query (2, 3, 8), key (2, 7, 8), value (2, 7, 5), no mask" in message
    assert "RuntimeError" in message
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_a_crash_inside_a_class_names_the_constructor_call():
    class Broken(nn.Module):
        def __init__(self, d_model, num_heads):
            super().__init__()
            self.w_q = nn.Linear(d_model, d_model // 0)
    with pytest.raises(AssertionError, match=r"crashed on MultiHeadAttention\(d_model=12, num_heads=3\)"):
        checks.check_multi_head_attention(Broken)


def test_passing_an_instance_instead_of_the_class_is_explained():
    with pytest.raises(AssertionError, match="pass the class itself"):
        checks.check_layer_norm(tl.LayerNorm(8))


def test_passing_something_that_is_not_callable_is_explained():
    with pytest.raises(AssertionError, match="Call it like this: check_causal_mask"):
        checks.check_causal_mask(None)


def test_a_wrong_implementation_that_matches_no_known_mistake_gets_the_general_advice():
    with pytest.raises(AssertionError, match="matches none of the usual mistakes. Things to check"):
        checks.check_causal_mask(lambda n: torch.eye(n, dtype=torch.bool))


class DecoderLayerThatCrashesInItsFFN(LearnerDecoderLayer):
    def forward(self, x, memory, tgt_mask=None, memory_mask=None):
        x = self.norm1(x + self.self_attn(x, x, x, tgt_mask))
        x = self.norm2(x + self.cross_attn(x, memory, memory, memory_mask))
        return self.norm3(x + self.feed_forward(x.transpose(1, 2)))      # (B, d_model, T): does not fit linear1


def test_a_decoder_crash_is_blamed_on_the_masks_or_the_cross_attention_only_when_the_layer_did_that():
    with pytest.raises(AssertionError) as caught:
        checks.check_decoder_layer(DecoderLayerThatCrashesInItsFFN)
    message = str(caught.value)
    assert "your code crashed on" in message and "did you swap" not in message, message
    assert "Yours takes its queries from memory" not in message, message
    assert "the cross-attention takes its queries from x and its keys and values from memory" in message, message


def test_checkers_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    checks.check_multi_head_attention(tl.MultiHeadAttention)
    checks.check_greedy_decode(greedy_correct)
    assert torch.equal(before, torch.get_rng_state())


def test_checkers_pass_the_same_way_when_called_twice(capsys):
    checks.check_decoder_layer(LearnerDecoderLayer)
    checks.check_decoder_layer(LearnerDecoderLayer)
    assert capsys.readouterr().out.count("✓") == 2


# ---------------------------------------------------------------------------------------------------
# The package layout: one module per lesson, one setting for the time limit
# ---------------------------------------------------------------------------------------------------

LESSON_OF_CHECKER = {
    "check_scaled_dot_product_attention": "lesson01_self_attention", "check_causal_mask": "lesson01_self_attention",
    "check_positional_encoding": "lesson02_positional_encoding", "check_shift_matrix": "lesson02_positional_encoding",
    "check_split_heads": "lesson03_multi_head_attention", "check_multi_head_attention": "lesson03_multi_head_attention",
    "check_layer_norm": "lesson04_residual_layernorm", "check_residual_connection": "lesson04_residual_layernorm",
    "check_feed_forward": "lesson05_feed_forward", "check_ffn_parameter_count": "lesson05_feed_forward",
    "check_encoder_layer": "lesson06_encoder_decoder", "check_decoder_layer": "lesson06_encoder_decoder",
    "check_label_smoothing_loss": "lesson07_training_and_generation",
    "check_greedy_decode": "lesson07_training_and_generation", "check_beam_search": "lesson07_training_and_generation",
    "check_kv_cache_step": "lesson09_from_translator_to_chatgpt", "check_rotary": "lesson09_from_translator_to_chatgpt",
    "check_top_k_filter": "lesson09_sampling", "check_top_p_filter": "lesson09_sampling",
}


def test_every_public_checker_is_assigned_to_a_lesson():
    assert set(LESSON_OF_CHECKER) == {name for name in checks.__all__ if name.startswith("check_")}


@pytest.mark.parametrize("name", sorted(LESSON_OF_CHECKER))
def test_the_package_re_exports_each_checker_from_its_lessons_module(name):
    lesson = importlib.import_module(f"transformer_lesson.checks.{LESSON_OF_CHECKER[name]}")
    assert getattr(checks, name) is getattr(lesson, name)


def causal_mask_that_spins_forever(size):
    while size >= 0:
        size += 1


def test_a_time_limit_set_on_the_package_is_the_one_the_checkers_use(monkeypatch):
    monkeypatch.setattr(checks, "TIME_LIMIT", 0.2)
    with pytest.raises(AssertionError, match=r"ran for more than 0\.2 s on size=4"):
        checks.check_causal_mask(causal_mask_that_spins_forever)


# ---------------------------------------------------------------------------------------------------
# The Chinese edition: every hint of the catalogue in Chinese, with the same facts
# ---------------------------------------------------------------------------------------------------

def _message(checker, implementation, lang: str) -> str:
    from transformer_lesson.i18n import set_language

    set_language(lang)
    try:
        with pytest.raises(AssertionError) as caught:
            checker(implementation)
    finally:
        set_language("en")
    return str(caught.value)


@pytest.mark.parametrize("checker, implementation, phrase", [pytest.param(*w[:3], id=w[3]) for w in WRONG])
def test_each_known_mistake_is_named_in_chinese_under_setup_lang_zh(checker, implementation, phrase, capsys):
    import re

    from test_i18n import HANZI, english_words

    english, chinese = _message(checker, implementation, "en"), _message(checker, implementation, "zh")
    assert phrase in english                                     # the English edition is unchanged
    assert chinese != english and HANZI.search(chinese), chinese
    own = re.sub(r"(?m)^    \w+: .*$", "", chinese)   # the learner's own exception, as Python wrote it, stays quoted
    assert not english_words(own), f"English left in the Chinese hint: {english_words(own)}\n{chinese}"
    numbers = re.compile(r"\d+(?:\.\d+)?")
    assert set(numbers.findall(chinese)) == set(numbers.findall(english)), (
        f"the Chinese hint states other numbers:\n--- English\n{english}\n--- Chinese\n{chinese}")
    assert "✓" not in capsys.readouterr().out
