"""Lesson 03, multi-head attention (多头注意力): the picture the lesson opens with."""
from __future__ import annotations

from matplotlib.patches import Rectangle

from ...drawing import HEAD_COLOURS, PALETTE, arrow, box, cells, diagram_figure, label, shape_label
from ...i18n import language, translator

_ = translator("lesson03")

__all__ = ["split_and_merge"]

WORDS = ("I", "am", "a", "student")
H, D_K = 4, 2                   # heads and their width: d_model = H * D_K = 8 columns
CELL = 0.15                     # inches per number
GAP = 0.08                      # between the heads' slices once they are split
INPUT_GREY, OUTPUT_GREY = "#D4D4D4", "#9C9C9C"      # before the heads, and after W_o has mixed them


def _head_row(split: bool) -> list:
    """The colours of one token's d_model numbers: columns 2i, 2i+1 belong to head i (None marks a gap)."""
    row = []
    for i in range(H):
        row += [HEAD_COLOURS[i]] * D_K + ([None] if split and i < H - 1 else [])
    return row


def _tensor(ax, left: float, centre: float, row: list, *, outline: str | None = None, words: bool = False):
    """T rows of numbers (one per token), each coloured as `row`; returns the grid's right edge."""
    top = centre + len(WORDS) * CELL / 2
    x = left
    for colour in row:
        if colour is None:
            x += GAP
            continue
        cells(ax, x, top, [[colour]] * len(WORDS), cell=(CELL, CELL))
        x += CELL
    if outline:
        ax.add_patch(Rectangle((left, top - len(WORDS) * CELL), x - left, len(WORDS) * CELL, fill=False,
                               edgecolor=outline, linewidth=1.6, zorder=3))
    if words:
        for i, word in enumerate(WORDS):
            label(ax, left - 0.08, top - (i + 0.5) * CELL, word, size=9, ha="right")
    return x


def _deck(ax, left: float, centre: float):
    """h cards of shape (T, d_k), head 0 in front: the heads as separate matrices. Returns the right edge."""
    dx, dy = 0.2, 0.13
    bottom = centre - (len(WORDS) * CELL + (H - 1) * dy) / 2
    for i in reversed(range(H)):
        x, top = left + i * dx, bottom + i * dy + len(WORDS) * CELL
        cells(ax, x, top, [[HEAD_COLOURS[i]] * D_K] * len(WORDS), cell=(CELL, CELL), zorder=2 + 0.1 * (H - i))
        ax.add_patch(Rectangle((x, top - len(WORDS) * CELL), D_K * CELL, len(WORDS) * CELL, fill=False,
                               edgecolor=PALETTE["ink"], linewidth=1.0, zorder=2.05 + 0.1 * (H - i)))
    return left + (H - 1) * dx + D_K * CELL


def _step(ax, x0: float, x1: float, y: float, text: str):
    """An arrow from x0 to x1 at height y, with the operation written above it."""
    arrow(ax, (x0, y), (x1, y))
    label(ax, (x0 + x1) / 2, y + 0.1, text, size=9.5, va="bottom", mono=True)


