"""Chinese for lesson 01, self-attention (自注意力): its diagram, figures, widgets, experiments and checkers."""

MESSAGES: dict[str, str] = {
    # lessons/lesson01_self_attention/diagrams.py: the opening picture
    "Attention as a soft dictionary lookup (注意力：软性的字典查询)": "注意力：一次“软性”的字典查询",
    'Self-attention of "I am a student": the word "student" asks which words matter to it (made-up numbers)':
        "“I am a student”的自注意力：词“student”在问，哪些词对它重要（数字是虚构的）",
    "query 查询": "查询 query",
    "keys 键": "键 keys",
    "① score\nq ⋅ k": "① 分数\nq ⋅ k",
    "② softmax →\nweight 权重": "② softmax →\n权重",
    "values 值": "值 values",
    "③ weighted sum\n加权求和": "③ 加权求和",
    'q of\n"student"': "“student”\n的查询 q",
    "output 输出\n= Σ weight × value\n= [{a:.2f}, {b:.2f}]": "输出\n= Σ 权重 × 值\n= [{a:.2f}, {b:.2f}]",
    "sum = {total:.0f}": "总和 = {total:.0f}",
    "(÷ √d_k in the\nfull formula)": "（完整公式里\n还要 ÷ √d_k）",
    'Hard dictionary 字典: d["student"]': '普通字典（硬查询）：d["student"]',
    "picks exactly one key: weights 0, 0, 0, 1\n→ returns that one value":
        "只挑中一个键：权重 0, 0, 0, 1\n→ 返回那一个值",
    "Attention 注意力: a soft lookup": "注意力：软性查询",
    "weights {weights}\n→ blends all values": "权重 {weights}\n→ 按权重把所有的值混合起来",

    # lessons/lesson01_self_attention/plots.py
    "expected {n} key tokens to match the weights, got {got}":
        "键的词元数要和权重的个数一致，应为 {n} 个，实际给了 {got} 个",
    "key (attended to)": "键（被关注的词）",
    "without 1/sqrt(d_k)": "不除以 sqrt(d_k)",
    "with 1/sqrt(d_k)": "除以 sqrt(d_k)",
    "softmax weight": "softmax 权重",
    "largest softmax weight (mean)": "最大的 softmax 权重（平均）",
    "weight on the top key 最大权重": "分数最高的键所得的权重",
    "size of d softmax / d scores": "d softmax / d 分数 的大小",
    "gradient size 梯度大小": "梯度大小",
    "expected quantity to be one of {names}, got {quantity!r}": "quantity 应当是 {names} 之一，实际是 {quantity!r}",
    "all equal": "权重全部相等",
    "all on one key": "全部落在一个键上",

    # lessons/lesson01_self_attention/widgets.py
    "expected weights of shape (T, T) = ({T}, {T}) for {T} tokens, got {shape}":
        "{T} 个词元需要形状为 (T, T) = ({T}, {T}) 的权重，实际形状是 {shape}",
    'query "{token}": its row of the weights': "查询“{token}”：它那一行权重",
    "“{query}” attends most to “{top}” (weight {weight:.2f}); its weights sum to {total:.2f}.":
        "“{query}”最关注“{top}”（权重 {weight:.2f}）；这一行权重之和为 {total:.2f}。",
    "one query, d_k = {d_k}": "一个查询，d_k = {d_k}",
    "d_k = {d_k}: on average the top key of {n_keys} takes {unscaled:.2f} of the weight without the "
    "scale, {scaled:.2f} with it (equal weights would give each 1/{n_keys} = {uniform:.2f}).":
        "d_k = {d_k}：{n_keys} 个键中分数最高的那个，平均分到 {unscaled:.2f} 的权重（不缩放），"
        "缩放后是 {scaled:.2f}（如果权重全部相等，每个键各得 1/{n_keys} = {uniform:.2f}）。",

    # lessons/lesson01_self_attention/experiments.py
    "expected a non-empty list of words such as 'I am a student'.split(), got {tokens!r}":
        "这里需要一个非空的词列表，比如 'I am a student'.split()，实际得到的是 {tokens!r}",
    "expected the word {word!r} in the sentence {sentence!r}": "句子 {sentence!r} 里没有词 {word!r}",

    # checks/lesson01_self_attention.py: scaled dot-product attention
    "缩放点积注意力 (scaled dot-product attention)": "缩放点积注意力（scaled dot-product attention）",
    "your attention function": "你的注意力函数",
    "expected a pair (output, weights) on {on}, got {kind} of length {length}. End your "
    "function with `return output, weights`.":
        "在 {on} 上，函数应当返回一对 (output, weights)，实际返回的是长度为 {length} 的 {kind}。"
        "请在函数最后写 `return output, weights`。",
    "expected a pair (output, weights) on {on}, got {kind}. End your function with "
    "`return output, weights`.":
        "在 {on} 上，函数应当返回一对 (output, weights)，实际返回的是 {kind}。"
        "请在函数最后写 `return output, weights`。",
    "query {q}, key {k}, value {v}, no mask": "`query` {q}、`key` {k}、`value` {v}（不带掩码）",
    "you returned (weights, output); return them in the order (output, weights) (on {on}).":
        "你返回的是 (weights, output)；请按 (output, weights) 的顺序返回（输入：{on}）。",
    "weights": "权重",
    "your scores are key @ query^T; compute query @ key.transpose(-2, -1), so that "
    "row i holds query i's score against every key.":
        "你的分数算成了 key @ query^T；应当计算 query @ key.transpose(-2, -1)，"
        "这样第 i 行才是查询 i 对每个键的分数。",
    "you compared the queries with themselves; compare them with the keys: "
    "query @ key.transpose(-2, -1).":
        "你让查询和查询自己做了比较；应当和键比较：query @ key.transpose(-2, -1)。",
    "you multiplied the weights by the keys; the output is weights @ value.":
        "你用权重去乘了键；输出应当是 weights @ value。",
    "自注意力 (self-attention): your weights sum to 1 over the query axis, not the key axis — each query's row "
    "must sum to 1, so use softmax(scores, dim=-1).":
        "自注意力（self-attention）：你的权重是沿查询那一维加起来等于 1，而不是沿键那一维——"
        "每个查询的那一行加起来必须等于 1，所以要用 softmax(scores, dim=-1)。",
    "缩放 (scaling) is missing: the scores must be divided by sqrt(d_k) before the softmax, "
    "scores = query @ key.transpose(-2, -1) / sqrt(d_k).":
        "缺少缩放（scaling）：做 softmax 之前，分数要先除以 sqrt(d_k)："
        "scores = query @ key.transpose(-2, -1) / sqrt(d_k)。",
    "缩放 (scaling): you divided the scores by d_k; divide by its square root, sqrt(d_k) = "
    "math.sqrt(query.size(-1)).":
        "缩放（scaling）：你把分数除以了 d_k；应当除以它的平方根 sqrt(d_k) = math.sqrt(query.size(-1))。",
    "缩放 (scaling): you scaled by sqrt(d_v), the size of the value vectors; the scale is sqrt(d_k), the size of "
    "the query and key vectors (query.size(-1)).":
        "缩放（scaling）：你除以的是 sqrt(d_v)，d_v 是值向量的长度；应当除以 sqrt(d_k)，"
        "d_k 是查询向量和键向量的长度（query.size(-1)）。",
    "缩放 (scaling): you multiplied the scores by sqrt(d_k); divide them by it.":
        "缩放（scaling）：你把分数乘以了 sqrt(d_k)；应当除以它。",
    "缩放 (scaling): you divided the weights by sqrt(d_k) after the softmax; scale the scores before the "
    "softmax, so that each row of weights still sums to 1.":
        "缩放（scaling）：你在 softmax 之后才把权重除以 sqrt(d_k)；应当在 softmax 之前缩放分数，"
        "这样每一行权重加起来仍然等于 1。",
    "自注意力 (self-attention): softmax over the batch axis (dim=0); it goes over the keys, dim=-1.":
        "自注意力（self-attention）：softmax 做在了批量那一维（dim=0）上；它应当沿键那一维做，dim=-1。",
    "scores = query @ key.transpose(-2, -1) / math.sqrt(d_k); weights = softmax(scores, dim=-1).":
        "先算 scores = query @ key.transpose(-2, -1) / math.sqrt(d_k)，再算 weights = softmax(scores, dim=-1)。",
    "the output should be weights @ value; yours matches unscaled weights @ value.":
        "输出应当是 weights @ value；你的输出和“没有缩放的权重 @ value”一样。",
    "output = weights @ value, with the same weights you return.":
        "output = weights @ value，其中的 weights 要和你返回的权重是同一个。",
    "the same inputs with a boolean mask {shape} (True = may attend)":
        "带布尔掩码 {shape} 的同一组输入（True 表示可以关注）",
    "掩码 (mask): its meaning is inverted — in this course (as in F.scaled_dot_product_attention) True means "
    "'may attend', so fill the scores where the mask is False: scores.masked_fill(~mask, float('-inf')).":
        "掩码（mask）：含义弄反了——本课程里（和 F.scaled_dot_product_attention 一样）True 表示“可以关注”，"
        "所以要填充的是掩码为 False 的那些分数：scores.masked_fill(~mask, float('-inf'))。",
    "掩码 (mask): you masked after the softmax (setting weights to 0), so the remaining weights no longer sum "
    "to 1; fill the scores with -inf before the softmax instead.":
        "掩码（mask）：你在 softmax 之后才做掩码（把权重设为 0），剩下的权重加起来就不再等于 1；"
        "应当在 softmax 之前把这些分数填成 -inf。",
    "掩码 (mask): you filled masked scores with 0, but exp(0) = 1 still gives those keys weight; fill them "
    "with float('-inf') (or a large negative number such as -1e9).":
        "掩码（mask）：你把被遮住的分数填成了 0，可是 exp(0) = 1，这些键照样分到权重；"
        "应当填 float('-inf')（或者一个很大的负数，比如 -1e9）。",
    "掩码 (mask): the mask is ignored — masked keys still get weight. Use it: "
    "scores.masked_fill(~mask, float('-inf')) before the softmax.":
        "掩码（mask）：掩码没有起作用——被遮住的键仍然分到了权重。请用上它：在 softmax 之前写 "
        "scores.masked_fill(~mask, float('-inf'))。",
    "scores.masked_fill(~mask, float('-inf')) before the softmax; masked keys get weight 0.":
        "在 softmax 之前写 scores.masked_fill(~mask, float('-inf'))；被遮住的键权重应为 0。",
    "output = weights @ value.": "输出应当是 output = weights @ value。",
    "4-D inputs query {q}, key {k}, value {v} (B, h, T, d) with a mask {mask} that broadcasts over B and h":
        "形如 (B, h, T, d) 的四维输入 `query` {q}、`key` {k}、`value` {v}，和一个要在 B、h 上广播的掩码 {mask}",
    "use key.transpose(-2, -1) and softmax(..., dim=-1), which work for any number "
    "of leading dimensions (multi-head attention passes (B, h, T, d)).":
        "请用 key.transpose(-2, -1) 和 softmax(..., dim=-1)：不管前面有多少维，它们都适用"
        "（多头注意力传进来的是 (B, h, T, d)）。",
    "transpose the last two axes of key, key.transpose(-2, -1), so any leading axes stay put.":
        "只转置 key 的最后两维：key.transpose(-2, -1)，前面的维度保持不动。",
    "use the last two axes only: key.transpose(-2, -1), softmax(dim=-1).":
        "只在最后两维上操作：key.transpose(-2, -1)，softmax(dim=-1)。",

    # checks/lesson01_self_attention.py: the causal mask
    "因果掩码 (causal mask)": "因果掩码（causal mask）",
    "your causal-mask function": "你的因果掩码函数",
    "you returned an additive float mask (0 and -inf, like nn.Transformer's "
    "generate_square_subsequent_mask) on {on}; this course's masks are boolean, True where "
    "a position may attend: torch.ones(size, size, dtype=torch.bool).tril().":
        "在 {on} 上，你返回的是加性的浮点掩码（0 和 -inf，就像 nn.Transformer 的 "
        "generate_square_subsequent_mask）；本课程的掩码是布尔型的，True 表示该位置可以关注："
        "torch.ones(size, size, dtype=torch.bool).tril()。",
    "the mask must be boolean (dtype torch.bool), got {dtype} on {on}; make it with "
    "dtype=torch.bool, or add .bool() at the end.":
        "在 {on} 上，掩码必须是布尔型（dtype torch.bool），实际是 {dtype}；"
        "创建时写上 dtype=torch.bool，或者在最后加上 .bool()。",
    "the mask": "掩码",
    "mask": "掩码",
    "因果掩码 (causal mask): yours hides the diagonal — a position must be allowed to attend to itself "
    "(position 0 would see nothing at all); use tril() (diagonal=0), not tril(-1).":
        "因果掩码（causal mask）：你的掩码遮住了对角线——每个位置都必须能关注它自己"
        "（否则位置 0 什么也看不到）；请用 tril()（diagonal=0），不要用 tril(-1)。",
    "因果掩码 (causal mask): True marks the positions to hide (nn.MultiheadAttention's convention); in "
    "this course True means 'may attend', so the mask is ones.tril() — or invert yours with ~.":
        "因果掩码（causal mask）：你用 True 标记要遮住的位置（这是 nn.MultiheadAttention 的约定）；"
        "本课程里 True 表示“可以关注”，所以掩码是 ones.tril()——或者用 ~ 把你的掩码取反。",
    "因果掩码 (causal mask): yours is the upper triangle, so each position sees the future and not the "
    "past; row t is the query: it may see columns 0..t, the lower triangle, tril().":
        "因果掩码（causal mask）：你的掩码是上三角，于是每个位置看到的是未来而不是过去；"
        "第 t 行是查询，它可以看第 0..t 列，也就是下三角：tril()。",
    "因果掩码 (causal mask): each position may also see the next one; use tril() (diagonal=0), not "
    "tril(1).":
        "因果掩码（causal mask）：每个位置还能看到下一个位置；请用 tril()（diagonal=0），不要用 tril(1)。",
    "因果掩码 (causal mask): everything is allowed, so every position sees the future; keep only the "
    "lower triangle, tril().":
        "因果掩码（causal mask）：什么都没有遮住，每个位置都能看到未来；只保留下三角：tril()。",
    "row t (a query) may see columns 0..t: torch.ones(size, size, dtype=torch.bool).tril().":
        "第 t 行（一个查询）可以看第 0..t 列：torch.ones(size, size, dtype=torch.bool).tril()。",
}
