"""Chinese for lesson 09, from the translator to ChatGPT (从翻译模型到 ChatGPT): its diagram, figures, widgets,
experiments and the checkers of its exercise (KV cache, top-k, top-p, RoPE). Terms as in docs/terminology.md."""

MESSAGES: dict[str, str] = {
    # ---- diagrams.three_families --------------------------------------------------------------------------
    "Three families, one block (三种结构，同一个模块)": "三种结构，同一个模块",
    "Encoder-only 仅编码器": "仅编码器（encoder-only）",
    "Decoder-only 仅解码器": "仅解码器（decoder-only）",
    "Encoder-decoder 编码器-解码器": "编码器-解码器（encoder-decoder）",
    "the 2017 paper, our translator": "2017 年的论文，我们的翻译模型",
    "self-attention 自注意力, {mask}": "自注意力，{mask}",
    "feed-forward 前馈网络": "前馈网络",
    "no mask": "无掩码",
    "causal": "因果掩码",
    "mask: none 无掩码": "掩码：无",
    "causal mask 因果掩码": "因果掩码",
    "row: a word; ✓: the words it may attend to": "每行一个词；✓：它可以关注的词",
    "every word sees every word:\nunderstanding 语义理解 (classify, fill a blank)":
        "每个词都看得到所有词：\n用于语义理解（分类、完形填空）",
    "each word sees only the past:\npredict the next token 下一个词元, append it":
        "每个词只看得到前面的词：\n预测下一个词元，再把它接上",
    "append, run again": "接上，再运行",
    "encoder 编码器\nno mask": "编码器\n无掩码",
    "decoder 解码器\ncausal mask\n+ cross-attn": "解码器\n因果掩码\n+ 交叉注意力",
    "memory → cross-attention\n交叉注意力": "记忆（memory）\n→ 交叉注意力",
    "the encoder's layer is the same\nEncoderLayer; each decoder layer\nadds cross-attention to the source":
        "编码器的层就是同一个\nEncoderLayer；每个解码器层\n再加上读源句的交叉注意力",
    "read the source in full, write the\ntarget token by token (translation 翻译)":
        "先完整读入源句，再逐个词元\n写出目标句（翻译）",

    # ---- experiments ----------------------------------------------------------------------------------------
    "unknown English word(s) {unknown}: the model knows only the corpus's words":
        "未知的英文单词 {unknown}：模型只认识语料库里的词",
    "encoder-decoder (lesson 07)": "编码器-解码器（第 07 课）",
    "decoder-only (GPT-style)": "仅解码器（GPT 式）",

    # ---- plots ----------------------------------------------------------------------------------------------
    "training loss (训练损失)": "训练损失",
    "cost of one new token (每个新词元的开销)": "每个新词元的开销",
    "without the cache: all positions again": "不用缓存：所有位置重算一遍",
    "with the KV cache: the new position only": "用 KV 缓存：只算新位置",
    "tokens already generated (length)": "已生成的词元数（长度）",
    "ms per new token (CPU time)": "每个新词元的毫秒数（CPU 时间）",
    "added code x + PE (the 2017 paper)": "相加的编码 x + PE（2017 年的论文）",
    "RoPE: rotate q and k": "RoPE：旋转 q 和 k",
    "position of the key (the query sits {offset} positions later)": "键的位置（查询在它之后 {offset} 个位置）",
    "score q·k / √d": "分数 q·k / √d",
    "the same two words, always {offset} apart (相对位置)": "同样两个词，始终相距 {offset} 个位置（相对位置）",
    "the model (T = 1)": "模型给出的分布（T = 1）",
    "sampled from": "实际采样的分布",
    "first token (第一个词元)": "第一个词元",
    "samples": "样本数",
    "{n} samples (采样)": "{n} 次采样",

    # ---- widgets --------------------------------------------------------------------------------------------
    "step": "步",
    "step {step}: P(next token | everything before it)": "第 {step} 步：P(下一个词元 | 它之前的全部内容)",
    "step {step} of {steps}: the model reads <code>{read}</code> and appends <b>{chosen}</b> (P = {p:.2f}); ":
        "第 {step} 步（共 {steps} 步）：模型读入 <code>{read}</code>，在末尾接上 <b>{chosen}</b>（P = {p:.2f}）；",
    "&lt;eos&gt; ends the answer.": "&lt;eos&gt; 结束了回答。",
    "then it runs again on the longer input.": "然后在变长了的输入上再运行一次。",
    "top-k (0: off)": "top-k（0 为关）",
    "top-p (1: off)": "top-p（1 为关）",
    "off": "关",
    "temperature {temperature:.1f}, top-k {top_k}, top-p {top_p}: the first token is drawn from {kept} of {vocab} "
    "tokens; {samples} samples give {distinct} different outputs, {right} of them the right one ({reference}).":
        "温度 {temperature:.1f}，top-k {top_k}，top-p {top_p}：第一个词元从 {vocab} 个词元中的 {kept} 个里抽取；"
        "{samples} 次采样得到 {distinct} 种不同的输出，其中 {right} 次是正确译文（{reference}）。",

    # ---- checks: one decoding step with a KV cache ------------------------------------------------------------
    "键值缓存 (KV cache) decoding step": "KV 缓存的单步解码",
    "your step function": "你的单步函数",
    "step {step} (x_new {shape}, a cache of {t} position(s), d_k={d_k}, d_v={d_v})":
        "第 {step} 步（x_new {shape}，缓存中已有 {t} 个位置，d_k={d_k}，d_v={d_v}）",
    "expected a pair (output, cache) with the cache a dict {{'k': ..., 'v': ...}} on {on}, got {kind}. End with "
    "`return output, cache`.":
        "在 {on} 上，应当返回一对 (output, cache)，其中 cache 是字典 {{'k': ..., 'v': ...}}，实际得到的却是 "
        "{kind}。函数最后请写 `return output, cache`。",
    "expected the returned cache to hold 'k' and 'v', got the keys {keys} on {on}.":
        "在 {on} 上，返回的 cache 应当含有 'k' 和 'v'，实际的键是 {keys}。",
    "cached keys": "缓存里的键",
    "you return an output for every cached position; a step returns the newest token's output only, (B, 1, d_v).":
        "你为缓存里的每个位置都返回了输出；一步只返回最新词元的输出，形状为 (B, 1, d_v)。",
    "your output is weights @ keys; it is weights @ values (cache['v']).":
        "你的输出是 weights @ 键；应当是 weights @ 值（cache['v']）。",
    "位置 (positions) off by one: the new token's position is the number of tokens already in the cache, "
    "cache['k'].size(1) (positions count from 0); yours is one more.":
        "位置差了 1：新词元的位置等于缓存里已有的词元数，即 cache['k'].size(1)（位置从 0 开始数）；"
        "你用的位置多了 1。",
    "位置 (positions) off by one: the new token's position is cache['k'].size(1), the number of cached tokens; "
    "yours is one less (the last cached token's position).":
        "位置差了 1：新词元的位置是 cache['k'].size(1)，即缓存里已有的词元数；你用的位置少了 1"
        "（那是缓存里最后一个词元的位置）。",
    "位置 (positions): every step adds the code of position 0. A step sees one token, but that token sits at "
    "position cache['k'].size(1), not at 0.":
        "位置：每一步加的都是位置 0 的编码。一步虽然只看到一个词元，但这个词元位于位置 cache['k'].size(1)，"
        "而不是 0。",
    "位置 (positions): no positional code is added; add the code of the new token's position (cache['k'].size(1)) "
    "before projecting.":
        "位置：没有加位置编码；投影之前，先加上新词元所在位置（cache['k'].size(1)）的编码。",
    "键值缓存 (KV cache): you attend before appending the new key and value, so the new token cannot see itself "
    "(and the first step sees nothing). Append first, then attend over the whole cache.":
        "KV 缓存：你在追加新的键和值之前就算了注意力，所以新词元看不到它自己（第一步什么也看不到）。"
        "先追加，再对整个缓存算注意力。",
    "键值缓存 (KV cache): you attend only to the newest key and value; attend over every cached position, "
    "cache['k'] and cache['v'] after appending.":
        "KV 缓存：你只关注了最新的键和值；追加之后，应当对缓存里的每个位置（cache['k'] 和 cache['v']）"
        "算注意力。",
    "掩码 (mask): you masked with the first row of a causal mask, so the new token sees only position 0. The newest "
    "query is the last position: every cached key is in its past, so a cached step needs no mask at all.":
        "掩码：你用了因果掩码的第一行，所以新词元只看得到位置 0。最新的查询在最后一个位置，缓存里的每个键"
        "都在它之前，所以带缓存的一步根本不需要掩码。",
    "缩放 (scaling): divide the scores by sqrt(d_k).": "缩放：分数要除以 sqrt(d_k)。",
    "缩放 (scaling): divide by sqrt(d_k), not by d_k.": "缩放：要除以 sqrt(d_k)，而不是 d_k。",
    "softmax over the wrong axis: with one query the scores are (B, 1, T); softmax goes over the keys, dim=-1 "
    "(over dim=1 every weight is 1).":
        "softmax 沿错了维度：只有一个查询时，分数的形状是 (B, 1, T)；softmax 应沿键所在的维度 dim=-1 计算"
        "（沿 dim=1 计算，每个权重都是 1）。",
    "键值缓存 (KV cache): the cache holds queries under 'k'; it keeps the keys x W_k (queries are never cached: "
    "only the newest position asks).":
        "KV 缓存：你的缓存在 'k' 下存的是查询；应当存键 x W_k（查询从不缓存：只有最新的位置在提问）。",
    "cache['k'] = torch.cat([cache['k'], k_new], dim=1), k_new = (x_new + PE[position]) @ W_k.":
        "cache['k'] = torch.cat([cache['k'], k_new], dim=1)，其中 k_new = (x_new + PE[position]) @ W_k。",
    "scores = q @ cache['k'].transpose(1, 2) / sqrt(d_k); output = softmax(scores, dim=-1) @ cache['v'].":
        "先算 scores = q @ cache['k'].transpose(1, 2) / sqrt(d_k)，再算 output = softmax(scores, dim=-1) @ cache['v']。",
    "the cache grows along the feature axis: torch.cat(..., dim=-1) glues each new vector onto the last one. A "
    "cache is (B, T, d): append along the time axis, dim=1 (in the package's (B, h, T, d_k) cache, dim=2).":
        "缓存沿特征维增长了：torch.cat(..., dim=-1) 把每个新向量接在上一个向量后面。缓存的形状是 (B, T, d)："
        "应沿时间维 dim=1 追加（程序包里形状为 (B, h, T, d_k) 的缓存则是 dim=2）。",
    "the cache grows along the feature axis: torch.cat(..., dim=-1) glues each new vector onto the end of the last "
    "one. A cache is (B, T, d): append along the time axis, dim=1 (in the package's (B, h, T, d_k) cache, dim=2).":
        "缓存沿特征维增长了：torch.cat(..., dim=-1) 把每个新向量接在上一个向量的末尾。缓存的形状是 "
        "(B, T, d)：应沿时间维 dim=1 追加（程序包里形状为 (B, h, T, d_k) 的缓存则是 dim=2）。",
    "the cache grows along the batch axis (dim=0): each step would look like a new sentence. Append along the time "
    "axis, dim=1.":
        "缓存沿批量维（dim=0）增长了：每一步都会像是一个新句子。应沿时间维 dim=1 追加。",
    "the cache grows along the batch axis (dim=0): each step looks like a new sentence. Append along the time axis, "
    "dim=1.":
        "缓存沿批量维（dim=0）增长了：每一步看上去都像一个新句子。应沿时间维 dim=1 追加。",
    "the time axis is right, but the feature sizes do not fit: are keys and values swapped? cache['k'] holds keys "
    "(d_k features), cache['v'] values (d_v features), and d_k != d_v here.":
        "时间维没错，但特征数对不上：是不是把键和值弄反了？cache['k'] 存键（d_k 个特征），cache['v'] 存值"
        "（d_v 个特征），而这里 d_k != d_v。",
    "check which cached tensor you multiply: scores = q @ cache['k'].transpose(1, 2), output = weights @ cache['v'].":
        "检查你乘的是哪个缓存张量：scores = q @ cache['k'].transpose(1, 2)，output = weights @ cache['v']。",
    "your cache holds the inputs x (B, T, d_model), not the keys and values x W_k, x W_v: each step then projects "
    "every earlier position again, the recomputation a KV cache exists to avoid. Store k and v themselves.":
        "你的缓存存的是输入 x (B, T, d_model)，而不是键和值 x W_k、x W_v：这样每一步都要把之前的每个位置"
        "重新投影一遍，而 KV 缓存正是为了省掉这种重复计算。请直接存 k 和 v。",
    "the cache does not grow: it holds only the newest position. Append to it, torch.cat([cache[...], new], dim=1), "
    "instead of replacing it.":
        "缓存没有增长：它只存着最新的位置。请用 torch.cat([cache[...], new], dim=1) 往里追加，而不是替换它。",
    "cache['k'] and cache['v'] are swapped: keys have d_k={d_k} features, values d_v={d_v}.":
        "cache['k'] 和 cache['v'] 弄反了：键有 d_k={d_k} 个特征，值有 d_v={d_v} 个。",

    # ---- checks: RoPE ---------------------------------------------------------------------------------------
    "旋转位置编码 (RoPE)": "旋转位置编码（RoPE）",
    "your RoPE function": "你的 RoPE 函数",
    "q, k {q_shape}, v {v_shape}, positions {positions}": "q、k {q_shape}，v {v_shape}，位置 {positions}",
    "expected three tensors (q, k, v) on {on}, got {kind}. End with `return q, k, v`.":
        "在 {on} 上，应当返回三个张量 (q, k, v)，实际得到的却是 {kind}。函数最后请写 `return q, k, v`。",
    "keys": "键",
    "queries": "查询",
    "{name} comes back unchanged on {on}: RoPE rotates the queries and the keys, both (you rotated only the {other}, "
    "or neither). A score compares a rotated query with a rotated key.":
        "在 {on} 上，{name} 原样返回了：RoPE 要旋转查询和键，两者都要转（你只转了{other}，或者两者都没转）。"
        "分数比较的是旋转后的查询和旋转后的键。",
    "rotated {name}": "旋转后的 {name}",
    "旋转位置编码 (RoPE): you rotate dimension i together with dimension i + d/2 (the 'rotate_half' layout of "
    "GPT-NeoX and Hugging Face's LLaMA code). That is a valid RoPE too, but not this course's convention: here, as "
    "in the RoPE paper (Su et al. 2021) and lesson 02's sin/cos pairs, each pair is two neighbours, (2i, 2i+1): "
    "x[..., 0::2] with x[..., 1::2]. Weights trained with one layout give wrong scores with the other.":
        "旋转位置编码（RoPE）：你把第 i 维和第 i + d/2 维配成一对来旋转（GPT-NeoX 和 Hugging Face 的 LLaMA "
        "代码里的 'rotate_half' 排法）。这也是一种有效的 RoPE，但不是本课程的约定：这里和 RoPE 论文"
        "（Su et al. 2021）以及第 02 课的 sin/cos 对一样，每一对是相邻的两维 (2i, 2i+1)，即 x[..., 0::2] "
        "配 x[..., 1::2]。用一种排法训练出的权重，换成另一种排法，分数就错了。",
    "旋转位置编码 (RoPE): every pair turns by the same angle (the position itself). Pair i turns at its own "
    "frequency w_i = 10000^(-2i/d), as in lesson 02.":
        "旋转位置编码（RoPE）：每一对都转了同样的角度（就是位置本身）。第 i 对应当按它自己的频率 "
        "w_i = 10000^(-2i/d) 旋转，和第 02 课一样。",
    "旋转位置编码 (RoPE): the wrong frequency — w_i = 10000^(-i/d); it is 10000^(-2i/d) (i counts pairs).":
        "旋转位置编码（RoPE）：频率错了，你用的是 w_i = 10000^(-i/d)；应当是 10000^(-2i/d)（i 数的是第几对）。",
    "旋转位置编码 (RoPE): the wrong frequency — you doubled 2i again (torch.arange(0, d, 2) already holds 2i): "
    "w_i = 10000^(-2i/d).":
        "旋转位置编码（RoPE）：频率错了，你把 2i 又乘了 2（torch.arange(0, d, 2) 本身就是 2i）：应当是 "
        "w_i = 10000^(-2i/d)。",
    "旋转位置编码 (RoPE): you rotate the other way (by -pos * w_i): the first of each pair becomes a cos - b sin, "
    "the second a sin + b cos.":
        "旋转位置编码（RoPE）：你转反了方向（转了 -pos * w_i）：每对的第一个数应变成 `a cos - b sin`，"
        "第二个变成 `a sin + b cos`。",
    "旋转位置编码 (RoPE): cos and sin are swapped: (a, b) -> (a cos - b sin, a sin + b cos).":
        "旋转位置编码（RoPE）：cos 和 sin 弄反了，应当是 `(a, b) -> (a cos - b sin, a sin + b cos)`。",
    "旋转位置编码 (RoPE): the pairs are rotated right but put back in the wrong place: [all firsts | all seconds]. "
    "Each rotated pair goes back to dimensions 2i and 2i+1 (torch.stack(..., dim=-1).flatten(-2)).":
        "旋转位置编码（RoPE）：每一对转得没错，但放回的位置错了，排成了 [所有第一个 | 所有第二个]。"
        "转好的每一对应放回第 2i 和 2i+1 维（torch.stack(..., dim=-1).flatten(-2)）。",
    "位置 (positions): you used torch.arange(T) instead of the positions given; with a KV cache the new tokens' "
    "positions start at len(cache), not 0.":
        "位置：你用了 torch.arange(T)，没有用传入的 positions；有 KV 缓存时，新词元的位置从 len(cache) 开始，"
        "而不是 0。",
    "位置 (positions) off by one: rotate by the positions given, not positions + 1.":
        "位置差了 1：应按传入的 positions 旋转，而不是 positions + 1。",
    "a, b = x[..., 0::2], x[..., 1::2]; angle = positions[:, None] * 10000 ** (-torch.arange(0, d, 2) / d); pairs "
    "(a cos - b sin, a sin + b cos), put back at 2i, 2i+1.":
        "`a, b = x[..., 0::2], x[..., 1::2]`；`angle = positions[:, None] * 10000 ** (-torch.arange(0, d, 2) / d)`；"
        "每对变成 `(a cos - b sin, a sin + b cos)`，放回第 2i、2i+1 维。",
    "you rotated the values too. RoPE rotates only queries and keys: their dot product is what should depend on the "
    "offset. Values carry the content that attention mixes; return v as it is.":
        "你把值也旋转了。RoPE 只旋转查询和键：应当只依赖偏移的是它们的点积。值携带的是注意力要混合的内容；"
        "请原样返回 v。",
    "v changed on {on}.": "在 {on} 上，v 被改动了。",
    " RoPE leaves the values alone: return v unchanged.": "RoPE 不改动值：请原样返回 v。",
    "positions {start}..{end}": "位置 {start}..{end}",
    "scores after shifting every position by 9": "所有位置平移 9 之后的分数",
    "the same q, k": "同样的 q、k",
    "a rotation by m w against a rotation by n w leaves the angle (m - n) w between them.":
        "一个转了 m w、一个转了 n w，两者之间的夹角就是 (m - n) w。",

    # ---- checks: top-k and top-p ----------------------------------------------------------------------------
    "top-k 采样 (top-k filtering)": "top-k 过滤（top-k filtering）",
    "your top-k function": "你的 top-k 函数",
    "logits {shape}, k={k}": "形状为 {shape} 的 logits，k={k}",
    "one row of logits {shape}, k=4": "单独一行 logits {shape}，k=4",
    "the filtered logits": "过滤后的 logits",
    "filtered logits": "过滤后的 logits",
    "you returned only the k largest values (what topk returns); return a tensor of the logits' shape, each kept "
    "logit at its place and -inf elsewhere.":
        "你只返回了最大的 k 个值（也就是 topk 返回的东西）；应返回与 logits 形状相同的张量：保留的 logit "
        "留在原位，其余位置为 -inf。",
    "kth = logits.topk(k, dim=-1).values[..., -1:]; logits.masked_fill(logits < kth, float('-inf')).":
        "kth = logits.topk(k, dim=-1).values[..., -1:]；然后 logits.masked_fill(logits < kth, float('-inf'))。",
    "use dim=-1 everywhere, so that a single row (V,) works too.": "处处用 dim=-1，这样单独一行 (V,) 也能处理。",
    "top-k keeps k + 1 tokens: the k-th largest logit is topk(logits, k).values[..., -1]; keep the logits >= it "
    "(k tokens, not k + 1).":
        "top-k 保留了 k + 1 个词元：第 k 大的 logit 是 topk(logits, k).values[..., -1]；保留 >= 它的 logit"
        "（k 个词元，不是 k + 1 个）。",
    "top-k keeps one token too few (k - 1): keep the logits >= the k-th largest, not > it.":
        "top-k 少保留了一个词元（只有 k - 1 个）：应保留 >= 第 k 大值的 logit，而不是 > 它的。",
    "top-k: you set the removed logits to 0. A logit of 0 still gets probability exp(0) / Σ exp; set them to -inf "
    "(float('-inf')) so that softmax gives them 0.":
        "top-k：你把去掉的 logit 设成了 0。logit 为 0 的词元仍有概率 exp(0) / Σ exp；应设为 -inf"
        "（float('-inf')），softmax 才会给它们 0。",
    "top-k: you return probabilities (softmax after filtering). The filter returns logits, with -inf for the "
    "removed tokens; the sampler applies softmax once, at the end.":
        "top-k：你返回的是概率（过滤之后又做了 softmax）。过滤函数应返回 logits，去掉的词元为 -inf；"
        "softmax 由采样器在最后做一次。",
    "top-k: you filtered after the softmax and set the removed probabilities to 0. Filter the logits (-inf for "
    "removed tokens) and leave the softmax to the sampler.":
        "top-k：你在 softmax 之后才过滤，并把去掉的概率设成了 0。应过滤 logits（去掉的词元为 -inf），"
        "softmax 留给采样器。",
    "top-k: you kept the k smallest logits (topk(..., largest=False)); keep the k largest.":
        "top-k：你保留的是最小的 k 个 logit（topk(..., largest=False)）；应保留最大的 k 个。",
    "top-k: you took the k largest along dim 0 (over the rows); each row is one distribution: use dim=-1.":
        "top-k：你沿 dim 0（跨行）取了最大的 k 个；每一行是一个分布，应使用 dim=-1。",
    "top-k: your output is in ranked order (as sort/topk return it); keep every token at its own place in the "
    "vocabulary, with -inf where it is removed.":
        "top-k：你的输出是按大小排好序的（sort/topk 返回的顺序）；应让每个词元留在它在词表里的位置，"
        "去掉的位置填 -inf。",
    "核采样 (top-p / nucleus filtering)": "top-p（核）过滤（nucleus filtering）",
    "your top-p function": "你的 top-p 函数",
    "logits {shape}, p={p}": "形状为 {shape} 的 logits，p={p}",
    "top-p keeps one token too few: you kept the tokens whose running sum is below p, so the token that carries the "
    "sum to p is dropped (and when the top token alone holds p or more, nothing is kept). Keep a token when the "
    "tokens ranked above it hold less than p: cumsum - probs < p.":
        "top-p 少保留了一个词元：你保留的是累积和小于 p 的词元，于是让累积和达到 p 的那个词元被丢掉了"
        "（排第一的词元独自就占 p 或更多时，一个也不剩）。规则是：排在某个词元前面的词元合计不到 p，"
        "就保留它，即 cumsum - probs < p。",
    "top-p keeps one token too many: the nucleus ends with the token that carries the sum to p or beyond; the next "
    "one is left out (keep cumsum - probs < p).":
        "top-p 多保留了一个词元：核到让累积和达到或超过 p 的那个词元为止，它后面的那个不保留"
        "（保留 cumsum - probs < p 的词元）。",
    "top-p: you summed the probabilities in vocabulary order. Sort them from the likeliest down first "
    "(probs.sort(descending=True)), then take the running sum.":
        "top-p：你是按词表顺序累加概率的。应先从最可能的词元往下排序（probs.sort(descending=True)），"
        "再求累积和。",
    "top-p: you applied the mask made in ranked order to the logits in vocabulary order. Map it back: "
    "keep = torch.zeros_like(mask).scatter(-1, order, mask).":
        "top-p：你把按排名顺序得到的掩码直接用在了按词表顺序排列的 logits 上。要先映射回去："
        "keep = torch.zeros_like(mask).scatter(-1, order, mask)。",
    "top-p: you summed the logits. The nucleus is about probability: softmax first, then sort and take the running "
    "sum.":
        "top-p：你累加的是 logits。核是按概率算的：先做 softmax，再排序、求累积和。",
    "top-p: you sorted from the least likely up; the nucleus holds the likeliest tokens (sort(descending=True)).":
        "top-p：你是从最不可能的词元往上排的；核里放的是最可能的那些词元（sort(descending=True)）。",
    "top-p: you set the removed logits to 0; set them to -inf, so softmax gives them probability 0.":
        "top-p：你把去掉的 logit 设成了 0；应设为 -inf，softmax 才会给它们概率 0。",
    "top-p: you return probabilities (softmax after filtering); return logits with -inf for the removed tokens and "
    "leave the softmax to the sampler.":
        "top-p：你返回的是概率（过滤之后又做了 softmax）；应返回 logits，去掉的词元为 -inf，softmax 留给采样器。",
    "top-p: you filtered the probabilities (0 for removed tokens) instead of the logits; return logits with -inf "
    "for the removed tokens.":
        "top-p：你过滤的是概率（去掉的词元为 0），而不是 logits；应返回 logits，去掉的词元为 -inf。",
    "probs, order = softmax(logits).sort(descending=True); keep the ranked tokens with cumsum - probs < p; scatter "
    "the mask back; -inf for the others.":
        "probs, order = softmax(logits).sort(descending=True)；按排名保留 cumsum - probs < p 的词元；"
        "用 scatter 把掩码映射回词表顺序；其余设为 -inf。",
}
