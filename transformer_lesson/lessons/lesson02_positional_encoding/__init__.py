"""Lesson 02, positional encoding (位置编码): notebooks/02_positional_encoding.ipynb.

`experiments`, `plots`, `widgets` hold its code; the checkers of its exercise are in
`transformer_lesson.checks.lesson02_positional_encoding`, its tests in tests/test_lesson_02_positional_encoding.py.
"""
