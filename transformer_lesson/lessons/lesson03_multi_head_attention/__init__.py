"""Lesson 03, multi-head attention (多头注意力): notebooks/03_multi_head_attention.ipynb.

`experiments`, `plots`, `widgets` hold its code; the checkers of its exercise are in
`transformer_lesson.checks.lesson03_multi_head_attention`, its tests in tests/test_lesson_03_multi_head_attention.py.
"""