def split_and_merge():
    """Splitting d_model into h heads and merging them back, with the shape at every step:
    (B, T, d_model) -> W_q, W_k, W_v -> view (B, T, h, d_k) -> transpose (B, h, T, d_k) -> attention in each
    head -> transpose back (B, T, h, d_k) -> concatenate (B, T, d_model) -> W_o. Returns the Figure."""
    fig, ax = diagram_figure(9.5, 6.4, title=_("Multi-head attention: split into heads, attend, merge "
                                                "(多头注意力：拆分、计算、合并)"))
    top_y, low_y = 4.55, 1.45
    spacing = {"linespacing": 1.45} if language() == "zh" else {}    # lines of 中文 need more room than the default
    full, split = _head_row(False), _head_row(True)

    # top row, left to right: input -> Q, K, V -> split -> heads first
    right_a = _tensor(ax, 0.7, top_y, [INPUT_GREY] * (H * D_K), outline=PALETTE["ink"], words=True)
    label(ax, 1.3, 5.2, _("input x 输入"), color=PALETTE["ink"])
    shape_label(ax, 1.3, 3.75, "(B, T, d_model)")
    left_b = right_a + 1.15
    for k, role in reversed(list(enumerate(("query", "key", "value")))):
        _tensor(ax, left_b + 0.12 * k, top_y + 0.12 * k, full, outline=PALETTE[role])
    for k, (name, role) in enumerate(((_("Q 查询"), "query"), (_("K 键"), "key"), (_("V 值"), "value"))):
        label(ax, left_b + 0.25 + 0.55 * k, 5.2, name, color=PALETTE[role])
    shape_label(ax, left_b + 0.72, 3.75, "(B, T, d_model)")
    _step(ax, right_a + 0.08, left_b - 0.08, top_y, "W_q, W_k, W_v")
    left_c = left_b + 1.44 + 0.75
    right_c = _tensor(ax, left_c, top_y, split, outline=None)
    label(ax, (left_c + right_c) / 2, 5.2, _("split: h slices of d_k"))
    shape_label(ax, (left_c + right_c) / 2, 3.75, "(B, T, h, d_k)")
    _step(ax, left_b + 1.52, left_c - 0.08, top_y, "view")
    left_d = right_c + 1.3
    right_d = _deck(ax, left_d, top_y)
    label(ax, (left_d + right_d) / 2, 5.2, _("heads first 头在前"))
    shape_label(ax, (left_d + right_d) / 2, 3.75, "(B, h, T, d_k)")
    _step(ax, right_c + 0.08, left_d - 0.08, top_y, "transpose(1, 2)")

    # down the right side: attention in every head at once, then the bottom row back to the left
    centre_d = (left_d + right_d) / 2
    box(ax, 7.45, 2.85, 3.1, 0.9, fill=PALETTE["attention"], edge=PALETTE["query"])
    label(ax, 7.45, 2.85, _("attention in each head, separately\n每个头各自计算注意力\n"
          "softmax(Qᵢ Kᵢᵀ / √d_k) Vᵢ  for i = 0 … h−1"), zorder=2.5, **spacing)
    arrow(ax, (centre_d, 3.6), (centre_d, 3.3))
    arrow(ax, (centre_d, 2.4), (centre_d, 2.0))
    _deck(ax, left_d, low_y)
    label(ax, centre_d, 0.72, _("each head's output"), size=9.5)
    shape_label(ax, centre_d, 0.45, "(B, h, T, d_k)")
    right_g = _tensor(ax, left_c, low_y, split)
    label(ax, (left_c + right_g) / 2, 0.72, _("tokens first again"), size=9.5)
    shape_label(ax, (left_c + right_g) / 2, 0.45, "(B, T, h, d_k)")
    _step(ax, left_d - 0.08, right_g + 0.08, low_y, "transpose(1, 2)")
    right_h = _tensor(ax, left_b, low_y, full, outline=PALETTE["ink"])
    label(ax, (left_b + right_h) / 2, 0.72, _("concatenated 拼接"), size=9.5)
    shape_label(ax, (left_b + right_h) / 2, 0.45, "(B, T, d_model)")
    _step(ax, left_c - 0.08, right_h + 0.08, low_y, "reshape")
    _tensor(ax, 0.7, low_y, [OUTPUT_GREY] * (H * D_K), outline=PALETTE["ink"], words=True)
    label(ax, 1.3, 0.72, _("output 输出"), size=9.5)
    shape_label(ax, 1.3, 0.45, "(B, T, d_model)")
    _step(ax, left_b - 0.08, right_a + 0.08, low_y, "W_o")

    # the key facts, in the middle on the left
    label(ax, 0.35, 3.0, _("B: sentences in a batch, T: tokens (词元) per sentence, h: heads (头).\n"
          "d_model = h × d_k: 8 = 4 × 2 here (the lesson: 12 = 3 × 4; the paper: 512 = 8 × 64).\n"
          "K and V are split, moved and merged exactly like Q.\n"
          "The view moves no number: columns 0-1 become head 0, 2-3 head 1 ..."), ha="left", size=9.5,
          **spacing)
    for i, colour in enumerate(HEAD_COLOURS):
        ax.add_patch(Rectangle((0.35 + 1.05 * i, 2.15), 0.2, 0.2, facecolor=colour, edgecolor="none"))
        label(ax, 0.62 + 1.05 * i, 2.25, _("head {i}", i=i), size=9.5, ha="left")
    return fig
