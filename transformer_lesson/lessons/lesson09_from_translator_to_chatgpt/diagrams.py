"""Lesson 09, from the translator to ChatGPT (从翻译模型到 ChatGPT): the picture the lesson opens with."""
from __future__ import annotations

from ...drawing import PALETTE, arrow, box, cells, diagram_figure, label, polyline
from ...i18n import translator

__all__ = ["three_families"]

_ = translator("lesson09")

WORDS = ("I", "am", "a", "student")


def _grid(ax, left: float, top: float, causal: bool, size: float = 0.36) -> None:
    """A 4 x 4 attention grid over "I am a student": rows are queries, columns keys; ✓ may attend, × masked."""
    allowed = [[not causal or j <= i for j in range(4)] for i in range(4)]
    cells(ax, left, top, [[PALETTE["attention"] if a else "#EEEEEE" for a in row] for row in allowed],
          cell=(size, size), edge=PALETTE["muted"])
    for i, row in enumerate(allowed):
        for j, a in enumerate(row):
            label(ax, left + (j + 0.5) * size, top - (i + 0.5) * size, "✓" if a else "×", size=10,
                  color=PALETTE["query"] if a else PALETTE["muted"])
    for k, word in enumerate(WORDS):
        label(ax, left - 0.08, top - (k + 0.5) * size, word, ha="right", size=9, color=PALETTE["query"])
        label(ax, left + (k + 0.5) * size, top + 0.05, word, va="bottom", size=9, color=PALETTE["key"],
              rotation=40, rotation_mode="anchor", ha="left")


def _block(ax, x: float, y: float, width: float, title: str, mask: str, height: float = 0.95) -> None:
    """One stack of the course's EncoderLayer: self-attention (with the mask named) + FFN, × N."""
    box(ax, x, y, width, height, "", fill="#F7F7F7", edge=PALETTE["muted"])
    label(ax, x, y + height / 2 - 0.17, title, size=9.5, color="#444444")
    box(ax, x, y + 0.02, width - 0.3, 0.3, _("self-attention 自注意力, {mask}", mask=mask), fill=PALETTE["attention"],
        size=9)
    box(ax, x, y - 0.3, width - 0.3, 0.26, _("feed-forward 前馈网络"), fill=PALETTE["ffn"], size=9)


def three_families():
    """The three Transformer families as one block under different masks: encoder-only (BERT: no mask, every
    word sees every word), decoder-only (GPT: causal mask, predict the next token and append it), and the
    paper's encoder-decoder (both stacks joined by cross-attention). Returns the Figure."""
    fig, ax = diagram_figure(10.0, 6.0, title=_("Three families, one block (三种结构，同一个模块)"))
    columns = ((1.75, _("Encoder-only 仅编码器"), "BERT (2018)", False),
               (5.0, _("Decoder-only 仅解码器"), "GPT (2018) ... ChatGPT", True),
               (8.3, _("Encoder-decoder 编码器-解码器"), _("the 2017 paper, our translator"), None))
    for cx, name, example, causal in columns:
        label(ax, cx, 5.35, name, size=11)
        label(ax, cx, 5.05, example, size=9.5, color="#555555")
        if causal is not None:
            _block(ax, cx, 4.15, 2.7, "EncoderLayer × N", _("no mask") if not causal else _("causal"))
            _grid(ax, cx - 0.45, 3.05, causal)
            label(ax, cx, 1.45, _("mask: none 无掩码") if not causal else _("causal mask 因果掩码"), size=9.5,
                  color=PALETTE["highlight"])
            label(ax, cx, 1.15, _("row: a word; ✓: the words it may attend to"), size=9, color="#555555")
    label(ax, 1.75, 0.6, _("every word sees every word:\nunderstanding 语义理解 (classify, fill a blank)"), size=9.5)
    label(ax, 5.0, 0.6, _("each word sees only the past:\npredict the next token 下一个词元, append it"), size=9.5)
    # decoder-only: the chosen token joins the input and the block runs again
    arrow(ax, (6.35, 4.45), (6.35, 3.85), bend=-1.4, color=PALETTE["highlight"], linewidth=1.6)
    label(ax, 6.2, 3.55, _("append, run again"), ha="left", size=9, color=PALETTE["highlight"])
    # encoder-decoder: the encoder's output (memory) feeds every decoder layer's cross-attention
    box(ax, 7.55, 4.15, 1.25, 0.95, _("encoder 编码器\nno mask"), fill=PALETTE["attention"], size=9)
    box(ax, 9.25, 4.15, 1.3, 0.95, _("decoder 解码器\ncausal mask\n+ cross-attn"), fill=PALETTE["attention"], size=9)
    arrow(ax, (8.18, 4.15), (8.6, 4.15), color=PALETTE["key"], linewidth=1.8)
    label(ax, 8.4, 3.45, _("memory → cross-attention\n交叉注意力"), size=9, color=PALETTE["key"])
    label(ax, 8.3, 2.45, _("the encoder's layer is the same\nEncoderLayer; each decoder layer\nadds cross-attention "
                           "to the source"), size=9.5, color="#444444")
    label(ax, 8.3, 0.6, _("read the source in full, write the\ntarget token by token (translation 翻译)"), size=9.5)
    return fig
