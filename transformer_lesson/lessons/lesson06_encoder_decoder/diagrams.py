"""Lesson 06, the encoder-decoder (编码器-解码器): the pictures the lesson opens with."""
from __future__ import annotations

import numpy as np
from matplotlib.patches import Circle, FancyBboxPatch, Rectangle

from ...drawing import PALETTE, arrow, badge, box, cells, diagram_figure, label, plus_circle, polyline
from ...i18n import N_, translator

_ = translator("lesson06")

__all__ = ["architecture", "decoder_attention", "STEPS"]

SOURCE = ("I", "am", "a", "student")
TARGET = ("<bos>", "我", "是", "学生")
# The six steps of the seed's walk-through of "I am a student" -> 我是学生 (English, then the seed's Chinese)
STEPS = (N_("Input embeddings 输入嵌入"), N_("Positional encodings 位置编码"), N_("Encoder 编码器"),
         N_("Decoder 解码器"), N_("Output probabilities 输出嵌入/输出概率"), N_("Generation 生成"))
# Illustrative next-token probabilities after <bos> (step 5): not the output of a trained model
NEXT = (("我", 0.86), ("你", 0.06), ("他", 0.04), ("是", 0.02), ("<eos>", 0.01))
SUB_H, NORM_H, GAP = 0.48, 0.3, 0.2
ADD_NORM = N_("Add & Norm 残差连接 + 层归一化")


def _stack(ax, cx: float, bottom: float, sublayers, width: float, residual_x: float):
    """An encoder or decoder layer: each sub-layer box followed by Add & Norm, with its residual line on the
    side at `residual_x`; returns (frame top, {sub-layer name: its centre y}), the name being the first line of
    the English text (the box shows it in the reader's language)."""
    y, centres = bottom + 0.22, {}
    arrow(ax, (cx, bottom - 0.3), (cx, y))
    for n, (text, fill) in enumerate(sublayers):
        y_sub, y_norm = y + SUB_H / 2, y + SUB_H + GAP + NORM_H / 2
        centres[text.split("\n")[0]] = y_sub
        box(ax, cx, y_sub, width, SUB_H, _(text), fill=fill, size=9.5)
        box(ax, cx, y_norm, width, NORM_H, _(ADD_NORM), fill=PALETTE["norm"], size=9)
        arrow(ax, (cx, y + SUB_H), (cx, y_norm - NORM_H / 2))
        side = cx - width / 2 if residual_x < cx else cx + width / 2
        polyline(ax, [(cx, y - 0.1), (residual_x, y - 0.1), (residual_x, y_norm), (side, y_norm)],
                 color=PALETTE["residual"], linewidth=1.6)
        y = y_norm + NORM_H / 2 + GAP
        if n < len(sublayers) - 1:
            arrow(ax, (cx, y_norm + NORM_H / 2), (cx, y))
    top = y - GAP + 0.15
    pad = 0.28
    ax.add_patch(FancyBboxPatch((cx - width / 2 - pad, bottom), width + 2 * pad, top - bottom,
                                boxstyle="round,pad=0,rounding_size=0.12", facecolor="#F7F7F7",
                                edgecolor=PALETTE["muted"], linewidth=1.2, zorder=0.2))
    return top, centres


def _wave(ax, x: float, y: float) -> None:
    """The positional-encoding sign: a circle with a sine wave."""
    ax.add_patch(Circle((x, y), 0.17, facecolor="white", edgecolor=PALETTE["ink"], linewidth=1.1, zorder=3))
    t = np.linspace(-0.12, 0.12, 40)
    ax.plot(x + t, y + 0.07 * np.sin(t / 0.12 * np.pi), color=PALETTE["position"], linewidth=1.4, zorder=4)


def _tokens(ax, cx: float, y: float, tokens, spacing: float = 0.5) -> None:
    for i, token in enumerate(tokens):
        label(ax, cx + (i - (len(tokens) - 1) / 2) * spacing, y, token, size=10)


