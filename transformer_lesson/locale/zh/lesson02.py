"""Chinese for lesson 02, positional encoding (位置编码): its diagram, figures, widget and checkers."""

MESSAGES: dict[str, str] = {
    # lessons/lesson02_positional_encoding/diagrams.py: the picture the lesson opens with
    "Token embedding + positional encoding = what the model sees (词元嵌入 + 位置编码)":
        "词元嵌入 + 位置编码 = 模型看到的输入 (token embedding + positional encoding)",
    "dim 0: sin(p)": "第 0 维：sin(p)",
    "dim 1: cos(p)": "第 1 维：cos(p)",
    "dim 2: sin(p / 10)": "第 2 维：sin(p / 10)",
    "dim 3: cos(p / 10)": "第 3 维：cos(p / 10)",
    "position p 位置": "位置 p",
    "dots: the values at p = 0..4, rows dim 0-3\nof the middle table below. Fast waves change\nat every step, "
    "slow ones barely move;\ndims 4-7 are slower still (p / 100, p / 1000)":
        "圆点：p = 0..4 处的取值，也就是\n下方中间那张表的第 0-3 维。\n快的波每一步都在变，慢的几乎不动；\n"
        "第 4-7 维还要更慢（p / 100, p / 1000）",
    "dim {i}": "第 {i} 维",
    "token embedding 词元嵌入\n(looked up by the word)": "词元嵌入\n（按词查表得到）",
    "positional encoding 位置编码\n(from the position only)": "位置编码\n（只由位置决定）",
    "input 模型的输入\n(their sum)": "模型的输入\n（两者之和）",
    'the two "a" columns are equal': '两个 "a" 列完全相同',
    "columns 0 and 3 differ": "第 0 列和第 3 列不同",
    'two different vectors for "a"': '"a" 成了两个不同的向量',
    "d_model = 8 here; the encoding is added, not appended: the input keeps d_model numbers":
        "这里 d_model = 8；位置编码是加上去的，不是接在后面：输入仍然只有 d_model 个数",

    # lessons/lesson02_positional_encoding/plots.py
    "positional encoding 位置编码": "位置编码 (positional encoding)",
    "dimension": "维度",
    "expected a table of shape (max_len, d_model), got {shape}":
        "这里需要形状为 (max_len, d_model) 的表，收到的形状却是 {shape}",
    "expected dimensions in 0..{last} (d_model={d_model}), got {d!r}":
        "维度的编号应在 0..{last} 之内（d_model={d_model}），收到的却是 {d!r}",
    "dim {d} ({kind}, wavelength {wavelength:.1f})": "第 {d} 维（{kind}，波长 {wavelength:.1f}）",
    "position (dots: the whole-number positions the table holds)": "位置（圆点：表中存的整数位置）",
    "value": "取值",
    "offset k": "偏移 k",

    # lessons/lesson02_positional_encoding/widgets.py
    "位置编码 PE: {max_len} positions × {d_model} dimensions": "位置编码 PE：{max_len} 个位置 × {d_model} 维",
    "{max_len} positions × {d_model} dimensions, values in [{low:.2f}, {high:.2f}]. Wavelengths grow from "
    "2π ≈ 6.3 positions (dimensions 0, 1) to {slowest:,.0f} positions (dimensions {second_last}, {last}).":
        "{max_len} 个位置 × {d_model} 维，取值在 [{low:.2f}, {high:.2f}] 之间。波长从 2π ≈ 6.3 个位置"
        "（第 0、1 维）一直增长到 {slowest:,.0f} 个位置（第 {second_last}、{last} 维）。",

    # lessons/lesson02_positional_encoding/experiments.py
    "expected offsets that are whole numbers in 0..{last} (max_len={max_len}), got {k!r}":
        "偏移应是 0..{last} 之内的整数（max_len={max_len}），收到的却是 {k!r}",

    # checks/lesson02_positional_encoding.py: check_positional_encoding
    "位置编码 (positional encoding)": "位置编码（positional encoding）",
    "your positional-encoding function": "你的位置编码函数",
    "the encoding": "位置编码表",
    "encoding": "位置编码表",
    "your table is transposed: one row per position, (max_len, d_model).":
        "你的表转置了：应当每个位置一行，形状是 (max_len, d_model)。",
    "return the table itself, (max_len, d_model), without a leading batch axis (no .unsqueeze(0)); adding "
    "it to (B, T, d_model) embeddings broadcasts anyway.":
        "直接返回这张表本身，形状 (max_len, d_model)，前面不要加批量维（不要 .unsqueeze(0)）；"
        "把它加到形状为 (B, T, d_model) 的嵌入上时，广播会自动补上这一维。",
    "PE(pos, 2i) = sin(pos / 10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)), "
    "positions 0..max_len-1.":
        "PE(pos, 2i) = sin(pos / 10000^(2i/d_model))，PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model))，"
        "位置取 0..max_len-1。",
    "位置编码 (positional encoding): ": "位置编码：",
    "your positions start at 1; they start at 0 (torch.arange(max_len)), so PE(0) = [0, 1, 0, 1, ...].":
        "你的位置从 1 开始了；位置应从 0 开始（torch.arange(max_len)），所以 PE(0) = [0, 1, 0, 1, ...]。",
    "two mistakes: (1) {first} (2) {second}": "有两处错误：(1) {first}(2) {second}",
    # where sin and cos go
    "sin and cos are concatenated ([all sines | all cosines]); they must be interleaved: sin on even "
    "dimensions 0, 2, 4, ..., cos on odd dimensions 1, 3, 5, ... (pe[:, 0::2] = sin, pe[:, 1::2] = cos).":
        "sin 和 cos 是前后拼接的（[全部正弦 | 全部余弦]）；它们应当交错排列：sin 放在偶数维 0, 2, 4, ...，"
        "cos 放在奇数维 1, 3, 5, ...（pe[:, 0::2] = sin，pe[:, 1::2] = cos）。",
    "sin and cos are swapped; sin goes on the even dimensions (0, 2, ...) and cos on the odd ones.":
        "sin 和 cos 放反了；sin 应放在偶数维（0, 2, ...），cos 放在奇数维。",
    "cos and sin are concatenated, cosines first ([all cosines | all sines]); they must be interleaved, "
    "sin first: pe[:, 0::2] = sin, pe[:, 1::2] = cos.":
        "cos 和 sin 是前后拼接的，而且余弦在前（[全部余弦 | 全部正弦]）；它们应当交错排列，sin 在前："
        "pe[:, 0::2] = sin，pe[:, 1::2] = cos。",
    "every dimension uses sin; the odd dimensions use cos.": "每一维都用了 sin；奇数维应当用 cos。",
    # the frequencies
    "the wrong exponent — you used j/d_model with j the dimension index, so each sin/cos pair gets two "
    "different frequencies. Dimensions 2i and 2i+1 share one frequency: 10000^(2i/d_model), with i = j // 2.":
        "指数错了——你用的是 j/d_model（j 是维度的编号），这样每一对 sin/cos 就有了两个不同的频率。"
        "第 2i 维和第 2i+1 维共用一个频率：10000^(2i/d_model)，其中 i = j // 2。",
    "the wrong exponent — you used the dimension index j where the formula has the pair index i: "
    "10000^(2j/d_model) gives dimension 2i the exponent 4i/d_model and its partner 2i+1 the exponent "
    "(4i+2)/d_model. i counts the (sin, cos) pairs, i = j // 2, so both dimensions of pair i share "
    "10000^(2i/d_model).":
        "指数错了——公式里该用“对”的编号 i 的地方，你用了维度的编号 j。10000^(2j/d_model) 让第 2i 维的指数"
        "变成 4i/d_model，和它配对的第 2i+1 维变成 (4i+2)/d_model。i 数的是 (sin, cos) 对，i = j // 2，"
        "所以第 i 对的两维共用 10000^(2i/d_model)。",
    "the wrong exponent — you used 2j/d_model with j the dimension index (torch.arange(0, d_model, 2) already "
    "holds 2i; do not double it again). The exponent is 2i/d_model.":
        "指数错了——你用的是 2j/d_model（j 是维度的编号）。torch.arange(0, d_model, 2) 里存的已经是 2i，"
        "不要再乘一次 2。指数应是 2i/d_model。",
    "the wrong exponent — you used i/d_model; the exponent is 2i/d_model (i is the pair index, so 2i runs "
    "0, 2, 4, ...). (A base of 100 instead of 10000 gives the same numbers, 100^(2i/d_model) = "
    "10000^(i/d_model); the base is 10000.)":
        "指数错了——你用的是 i/d_model；指数应是 2i/d_model（i 是“对”的编号，所以 2i 依次是 0, 2, 4, ...）。"
        "（把底数 10000 写成 100 也会得到同样的数，因为 100^(2i/d_model) = 10000^(i/d_model)；底数应是 10000。）",
    "you multiplied the position by 10000^(2i/d_model); divide by it, pos / 10000^(2i/d_model) (in exp "
    "form: pos * exp(-2i * ln(10000) / d_model)).":
        "你把位置乘上了 10000^(2i/d_model)；应当除以它：pos / 10000^(2i/d_model)"
        "（写成 exp 形式是 pos * exp(-2i * ln(10000) / d_model)）。",
    "the exponent divides by max_len; it divides by d_model, 10000^(2i/d_model).":
        "指数里除的是 max_len；应当除以 d_model：10000^(2i/d_model)。",
    "the wrong base — your frequencies fall as 54.6^(-2i/d_model), which is what exp(-2i * math.log10(10000) "
    "/ d_model) gives: the exp form needs the natural logarithm, math.log(10000) ≈ 9.21, not "
    "math.log10(10000) = 4.":
        "底数错了——你的频率按 54.6^(-2i/d_model) 下降，这正是 exp(-2i * math.log10(10000) / d_model) "
        "算出的结果。exp 形式要用自然对数 math.log(10000) ≈ 9.21，而不是 math.log10(10000) = 4。",
    "the wrong base — the exp form exp(-2i * math.log2(10000) / d_model) uses the base-2 logarithm; it needs "
    "the natural logarithm, math.log(10000) ≈ 9.21.":
        "底数错了——exp 形式 exp(-2i * math.log2(10000) / d_model) 用的是以 2 为底的对数；"
        "这里要用自然对数 math.log(10000) ≈ 9.21。",
    "the wrong base — you used {base:.4g} where the formula has 10000: PE(pos, 2i) = sin(pos / "
    "10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)).":
        "底数错了——公式里是 10000，你用的是 {base:.4g}。PE(pos, 2i) = sin(pos / 10000^(2i/d_model))，"
        "PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model))。",

    # checks/lesson02_positional_encoding.py: check_shift_matrix
    "位置编码的平移矩阵 (shift matrix of the positional encoding)": "位置编码的平移矩阵（shift matrix）",
    "your shift-matrix function": "你的平移矩阵函数",
    "平移 (shift): your matrix moves k positions backwards — PE[pos] @ M gives PE[pos - k]. Transpose it: "
    "with row vectors on the left, the new sin of pair i is sin*cos(w k) + cos*sin(w k), so M[2i, 2i] = cos, "
    "M[2i+1, 2i] = sin, M[2i, 2i+1] = -sin, M[2i+1, 2i+1] = cos.":
        "平移：你的矩阵是往回移 k 个位置——PE[pos] @ M 得到的是 PE[pos - k]。把它转置：行向量在左边时，"
        "第 i 对新的 sin 是 sin*cos(w k) + cos*sin(w k)，所以 M[2i, 2i] = cos，M[2i+1, 2i] = sin，"
        "M[2i, 2i+1] = -sin，M[2i+1, 2i+1] = cos。",
    "平移 (shift): your matrix ignores k — it always moves one position; the angle of pair i is k * w_i.":
        "平移：你的矩阵没有用到 k——它总是只移动一个位置；第 i 对转过的角度应是 k * w_i。",
    "平移 (shift): the wrong frequency — pair i turns at w_i = 1 / 10000^(2i/d_model) (2i, not i).":
        "平移：频率错了——第 i 对的角频率是 w_i = 1 / 10000^(2i/d_model)（是 2i，不是 i）。",
    "平移 (shift): you rotate dimensions i and i + d_model/2 together (the concatenated layout); in the "
    "paper's layout each pair is a neighbour pair (2i, 2i+1).":
        "平移：你把第 i 维和第 i + d_model/2 维放在一起旋转（这是前后拼接的排法）；论文的排法里，"
        "每一对是相邻的两维 (2i, 2i+1)。",
    "平移 (shift): you built the identity matrix; moving by k rotates each (sin, cos) pair by the angle k * w_i.":
        "平移：你构造的是单位矩阵；移动 k 个位置，要把每一对 (sin, cos) 旋转 k * w_i 的角度。",
    "one 2x2 rotation block per (sin, cos) pair, angle k / 10000^(2i/d_model), placed on rows/columns 2i and "
    "2i+1.":
        "每一对 (sin, cos) 对应一个 2x2 旋转块，角度为 k / 10000^(2i/d_model)，放在第 2i 和第 2i+1 行、列上。",
    "{on}, compared with PE[pos + k]": "{on}（与 PE[pos + k] 比较）",
}
