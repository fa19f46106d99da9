"""The capstone (毕业项目): an English→Chinese translator built from the course's own modules.

- `grammar.py` generates the corpus (`datasets/*.tsv`) from a small documented grammar; `data.py` reads it
  (or any TSV of pairs), tokenises, and builds vocabularies and padded batches;
- `config.py` holds `TranslatorConfig`, everything that defines a translator (also what a file stores);
- `training.py` trains one (label smoothing, warm-up) and `translator.py` is the `Translator` that
  translates, evaluates, saves and loads; `files.py` writes files safely (atomic, locked, checksummed);
- `pipeline.py` traces "I am a student" through the six steps; `cli.py` is
  `python -m transformer_lesson translate ...`; `bench.py` times training against `nn.Transformer`.
"""
from .config import DEFAULTS, TranslatorConfig
from .data import load_corpus, load_pairs
from .pipeline import PipelineTrace, trace_translation
from .training import train_translator
from .translator import Translator, evaluate

__all__ = ["TranslatorConfig", "DEFAULTS", "train_translator", "Translator", "evaluate", "load_corpus", "load_pairs",
           "trace_translation", "PipelineTrace"]
