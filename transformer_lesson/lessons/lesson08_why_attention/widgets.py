"""Lesson 08, why attention (为什么是注意力): its interactive controls.

Each is a `drawing.FigureWidget`: controls above a figure that is redrawn on every change, with a
caption saying what it shows.
"""
from __future__ import annotations

import ipywidgets as ipw
import torch

from ...drawing import FigureWidget
from ...i18n import translator
from ...multihead import capture_attention
from . import experiments

_ = translator("lesson08")

__all__ = ["recall_distance_widget"]


def recall_distance_widget(result: dict, *, distance: int | None = None, seed: int = 0, width: float = 9.0,
                           height: float = 2.4) -> FigureWidget:
    """A distance slider over a `experiments.long_range_recall` result: left, both models' accuracy at that
    distance; right, one test sequence at that distance (the asked pair first, the question last) shaded by
    the weights from the question to every position in the attention head that looks the key up (the head
    with the most weight on the asked pair). The caption gives both models' answers on that sequence."""
    attention, gru = result["models"]["attention"], result["models"]["gru"]
    distances = result["distances"]
    control = ipw.IntSlider(value=distances[-1] if distance is None else distance, min=distances[0],
                            max=distances[-1], description=_("distance"))

    def draw(fig, distance):
        generator = torch.Generator().manual_seed(seed + 7919 * distance)
        tokens, answers, _asked = experiments.recall_batch(1, distance, generator, asked="first")
        with torch.no_grad():
            attention.eval(), gru.eval()
            with capture_attention(attention) as captured:
                answer_attention = int(attention(tokens).argmax(-1))
            rows = captured["layer.self_attn"][0][0, :, -1]                  # (h, T): the question's row, per head
            answer_gru = int(gru(tokens).argmax(-1))
        head = int(rows[:, 0].argmax())                                      # the head that looks the key up
        weights = rows[head]
        labels = experiments.recall_tokens(tokens[0])
        i = distances.index(distance)
        acc_a, acc_g = result["attention"][i], result["gru"][i]
        fig.set_layout_engine(None)      # fixed margins: no layout engine, so savefig draws once, not twice
        grid = fig.add_gridspec(1, 2, left=0.1, right=0.99, bottom=0.3, top=0.84, wspace=0.12, width_ratios=[1, 3])
        ax_acc, ax_row = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
        ax_acc.barh([1, 0], [acc_a, acc_g], color=["tab:blue", "tab:red"])
        ax_acc.axvline(result["chance"], color="gray", linestyle="--", linewidth=1)
        for y, acc in ((1, acc_a), (0, acc_g)):
            ax_acc.text(acc + 0.02, y, f"{acc:.2f}", va="center", fontsize=9)
        ax_acc.set_yticks([1, 0], [_("attention"), "GRU"])
        ax_acc.set_xlim(0, 1.25)
        ax_acc.set_xlabel(_("accuracy (dashed: chance)"))
        ax_acc.set_title(_("distance {distance}", distance=distance))
        ax_row.imshow(weights[None].numpy(), cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
        ax_row.text(0, 0, f"{weights[0]:.2f}", ha="center", va="center", color="white" if weights[0] > 0.5 else "black")
        ax_row.set_xticks(range(len(labels)), labels, fontsize=9 if distance <= 10 else 8)
        ax_row.set_yticks([])
        ax_row.set_xlabel(_("the sequence (the asked pair first, the question last)"))
        ax_row.set_title(_("attention head {head}: where the question {question} looks", head=head, question=labels[-1]))
        values = experiments.RECALL_VALUES
        caption = _("Distance {distance}: accuracy {acc_a:.2f} (attention) against {acc_g:.2f} (GRU); chance "
                    "{chance:.2f}. In this example the question {question} asks for {pair}, {distance} positions "
                    "back; head {head} puts {weight:.2f} of its weight there. Answers: attention {answer_a}, "
                    "GRU {answer_g} (right: {right}).",
                    distance=distance, acc_a=acc_a, acc_g=acc_g, chance=result["chance"], question=labels[-1],
                    pair=labels[0], head=head, weight=weights[0], answer_a=values[answer_attention],
                    answer_g=values[answer_gru], right=values[int(answers[0])])
        return caption, {"distance": distance, "attention_accuracy": acc_a, "gru_accuracy": acc_g, "head": head,
                         "weight_on_answer": weights[0].item(), "answer_attention": values[answer_attention],
                         "answer_gru": values[answer_gru], "right_answer": values[int(answers[0])]}

    return FigureWidget(draw, {"distance": control}, width=width, height=height)
