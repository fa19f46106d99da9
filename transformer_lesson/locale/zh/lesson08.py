"""Chinese for lesson 08, why attention (为什么是注意力): its diagram, figures, widget and the input checks of
its experiments (transformer_lesson/lessons/lesson08_why_attention/). Lesson 08 has no exercise, so no
checkers. Terms as in docs/terminology.md."""

MESSAGES: dict[str, str] = {
    # ---- diagrams.paths: a GRU's chain of steps beside self-attention's one step ----------------------------
    "Why attention: sequential steps and path length (为什么用注意力)": "为什么是注意力：顺序步数与路径长度",
    'GRU (循环神经网络): one word per step, {T} steps one after another; "{word}" reaches the last state through '
    "T − 1 = {hops} hops":
        "GRU（循环神经网络）：每步读一个词，{T} 步依次进行；“{word}”要经过 T − 1 = {hops} 跳才到达最后的状态",
    "input\n输入": "输入",
    "state\n状态": "状态",
    "output\n输出": "输出",
    "hop {n}": "第{n}跳",
    'Self-attention (自注意力): all {T} positions in 1 step; "{word}" reaches every output in 1 hop':
        "自注意力：{T} 个位置在 1 步内一起算完；“{word}”经 1 跳就到达每一个输出",
    "sequential steps 顺序步数: GRU T = {T}, attention 1   ·   longest path 最长路径: GRU T − 1 = {hops}, "
    "attention 1":
        "顺序步数：GRU T = {T}，注意力 1   ·   最长路径：GRU T − 1 = {hops}，注意力 1",
    "expected 2 to 8 words to draw, got {T}": "要画的词应为 2 到 8 个，实际有 {T} 个",

    # ---- experiments: the key-value recall task's input checks ----------------------------------------------
    "expected num_pairs in 1..{K} (one pair per key), got {num_pairs}":
        "num_pairs 应在 1..{K} 之间（每个键只有一对），实际是 {num_pairs}",
    "expected asked to be 'random' or 'first', got {asked!r}": "asked 应为 'random' 或 'first'，实际是 {asked!r}",

    # ---- plots ----------------------------------------------------------------------------------------------
    "self-attention 自注意力": "自注意力",
    "GRU (循环神经网络)": "GRU（循环神经网络）",
    "sequence length T": "序列长度 T",
    "operations one after another": "依次执行的运算个数",
    "sequential steps 顺序步数": "顺序步数",
    "floating-point operations": "浮点运算次数",
    "work 计算量": "计算量",
    "time of one forward pass 前向计算时间": "一次前向计算的时间",
    "milliseconds": "毫秒",
    "how much the last output feels a token d steps back": "最后一个输出对 d 个位置之前的词元有多敏感",
    "distance d (positions back)": "距离 d（往前数的位置数）",
    "key-value recall: accuracy against distance": "键值回忆：准确率随距离的变化",
    "attention ({n:,} parameters)": "注意力（{n:,} 个参数）",
    "GRU ({n:,} parameters)": "GRU（{n:,} 个参数）",
    "chance 随机猜测": "随机猜测",
    "distance: the asked pair lies d positions back": "距离：被问到的键值对在 d 个位置之前",
    "accuracy 准确率": "准确率",

    # ---- widgets.recall_distance_widget ---------------------------------------------------------------------
    "distance": "距离",
    "accuracy (dashed: chance)": "准确率（虚线：随机猜测）",
    "distance {distance}": "距离 {distance}",
    "the sequence (the asked pair first, the question last)": "序列（最前面是被问到的键值对，最后是问题）",
    "attention head {head}: where the question {question} looks": "注意力头 {head}：问题 {question} 看向哪里",
    "Distance {distance}: accuracy {acc_a:.2f} (attention) against {acc_g:.2f} (GRU); chance {chance:.2f}. In this "
    "example the question {question} asks for {pair}, {distance} positions back; head {head} puts {weight:.2f} of "
    "its weight there. Answers: attention {answer_a}, GRU {answer_g} (right: {right}).":
        "距离 {distance}：准确率 {acc_a:.2f}（注意力）对 {acc_g:.2f}（GRU）；随机猜测为 {chance:.2f}。在这个例子里，"
        "问题 {question} 问的是 {pair}，它在 {distance} 个位置之前；头 {head} 把 {weight:.2f} 的权重放在那里。"
        "回答：注意力 {answer_a}，GRU {answer_g}（正确答案：{right}）。",
}
