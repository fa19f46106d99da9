"""Chinese for lesson 07, training and generation (训练与生成): its figures, diagram, widget, experiments' labels
and the checkers of its exercise (label smoothing, greedy decoding, beam search) with their toy models."""

MESSAGES: dict[str, str] = {
    # ---- diagrams.py: beam search as a tree -----------------------------------------------------------
    'Beam search, width {width} (束搜索): illustrative numbers for "I am a student"':
        "束搜索（beam search），束宽 {width}：“I am a student” 的示意数字",
    "Beam search, width {width} (束搜索), as the model ran it":
        "束搜索（beam search），束宽 {width}：模型实际的搜索过程",
    "kept in the beam 保留": "保留在束中",
    "pruned 剪掉": "被剪掉",
    "finished (<eos>) 完成": "已完成（<eos>）",
    "best path 最佳路径": "最佳路径",
    "each node: token and total log-probability log P(prefix) so far; at each step the {ranked} best extensions "
    "are ranked and {width} kept":
        "每个节点：词元及到此为止的总对数概率 log P(前缀)；每一步给最好的 {ranked} 个扩展排序，保留其中 {width} 个",
    "Greedy decoding (贪心搜索) takes 一个 at step 3 (−1.1 beats −1.3) and is at −2.4 after 学生;\nbeam search also "
    "kept 我 是 学生, which ends at −1.5. The search stops: no live beam (best −2.4)\ncan still beat it, since a "
    "log-probability only falls.":
        "贪心搜索在第 3 步选 一个（−1.1 高于 −1.3），到 学生 时已是 −2.4；\n束搜索还保留了 我 是 学生，它在 −1.5 "
        "结束。搜索到此停止：\n还没结束的候选（最好的 −2.4）都不可能再超过它，因为对数概率只会越来越低。",

    # ---- experiments.py: the attention modules, by name -------------------------------------------------
    "encoder {n} self": "编码器 {n} 自注意力",
    "decoder {n} self": "解码器 {n} 自注意力",
    "decoder {n} cross": "解码器 {n} 交叉注意力",

    # ---- plots.py -----------------------------------------------------------------------------------
    "(empty: <eos> at once)": "（空：第一步就是 <eos>）",
    "training step": "训练步数",
    "learning rate": "学习率",
    "learning-rate schedule": "学习率调度",
    "loss of each batch": "每个批量的损失",
    "running mean of {smooth} steps": "{smooth} 步滑动平均",
    "lowest possible with label smoothing ({floor:.2f})": "标签平滑下可能的最低损失（{floor:.2f}）",
    "loss (cross-entropy, nats)": "损失（交叉熵，奈特）",
    "训练损失 training loss": "训练损失",
    "end of warm-up (step {warmup})": "预热结束（第 {warmup} 步）",
    "学习率 learning rate (warm-up, then ∝ step^−0.5)": "学习率（先预热，再按 ∝ step^−0.5 衰减）",
    "after {before}": "{before} 之后",
    "probability of the next token": "下一个词元的概率",
    "beam #{rank} (score {score:.2f})": "束 #{rank}（得分 {score:.2f}）",
    "greedy": "贪心",
    "sampled {count}×": "采样 {count}×",
    "−log P(translation)  (shorter bar = likelier)": "−log P(译文)（条越短，可能性越大）",
    "beam width {beam_size}, α = {alpha:.1f}; {samples} samples at temperature {temperature:.2f}":
        "束宽 {beam_size}，α = {alpha:.1f}；采样 {samples} 次，温度 {temperature:.2f}",

    # ---- widgets.py: the decoding widget ------------------------------------------------------------
    "beam width": "束宽",
    "length α": "长度 α",
    "all different": "各不相同",
    "{n} different, most often {top} ({count}×)": "共 {n} 种，最常见的是 {top}（{count}×）",
    "all {top}": "全部是 {top}",
    "greedy: {greedy} (log P {greedy_lp:.2f}); beam width {beam_size}, α {alpha:.1f}: <b>{best}</b> "
    "(log P {best_lp:.2f}, score {best_score:.2f}); {num_samples} samples at temperature {temperature:.2f}: "
    "{spread}.":
        "贪心搜索：{greedy}（log P {greedy_lp:.2f}）；束宽 {beam_size}、α {alpha:.1f} 的束搜索：<b>{best}</b>"
        "（log P {best_lp:.2f}，得分 {best_score:.2f}）；{num_samples} 个样本，温度 {temperature:.2f}：{spread}。",

    # ---- checks/lesson07_toy_models.py: the beam-search checker's toy models ----------------------------
    "step_fn expects the prefix as a list of token ids, got {kind}":
        "`step_fn` 需要的前缀是词元 id 的列表，你传入的是 {kind}",
    "the 'greedy trap' toy model (beam_size=2, alpha=0, max_len=6), where the best sentence starts with the "
    "second-likeliest token":
        "最佳句子以第二可能的词元开头的“贪心陷阱”玩具模型（`beam_size=2, alpha=0, max_len=6`）",
    "the 'short or long' toy model with alpha=0 (beam_size=2, max_len=10)":
        "`alpha=0` 的“短还是长”玩具模型（`beam_size=2, max_len=10`）",
    "the 'late finisher' toy model (beam_size=2, alpha=0, max_len=6), whose first finished sentence is not the "
    "best":
        "第一个完成的句子并非最佳的“后完成者”玩具模型（`beam_size=2, alpha=0, max_len=6`）",
    "the 'long and likely' toy model with alpha=1 (beam_size=2, max_len=10)":
        "`alpha=1` 的“又长又可能”玩具模型（`beam_size=2, max_len=10`）",
    "the 'short or long' toy model with alpha=1 (beam_size=2, max_len=10)":
        "`alpha=1` 的“短还是长”玩具模型（`beam_size=2, max_len=10`）",
    "the 'no <eos>' toy model (beam_size=3, alpha=0.6, max_len=4), which never ends a sentence":
        "从不结束句子的“没有 <eos>”玩具模型（`beam_size=3, alpha=0.6, max_len=4`）",
    "a random toy model with beam_size=1 and alpha=0 (must equal greedy decoding, max_len=8)":
        "一个 `beam_size=1`、`alpha=0` 的随机玩具模型（结果必须与贪心解码相同，`max_len=8`）",

    # ---- checks: label-smoothed cross-entropy (7.1) ---------------------------------------------------
    "标签平滑 (label smoothing) cross-entropy": "标签平滑交叉熵（label smoothing cross-entropy）",
    "your loss function": "你的损失函数",
    "logits {logits_shape}, target {target} with pad_id={pad}, smoothing={eps}":
        "输入 `logits` {logits_shape}、`target` {target}（`pad_id={pad}`，`smoothing={eps}`）",
    "the loss (a single number)": "损失（一个数）",
    "损失 (loss): you returned one loss per position; average them over the non-pad positions.":
        "损失：你为每个位置返回了一个损失；应在非填充位置上取平均。",
    "标签平滑 (label smoothing) is missing: this is plain cross-entropy; mix the one-hot target with the uniform "
    "distribution: (1 - smoothing) * one_hot + smoothing / V.":
        "缺少标签平滑：这是普通的交叉熵。要把独热（one-hot）目标和均匀分布混合："
        "`(1 - smoothing) * one_hot + smoothing / V`。",
    "填充 (padding) is not ignored: positions whose target is pad_id must not count — leave them out of the sum and "
    "of the count you divide by.":
        "没有忽略填充：目标为 `pad_id` 的位置不应计入——求和时和做除数的计数时都要排除它们。",
    "填充 (padding): you left the pad positions out of the sum but still divided by all N positions; divide by the "
    "number of non-pad positions.":
        "填充：你在求和时排除了填充位置，却仍然除以全部 N 个位置；应除以非填充位置的个数。",
    "损失 (loss): you summed it; average it over the non-pad positions.":
        "损失：你求了和；应在非填充位置上取平均。",
    "标签平滑 (label smoothing): you gave smoothing / (V - 1) to the other tokens only; here (as in "
    "F.cross_entropy(label_smoothing=...)) smoothing / V goes to every token, the right one included: "
    "(1 - smoothing) * one_hot + smoothing / V.":
        "标签平滑：你只给其他词元分了 `smoothing / (V - 1)`；这里（与 `F.cross_entropy(label_smoothing=...)` "
        "一样）每个词元都得到 `smoothing / V`，正确的词元也不例外：`(1 - smoothing) * one_hot + smoothing / V`。",
    "标签平滑 (label smoothing): you left the pad token out of the smoothing (smoothing / (V - 2), as The Annotated "
    "Transformer does); here smoothing / V goes to every token: (1 - smoothing) * one_hot + smoothing / V.":
        "标签平滑：你在平滑时把填充词元排除在外（`smoothing / (V - 2)`，即 Annotated Transformer 教程的做法）；"
        "这里每个词元都得到 `smoothing / V`：`(1 - smoothing) * one_hot + smoothing / V`。",
    "交叉熵 (cross-entropy): you used probabilities (softmax); it needs log-probabilities: "
    "log_softmax(logits, dim=-1).":
        "交叉熵：你用了概率（softmax）；这里需要对数概率：`log_softmax(logits, dim=-1)`。",
    "交叉熵 (cross-entropy): you computed KL(q || p), which differs from the cross-entropy by the entropy of the "
    "smoothed target q (a constant, so the gradients agree); return the cross-entropy -(q * log_p).sum(-1), "
    "averaged.":
        "交叉熵：你算的是 KL(q || p)，它与交叉熵相差平滑目标 q 的熵（一个常数，所以梯度相同）；"
        "请返回交叉熵 `-(q * log_p).sum(-1)` 的平均值。",
    "交叉熵 (cross-entropy): log_softmax over the wrong axis; normalise over the vocabulary, dim=-1.":
        "交叉熵：`log_softmax` 作用在了错误的维度上；应在词表维度上归一化，`dim=-1`。",
    "q = (1 - smoothing) * one_hot(target, V) + smoothing / V; loss_n = -(q * log_softmax(logits)).sum(-1); "
    "average over positions whose target is not pad_id.":
        "`q = (1 - smoothing) * one_hot(target, V) + smoothing / V`；"
        "`loss_n = -(q * log_softmax(logits)).sum(-1)`；在目标不是 `pad_id` 的位置上取平均。",

    # ---- checks: greedy decoding (7.2) and beam search (7.3) ------------------------------------------
    "expected a list of token ids, got a tensor of shape {shape} and dtype {dtype} on {on}":
        "在 {on} 上应返回词元 id 的列表，你返回的却是形状为 {shape}、dtype 为 {dtype} 的张量",
    "expected a list of token ids, got {kind} on {on}":
        "在 {on} 上应返回词元 id 的列表，你返回的却是 {kind}",
    "expected a list of token ids (ints), found {token!r} ({kind}) on {on}":
        "在 {on} 上应返回词元 id（整数）的列表，其中却有 {token!r}（{kind}）",
    "your function never called step_fn on {on}; call step_fn(prefix) to get the next token's log-probabilities.":
        "在 {on} 上，你的函数从未调用 `step_fn`；调用 `step_fn(prefix)` 才能得到下一个词元的对数概率。",
    "step_fn was called with the prefix {prefix} on {on}; give it the whole prefix, starting with <bos> (id {bos}): "
    "the model needs to see <bos> first.":
        "在 {on} 上，`step_fn` 收到的前缀是 {prefix}；应传入完整的前缀，以 <bos>（id {bos}）开头：模型需要先看到 <bos>。",
    "贪心解码 (greedy decoding): you returned <bos> at the start; return only the generated tokens.":
        "贪心解码：你在开头返回了 <bos>；只应返回生成的词元。",
    "贪心解码 (greedy decoding): you returned <eos> at the end; stop at <eos> and leave it out.":
        "贪心解码：你在末尾返回了 <eos>；遇到 <eos> 就停下，并且不要把它放进结果。",
    "贪心解码 (greedy decoding) does not stop at <eos>: once the chosen token is eos_id, stop.":
        "贪心解码没有在 <eos> 处停下：选中的词元一旦是 `eos_id`，就停止。",
    "贪心解码 (greedy decoding): you picked the least likely token; take the most likely, argmax().":
        "贪心解码：你选了可能性最小的词元；应选可能性最大的，`argmax()`。",
    "贪心解码 (greedy decoding): every step sees the same prefix; append each chosen token to the prefix before "
    "the next call of step_fn.":
        "贪心解码：每一步看到的前缀都一样；下一次调用 `step_fn` 之前，要把选中的词元追加到前缀后面。",
    "贪心解码 (greedy decoding): one token too few — generate up to max_len tokens (an <eos> counts as one of "
    "them).":
        "贪心解码：少了一个词元——最多应生成 `max_len` 个词元（<eos> 也算一个）。",
    "贪心解码 (greedy decoding): one token too many — generate at most max_len tokens.":
        "贪心解码：多了一个词元——最多只能生成 `max_len` 个词元。",
    "贪心解码 (greedy decoding)": "贪心解码（greedy decoding）",
    "your greedy-decoding function": "你的贪心解码函数",
    "a toy model that ends with <eos> after a few tokens (max_len=10)":
        "一个几个词元后就以 <eos> 结束的玩具模型（`max_len=10`）",
    "a toy model that never picks <eos> (max_len=6)": "一个从不选 <eos> 的玩具模型（`max_len=6`）",
    "wrong tokens on {on}: got {result}, expected {expected}.":
        "在 {on} 上，输出的词元不对：你得到 {result}，应为 {expected}。",
    " At each step: log_p = step_fn(prefix); token = argmax; append it; stop at eos_id.":
        "每一步：`log_p = step_fn(prefix)`；取 argmax 得到词元；把它追加到前缀；遇到 `eos_id` 就停止。",
    "a small (untrained) transformer_lesson.Transformer, source {source}, max_len={max_len}":
        "一个小型（未训练的）`transformer_lesson.Transformer`，源序列 {source}，`max_len={max_len}`",
    "on {on} you got {result}, but transformer_lesson.greedy_decode gives {expected}.":
        "在 {on} 上，你得到 {result}，而 `transformer_lesson.greedy_decode` 给出 {expected}。",
    "束搜索 (beam search) returned what greedy decoding returns: keep the beam_size best extensions at each step, "
    "ranked by their total log-probability (the sum over the whole prefix), not just the best one.":
        "束搜索返回的结果和贪心解码一样：每一步要保留 `beam_size` 个最好的扩展，按总对数概率"
        "（整个前缀上的和）排序，而不是只留最好的一个。",
    "束搜索 (beam search) ignores the length penalty: rank finished sentences by log P / ((5 + |Y|) / 6) ** alpha.":
        "束搜索忽略了长度惩罚：已完成的句子应按 `log P / ((5 + |Y|) / 6) ** alpha` 排序。",
    "束搜索 (beam search): you divided by the length |Y|; the GNMT length penalty is ((5 + |Y|) / 6) ** alpha "
    "(with alpha=0 it is 1: no normalisation at all).":
        "束搜索：你除以了长度 |Y|；GNMT 的长度惩罚是 `((5 + |Y|) / 6) ** alpha`（`alpha=0` 时它等于 1，"
        "即完全不做归一化）。",
    "束搜索 (beam search): you multiplied by the length penalty; divide: log P / ((5 + |Y|) / 6) ** alpha.":
        "束搜索：你乘上了长度惩罚；应该除以它：`log P / ((5 + |Y|) / 6) ** alpha`。",
    "束搜索 (beam search) returned the first sentence to finish; keep searching and return the best-scoring "
    "finished sentence.":
        "束搜索返回了第一个完成的句子；应继续搜索，返回得分最高的已完成句子。",
    "束搜索 (beam search): you returned <bos> at the start; return only the generated tokens.":
        "束搜索：你在开头返回了 <bos>；只应返回生成的词元。",
    "束搜索 (beam search): you returned <eos> at the end; leave it out.":
        "束搜索：你在末尾返回了 <eos>；结果里不要包含它。",
    "束搜索 (beam search): a sentence that picked <eos> must leave the beam as finished, not keep growing after "
    "<eos>.":
        "束搜索：选中 <eos> 的句子应作为已完成的句子离开束，而不是在 <eos> 之后继续变长。",
    "束搜索 (beam search): when no sentence reaches <eos> within max_len, return the best unfinished one.":
        "束搜索：如果在 `max_len` 之内没有句子到达 <eos>，应返回最好的未完成句子。",
    "束搜索 (beam search)": "束搜索（beam search）",
    "your beam-search function": "你的束搜索函数",
    "a sentence that picked <eos> must leave the beam as finished; <eos> never appears inside.":
        "选中 <eos> 的句子应作为已完成的句子离开束；<eos> 不会出现在句子中间。",
    "wrong sentence on {on}: got {result}, expected {expected}.":
        "在 {on} 上，得到的句子不对：你得到 {result}，应为 {expected}。",
    " Each step: extend every live hypothesis by every token, keep the beam_size best by total log-probability, "
    "move those ending in <eos> to the finished list; at the end return the best log P / ((5 + |Y|) / 6) ** alpha.":
        "每一步：把每个未完成的候选用每个词元各扩展一次，按总对数概率保留最好的 `beam_size` 个，"
        "以 <eos> 结尾的移入已完成列表；最后返回 `log P / ((5 + |Y|) / 6) ** alpha` 最高的那个。",
}
