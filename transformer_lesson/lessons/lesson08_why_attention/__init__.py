"""Lesson 08, why attention (为什么是注意力): notebooks/08_why_attention.ipynb.

`experiments`, `plots`, `widgets` hold its code; its tests are in tests/test_lesson_08_why_attention.py.
Lesson 08 has no exercise notebook, so no checkers.
"""
