"""Sphinx configuration of the course website (both editions); `make site` runs tools/build_site.py.

tools/build_site.py stages each edition (English, Chinese) as its own source tree with the same page paths
(index, notebooks/..., exercises/..., solutions/..., docs/...) and runs Sphinx on each with this file,
TL_SITE_LANG=en|zh in the environment: _site/en/ and _site/zh/. The notebooks are rendered from their
stored outputs (nothing executes) and nothing on a page is fetched from outside the site: no CDN for
MathJax (a local copy), none for ipywidgets (a widget cell shows the PNG stored next to its widget view),
and an image on another host (a badge) becomes a link.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from docutils import nodes

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tools"))
import build_site as tl  # noqa: E402  (the one reader of pyproject.toml's URLs and of the editions' words)

LANG = os.environ.get("TL_SITE_LANG", "en")
WORDS = tl.EDITIONS[LANG]
URLS = tl.project_urls()

project = WORDS["title"]
author = "Transformer Principles contributors"
copyright = "Transformer Principles contributors (MIT)"
language = WORDS["sphinx_language"]
root_doc = "index"
extensions = ["myst_nb"]
templates_path = [str(HERE / "_templates")]
html_static_path = [str(HERE / "_static")]
html_css_files = ["site.css", "cjk-font.css"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# --- notebooks: the stored outputs, never executed ---
nb_execution_mode = "off"
# a widget cell's output holds a widget view, its first view as image/png and a text caption: without a
# running kernel the view cannot draw, so the PNG is shown (and no widget JavaScript is loaded from a CDN)
nb_mime_priority_overrides = [("*", "application/vnd.jupyter.widget-view+json", None)]
nb_ipywidgets_js = {}
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

# --- MathJax 3 from the site itself (tools/build_site.py copies it from the django-static-mathjax package, a plain
# copy of MathJax's files; Django is not needed). Sphinx reads a relative path as under the edition's _static/:
# _site/<edition>/_static/../../_mathjax/tex-chtml.js
mathjax_path = "../../_mathjax/tex-chtml.js"

# --- theme: sphinx-book-theme (what Jupyter Book 1 uses), launch buttons from pyproject.toml ---
html_theme = "sphinx_book_theme"
html_title = WORDS["title"]
html_favicon = str(HERE / "_static" / "favicon.svg")  # without one, browsers ask every server for /favicon.ico
html_copy_source = True
html_theme_options = {
    "repository_url": URLS["Repository"],
    "repository_branch": "main",
    "path_to_docs": WORDS["path_in_repo"],
    "use_repository_button": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "notebook_interface": "jupyterlab",
    },
    "article_header_end": ["lang-switch.html", "article-header-buttons.html"],
    "show_toc_level": 2,
    "home_page_in_toc": True,
}
html_sidebars = {"**": ["navbar-logo.html", "lang-switch.html", "search-button-field.html", "sbt-sidebar-nav.html"]}
# default_mode: the theme's light/dark mode before the reader picks one (unset, its script logs an error)
html_context = {"tl_other": tl.EDITIONS[WORDS["other"]], "tl_words": WORDS, "default_mode": "light"}


def _page_context(app, pagename, templatename, context, doctree):
    """The other edition's copy of this page: same path under ../<other>/ (both trees hold the same pages)."""
    up = "../" * (pagename.count("/") + 1)
    context["tl_other_url"] = f"{up}{WORDS['other']}/{pagename}.html"
    context["tl_site_root"] = up


def _remote_images_to_links(app, doctree, docname):
    """An image on another host (a README or lesson badge) would be fetched by every reader: show its alt
    text as a link instead (to where the badge pointed, or to the image)."""
    for image in list(doctree.findall(nodes.image)):
        uri = image.get("uri", "")
        if "://" not in uri:
            continue
        text = nodes.Text(image.get("alt") or uri)
        if isinstance(image.parent, nodes.reference):
            image.replace_self(text)
        else:
            image.replace_self(nodes.reference("", "", text, refuri=uri))


def setup(app):
    app.connect("html-page-context", _page_context)
    app.connect("doctree-resolved", _remote_images_to_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
