"""Lesson 09, from the translator to ChatGPT (从翻译模型到 ChatGPT): notebooks/09_from_translator_to_chatgpt.ipynb.

`experiments`, `plots`, `widgets`, `diagrams` hold its code; the checkers of its exercise are in
`transformer_lesson.checks.lesson09_from_translator_to_chatgpt`, its tests in
tests/test_lesson_09_from_translator_to_chatgpt.py.
"""
