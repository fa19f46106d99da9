"""Chinese for the shared core: the checkers' machinery (checks/_core.py), notebook helpers, drawing."""

MESSAGES: dict[str, str] = {
    # checks/_core.py: the stages every checker shares
    "not implemented yet": "还没有实现",
    "{not_implemented}. Replace `raise NotImplementedError()` with your code, run that cell, then "
    "run this check again.":
        "{not_implemented}。把 `raise NotImplementedError()` 换成你的代码，运行那个单元格，再运行这个检查。",
    "expected {what}, got {kind}. Call it like this: {example}":
        "这里需要{what}，收到的却是 {kind}。请这样调用：{example}",
    "pass the class itself, not an instance of it: {example}":
        "请传入类本身，而不是它的实例：{example}",
    "expected a class (an nn.Module subclass), got {kind}. Call it like this: {example}":
        "这里需要一个类（nn.Module 的子类），收到的却是 {kind}。请这样调用：{example}",
    "expected your class to build an nn.Module, got a {kind} object that is not one; derive "
    "it from nn.Module and call super().__init__() first: {example}":
        "你的类构造出的应当是 nn.Module，实际得到的 {kind} 对象却不是；让它继承 nn.Module，"
        "并在 __init__ 里先调用 super().__init__()：{example}",
    "\nHint: {advice}": "\n提示：{advice}",
    "your code crashed on {on}:\n    {kind}: {error}{extra}\n(the traceback above shows the line)":
        "你的代码在{on}上出错了：\n    {kind}: {error}{extra}\n（上面的 traceback 指出了出错的那一行）",
    "原地修改 (in-place change): your code changed its input `{name}` in place on {on}, "
    "e.g. with `{name} /= ...`, `{name} -= ...`, `{name} += ...` or a method ending in _ "
    "such as `{name}.masked_fill_(...)`; the caller's tensor is then different afterwards. "
    "Make a new tensor instead: `{name} = {name} / ...`.":
        "原地修改（in-place change）：你的代码在{on}上就地改动了输入 `{name}`，比如用了 `{name} /= ...`、"
        "`{name} -= ...`、`{name} += ...`，或以下划线结尾的方法，如 `{name}.masked_fill_(...)`；"
        "这样调用者手里的张量在调用之后也变了。请改为生成新张量：`{name} = {name} / ...`。",
    "expected {name} to be a torch.Tensor {described}, got {kind} (on {on})":
        "{name}应当是 torch.Tensor（{described}），实际得到 {kind}（输入：{on}）",
    "expected {name} of shape {wanted} on {on}, got {shape}":
        "在{on}上，{name}的形状应当是 {wanted}，实际是 {shape}",
    ".\nLikely mistake: {hint}": "。\n可能的错误：{hint}",
    "expected {name} to hold floating-point numbers, got dtype {dtype} (on {on})":
        "{name}应当是浮点数，实际的 dtype 是 {dtype}（输入：{on}）",
    "expected {name} to be a boolean tensor (dtype torch.bool), got dtype {dtype} (on {on})":
        "{name}应当是布尔张量（dtype torch.bool），实际的 dtype 是 {dtype}（输入：{on}）",
    "the output changes between two calls on the same input in eval mode ({on}), so something "
    "random is still switched on: most likely dropout left on in eval. F.dropout(x, p) drops at "
    "random even after .eval(), because its `training` argument defaults to True (and "
    "training=True keeps it on for good). Use an nn.Dropout module (self.dropout = nn.Dropout(p) "
    "in __init__, self.dropout(x) in forward), which .eval() switches off, or "
    "F.dropout(x, p, training=self.training).":
        "在 eval 模式下对同一输入调用两次，输出却不一样（{on}），说明还有随机的东西开着：多半是 eval 时"
        "dropout 没有关掉。F.dropout(x, p) 即使在 .eval() 之后也会随机丢弃，因为它的 `training` 参数默认是 "
        "True（写成 training=True 则永远开着）。请改用 nn.Dropout 模块（在 __init__ 里写 "
        "self.dropout = nn.Dropout(p)，在 forward 里写 self.dropout(x)），.eval() 会把它关掉；"
        "或者写 F.dropout(x, p, training=self.training)。",
    "{name} contains {bad} on {on}, where every value should be finite.":
        "在{on}上，{name}里出现了 {bad}，而这里每个值都应当是有限数。",
    "\nLikely mistake: {hint}": "\n可能的错误：{hint}",
    "\nA NaN usually comes from a softmax over a row that is all -inf, or from 0/0.":
        "\nNaN 通常来自对一整行都是 -inf 的分数做 softmax，或者来自 0/0。",
    "wrong {name} on {on} (largest difference {diff:.3g}).\nLikely mistake: {hint}":
        "在{on}上，{name}不对（最大差值 {diff:.3g}）。\n可能的错误：{hint}",
    "wrong {name} on {on} (largest difference {diff:.3g}); it matches none of the usual mistakes.":
        "在{on}上，{name}不对（最大差值 {diff:.3g}），而且不符合任何一种常见错误。",
    " Things to check: {fallback}": "请检查：{fallback}",
    "Compute in the inputs' dtype: remove the .half() / .to(torch.float16) / dtype=torch.float16 "
    "(float16 keeps only about 3 significant digits).":
        "请用输入的 dtype 计算：去掉 .half() / .to(torch.float16) / dtype=torch.float16"
        "（float16 只保留大约 3 位有效数字）。",
    "{name} has dtype {dtype} on {on}, but the inputs are torch.float32 and so must the "
    "result be; its numbers are right to {dtype} precision. {fix}":
        "在{on}上，{name}的 dtype 是 {dtype}，但输入是 torch.float32，结果也应当是；"
        "它的数值在 {dtype} 的精度内是对的。{fix}",
    "wrong {name} on {on}, and it has dtype {dtype} where the inputs are torch.float32. {fix}":
        "在{on}上，{name}不对，而且它的 dtype 是 {dtype}，而输入是 torch.float32。{fix}",
    "\nLikely mistake as well: {hint}": "\n另一个可能的错误：{hint}",
    "{what} crashed:\n    {kind}: {error}\n(the traceback above shows the line)":
        "{what}出错了：\n    {kind}: {error}\n（上面的 traceback 指出了出错的那一行）",
    "{title}: {message}": "{title}：{message}",
    "✓ {title}: all checks passed": "✓ {title}：全部检查通过",
    "argument {number}": "第 {number} 个参数",
    "your code was stopped on {on}": "你的代码在{on}上被中止了",
    "your code ran for more than {seconds:g} s on {on} and was stopped. A correct solution takes "
    "a few milliseconds, so this is most likely an infinite loop: a `while` whose condition never "
    "becomes False, or a loop that never reaches its `break` (its counter or list never changes).":
        "你的代码在{on}上运行超过 {seconds:g} 秒，已被中止。正确的解法只需几毫秒，所以多半是死循环："
        "某个 `while` 的条件永远不会变成 False，或者循环永远走不到 `break`（计数器或列表一直没变）。",
    "called step_fn {count} times": "调用了 step_fn {count} 次",
    "called step_fn with a prefix of {length} tokens": "用 {length} 个词元长的前缀调用了 step_fn",
    "your loop {what} on {{on}}, where max_len={max_len} allows at most {max_len} generated "
    "tokens, and was stopped before it used up the memory. Likely mistake: the loop does "
    "not stop — it must end after max_len steps and when the chosen token is eos_id (check "
    "the loop's condition and its `break`).":
        "你的循环在{{on}}上{what}，而 max_len={max_len} 最多只允许生成 {max_len} 个词元，"
        "所以在耗尽内存之前被中止了。可能的错误：循环停不下来——它必须在 max_len 步之后结束，"
        "并且在选出的词元是 eos_id 时结束（检查循环的条件和其中的 `break`）。",
    "the checker's inputs": "检查器的输入",
    "your code did something this check did not expect, and checking it failed with {kind}: {error}\n"
    "Compare your class or function with what the exercise asks for (help({checker}) lists the names "
    "and shapes it expects); the traceback above shows where.":
        "你的代码做了这个检查没有预料到的事，检查时出现了 {kind}: {error}\n"
        "请把你的类或函数与练习的要求对照一下（help({checker}) 列出了它期望的名称和形状）；"
        "上面的 traceback 指出了位置。",
    "one of these (your result fits each of them):": "以下之一（你的结果与每一种都吻合）：",
    # drawing.py: the heatmaps every lesson draws
    "key (attended to)": "键（被关注的位置）",
    "query (attending)": "查询（发出关注的位置）",
    "key": "键",
    "query": "查询",
    # words several lessons show (a lesson's own table may say it differently for its context)
    'attention': '注意力',
    'head': '头',
    'head {i}': '头 {i}',
    'loss': '损失',
    'model': '模型',
    'output': '输出',
    'position': '位置',
    'probability': '概率',
    'sentence': '句子',
    'step {n}': '第 {n} 步',
    'temperature': '温度',
    'the output': '输出',
    'weight': '权重',
}
