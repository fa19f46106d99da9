"""Lesson 07, training and generation (训练与生成): the picture of beam search (束搜索) as a tree.

`beam_tree()` draws an illustrative search; `beam_tree(traced_search(translator, "I am a student"))` draws
the real one, from what `decoding.beam_search(..., trace=[])` records.
"""
from __future__ import annotations

from typing import Sequence

from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D

from ...capstone.data import BOS, EOS
from ...decoding import beam_search
from ...drawing import PALETTE, box, diagram_figure, font_families, label
from ...i18n import translator

__all__ = ["beam_tree", "traced_search", "ILLUSTRATIVE_TREE"]

_ = translator("lesson07")


def _step(*candidates):
    return [{"parent": p, "token": t, "log_prob": lp, "status": s, **({"score": lp} if s == "finished" else {})}
            for p, t, lp, s in candidates]


# Made-up numbers for "I am a student", in the format `beam_search(..., trace=[])` records: per step, the
# candidates ranked best first, "parent" = index among the previous step's kept ones. Width 2, no length
# penalty (score = total log-probability), and the course's rules: 2 x width candidates ranked per step,
# <eos> among the best `width` finishes a sentence, the search stops once no live one can beat it.
ILLUSTRATIVE_TREE = [
    _step((0, "我", -0.4, "kept"), (0, "我们", -1.2, "kept"), (0, "你", -2.3, "pruned"), (0, "他", -2.9, "pruned")),
    _step((0, "是", -0.7, "kept"), (1, "是", -1.6, "kept"), (0, "在", -2.0, "pruned"), (1, "都", -2.6, "pruned")),
    _step((0, "一个", -1.1, "kept"), (0, "学生", -1.3, "kept"), (1, "学生", -2.2, "pruned"),
          (1, "一个", -2.4, "pruned")),
    _step((1, "<eos>", -1.5, "finished"), (0, "学生", -2.4, "kept"), (1, "吗", -3.1, "kept"),
          (0, "老师", -3.5, "pruned")),
]
MAX_STEPS = 8


def traced_search(translator, sentence: str, beam_size: int = 2, length_penalty: float = 0.0) -> list:
    """Run the translator's beam search on `sentence` and return its trace with the tokens as words."""
    trace: list = []
    beam_search(translator.model, translator.encode_source(sentence), beam_size=beam_size,
                length_penalty_alpha=length_penalty, bos_id=BOS, eos_id=EOS, trace=trace)
    words = translator.tgt_vocab.tokens
    return [[{**entry, "token": words[entry["token"]]} for entry in step] for step in trace]


def _check_tree(tree) -> None:
    if not isinstance(tree, list) or not tree or not all(isinstance(step, list) and step for step in tree):
        raise ValueError("expected tree to be a non-empty list of steps, each a non-empty list of candidates "
                         "(what beam_search(..., trace=[]) records), got " + type(tree).__name__)
    if len(tree) > MAX_STEPS:
        raise ValueError(f"expected at most {MAX_STEPS} steps to draw, got {len(tree)}; "
                         f"draw the first ones with tree[:{MAX_STEPS}]")
    for s, step in enumerate(tree):
        kept_before = 1 if s == 0 else sum(e["status"] == "kept" for e in tree[s - 1])
        for entry in step:
            missing = {"parent", "token", "log_prob", "status"} - set(entry)
            if missing:
                raise ValueError(f"expected every candidate to have parent, token, log_prob and status, "
                                 f"step {s} has one without {sorted(missing)}")
            if not 0 <= entry["parent"] < kept_before:
                raise ValueError(f"expected parent to index the {kept_before} kept candidate(s) of the step "
                                 f"before, got {entry['parent']} at step {s}")


def _best_path(tree) -> set[tuple[int, int]]:
    """(step, index) of every node on the path to the best finished candidate (or best live one at the end)."""
    finished = [(e.get("score", e["log_prob"]), s, i) for s, step in enumerate(tree) for i, e in enumerate(step)
                if e["status"] == "finished"]
    if finished:
        _score, s, i = max(finished)
    else:
        s = len(tree) - 1
        i = max((j for j, e in enumerate(tree[s]) if e["status"] == "kept"), key=lambda j: tree[s][j]["log_prob"],
                default=0)
    path = set()
    while s >= 0:
        path.add((s, i))
        parent = tree[s][i]["parent"]
        if s:
            i = [j for j, e in enumerate(tree[s - 1]) if e["status"] == "kept"][parent]
        s -= 1
    return path


