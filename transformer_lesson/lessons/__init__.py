"""The code of each lesson, one folder per lesson, named like its notebook: `lessonNN_topic/experiments.py`
(the experiments behind its claims), `plots.py` (its figures) and `widgets.py` (its controls). A later
lesson imports what it reuses from an earlier one; shared drawing and runtime helpers live in
`transformer_lesson.drawing` and `transformer_lesson.runtime`."""
