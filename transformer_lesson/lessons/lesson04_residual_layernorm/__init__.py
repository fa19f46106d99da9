"""Lesson 04, residual connections and layer normalisation (残差连接和层归一化): notebooks/04_residual_layernorm.ipynb.

`experiments`, `plots`, `widgets` hold its code; the checkers of its exercise are in
`transformer_lesson.checks.lesson04_residual_layernorm`, its tests in tests/test_lesson_04_residual_layernorm.py.
"""
