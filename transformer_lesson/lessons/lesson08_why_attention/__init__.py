"""Lesson 08, why attention (为什么是注意力): notebooks/08_why_attention.ipynb.

`experiments`, `plots`, `widgets` hold its code; the checkers of its exercise are in
`transformer_lesson.checks.lesson08_why_attention`, its tests in tests/test_lesson_08_why_attention.py.
"""
