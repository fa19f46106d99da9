"""Chinese for lesson 04, residual connections and layer normalisation (残差连接和层归一化): its diagram,
figures, widgets and checkers (transformer_lesson/lessons/lesson04_residual_layernorm/, checks/lesson04_residual_layernorm.py).
The training-curve labels of `plots.loss_curves` are also what lesson 09 shows."""

MESSAGES: dict[str, str] = {
    # diagrams.py: the residual stream, Post-LN beside Pre-LN
    "The residual stream: where LayerNorm sits (残差流：层归一化的位置)":
        "残差流：层归一化放在哪里",
    "LayerNorm 层归一化": "层归一化 LayerNorm",
    "residual stream\n残差流": "残差流\n(residual stream)",
    "Multi-head attention\n多头注意力": "多头注意力\n(multi-head attention)",
    "Feed-forward network\n前馈网络 (FFN)": "前馈网络\n(FFN)",
    "Post-LN (the 2017 paper) 后置层归一化": "后置层归一化 Post-LN（2017 年的论文）",
    "Pre-LN (GPT-2 and many later models) 前置层归一化": "前置层归一化 Pre-LN（GPT-2 及之后的许多模型）",
    "final {norm}": "最后的{norm}",
    "(dashed: once, after the last layer of the stack)": "（虚线：整个堆叠只有一次，在最后一层之后）",
    "x (the layer's input)": "x（这一层的输入）",
    "x ← LayerNorm(x + Sublayer(x))\nthe stream itself passes through\n2 LayerNorms per layer":
        "x ← LayerNorm(x + Sublayer(x))\n残差流本身每层要\n经过 2 次层归一化",
    "x ← x + Sublayer(LayerNorm(x))\nthe stream is only added to (an identity path 恒等路径);\n"
    "LayerNorm sits on the branches":
        "x ← x + Sublayer(LayerNorm(x))\n残差流上只做加法（一条恒等路径）；\n层归一化在分支上",

    # experiments.py
    "expected at least one run's steps, got none": "至少需要一次运行的步数，却一个也没有收到",

    # plots.py: statistics per token, one token's features
    "expected before and after of shape (T, d_model) with T={n} tokens, got {before} and {after}":
        "before 和 after 的形状应当都是 (T, d_model)，且 T={n}（词元个数），实际是 {before} 和 {after}",
    "mean": "均值",
    "standard deviation": "标准差",
    "{name} per token (over d_model)": "每个词元的{name}（在 d_model 个特征上）",
    "before LayerNorm": "层归一化之前",
    "after LayerNorm": "层归一化之后",
    "input x": "输入 x",
    "feature": "特征",
    "{name} of “{token}”: mean {mean:.2f}, std {std}": "{name}（“{token}”）：均值 {mean:.2f}，标准差 {std}",
    "{name}: mean {mean:.2f}, std {std}": "{name}：均值 {mean:.2f}，标准差 {std}",
    # plots.py: gradients per layer
    "layer (1 = nearest the input)": "层（1 = 最靠近输入）",
    "gradient norm (log scale)": "梯度范数（对数坐标）",
    # plots.py: training curves (lesson 09 draws its curves with these too)
    "chance ({chance:.2f})": "随机猜测（{chance:.2f}）",
    "training step": "训练步",
    "loss (cross-entropy)": "损失（交叉熵）",
    "loss {threshold:g}": "损失 {threshold:g}",
    "loss, mean of the last {smooth} steps": "损失（最近 {smooth} 步的均值）",
    # plots.py: steps to a threshold
    "median: never": "中位数：未达到",
    "median {median:g}": "中位数 {median:g}",
    "never": "未达到",
    "first step below the threshold (of {budget})": "首次低于阈值的步数（共 {budget} 步）",

    # widgets.py: scale and shift one token
    "scale": "缩放",
    "shift": "平移",
    "input {scale:g}·x {sign} {shift:g}: mean {mean_in:.2f}, std {std_in:.3g} → LayerNorm: mean {mean_out:.2f}, "
    "std {std_out:.3f}; largest change from LayerNorm(x): {change:.1e}.":
        "输入 {scale:g}·x {sign} {shift:g}：均值 {mean_in:.2f}，标准差 {std_in:.3g} → 层归一化后：均值 {mean_out:.2f}，"
        "标准差 {std_out:.3f}；与 LayerNorm(x) 相比最大变化 {change:.1e}。",
    " The variance {var:.1e} is now close to eps = {eps:g}, which damps the output.":
        "此时方差 {var:.1e} 已接近 eps = {eps:g}，eps 把输出压小了。",
    # widgets.py: depth and the weights' gain
    "depth": "深度",
    "weights ×": "权重 ×",
    "plain: h = tanh(Wh + b)": "无残差：h = tanh(Wh + b)",
    "residual: h = h + tanh(Wh + b)": "有残差：h = h + tanh(Wh + b)",
    "Pre-LN: h = h + tanh(W·LN(h) + b)": "前置层归一化：h = h + tanh(W·LN(h) + b)",
    "gradient norm per layer, {depth} layers, weights × {gain:g}": "每层的梯度范数，{depth} 层，权重 × {gain:g}",
    "{depth} layers, weights × {gain:g}: the first layer gets {plain:.1e} × the last layer's gradient in the "
    "plain stack, {residual:.2g} × with residual connections, {pre_ln:.2g} × with residual connections and "
    "LayerNorm (Pre-LN).":
        "{depth} 层，权重 × {gain:g}：第一层得到的梯度是最后一层的 {plain:.1e} 倍（无残差的堆叠），"
        "{residual:.2g} 倍（有残差连接），{pre_ln:.2g} 倍（有残差连接和层归一化，Pre-LN）。",

    # checks: LayerNorm
    "层归一化 (LayerNorm)": "层归一化（LayerNorm）",
    "γ starts as 'no scaling'": "γ 一开始等于“不缩放”",
    "β starts as 'no shift'": "β 一开始等于“不平移”",
    "expected a parameter `{name}` of shape ({d},); yours has none. In __init__: "
    "self.{name} = nn.Parameter(torch.{fill}(d_model)).":
        "需要一个形状为 ({d},) 的参数 `{name}`，你的类里没有。请在 __init__ 里写："
        "`self.{name} = nn.Parameter(torch.{fill}(d_model))`。",
    "`{name}` must be an nn.Parameter (so the optimiser trains it): "
    "self.{name} = nn.Parameter(torch.{fill}(d_model)).":
        "`{name}` 必须是 nn.Parameter（优化器才会训练它）：`self.{name} = nn.Parameter(torch.{fill}(d_model))`。",
    "expected `{name}` of shape (d_model,) = ({d},), got {shape}: one number per feature.":
        "`{name}` 的形状应当是 (d_model,) = ({d},)，实际是 {shape}：每个特征一个数。",
    "`{name}` should start at {fill} ({meaning}).": "`{name}` 的初始值应当是 `torch.{fill}(d_model)`（{meaning}）。",
    "x of shape (2, 5, 8) with mean about 1 and standard deviation 2":
        "形状为 (2, 5, 8)、均值约为 1、标准差为 2 的 x",
    "a small-variance x of shape (2, 3, 8) (std 0.002, where eps matters)":
        "形状为 (2, 3, 8)、方差很小的 x（标准差 0.002，此时 eps 起作用）",
    "{on}, with non-trivial weight and bias": "{on}（weight 和 bias 取非平凡的值）",
    "LayerNorm(d_model={d}, eps={eps}) on the small-variance x": "方差很小的 x（LayerNorm(d_model={d}, eps={eps})）",
    "the same as x": "与 x 相同",
    "mean and biased variance over dim=-1 (keepdim=True); (x - mean) / sqrt(var + eps); * weight + bias.":
        "在 dim=-1 上求均值和有偏方差（keepdim=True）；`(x - mean) / sqrt(var + eps)`；再 `* weight + bias`。",
    "层归一化 (LayerNorm) over the wrong axis: normalise each token over its d_model features, the last axis: "
    "mean(dim=-1, keepdim=True).":
        "层归一化（LayerNorm）的轴不对：应当对每个词元在它的 d_model 个特征上归一化，也就是最后一个轴："
        "`mean(dim=-1, keepdim=True)`。",
    "层归一化 (LayerNorm) over the wrong axis (the batch): normalise each token over its features, dim=-1.":
        "层归一化（LayerNorm）的轴不对（你用了批量那一轴）：应当对每个词元在它的特征上归一化，`dim=-1`。",
    "层归一化 (LayerNorm) over the wrong axes: you normalised over the whole sequence and its features; "
    "LayerNorm takes each token on its own, dim=-1 only.":
        "层归一化（LayerNorm）的轴不对：你在整个序列及其特征上一起归一化了；层归一化对每个词元单独计算，"
        "只用 `dim=-1`。",
    "层归一化 (LayerNorm) uses the biased variance (divide by d_model, not d_model - 1): "
    "x.var(dim=-1, unbiased=False, keepdim=True) or correction=0; torch.var's default is unbiased.":
        "层归一化（LayerNorm）用的是有偏方差（除以 d_model，而不是 d_model - 1）："
        "`x.var(dim=-1, unbiased=False, keepdim=True)` 或 `correction=0`；`torch.var` 默认算的是无偏方差。",
    "层归一化 (LayerNorm): eps is outside the square root; it goes inside: (x - mean) / torch.sqrt(var + eps).":
        "层归一化（LayerNorm）：eps 放在了平方根外面，它应当在里面：`(x - mean) / torch.sqrt(var + eps)`。",
    "层归一化 (LayerNorm): eps is missing; add it inside the square root, torch.sqrt(var + self.eps), "
    "so a token with (almost) equal features does not blow up.":
        "层归一化（LayerNorm）：缺了 eps；把它加在平方根里面，`torch.sqrt(var + self.eps)`，"
        "这样特征（几乎）全都相等的词元也不会除出极大的数。",
    "层归一化 (LayerNorm): weight and bias are swapped: x_hat * weight + bias.":
        "层归一化（LayerNorm）：weight 和 bias 用反了，应当是 `x_hat * weight + bias`。",
    "层归一化 (LayerNorm): the learned weight (γ) and bias (β) are not applied; return "
    "x_hat * self.weight + self.bias.":
        "层归一化（LayerNorm）：没有用上可学习的 weight（γ）和 bias（β）；应当返回 "
        "`x_hat * self.weight + self.bias`。",
    "层归一化 (LayerNorm): the bias (β) is not added: x_hat * self.weight + self.bias.":
        "层归一化（LayerNorm）：没有加上 bias（β）：`x_hat * self.weight + self.bias`。",
    "层归一化 (LayerNorm): you added the bias before scaling; scale first: x_hat * weight + bias.":
        "层归一化（LayerNorm）：你在缩放之前就加了 bias；应当先缩放再加：`x_hat * weight + bias`。",
    "层归一化 (LayerNorm): the mean is not subtracted (that is RMSNorm); subtract the per-token mean "
    "before dividing.":
        "层归一化（LayerNorm）：没有减去均值（那是 RMSNorm）；除以标准差之前，先减去每个词元自己的均值。",
    "层归一化 (LayerNorm): your layer ignores its eps argument; store it in __init__ (self.eps = eps) and "
    "use self.eps in forward.":
        "层归一化（LayerNorm）：你的层忽略了参数 eps；在 __init__ 里存下它（`self.eps = eps`），"
        "在 forward 里用 `self.eps`。",

    # checks: the residual connection
    "残差连接 (residual connection)": "残差连接（residual connection）",
    "your residual-connection function": "你的残差连接函数",
    "{name}, x of shape {shape}, sublayer = tanh(linear(.)), norm = an nn.LayerNorm":
        "{name}，形状为 {shape} 的 x，sublayer = tanh(linear(.))，norm 为一个 nn.LayerNorm",
    "残差连接 (residual connection): you computed {other} for norm_first={norm_first}; it should be {want}.":
        "残差连接（residual connection）：norm_first={norm_first} 时你算的是 {other}；应当是 {want}。",
    "残差连接 (residual connection): the input is not added back — the residual path is x + ...: {want}.":
        "残差连接（residual connection）：没有把输入加回去——残差路径是 `x + ...`：{want}。",
    "残差连接 (residual connection): Post-LN normalises the sum, norm(x + sublayer(x)); you normalised "
    "the sublayer's output before adding it.":
        "残差连接（residual connection）：Post-LN 归一化的是相加之和，`norm(x + sublayer(x))`；"
        "你却先把子层的输出归一化，再相加。",
    "残差连接 (residual connection): in Pre-LN the residual path carries x itself, un-normalised: "
    "x + sublayer(norm(x)), not norm(x) + sublayer(norm(x)).":
        "残差连接（residual connection）：Pre-LN 的残差路径传的是未经归一化的 x 本身："
        "`x + sublayer(norm(x))`，而不是 `norm(x) + sublayer(norm(x))`。",
    "残差连接 (residual connection): Pre-LN has no LayerNorm after the sum: x + sublayer(norm(x)).":
        "残差连接（residual connection）：Pre-LN 在相加之后没有层归一化：`x + sublayer(norm(x))`。",
    "残差连接 (residual connection): the LayerNorm is missing: {want}.":
        "残差连接（residual connection）：缺了层归一化：{want}。",
    "{want}.": "按 {want} 计算。",
}
