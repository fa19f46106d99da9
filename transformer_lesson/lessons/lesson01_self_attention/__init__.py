"""Lesson 01, self-attention (自注意力): notebooks/01_self_attention.ipynb.

`experiments`, `plots`, `widgets` hold its code; the checkers of its exercise are in
`transformer_lesson.checks.lesson01_self_attention`, its tests in tests/test_lesson_01_self_attention.py.
"""
