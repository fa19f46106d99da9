"""Chinese for the capstone translator's learner-visible output (capstone/): the training progress bar,
the translator's summary line and its unknown-word message, and the six-step table of `trace_translation`.
The command line's own help (cli.py) stays in English."""

MESSAGES: dict[str, str] = {
    # ---- training.py: the progress bar -------------------------------------------------------------
    "training": "训练",
    "step": "步骤",
    "epoch": "迭代周期",
    "lr": "学习率",
    "time": "用时",
    "test_acc": "测试准确率",

    # ---- translator.py ------------------------------------------------------------------------------
    "Translator({english} English / {chinese} Chinese tokens{size})":
        "Translator(英文词元 {english} 个 / 中文词元 {chinese} 个{size})",
    "expected an English sentence with at least one word, got {sentence!r}":
        "需要一个至少含一个词的英文句子，你给的是 {sentence!r}",
    "expected a sentence of at most {limit} words (this translator reads at most {limit} positions), got {n} words; "
    "split it into shorter sentences":
        "句子最多只能有 {limit} 个词（这个翻译模型最多读 {limit} 个位置），你给的有 {n} 个词；请把它拆成较短的句子",
    " (did you mean {word!r}?)": "（你是不是想写 {word!r}？）",
    "unknown English word(s): {unknown}; the model knows {n} words, e.g. {examples}{more}":
        "未知的英文词：{unknown}；模型认识 {n} 个词，例如 {examples}{more}",

    # ---- pipeline.py: the six steps as a table ------------------------------------------------------
    "output shape": "输出形状",
    "what it holds": "内容",
    "{n} words -> ids {ids}": "{n} 个词 -> id {ids}",
    "one context-aware vector per English word": "每个英文词一个融合了上下文的向量",
    "one vector per Chinese position, <bos> first": "每个中文位置一个向量，<bos> 在最前",
    "each row sums to {total:.3f}": "每行之和为 {total:.3f}",
    "greedy picks: {picks}": "贪心搜索依次选出：{picks}",
}
