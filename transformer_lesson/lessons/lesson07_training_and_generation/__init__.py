"""Lesson 07, training and generation (训练与生成): notebooks/07_training_and_generation.ipynb.

`experiments`, `plots`, `widgets` hold its code; the checkers of its exercise are in
`transformer_lesson.checks.lesson07_training_and_generation`, its tests in tests/test_lesson_07_training_and_generation.py.
"""
