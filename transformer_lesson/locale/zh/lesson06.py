"""Chinese for lesson 06, the encoder and the decoder (编码器与解码器): its diagrams, figures, widgets,
experiments and exercise checkers (transformer_lesson/lessons/lesson06_encoder_decoder/,
transformer_lesson/checks/lesson06_encoder_decoder.py)."""

MESSAGES: dict[str, str] = {
    # diagrams.py: the six steps of the seed, and what the decoder attends to
    "Input embeddings 输入嵌入": "输入嵌入（input embeddings）",
    "Positional encodings 位置编码": "位置编码（positional encodings）",
    "Encoder 编码器": "编码器（encoder）",
    "Decoder 解码器": "解码器（decoder）",
    "Output probabilities 输出嵌入/输出概率": "输出概率（output probabilities；原文称“输出嵌入”）",
    "Generation 生成": "生成（generation）",
    "Add & Norm 残差连接 + 层归一化": "残差连接 + 层归一化",
    "The Transformer in six steps (原文的六个步骤): I am a student → 我 是 学生":
        "原文讲解的 Transformer 六个步骤：I am a student → 我 是 学生",
    "source sentence 源句": "源句（source sentence）",
    "target so far (shifted right) 目标": "目前的目标序列（右移一位）",
    "Embedding 嵌入": "嵌入（Embedding）",
    "Multi-head self-attention\n多头自注意力": "多头自注意力\n(multi-head self-attention)",
    "Feed-forward network\n前馈网络 (FFN)": "位置感知前馈网络\n(FFN)",
    "Masked self-attention\n掩码多头自注意力": "掩码多头自注意力\n(masked self-attention)",
    "Multi-head cross-attention\n交叉注意力": "多头交叉注意力\n(cross-attention)",
    "memory 记忆: the encoder's output,\nkeys and values of cross-attention":
        "记忆（memory）是编码器的输出，\n也是交叉注意力的键和值",
    "Linear 线性层": "线性层（Linear）",
    "P(next token | <bos>), made-up numbers": "P(下一个词元 | <bos>)，数值仅为示意",
    "Input\nembeddings\n输入嵌入": "输入嵌入",
    "Positional\nencodings\n位置编码": "位置编码",
    "Encoder\n编码器\n(N × this\nlayer)": "编码器\n由 N 个\n这样的层\n组成",
    "Decoder\n解码器\n(N × this\nlayer)": "解码器\n由 N 个\n这样的层\n组成",
    "Output\nprobabilities\n输出概率\n(the seed:\n输出嵌入)": "输出概率\n原文叫作\n输出嵌入",
    "Generation\n生成: append\nthe chosen\ntoken (greedy\nor beam search\n贪心/束搜索),\nrun again\nuntil <eos>":
        "生成：\n把选中的词元\n接到输入末尾，\n再运行一次，\n直到 <eos>；\n选词用贪心搜索\n或束搜索",
    "What the decoder attends to (解码器的两种注意力)": "解码器的两种注意力：每个查询能看哪些位置",
    "Masked self-attention 掩码自注意力": "掩码自注意力（masked self-attention）",
    "Q, K, V all from the target 都来自目标序列": "Q、K、V 都来自目标序列",
    "Cross-attention 交叉注意力": "交叉注意力（cross-attention）",
    "Q from the decoder, K and V from the encoder's memory": "Q 来自解码器，K 和 V 来自编码器的记忆",
    "keys 键 (columns): what is looked at": "列：键（key），即被查看的位置",
    "queries 查询 (rows)": "行：查询（query）",
    "✓ may attend, × masked 掩码. Each query sees its own\nposition and earlier ones: "
    "the row of 我 predicts 是,\nso it must not see 是.":
        "✓ 可以关注，× 被掩码遮住。每个查询只看得到\n自己和之前的位置：“我”这一行要预测“是”，\n所以不能看到“是”。",
    "Every target position looks at every source word\n(only source padding would be "
    "masked).\nNo causal mask: the source is known in full.":
        "每个目标位置都能看到每个源词\n（只有源句的填充位置才会被遮住）。\n没有因果掩码：源句从一开始就完整已知。",

    # plots.py
    "P(next token)": "P(下一个词元)",
    "cross-attention 交叉注意力": "交叉注意力",
    "English word (key) 英文词": "英文词（键）",
    "Chinese token produced (query) 生成的中文词": "生成的中文词元（查询）",
    "expected one probability per vocabulary token ({n}), got {size}":
        "词表中每个词元应当对应一个概率（共 {n} 个），实际有 {size} 个",
    "expected weights of shape (T, S) = ({T}, {S}), got {shape}":
        "weights 的形状应当是 (T, S) = ({T}, {S})，实际是 {shape}",

    # widgets.py: which position to change; layer and head of the cross-attention
    "expected {T} tokens, one per target position, got {n}": "需要 {T} 个词元，每个目标位置一个，实际有 {n} 个",
    "change position": "改变的位置",
    "without a mask": "不加掩码",
    "with the causal mask": "加因果掩码",
    "max |change| of the logits": "logits 的最大绝对变化",
    "position {position}: {token} → {new}": "位置 {position}：{token} → {new}",
    "Changing position {position} ({token} → {new}): with the causal mask, positions "
    "0–{before} are unchanged (largest change {earlier_max:.3f}) and positions {position}–{last} "
    "(shaded) change. Without the mask, {moved} of the {position} earlier positions change too: they "
    "were looking at the future.":
        "改变位置 {position}（{token} → {new}）：加因果掩码时，位置 0–{before} 完全不变（最大变化 "
        "{earlier_max:.3f}），位置 {position}–{last}（灰色底纹）发生变化。不加掩码时，前面 {position} "
        "个位置中有 {moved} 个也跟着变了：它们一直在偷看未来。",
    "decoder layer {n}": "解码器第 {n} 层",
    "layer": "层",
    "mean of heads": "各头平均",
    "decoder layer {n}, {which}": "解码器第 {n} 层，{which}",
    "English word (key)": "英文词（键）",
    "Chinese token produced": "生成的中文词元",
    "Decoder layer {n}, {which}: {pairs} (each Chinese token's most attended English word).":
        "解码器第 {n} 层，{which}：{pairs}（每个中文词元最关注的英文词）。",

    # checks/lesson06_encoder_decoder.py: titles, inputs, parts
    "编码器层 (encoder layer)": "编码器层（encoder layer）",
    "解码器层 (decoder layer)": "解码器层（decoder layer）",
    "the reference built from your layer's own submodules": "用你的层自己的子模块搭出的参考结果",
    " (on {on})": "（输入：{on}）",
    "x of shape {shape}, no mask": "形状为 {shape} 的 x（不带掩码）",
    "x of shape {shape} with a padding mask {mask}": "形状为 {shape} 的 x，带填充掩码 {mask}",
    "x {x} and memory {memory}, no masks": "x {x} 和 memory {memory}（不带掩码）",
    "the same with a causal tgt_mask {tgt_mask}": "同样的 x 和 memory，加因果掩码 tgt_mask {tgt_mask}",
    "the same with tgt_mask {tgt_mask} and a padding memory_mask {memory_mask}":
        "同样的 x 和 memory，加 tgt_mask {tgt_mask} 和填充掩码 memory_mask {memory_mask}",
    "your layer's {call}, x of shape {shape}": "你的层的 `{call}`（x 的形状为 {shape}）",
    "expected an attribute `{name}` (an nn.Module); yours has none. {example}":
        "层里应当有属性 `{name}`（一个 nn.Module），你的层没有。{example}",
    "`{name}` is torch's nn.MultiheadAttention, which returns a pair (output, weights) and reads "
    "a boolean mask the other way round (True = hidden); build it from the package instead: "
    "self.{name} = MultiHeadAttention(d_model, num_heads), which returns one tensor and takes "
    "True = may attend.":
        "`{name}` 是 torch 的 nn.MultiheadAttention：它返回一对值 (output, weights)，对布尔掩码的理解也正好相反"
        "（True 表示遮住）。请改用程序包里的类来构造：`self.{name} = MultiHeadAttention(d_model, num_heads)`，"
        "它只返回一个张量，并且 True 表示可以关注。",
    "Build them in __init__ from the package: MultiHeadAttention, PositionwiseFeedForward, LayerNorm.":
        "请在 `__init__` 里用程序包中的 MultiHeadAttention、PositionwiseFeedForward 和 LayerNorm 构造它们。",
    "Build them in __init__ from the package: two MultiHeadAttention, a PositionwiseFeedForward, "
    "three LayerNorm.":
        "请在 `__init__` 里用程序包中的类构造它们：两个 MultiHeadAttention、一个 PositionwiseFeedForward、"
        "三个 LayerNorm。",
    "{call} returned {kind} of length {length}; expected one tensor of shape (B, T, d_model) = "
    "{shape}. Build `{name}` from the package's classes (lesson 03-05), which return a single "
    "tensor.":
        "`{call}` 返回了长度为 {length} 的 {kind}，这里需要的是一个形状为 (B, T, d_model) = {shape} 的张量。"
        "请用程序包里的类（第 03-05 课）构造 `{name}`，它们只返回一个张量。",
    "{call} returned {kind}; expected one tensor of shape (B, T, d_model) = {shape}. Build `{name}` "
    "from the package's classes (lesson 03-05), which return a single tensor.":
        "`{call}` 返回了 {kind}，这里需要的是一个形状为 (B, T, d_model) = {shape} 的张量。"
        "请用程序包里的类（第 03-05 课）构造 `{name}`，它们只返回一个张量。",
    "{call} returned shape {actual}; expected (B, T, d_model) = {shape}.":
        "`{call}` 返回的形状是 {actual}，应当是 (B, T, d_model) = {shape}。",
    "self_attn and cross_attn are the same module; the layer needs two separate attention modules "
    "with their own weights.":
        "`self_attn` 和 `cross_attn` 是同一个模块；这一层需要两个注意力模块，各有自己的权重。",

    # one LayerNorm for several sub-layers
    "{names} runs twice in one call of your layer": "{names} 在你的层的一次调用中运行了两次",
    "{names} runs {n} times in one call of your layer": "{names} 在你的层的一次调用中运行了 {n} 次",
    ", and {names} never runs": "，而 {names} 一次也没有运行",
    ", and {names} never run": "，而 {names} 一次也没有运行",
    "and": "和",
    "层归一化 (LayerNorm): both sub-layers use the same LayerNorm ({detail}): each residual sub-layer "
    "needs its own (two LayerNorms, with their own γ, β). Build {build}, each on its own line, and use "
    "each one once.":
        "层归一化（LayerNorm）：两个子层用了同一个 LayerNorm（{detail}）。每个残差子层都需要自己的 LayerNorm"
        "（一共两个，各有自己的 γ、β）。请分别构造 {build}，各写一行，每个只用一次。",
    "层归一化 (LayerNorm): several sub-layers use the same LayerNorm ({detail}): each residual sub-layer "
    "needs its own (three LayerNorms, with their own γ, β). Build {build}, each on its own line, and use "
    "each one once.":
        "层归一化（LayerNorm）：几个子层共用了同一个 LayerNorm（{detail}）。每个残差子层都需要自己的 LayerNorm"
        "（一共三个，各有自己的 γ、β）。请分别构造 {build}，各写一行，每个只用一次。",
    "self.{a} and self.{b} are one module: self.{a} = self.{b} = LayerNorm(d_model) builds one "
    "LayerNorm and gives it two names":
        "`self.{a}` 和 `self.{b}` 是同一个模块：`self.{a} = self.{b} = LayerNorm(d_model)` 只构造了一个 "
        "LayerNorm，却给它起了两个名字",
    "self.{a} and self.{b} share their γ, β parameters": "`self.{a}` 和 `self.{b}` 共用同一组 γ、β 参数",

    # the encoder layer's mistakes
    "编码器层 (encoder layer): your layer ignores the mask, so queries attend to padding; pass it on: "
    "self.self_attn(x, x, x, mask).":
        "编码器层（encoder layer）：你的层没有用掩码，查询因此会关注到填充位置；请把掩码传下去："
        "`self.self_attn(x, x, x, mask)`。",
    "编码器层 (encoder layer): you built Pre-LN, x + sublayer(norm(x)); this exercise asks for the "
    "paper's Post-LN: x = norm1(x + self_attn(x, x, x, mask)); x = norm2(x + feed_forward(x)).":
        "编码器层（encoder layer）：你搭的是 Pre-LN，即 `x + sublayer(norm(x))`；这个练习要的是论文里的 "
        "Post-LN：`x = norm1(x + self_attn(x, x, x, mask))`；`x = norm2(x + feed_forward(x))`。",
    "残差连接 (residual connection) missing around the self-attention: norm1(x + self_attn(...)).":
        "残差连接（residual connection）：自注意力外面少了残差连接，应当是 `norm1(x + self_attn(...))`。",
    "残差连接 (residual connection) missing around the feed-forward network: norm2(x + feed_forward(x)).":
        "残差连接（residual connection）：前馈网络外面少了残差连接，应当是 `norm2(x + feed_forward(x))`。",
    "编码器层 (encoder layer): norm1 and norm2 are swapped; norm1 follows the attention, norm2 the FFN.":
        "编码器层（encoder layer）：norm1 和 norm2 用反了；注意力之后接 norm1，FFN 之后接 norm2。",
    "编码器层 (encoder layer): the feed-forward network runs before the attention; attention first, "
    "then the FFN.":
        "编码器层（encoder layer）：前馈网络跑在了注意力前面；应当先做注意力，再做 FFN。",
    "x = norm1(x + self_attn(x, x, x, mask)); return norm2(x + feed_forward(x)).":
        "`x = norm1(x + self_attn(x, x, x, mask))`；`return norm2(x + feed_forward(x))`，两行都应当这样写。",

    # the decoder layer's mistakes
    "交叉注意力 (cross-attention): the cross-attention takes its queries from the decoder and its "
    "keys/values from the encoder memory: self.cross_attn(x, memory, memory, memory_mask), x first.":
        "交叉注意力（cross-attention）：交叉注意力的查询来自解码器，键和值来自编码器的记忆（memory）："
        "`self.cross_attn(x, memory, memory, memory_mask)`，x 放在第一个。",
    " Yours takes its queries from memory (length S = {S}) and its keys/values from x.":
        "你的实现却从 memory（长度 S = {S}）取查询，从 x 取键和值。",
    "掩码 (mask): tgt_mask (T, T) belongs to the self-attention, memory_mask (B, 1, 1, S) to the "
    "cross-attention; did you swap them?":
        "掩码（mask）：tgt_mask (T, T) 属于自注意力，memory_mask (B, 1, 1, S) 属于交叉注意力；"
        "你是不是把两者传反了？",
    "x is (B, T, d_model) and memory (B, S, d_model), here with T = {T} and S = {S}: the "
    "self-attention works on x alone with tgt_mask (T, T); the cross-attention takes its queries "
    "from x and its keys and values from memory, with memory_mask (B, 1, 1, S).":
        "x 的形状是 (B, T, d_model)，memory 的形状是 (B, S, d_model)，这里 T = {T}，S = {S}：自注意力只在 x "
        "上计算，用 tgt_mask (T, T)；交叉注意力的查询来自 x，键和值来自 memory，用 memory_mask (B, 1, 1, S)。",
    "交叉注意力 (cross-attention): the queries come from the decoder (x), the keys and values from the "
    "encoder's output: cross_attn(x, memory, memory, memory_mask).":
        "交叉注意力（cross-attention）：查询来自解码器（x），键和值来自编码器的输出："
        "`cross_attn(x, memory, memory, memory_mask)`。",
    "交叉注意力 (cross-attention) ignores the encoder: you attend over x again; keys and values come from "
    "memory: self.cross_attn(x, memory, memory, memory_mask).":
        "交叉注意力（cross-attention）没有用到编码器：你又在 x 上做了一次注意力；键和值应当来自 memory："
        "`self.cross_attn(x, memory, memory, memory_mask)`。",
    "交叉注意力 (cross-attention) uses self_attn's weights; use the layer's own cross_attn module.":
        "交叉注意力（cross-attention）用的是 `self_attn` 的权重；请用这一层自己的 `cross_attn` 模块。",
    "解码器 (decoder): your layer ignores tgt_mask, so each position sees future target tokens; pass it "
    "to the self-attention: self.self_attn(x, x, x, tgt_mask).":
        "解码器（decoder）：你的层没有用 tgt_mask，于是每个位置都能看到后面的目标词元；请把它传给自注意力："
        "`self.self_attn(x, x, x, tgt_mask)`。",
    "解码器 (decoder): your layer ignores memory_mask, so queries attend to source padding; pass it "
    "to the cross-attention: self.cross_attn(x, memory, memory, memory_mask).":
        "解码器（decoder）：你的层没有用 memory_mask，于是查询会关注到源句的填充位置；请把它传给交叉注意力："
        "`self.cross_attn(x, memory, memory, memory_mask)`。",
    "解码器层 (decoder layer): you built Pre-LN, x + sublayer(norm(x)); this exercise asks for the "
    "paper's Post-LN: x = norm(x + sublayer(x)) after each of the three sub-layers.":
        "解码器层（decoder layer）：你搭的是 Pre-LN，即 `x + sublayer(norm(x))`；这个练习要的是论文里的 "
        "Post-LN：三个子层之后各做一次 `x = norm(x + sublayer(x))`。",
    "解码器层 (decoder layer): the cross-attention runs before the masked self-attention; the order is "
    "self-attention, cross-attention, feed-forward.":
        "解码器层（decoder layer）：交叉注意力跑在了掩码自注意力前面；顺序应当是自注意力、交叉注意力、前馈网络。",
    "解码器层 (decoder layer): the LayerNorms are used in the wrong order: norm1 after the "
    "self-attention, norm2 after the cross-attention, norm3 after the FFN.":
        "解码器层（decoder layer）：LayerNorm 的顺序用错了：自注意力之后接 norm1，交叉注意力之后接 norm2，"
        "FFN 之后接 norm3。",
    "残差连接 (residual connection) missing around the cross-attention: norm2(x + cross_attn(...)).":
        "残差连接（residual connection）：交叉注意力外面少了残差连接，应当是 `norm2(x + cross_attn(...))`。",
    "残差连接 (residual connection) missing around the feed-forward network: norm3(x + feed_forward(x)).":
        "残差连接（residual connection）：前馈网络外面少了残差连接，应当是 `norm3(x + feed_forward(x))`。",
    "x = norm1(x + self_attn(x, x, x, tgt_mask)); x = norm2(x + cross_attn(x, memory, memory, "
    "memory_mask)); return norm3(x + feed_forward(x)).":
        "`x = norm1(x + self_attn(x, x, x, tgt_mask))`；`x = norm2(x + cross_attn(x, memory, memory, "
        "memory_mask))`；`return norm3(x + feed_forward(x))`，三行都应当这样写。",
}
