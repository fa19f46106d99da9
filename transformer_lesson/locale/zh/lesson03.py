"""Chinese for lesson 03, multi-head attention (多头注意力): its diagram, figures, widget and checkers."""

MESSAGES: dict[str, str] = {
    # diagrams.split_and_merge
    "Multi-head attention: split into heads, attend, merge (多头注意力：拆分、计算、合并)":
        "多头注意力：分头、各头计算注意力、合并",
    "input x 输入": "输入 x",
    "Q 查询": "查询 Q",
    "K 键": "键 K",
    "V 值": "值 V",
    "split: h slices of d_k": "分头：h 段，每段 d_k 个数",
    "heads first 头在前": "头的轴移到前面",
    "attention in each head, separately\n每个头各自计算注意力\nsoftmax(Qᵢ Kᵢᵀ / √d_k) Vᵢ  for i = 0 … h−1":
        "每个头各自计算注意力\nsoftmax(Qᵢ Kᵢᵀ / √d_k) Vᵢ，i = 0 … h−1",
    "each head's output": "每个头的输出",
    "tokens first again": "词元的轴回到前面",
    "concatenated 拼接": "拼接后",
    "output 输出": "输出",
    "B: sentences in a batch, T: tokens (词元) per sentence, h: heads (头).\n"
    "d_model = h × d_k: 8 = 4 × 2 here (the lesson: 12 = 3 × 4; the paper: 512 = 8 × 64).\n"
    "K and V are split, moved and merged exactly like Q.\n"
    "The view moves no number: columns 0-1 become head 0, 2-3 head 1 ...":
        "B：一批中的句子数；T：每句的词元（token）数；h：头数。\n"
        "d_model = h × d_k：这里 8 = 4 × 2（本课 12 = 3 × 4，论文 512 = 8 × 64）。\n"
        "K 和 V 的拆分、移动与合并和 Q 完全一样。\n"
        "view 不移动任何数：第 0-1 列成为头 0，第 2-3 列成为头 1……",

    # plots.head_attention_grid
    "expected weights of shape (h, T, T) with T={T} tokens, got {shape}":
        "weights 的形状应为 (h, T, T)，其中 T={T} 是词元数，实际为 {shape}",
    "expected {h} titles, one per head, got {n}": "titles 应有 {h} 个（每个头一个），实际有 {n} 个",

    # widgets.head_selector_widget
    "trained": "训练后",
    "untrained": "训练前",
    "{model}: head {head}": "{model}：头 {head}",
    "key (attended to)": "键（被关注的词）",
    "query (attending)": "查询（发出关注的词）",
    "the word itself": "这个词自己",
    "the previous word (1 place to its left)": "前一个词（左边 1 位）",
    "the next word (1 place to its right)": "后一个词（右边 1 位）",
    "the word {n} places to its left (earlier)": "左边相隔 {n} 位的词（在它之前）",
    "the word {n} places to its right (later)": "右边相隔 {n} 位的词（在它之后）",
    "{model}, head {head}: {share:.0%} of this head's attention goes to {phrase} (offset {offset:+d}, "
    "outlined in orange).":
        "{model}，头 {head}：这个头 {share:.0%} 的注意力落在{phrase}上（偏移 {offset:+d}，橙色框出）。",
    "expected every model's weights of one shape (h, T, T) with T={T} tokens, got {shapes}":
        "每个模型的 weights 都应是同一形状 (h, T, T)，其中 T={T} 是词元数，实际为 {shapes}",

    # experiments.sentence_ids
    "expected the sentence's words among OFFSET_TASK_WORDS, got unknown words {unknown}":
        "句子中的词都应在 OFFSET_TASK_WORDS 里，实际有未知的词 {unknown}",

    # checks: titles, inputs, names
    "多头注意力 (multi-head attention), splitting the heads": "多头注意力（拆分多头）",
    "多头注意力 (multi-head attention)": "多头注意力",
    "your split_heads function": "你的 split_heads 函数",
    "x of shape {shape} with num_heads={h}": "形状为 {shape} 的 x、num_heads={h}",
    "self-attention, query = key = value of shape {shape}, no mask":
        "自注意力（query = key = value，形状为 {shape}，无掩码）",
    "cross-attention, query {query}, key and value {key} (different tensors), no mask":
        "交叉注意力（query 的形状为 {query}，key 和 value 是形状为 {key} 的另外两个张量，无掩码）",
    "the same cross-attention with a boolean mask {shape} (True = may attend)":
        "带布尔掩码 {shape}（True = 允许关注）的同一个交叉注意力",
    "the result": "结果",
    "result": "结果",

    # checks: hints on splitting
    "多头注意力 (multi-head attention): ": "多头注意力：",
    "heads split in the wrong order: view(B, T, d_k, h) makes head i take every h-th feature (i, i+h, i+2h, ...)"
    "{also}. Split as (B, T, h, d_k): heads first, then the d_k features of each head: "
    "x.view(B, T, h, d_k).transpose(1, 2), so head i takes the contiguous features i*d_k .. (i+1)*d_k.":
        "分头的顺序错了：view(B, T, d_k, h) 让头 i 每隔 h 个取一个特征（i, i+h, i+2h, ...）{also}。"
        "应按 (B, T, h, d_k) 拆分，先是头，再是每个头的 d_k 个特征：x.view(B, T, h, d_k).transpose(1, 2)，"
        "这样头 i 取的是连续的特征 i*d_k .. (i+1)*d_k。",
    ", and its .transpose(1, 2) then gives (B, d_k, T, h): d_k 'heads' of h numbers each":
        "；随后的 .transpose(1, 2) 又得到 (B, d_k, T, h)：d_k 个“头”，每个只有 h 个数",
    ", and its .transpose(1, 3) then gives (B, h, d_k, T): attention over features, not tokens":
        "；随后的 .transpose(1, 3) 又得到 (B, h, d_k, T)：注意力算在了特征之间，而不是词元之间",
    "heads split with view(B, h, T, d_k) and no transpose — that mixes tokens and features. Split with "
    ".view(B, T, h, d_k).transpose(1, 2).":
        "用 view(B, h, T, d_k) 分头而没有 transpose，这会把词元和特征混在一起。"
        "应写成 .view(B, T, h, d_k).transpose(1, 2)。",
    "多头注意力 (multi-head attention): heads split with view(B, h, T, d_k) and no transpose — that mixes "
    "tokens and features (the loss may still fall, but the heads are garbage). Split the last axis: "
    "x.view(B, T, h, d_k).transpose(1, 2).":
        "多头注意力：用 view(B, h, T, d_k) 分头而没有 transpose，这会把词元和特征混在一起"
        "（损失也许照样下降，但每个头拿到的都是打乱的数）。应只拆最后一个轴：x.view(B, T, h, d_k).transpose(1, 2)。",
    "you reshaped to (B, T, h, d_k) but did not move the head axis forward: "
    "add .transpose(1, 2) to get (B, h, T, d_k).":
        "你已 reshape 成 (B, T, h, d_k)，但没有把头的轴移到前面：加上 .transpose(1, 2)，得到 (B, h, T, d_k)。",
    "the last two axes are swapped: the result is (B, h, T, d_k).":
        "最后两个轴的顺序反了：结果应为 (B, h, T, d_k)。",
    "x.view(B, T, num_heads, d_k).transpose(1, 2).":
        "先只拆最后一个轴，再把头的轴移到前面：x.view(B, T, num_heads, d_k).transpose(1, 2)。",

    # checks: hints on merging
    "the heads are merged without transposing back — (B, h, T, d_k).reshape(B, T, d_model) mixes tokens; "
    "use heads.transpose(1, 2).reshape(B, T, d_model).":
        "合并各头之前没有先转置回来：(B, h, T, d_k).reshape(B, T, d_model) 会把词元混在一起；"
        "应写成 heads.transpose(1, 2).reshape(B, T, d_model)。",
    "the heads are merged in the wrong order: permute(0, 2, 3, 1) gives (B, T, d_k, h), so the merge "
    "interleaves the heads' features. The merge (concatenation of the heads) is "
    "heads.transpose(1, 2).reshape(B, T, d_model): (B, h, T, d_k) -> (B, T, h, d_k) -> (B, T, d_model), "
    "all of head 0's features, then all of head 1's, ...":
        "合并各头的顺序错了：permute(0, 2, 3, 1) 得到 (B, T, d_k, h)，合并后各头的特征交错在一起。"
        "合并（把各头拼接起来）应写成 heads.transpose(1, 2).reshape(B, T, d_model)："
        "(B, h, T, d_k) -> (B, T, h, d_k) -> (B, T, d_model)，先是头 0 的全部特征，再是头 1 的全部特征，……",
    "the heads are merged with transpose(2, 3), which gives (B, h, d_k, T): the reshape then mixes tokens and "
    "features. The merge (concatenation of the heads) is heads.transpose(1, 2).reshape(B, T, d_model).":
        "合并各头时用了 transpose(2, 3)，得到的是 (B, h, d_k, T)，随后的 reshape 会把词元和特征混在一起。"
        "合并（把各头拼接起来）应写成 heads.transpose(1, 2).reshape(B, T, d_model)。",
    "the heads are merged with transpose(1, 3), which gives (B, d_k, T, h): the reshape then mixes tokens and "
    "features. The merge (concatenation of the heads) is heads.transpose(1, 2).reshape(B, T, d_model).":
        "合并各头时用了 transpose(1, 3)，得到的是 (B, d_k, T, h)，随后的 reshape 会把词元和特征混在一起。"
        "合并（把各头拼接起来）应写成 heads.transpose(1, 2).reshape(B, T, d_model)。",
    "{split} Merge back with .transpose(1, 2).reshape(B, T, d_model); yours is wrong too: {merge}":
        "{split} 合并时应写成 .transpose(1, 2).reshape(B, T, d_model)；你的合并也错了：{merge}",

    # checks: the whole layer
    "expected an attribute {name} (an nn.Linear(d_model, d_model)); yours has none. Create it "
    "in __init__: self.w_q = nn.Linear(d_model, d_model), and the same for w_k, w_v, w_o.":
        "模块应有属性 {name}（一个 nn.Linear(d_model, d_model)），你的模块没有。请在 __init__ 里创建它："
        "self.w_q = nn.Linear(d_model, d_model)，w_k、w_v、w_o 同理。",
    "expected {name} to be nn.Linear(d_model, d_model) = nn.Linear({d}, {d}) (all heads side "
    "by side in one layer), got {layer!r}":
        "{name} 应为 nn.Linear(d_model, d_model) = nn.Linear({d}, {d})（所有头并排放在同一层里），实际为 {layer!r}",
    "the output must have one row per query: (B, T_q, d_model).":
        "输出应为每个查询各占一行：(B, T_q, d_model)。",
    "merge the heads back: heads.transpose(1, 2).reshape(B, T_q, d_model), then apply w_o.":
        "要把各头合并回来：heads.transpose(1, 2).reshape(B, T_q, d_model)，再经过 w_o。",
    "split with view(B, T, h, d_k).transpose(1, 2); scores / sqrt(d_k); softmax over "
    "the keys; merge with transpose(1, 2).reshape(B, T, d_model); then w_o.":
        "用 view(B, T, h, d_k).transpose(1, 2) 分头；分数除以 sqrt(d_k)；softmax 沿键的轴计算；"
        "用 transpose(1, 2).reshape(B, T, d_model) 合并；最后经过 w_o。",
    "多头注意力 (multi-head attention): you scaled by sqrt(d_model); each head compares d_k = d_model / h "
    "numbers, so scale by sqrt(d_k).":
        "多头注意力：你除以的是 sqrt(d_model)；每个头只比较 d_k = d_model / h 个数，所以应除以 sqrt(d_k)。",
    "多头注意力 (multi-head attention): no scaling — divide each head's scores by sqrt(d_k).":
        "多头注意力：没有缩放，每个头的分数都要除以 sqrt(d_k)。",
    "多头注意力 (multi-head attention): the output projection w_o is missing; concatenate the heads, then "
    "return self.w_o(concat).":
        "多头注意力：缺少输出投影 w_o；把各头拼接起来之后，返回 self.w_o(concat)。",
    "多头注意力 (multi-head attention): the values are projected with w_k; use w_v for the values.":
        "多头注意力：值是用 w_k 投影的；值应该用 w_v 投影。",
    "自注意力 (self-attention): your softmax runs over the query axis; use dim=-1 (the keys).":
        "自注意力：你的 softmax 沿查询的轴计算；应使用 dim=-1（键的轴）。",
    "多头注意力 (multi-head attention): keys and values are computed from query; use the key and value "
    "arguments: self.w_k(key), self.w_v(value).":
        "多头注意力：键和值是从 query 算出来的；应使用参数 key 和 value：self.w_k(key)、self.w_v(value)。",
    "掩码 (mask): its meaning is inverted — True means 'may attend', so fill where the mask is False: "
    "scores.masked_fill(~mask, float('-inf')).":
        "掩码：含义弄反了。True 表示“允许关注”，所以要在掩码为 False 的位置填充："
        "scores.masked_fill(~mask, float('-inf'))。",
    "掩码 (mask): the mask is ignored; pass it on to the attention of every head "
    "(it broadcasts over the head axis).":
        "掩码：掩码被忽略了；要把它传给每个头的注意力计算（它会沿头的轴自动广播）。",
}
