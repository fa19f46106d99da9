"""Lesson 05, the position-wise feed-forward network (位置感知前馈网络): notebooks/05_feed_forward.ipynb.

`experiments`, `plots`, `widgets` hold its code; the checkers of its exercise are in
`transformer_lesson.checks.lesson05_feed_forward`, its tests in tests/test_lesson_05_feed_forward.py.
"""