def architecture():
    """The whole encoder-decoder, as in the paper's figure 1, annotated with the six steps of the seed's
    "I am a student" walk-through (1 input embeddings, 2 positional encodings, 3 encoder, 4 decoder,
    5 output probabilities, 6 generation). Returns the Figure."""
    fig, ax = diagram_figure(10.0, 9.6,
                             title=_("The Transformer in six steps (原文的六个步骤): I am a student → 我 是 学生"))
    ex, dx, width = 3.1, 6.4, 2.1
    # bottom: tokens, embeddings, positional encodings (both sides)
    _tokens(ax, ex, 0.45, SOURCE, 0.55)
    _tokens(ax, dx, 0.45, TARGET, 0.55)
    label(ax, ex, 0.15, _("source sentence 源句"), size=9, color="#555555")
    label(ax, dx, 0.15, _("target so far (shifted right) 目标"), size=9, color="#555555")
    for cx, side in ((ex, -1), (dx, 1)):
        arrow(ax, (cx, 0.62), (cx, 0.9))
        box(ax, cx, 1.12, width, 0.42, _("Embedding 嵌入"), fill=PALETTE["embedding"], size=9.5)
        arrow(ax, (cx, 1.33), (cx, 1.68))
        plus_circle(ax, cx, 1.83)
        _wave(ax, cx + side * 0.6, 1.83)
        arrow(ax, (cx + side * 0.43, 1.83), (cx + side * 0.15, 1.83))

    # the two stacks, and the encoder's output (memory) into every decoder layer's cross-attention
    enc_top, _centres = _stack(ax, ex, 2.3, [(N_("Multi-head self-attention\n多头自注意力"), PALETTE["attention"]),
                                            (N_("Feed-forward network\n前馈网络 (FFN)"), PALETTE["ffn"])],
                               width, ex - 1.2)
    dec_top, dec = _stack(ax, dx, 2.3, [(N_("Masked self-attention\n掩码多头自注意力"), PALETTE["attention"]),
                                       (N_("Multi-head cross-attention\n交叉注意力"), PALETTE["attention"]),
                                       (N_("Feed-forward network\n前馈网络 (FFN)"), PALETTE["ffn"])], width, dx + 1.2)
    cross = dec["Multi-head cross-attention"]
    polyline(ax, [(ex, enc_top), (ex, enc_top + 0.45), (4.75, enc_top + 0.45), (4.75, cross),
                  (dx - width / 2, cross)], color=PALETTE["key"], linewidth=2.0)
    label(ax, ex, enc_top + 0.75, _("memory 记忆: the encoder's output,\nkeys and values of cross-attention"),
          size=9, color="#555555")

    # top: linear, softmax, the probabilities of the next token, and the loop of generation
    arrow(ax, (dx, dec_top), (dx, dec_top + 0.3))
    box(ax, dx, dec_top + 0.5, width, 0.4, _("Linear 线性层"), fill=PALETTE["output"], size=9.5)
    arrow(ax, (dx, dec_top + 0.7), (dx, dec_top + 0.9))
    box(ax, dx, dec_top + 1.1, width, 0.4, "Softmax", fill=PALETTE["output"], size=9.5)
    base = dec_top + 1.62
    for i, (token, p) in enumerate(NEXT):
        x = dx - 0.9 + 0.45 * i
        ax.add_patch(Rectangle((x - 0.14, base), 0.28, 0.75 * p, facecolor=PALETTE["value"], zorder=2))
        label(ax, x, base - 0.14, token, size=9)
        label(ax, x, base + 0.75 * p + 0.1, f"{p:.2f}".lstrip("0"), size=9)
    label(ax, dx, base + 1.05, _("P(next token | <bos>), made-up numbers"), size=9, color="#555555")
    polyline(ax, [(dx + 1.15, base + 0.4), (9.8, base + 0.4), (9.8, 0.45), (dx + 1.2, 0.45)],
             color=PALETTE["highlight"], linewidth=1.8)

    # the six steps of the seed, each a numbered badge by what it names
    steps = [(0.3, 1.12, _("Input\nembeddings\n输入嵌入")), (0.3, 1.83, _("Positional\nencodings\n位置编码")),
             (0.3, (2.3 + enc_top) / 2, _("Encoder\n编码器\n(N × this\nlayer)")),
             (8.3, (2.3 + dec_top) / 2, _("Decoder\n解码器\n(N × this\nlayer)")),
             (8.3, base - 0.1, _("Output\nprobabilities\n输出概率\n(the seed:\n输出嵌入)")),
             (8.3, 2.0, _("Generation\n生成: append\nthe chosen\ntoken (greedy\nor beam search\n贪心/束搜索),\n"
                          "run again\nuntil <eos>"))]
    for k, (x, y, text) in enumerate(steps):
        badge(ax, x, y, str(k + 1))
        label(ax, x + 0.25, y, text, ha="left", size=9.5)
    return fig


def decoder_attention():
    """What the decoder attends to: masked self-attention (lower-triangular: each position sees itself and
    earlier ones) and cross-attention (each target position's query looks at every source position in the
    encoder's memory), for "I am a student" -> "<bos> 我 是 学生". Returns the Figure."""
    fig, ax = diagram_figure(9.5, 5.5, title=_("What the decoder attends to (解码器的两种注意力)"))
    size = 0.55
    panels = ((1.45, _("Masked self-attention 掩码自注意力"), _("Q, K, V all from the target 都来自目标序列"), TARGET,
               True),
              (6.2, _("Cross-attention 交叉注意力"), _("Q from the decoder, K and V from the encoder's memory"), SOURCE,
               False))
    for left, title, subtitle, keys, causal in panels:
        top = 3.75
        label(ax, left + 1.1, 4.75, title, size=11)
        label(ax, left + 1.1, 4.42, subtitle, size=9.5, color="#444444")
        allowed = [[not causal or j <= i for j in range(len(keys))] for i in range(len(TARGET))]
        colours = [[PALETTE["attention"] if a else "#EEEEEE" for a in row] for row in allowed]
        cells(ax, left, top, colours, cell=(size, size), edge=PALETTE["muted"])
        for (i, j), a in np.ndenumerate(np.array(allowed)):
            label(ax, left + (j + 0.5) * size, top - (i + 0.5) * size, "✓" if a else "×", size=11,
                  color=PALETTE["query"] if a else PALETTE["muted"])
        for i, token in enumerate(TARGET):
            label(ax, left - 0.1, top - (i + 0.5) * size, token, ha="right", size=10, color=PALETTE["query"])
        for j, token in enumerate(keys):
            label(ax, left + (j + 0.5) * size, top + 0.15, token, size=10, color=PALETTE["key"], va="bottom")
        label(ax, left + 2 * size, top - 4 * size - 0.3, _("keys 键 (columns): what is looked at"), size=9.5,
              color=PALETTE["key"])
        label(ax, left - 0.75, top - 2 * size, _("queries 查询 (rows)"), size=9.5, rotation=90,
              color=PALETTE["query"])
    label(ax, 1.45 + 1.1, 0.6, _("✓ may attend, × masked 掩码. Each query sees its own\nposition and earlier ones: "
                                 "the row of 我 predicts 是,\nso it must not see 是."), size=9.5)
    label(ax, 6.2 + 1.1, 0.6, _("Every target position looks at every source word\n(only source padding would be "
                                "masked).\nNo causal mask: the source is known in full."), size=9.5)
    return fig
