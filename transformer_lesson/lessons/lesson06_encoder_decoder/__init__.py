"""Lesson 06, the encoder and the decoder (编码器和解码器): notebooks/06_encoder_decoder.ipynb.

`experiments`, `plots`, `widgets` hold its code; the checkers of its exercise are in
`transformer_lesson.checks.lesson06_encoder_decoder`, its tests in tests/test_lesson_06_encoder_decoder.py.
"""
