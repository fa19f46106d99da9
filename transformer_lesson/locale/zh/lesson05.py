"""Chinese for lesson 05, the position-wise feed-forward network (位置感知前馈网络): its diagram, figures,
widget and checkers (transformer_lesson/lessons/lesson05_feed_forward/, checks/lesson05_feed_forward.py)."""

MESSAGES: dict[str, str] = {
    # diagrams.py: the opening picture
    "Position-wise feed-forward network: one small network, used at every position (位置感知前馈网络)":
        "位置感知前馈网络（position-wise FFN）：同一个小网络，用在每一个位置上",
    "position {t}": "位置 {t}",
    "output 输出\nd_model": "输出\nd_model",
    "hidden 隐藏层\nd_ff, ReLU": "隐藏层\nd_ff, ReLU",
    "input 输入\nd_model": "输入\nd_model",
    "the same W₁, b₁, W₂, b₂ at every position 每个位置用同一组权重": "每个位置都用同一组权重 W₁, b₁, W₂, b₂",
    "No line crosses the dashed borders: each position is computed alone, all at once.\n"
    "Mixing information between positions is attention's job. d_ff = 4 × d_model, as in the paper (512 → 2048).":
        "没有一条连线越过虚线：每个位置单独计算，所有位置同时算完。\n"
        "在位置之间交换信息是注意力的事。d_ff = 4 × d_model，与论文一致（512 → 2048）。",

    # experiments.py: the row names of layer_parameter_split (marked in plots.py, where they are drawn)
    "encoder layer": "编码器层",
    "decoder layer": "解码器层",

    # plots.py
    "hidden activations": "隐藏层激活值",
    "hidden unit (d_ff = {d_ff})": "隐藏单元（d_ff = {d_ff}）",
    "expected hidden activations of shape (T, d_ff) with T={n} tokens, got {shape}":
        "隐藏层激活值的形状应为 (T, d_ff)，其中 T={n}（词元数），实际是 {shape}",
    "how much each position's output changed": "每个位置的输出变了多少",
    "expected {n} changes for {name!r}, one per token, got {size}":
        "{name!r} 应有 {n} 个变化量，每个词元一个，实际有 {size} 个",
    "max |change| of the output": "输出的最大 |变化|",
    "where a layer's parameters are": "一层的参数都在哪里",
    "FFN": "前馈网络",
    "LayerNorm": "层归一化",
    "parameters (millions)": "参数量（百万）",
    "where a layer's arithmetic goes": "一层的计算量花在哪里",
    "share of the layer's FLOPs (matrix products)": "占该层 FLOPs 的比例（只计矩阵乘法）",

    # widgets.py
    "expected x of shape (T, d_model) with T={n} tokens, got {shape}":
        "x 的形状应为 (T, d_model)，其中 T={n}（词元数），实际是 {shape}",
    "activation": "激活函数",
    "{activation}(x W1 + b1): {n} positions × {d_ff} hidden units":
        "{activation}(x W1 + b1)：{n} 个位置 × {d_ff} 个隐藏单元",
    "ReLU, d_ff = {d_ff}: {zero:.0%} of the {numel} hidden activations are exactly 0 (white): "
    "those units are switched off for that word.":
        "ReLU，d_ff = {d_ff}：{numel} 个隐藏层激活值中有 {zero:.0%} 恰好为 0（白色），"
        "这些单元对那个词是关闭的。",
    "GELU, d_ff = {d_ff}: {zero:.0%} are exactly 0; {negative:.0%} are small negatives (down "
    "to {low:.2f}), where ReLU would give 0.":
        "GELU，d_ff = {d_ff}：{zero:.0%} 恰好为 0；{negative:.0%} 是很小的负值（最小到 {low:.2f}），"
        "换成 ReLU 它们都会是 0。",

    # checks/lesson05_feed_forward.py: check_feed_forward
    "位置感知前馈网络 (position-wise feed-forward network)": "位置感知前馈网络（position-wise feed-forward network）",
    "widens d_model -> d_ff": "把 d_model 扩宽到 d_ff",
    "narrows d_ff -> d_model": "把 d_ff 收窄回 d_model",
    "expected an attribute {name}, an nn.Linear that {words}; yours has none.":
        "应当有属性 `{name}`，即一个{words} 的 `nn.Linear`；你的模块没有这个属性。",
    "expected {name} = nn.Linear({n_in}, {n_out}) (it {words}), got {layer!r}":
        "`{name}` 应当是 `nn.Linear({n_in}, {n_out})`（它{words}），实际是 `{layer!r}`",
    "x of shape {shape}": "形状为 {shape} 的 x",
    "the same as x (..., d_model)": "与 x 相同的 (..., d_model)",
    "位置感知前馈网络 (FFN): no activation between the two layers — without max(0, ·) the two linear "
    "layers collapse into one; use linear2(torch.relu(linear1(x))).":
        "位置感知前馈网络（FFN）：两层之间没有激活函数。没有 max(0, ·)，两个线性层会合并成一个；"
        "请写成 `linear2(torch.relu(linear1(x)))`。",
    "位置感知前馈网络 (FFN): the ReLU comes after linear2; it goes between the layers: "
    "linear2(relu(linear1(x))).":
        "位置感知前馈网络（FFN）：ReLU 放在了 `linear2` 之后；它应当放在两层之间：`linear2(relu(linear1(x)))`。",
    "位置感知前馈网络 (FFN): a ReLU after linear2 too; only one, between the layers.":
        "位置感知前馈网络（FFN）：`linear2` 之后也加了一个 ReLU；只要一个，放在两层之间。",
    "位置感知前馈网络 (FFN): you used GELU; the paper's FFN uses ReLU, max(0, ·).":
        "位置感知前馈网络（FFN）：你用了 GELU；论文中的 FFN 用的是 ReLU，即 max(0, ·)。",
    "位置感知前馈网络 (FFN): you used tanh; the paper's FFN uses ReLU, max(0, ·).":
        "位置感知前馈网络（FFN）：你用了 tanh；论文中的 FFN 用的是 ReLU，即 max(0, ·)。",
    "位置感知前馈网络 (FFN): you used a sigmoid; the paper's FFN uses ReLU, max(0, ·).":
        "位置感知前馈网络（FFN）：你用了 sigmoid；论文中的 FFN 用的是 ReLU，即 max(0, ·)。",
    "位置感知前馈网络 (FFN): you added the input back (x + ...); the residual connection lives outside "
    "the FFN (lesson 04), so return linear2(relu(linear1(x))) alone.":
        "位置感知前馈网络（FFN）：你把输入又加了回去（`x + ...`）；残差连接在 FFN 外面（第 04 课），"
        "所以只返回 `linear2(relu(linear1(x)))`。",
    "linear2(torch.relu(linear1(x))).": "是否写成了 `linear2(torch.relu(linear1(x)))`。",

    # checks/lesson05_feed_forward.py: check_ffn_parameter_count
    "位置感知前馈网络的参数量 (FFN parameter count)": "位置感知前馈网络的参数量（FFN parameter count）",
    "your counting function": "一个计数函数",
    "expected a number, got {kind} on {on}": "在 {on} 上应当返回一个数，实际得到 {kind}",
    "you counted the two weight matrices but not the biases (d_ff in linear1, d_model in linear2).":
        "你数了两个权重矩阵，但没数偏置（`linear1` 有 d_ff 个，`linear2` 有 d_model 个）。",
    "linear2's bias (d_model numbers) is missing.": "漏了 `linear2` 的偏置（d_model 个数）。",
    "linear1's bias (d_ff numbers) is missing.": "漏了 `linear1` 的偏置（d_ff 个数）。",
    "you counted only linear1; linear2 (d_ff x d_model weights + d_model biases) counts too.":
        "你只数了 `linear1`；`linear2`（d_ff × d_model 个权重 + d_model 个偏置）也要算上。",
    "you counted one weight matrix only; there are two, plus their biases.":
        "你只数了一个权重矩阵；权重矩阵有两个，还要加上各自的偏置。",
    "linear2's bias has d_model numbers, not d_ff.": "`linear2` 的偏置有 d_model 个数，不是 d_ff 个。",
    "linear1's bias has d_ff numbers, not d_model.": "`linear1` 的偏置有 d_ff 个数，不是 d_model 个。",
    "wrong count on {on}: got {n}, expected {expected:,}.": "在 {on} 上数错了：得到 {n}，应为 {expected:,}。",
    " linear1 has d_model*d_ff weights + d_ff biases; linear2 has d_ff*d_model weights + d_model biases.":
        "`linear1` 有 d_model*d_ff 个权重和 d_ff 个偏置；`linear2` 有 d_ff*d_model 个权重和 d_model 个偏置。",
}
