"""The course in two languages: the package's words in English (the source) or in Chinese (zh).

Every string a learner reads from the package (checker messages, figure titles and axis labels,
widget captions, diagram labels, printed labels) is written in English inside a call of `_`:

    from ..i18n import translator
    _ = translator("lesson05")          # this module's table: transformer_lesson/locale/zh/lesson05.py
    c.fail(_("expected {name} = nn.Linear({n_in}, {n_out}), got {layer!r}", name=name, n_in=n_in, ...))

`_` looks the English text up in the reader's language table and fills in the named fields with
`str.format`, so the placeholders travel with the sentence and a translation can reorder them. A
constant defined at import time (before the reader chooses a language) is marked with `N_` and
translated where it is used, `_(CONSTANT)`.

One switch chooses the language: `setup(lang="zh")` in a notebook's first cell (it calls
`set_language`). The tables are plain dictionaries, English text -> Chinese text, one module per
lesson (a "domain", as in gettext) plus `common` for the shared core; a text missing from its
domain is looked up in `common`, then left in English. tests/test_i18n.py checks that every text
the package marks has its Chinese, with the same placeholders, and that no table holds a stale entry.
"""
from __future__ import annotations

import importlib
import re
from typing import Callable

__all__ = ["LANGUAGES", "set_language", "language", "translator", "translate", "N_"]

LANGUAGES = ("en", "zh")
_state = {"lang": "en"}
_tables: dict[tuple[str, str], dict[str, str]] = {}


def set_language(lang: str) -> None:
    """Choose the language of every message, label and caption the package produces from now on."""
    if not isinstance(lang, str) or lang.lower() not in LANGUAGES:
        raise ValueError(f"expected lang to be one of {', '.join(map(repr, LANGUAGES))}, got {lang!r}; "
                         "use setup(lang=\"en\") for English or setup(lang=\"zh\") for Chinese (中文)")
    _state["lang"] = lang.lower()


def language() -> str:
    """The language chosen with `set_language` (or `setup(lang=...)`): "en" unless changed."""
    return _state["lang"]


def table(lang: str, domain: str) -> dict[str, str]:
    """The dictionary English -> `lang` of one domain (empty for English or a domain without a table)."""
    key = (lang, domain)
    if key not in _tables:
        if lang == "en":
            _tables[key] = {}
        else:
            try:
                module = importlib.import_module(f"{__package__}.locale.{lang}.{domain}")
            except ModuleNotFoundError as error:
                if error.name != f"{__package__}.locale.{lang}.{domain}":
                    raise
                _tables[key] = {}
            else:
                _tables[key] = dict(module.MESSAGES)
    return _tables[key]


# Chinese typesetting puts a space between a Chinese character and a Latin letter or digit ("第 3 步",
# "d_model 不对"); a field filled in at run time ({name}, {on}) gets it too.
_HAN_THEN_LATIN = re.compile(r"([\u4e00-\u9fff])([A-Za-z0-9])")
_LATIN_THEN_HAN = re.compile(r"([A-Za-z0-9])([\u4e00-\u9fff])")


def translate(message: str, domain: str = "common", /, **fields) -> str:
    """`message` in the current language (looked up in `domain`, then `common`), fields filled in."""
    lang = _state["lang"]
    text = message
    if lang != "en":
        text = table(lang, domain).get(message) or table(lang, "common").get(message) or message
    text = text.format(**fields) if fields else text
    if lang == "zh":
        text = _LATIN_THEN_HAN.sub(r"\1 \2", _HAN_THEN_LATIN.sub(r"\1 \2", text))
    return text


def translator(domain: str) -> Callable[..., str]:
    """The `_` of one module: `_(english, **fields)` translates with the table of `domain`."""

    def _(message: str, /, **fields) -> str:
        return translate(message, domain, **fields)

    _.domain = domain
    return _


def N_(message: str) -> str:
    """Mark a text for translation without translating it now (a constant); translate it with `_` when used."""
    return message