def beam_tree(tree: list | None = None, *, vocab: Sequence[str] | None = None, title: str | None = None):
    """Beam search as a tree: each expanded node with its token and total log-probability, kept and pruned
    branches, finished sentences and the best path highlighted. Without `tree`, an illustrative search of
    width 2 for "I am a student" (made-up numbers); with `tree`, what `beam_search(..., trace=tree)` recorded
    (token ids are turned into words with `vocab`, e.g. `translator.tgt_vocab.tokens`; or use
    `traced_search`). Returns the Figure."""
    illustrative = tree is None
    tree = ILLUSTRATIVE_TREE if illustrative else tree
    _check_tree(tree)
    if vocab is not None:
        tree = [[{**e, "token": vocab[e["token"]]} for e in step] for step in tree]
    width = max(sum(e["status"] == "kept" for e in step) for step in tree)
    title = title or (_("Beam search, width {width} (束搜索): illustrative numbers for \"I am a student\"",
                        width=width) if illustrative else
                      _("Beam search, width {width} (束搜索), as the model ran it", width=width))
    height = 6.6 if illustrative else 5.8
    fig, ax = diagram_figure(9.5, height, title=title)
    rows = max(len(step) for step in tree)
    top, bottom = height - 1.5, 1.75 if illustrative else 1.0
    column = (9.5 - 1.3) / len(tree)
    node_w = min(1.15, 0.8 * column)
    best = _best_path(tree)

    def ys(n):                                        # the heights of a column's n nodes, from the top
        return [top - k * (top - bottom) / max(rows - 1, 1) for k in range(n)]

    root = (0.55, (top + bottom) / 2)
    box(ax, *root, 0.8, 0.45, "<bos>", fill=PALETTE["norm"], size=10)
    parents = [root]                                  # the kept nodes of the previous step, in kept order
    for s, step in enumerate(tree):
        x = 1.3 + column * (s + 0.5)
        label(ax, x, top + 0.48, _("step {n}", n=s + 1), size=9.5, color="#555555")
        # children next to their parents: order by the parent's height, then by rank
        order = sorted(range(len(step)), key=lambda i: (-parents[step[i]["parent"]][1], i))
        positions = {i: (x, y) for i, y in zip(order, ys(len(step)))}
        kept = []
        for i, entry in enumerate(step):
            (px, py), (cx, cy) = parents[entry["parent"]], positions[i]
            on_path = (s, i) in best
            pruned = entry["status"] == "pruned"
            colour = PALETTE["highlight"] if on_path else PALETTE["muted"] if pruned else PALETTE["ink"]
            ax.plot([px + (0.4 if s == 0 else node_w / 2), cx - node_w / 2], [py, cy], color=colour,
                    linewidth=2.6 if on_path else 1.1, linestyle="--" if pruned else "-", zorder=1)
            fill = {"pruned": "#F2F2F2", "finished": PALETTE["output"]}.get(entry["status"], "white")
            box(ax, cx, cy, node_w, 0.55, f"{entry['token']}\n{entry['log_prob']:.1f}".replace("-", "−"),
                fill=fill, edge=colour, linewidth=2.4 if on_path else 1.1, linestyle="--" if pruned else "-",
                text_color="#777777" if pruned else None, size=10)
            if entry["status"] == "kept":
                kept.append((i, (cx, cy)))
        parents = [p for _i, p in sorted(kept)]

    handles = [Line2D([], [], color=PALETTE["ink"], lw=1.1, label=_("kept in the beam 保留")),
               Line2D([], [], color=PALETTE["muted"], lw=1.1, ls="--", label=_("pruned 剪掉")),
               Line2D([], [], color=PALETTE["output"], lw=8, label=_("finished (<eos>) 完成")),
               Line2D([], [], color=PALETTE["highlight"], lw=2.6, label=_("best path 最佳路径"))]
    ax.legend(handles=handles, loc="lower center", ncol=4, frameon=False, bbox_to_anchor=(0.5, 0.0),
              prop=FontProperties(family=font_families(), size=9.5))
    label(ax, 4.75, top + 0.88, _("each node: token and total log-probability log P(prefix) so far; at each step "
                                  "the {ranked} best extensions are ranked and {width} kept", ranked=2 * width,
                                  width=width), size=9.5, color="#444444")
    if illustrative:
        label(ax, 4.75, 1.0, _("Greedy decoding (贪心搜索) takes 一个 at step 3 (−1.1 beats −1.3) and is at −2.4 "
                               "after 学生;\nbeam search also kept 我 是 学生, which ends at −1.5. The search stops: no "
                               "live beam (best −2.4)\ncan still beat it, since a log-probability only falls."),
              size=9.5)
    return fig
