# Transformer Principles (Transformer 原理): the two commands.
#   make lab    create .venv if missing, install what is missing, open the course in JupyterLab
#   make lab-zh the same, opening the Chinese edition (中文版, zh/)
#   make test   the same install (with the test extra), then the test suite (all but the seed sweep)
#   make bench  is code written from scratch slow? (the course's modules against PyTorch's)
#   make test-portability   stored outputs and claim tests under other CPU profiles (CI runs it)
#   make test-portability-full   the whole matrix: five profiles (run before a release)
#
# Overrides:  make lab TORCH_INDEX=https://download.pytorch.org/whl/cu128   (CUDA build, Linux)
#             make lab TORCH='torch==2.9.1'    PYTHON=python3.12    PORT=8889

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= python3
VENV        ?= .venv
BIN         := $(VENV)/bin
PIP         := $(BIN)/python -m pip
TORCH       ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
NOTEBOOK    ?= notebooks/00_tour.ipynb
PORT        ?= 8888

# On Linux, PyPI's torch wheel bundles CUDA (several GB), so torch comes from TORCH_INDEX
# (CPU by default). --retries 0: an unreachable index is skipped at once instead of
# being retried for a minute or more; pip then takes torch from PyPI or its find-links.
ifeq ($(shell uname -s),Linux)
TORCH_PIP_ARGS ?= --retries 0 --extra-index-url $(TORCH_INDEX)
endif

# Jupyter refuses to run as root without --allow-root (containers, CI sandboxes).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

START := $(shell date +%s)
STAMP_LAB  := $(VENV)/.installed-lab
STAMP_TEST := $(VENV)/.installed-test

.PHONY: help lab lab-zh test test-slow test-fresh-kernel test-browser test-browser-full test-portability test-portability-claims test-portability-nbval test-portability-full bench bench-training bench-kv-cache bench-notebooks install install-test torch test-widgets-7 test-widgets-7-ci test-python-deps notebook notebooks exercises slides hub-env test-hub hub-capacity site test-site

help:
	@echo "make lab    open the course in JupyterLab (creates .venv and installs on first run)"
	@echo "make lab-zh 打开中文版课程 (the Chinese edition, zh/notebooks/00_tour.ipynb)"
	@echo "make test   run the tests (same install, plus the test extra; the seed sweep is in test-portability)"
	@echo "make test-browser  every lesson in JupyterLab in headless Chromium, widgets moved (editions alternate; CI runs it)"
	@echo "make test-browser-full  every lesson and solution of both editions in JupyterLab"
	@echo "make test-fresh-kernel  a fresh venv with only a kernel runs lesson 01 through its install cell"
	@echo "make test-portability  nbval under two other CPU profiles and the claim tests over seeds (CI runs it)"
	@echo "make test-slow  the slower checks CI runs after make test, in two lanes (portability, browser, ...)"
	@echo "make test-portability-full  nbval under five CPU profiles, claims under two (about 3x as long)"
	@echo "make test-widgets-7  the widget tests and every lesson, headless, under ipywidgets 7.7 (Colab's) in .venv-ipyw7"
	@echo "make test-python-deps  every dependency resolves as wheels for Python 3.10-3.13 (pip, metadata only)"
	@echo "make bench  python -m transformer_lesson.bench (from-scratch modules vs PyTorch's)"
	@echo "make bench-training  training time to 98% held-out accuracy vs nn.Transformer"
	@echo "make bench-kv-cache  cost per generated token with and without the KV cache, at several lengths"
	@echo "make bench-notebooks  execution time of each lesson and its widgets' redraw times"
	@echo "make notebooks  re-execute every lesson and solution and store the outputs"
	@echo "make exercises  regenerate exercises/ from solutions/ (nbgrader's ClearSolutions)"
	@echo "make test-hub  a JupyterHub on 127.0.0.1, 8 simulated students pull the course with nbgitpuller and run lessons 01 and 07"
	@echo "make hub-capacity  memory per student's kernel and lesson 07's time with 1, 4 and 8 students at once"
	@echo "make site   the course as a website, both editions, in _site/ (open _site/index.html)"
	@echo "make test-site  make site, then every page of it in headless Chromium (no CJK system font)"
	@echo "make slides  every lesson of both editions as slides in _slides/ (NB=notebooks/03_....ipynb for one)"
	@echo "make test-slides  build two decks and check them, then open them in headless Chromium offline"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, so the package's `torch>=2.2` is already met and pip never picks a CUDA wheel.
torch: $(BIN)/python
	@if $(BIN)/python -c "import torch" 2>/dev/null; then \
	  echo "torch $$($(BIN)/python -c 'import torch; print(torch.__version__)') already installed"; \
	else \
	  $(PIP) install $(TORCH_PIP_ARGS) "$(TORCH)" && \
	  $(BIN)/python -c "import torch, sys; cuda = torch.version.cuda; \
	    sys.exit(0) if cuda is None or '/cpu' not in '$(TORCH_INDEX)' else \
	    print(f'WARNING: installed torch {torch.__version__} built for CUDA {cuda}, although TORCH_INDEX is a CPU index (unreachable?). For the CPU build: rm -rf $(VENV), then make again.')"; \
	fi

$(STAMP_LAB): pyproject.toml | $(BIN)/python
	@$(MAKE) --no-print-directory torch
	$(PIP) install -e '.[lab]'
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	@$(MAKE) --no-print-directory torch
	$(PIP) install -e '.[lab,test]'
	touch $@ $(STAMP_LAB)

install: $(STAMP_LAB)
install-test: $(STAMP_TEST)

# root_dir=. keeps the whole course in JupyterLab's file browser (a file argument alone would
# make its folder the root); the browser opens on NOTEBOOK.
lab: $(STAMP_LAB)
	$(BIN)/jupyter lab $(wildcard $(NOTEBOOK)) --ServerApp.root_dir=. --ip=127.0.0.1 --port=$(PORT) $(ALLOW_ROOT)

lab-zh:
	@$(MAKE) --no-print-directory lab NOTEBOOK=zh/notebooks/00_tour.ipynb

# One pytest run over the package tests and, under nbval, the stored notebooks of both editions (English
# notebooks/ solutions/, Chinese zh/notebooks/ zh/solutions/), spread over the CPU cores by pytest-xdist:
# --dist loadscope keeps each test module and each notebook in one worker, so a notebook's cells run in
# order in one kernel. The claim tests (every claim over many seeds) run in `make test-portability`; the
# browser test opens BROWSER_SUBSET here (run all + widgets) and checks the Chinese lessons' fonts (BROWSER_FONTS);
# `make test-browser` runs every notebook in JupyterLab. pytest's exit 5 ("no tests collected") is no failure.
JOBS ?= auto
BROWSER_SUBSET ?= notebooks/06_encoder_decoder.ipynb,zh/notebooks/06_encoder_decoder.ipynb,zh/solutions/05_feed_forward.ipynb
BROWSER_FONTS ?= zh/notebooks/*
NBVAL_ARGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
test: $(STAMP_TEST)
	@dirs=""; for d in notebooks solutions zh/notebooks zh/solutions; do \
	  if compgen -G "$$d/*.ipynb" >/dev/null; then dirs="$$dirs $$d"; fi; \
	done; \
	TL_BROWSER_NOTEBOOKS="$(BROWSER_SUBSET)" TL_BROWSER_FONTS="$(BROWSER_FONTS)" $(BIN)/python -m pytest -n $(JOBS) --dist loadscope \
	  -m "not claims and not executes_notebooks and not fresh_kernel" $(NBVAL_ARGS) tests $$dirs; rc=$$?; \
	echo "make test: total wall time $$(( $$(date +%s) - $(START) )) s"; \
	if [ $$rc -ne 0 ] && [ $$rc -ne 5 ]; then exit $$rc; fi

# The install cell at the top of every notebook (tools/first_cell.py), as Colab, VS Code or a hub without the
# course meets it: a fresh venv with only ipykernel + nbclient runs lesson 01 of a copy of the repository top
# to bottom, the first cell installing the copy (torch TORCH from the CPU index); then the cell again does
# nothing. Slow (it installs torch), so not in make test; it prints each step's time.
test-fresh-kernel: $(STAMP_TEST)
	$(BIN)/python -m pytest -p no:cacheprovider -s -m fresh_kernel tests/test_fresh_kernel.py

# Notebooks in JupyterLab in headless Chromium: run all, move every widget's controls, no tofu in Chinese
# text (CI runs test-browser after make test).
# CI's share (fits its time budget, about 8 minutes here): run all and move the widgets of every lesson in one
# edition, alternating (the two editions run the same code cell for cell, tests/test_zh_edition.py), and check
# the fonts of the Chinese lessons and solutions. test-browser-full opens every lesson and solution of both editions
# (about 14 minutes here; the Chinese solutions hold no widget and run the English solutions' code).
# zh/exercises are generated from zh/solutions (their markdown is the solutions'), so CI checks the fonts of
# the Chinese lessons and solutions.
BROWSER_CI ?= notebooks/0[02468]_*,zh/notebooks/0[13579]_*
BROWSER_CI_FONTS ?= zh/notebooks/*,zh/solutions/*
BROWSER_ALL ?= notebooks/*,solutions/*,zh/notebooks/*
test-browser: $(STAMP_TEST)
	TL_BROWSER_NOTEBOOKS="$(BROWSER_CI)" TL_BROWSER_FONTS="$(BROWSER_CI_FONTS)" \
	  $(BIN)/python -m pytest tests/browser -p no:cacheprovider

test-browser-full: $(STAMP_TEST)
	TL_BROWSER_NOTEBOOKS="$(BROWSER_ALL)" $(BIN)/python -m pytest tests/browser -p no:cacheprovider

# A learner's CPU is not ours: nbval over every notebook and solution, and tests/test_claims.py, each
# under several CPU profiles (PyTorch's vector kernels, MKL's code path, thread count); see the tool.
#   make test-portability PROFILES=native,avx2-1thread
PROFILES ?=
# CI's share (fits its time budget): nbval under two profiles unlike this machine (make test already ran
# it natively), the English edition under the first and the Chinese one (the same code cell for cell,
# tests/test_zh_edition.py) under the second, and the claim tests over many seeds under one of them. The full matrix (nbval under five
# profiles, claims under two) is test-portability-full, about three times as long.
CI_PROFILES ?= scalar-4threads,avx2-1thread
CI_CLAIMS_PROFILES ?= avx2-1thread
test-portability: $(STAMP_TEST)
	$(BIN)/python tools/portability.py --profiles $(if $(PROFILES),$(PROFILES),$(CI_PROFILES)) \
		--claims-profiles $(CI_CLAIMS_PROFILES) --editions alternate

# The same two parts one at a time, for test-slow's lanes: the claim sweep is the long pole and runs
# beside the shorter parts.
test-portability-claims: $(STAMP_TEST)
	$(BIN)/python tools/portability.py --only claims --profiles $(CI_CLAIMS_PROFILES) --claims-profiles $(CI_CLAIMS_PROFILES)

# test-slow's nbval: the English edition under scalar-4threads here, the Chinese one under avx2-1thread in the
# ipywidgets 7.7 venv (test-widgets-7-ci), so every lesson also runs under Colab's widgets and prints what it stores.
test-portability-nbval: $(STAMP_TEST)
	$(BIN)/python tools/portability.py --only nbval --profiles scalar-4threads --editions en

# The slower checks, the second command CI runs after make test: each lane runs its make targets one after
# another, the lanes side by side (tools/lanes.py prints each part's time and a table at the end).
# Three lanes on two cores: several parts wait on a browser, a kernel, a hub or the network much of the time.
# test-python-deps uses test-widgets-7-ci's venv (pip >= 25.3), so it runs after it in the same lane.
# Measured (CI, fresh clone, 2 cores): claims 1535 s | 310 + 620 + 202 + 231 s | 675 + 94 + 429 + 38 s.
SLOW_LANES ?= --lane "test-portability-claims" \
	--lane "test-portability-nbval test-browser test-fresh-kernel test-site" \
	--lane "test-widgets-7-ci test-python-deps test-hub test-slides"
test-slow: $(STAMP_TEST)
	$(BIN)/python tools/lanes.py $(SLOW_LANES)

test-portability-full: $(STAMP_TEST)
	$(BIN)/python tools/portability.py $(if $(PROFILES),--profiles $(PROFILES))

# ipywidgets 7.7 (what Colab ships) beside the 8.x of .venv: a second venv, VENV7, with ipywidgets 7.7.*, torch as
# `make torch` installs it, and the package with its test extra; there, every widget test (marker `widgets`, set
# by tests/conftest.py: builds, moves, displays or reads a widget) and every lesson run top to bottom in a fresh
# kernel (tests/test_lessons_headless.py: no error, every widget's output carries its PNG first view).
# JupyterLab 4 cannot draw ipywidgets 7 widgets, so this kernel-side run is the check; make test covers 8.x.
VENV7 ?= .venv-ipyw7
IPYWIDGETS7 ?= 7.7
JOBS7 ?= $(JOBS)
STAMP_7 := $(VENV7)/.installed-test
$(STAMP_7): pyproject.toml
	@$(MAKE) --no-print-directory torch VENV=$(VENV7)
	$(VENV7)/bin/python -m pip install -U "pip>=25.3" "ipywidgets==$(IPYWIDGETS7).*" -e '.[test]'
	touch $@

test-widgets-7: $(STAMP_7)
	TL_EXPECT_IPYWIDGETS=$(IPYWIDGETS7) $(VENV7)/bin/python -m pytest -n $(JOBS7) --dist load -p no:cacheprovider \
	  -m widgets --ignore=tests/browser --ignore=tests/site tests; rc=$$?; \
	echo "make test-widgets-7: total wall time $$(( $$(date +%s) - $(START) )) s (ipywidgets $$($(VENV7)/bin/python -c 'import ipywidgets; print(ipywidgets.__version__)'))"; \
	exit $$rc

# test-slow's share of the ipywidgets 7.7 check: the widget tests, then the Chinese edition's nbval (every lesson
# and solution, the same code as the English) under 7.7 and the avx2-1thread profile: each lesson runs top to
# bottom under Colab's widgets and must print what it stores. test-widgets-7 runs the English lessons headless
# and checks every widget output's PNG in the fresh kernel (tests/test_lessons_headless.py).
test-widgets-7-ci: $(STAMP_7)
	TL_EXPECT_IPYWIDGETS=$(IPYWIDGETS7) $(VENV7)/bin/python -m pytest -n $(JOBS7) --dist load -p no:cacheprovider \
	  -m "widgets and not executes_notebooks" --ignore=tests/browser --ignore=tests/site tests
	$(VENV7)/bin/python tools/portability.py --only nbval --profiles avx2-1thread --editions zh

# Every dependency a wheel for every Python the course promises (pyproject.toml's classifiers, 3.10-3.13), without
# those interpreters: pip resolves what make test installs, plus TORCH, for each version on Linux x86-64, reading
# only the wheels' metadata (tools/python_deps.py; pip >= 25.3, which VENV7 has). tests/test_python_versions.py
# (in make test) checks the code itself against 3.10's grammar and the modules 3.12 and 3.13 removed.
test-python-deps: $(STAMP_7)
	$(VENV7)/bin/python tools/python_deps.py --also "$(TORCH)"

bench: $(STAMP_LAB)
	$(BIN)/python -m transformer_lesson.bench

bench-training: $(STAMP_LAB)
	$(BIN)/python -m transformer_lesson.capstone.bench

bench-kv-cache: $(STAMP_LAB)
	$(BIN)/python -m transformer_lesson.lessons.lesson09_from_translator_to_chatgpt.bench

bench-notebooks: $(STAMP_TEST)
	$(BIN)/python tools/bench_notebooks.py

# exercises/ is generated from solutions/ (never edit it by hand): the solution code between the
# "### BEGIN SOLUTION" / "### END SOLUTION" markers becomes `raise NotImplementedError()`.
# tests/test_exercises.py fails when exercises/ is out of date.
exercises: $(STAMP_TEST)
	$(BIN)/python tools/make_exercises.py solutions exercises
	$(BIN)/python tools/make_exercises.py zh/solutions zh/exercises

# Re-execute notebooks from a fresh kernel and store their outputs (what nbval compares against):
#   make notebooks                       every lesson and solution
#   make notebook NB=notebooks/01_self_attention.ipynb
EXECUTE := $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	--ExecutePreprocessor.timeout=600 --ExecutePreprocessor.record_timing=False
# tools/clean_notebooks.py then drops the per-cell execution timestamps, so a re-run changes the diff
# only where an output changed.
notebook: $(STAMP_TEST)
	$(EXECUTE) $(NB)
	$(BIN)/python tools/clean_notebooks.py $(NB)

notebooks: $(STAMP_TEST)
	$(EXECUTE) notebooks/*.ipynb solutions/*.ipynb zh/notebooks/*.ipynb zh/solutions/*.ipynb
	$(BIN)/python tools/clean_notebooks.py notebooks/*.ipynb solutions/*.ipynb zh/notebooks/*.ipynb zh/solutions/*.ipynb

# Slides for class: every lesson of both editions as reveal.js decks in _slides/ (gitignored), built from the
# stored outputs (nothing is re-executed); tools/slides.py lays the slides out from each lesson's headings.
#   make slides                                              every lesson, English and Chinese
#   make slides NB=notebooks/03_multi_head_attention.ipynb   one lesson (or several, space-separated)
# reveal.js and MathJax come from npm once (versions pinned in tools/slides_template/package-lock.json) into
# .cache/slides-npm; the decks load them from _slides/_static, so they show with no network.
SLIDES_NPM := .cache/slides-npm
SLIDES_ASSETS := $(SLIDES_NPM)/node_modules/.installed
$(SLIDES_ASSETS): tools/slides_template/package.json tools/slides_template/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make slides needs npm once, to fetch reveal.js and MathJax (Debian/Ubuntu: sudo apt-get install npm)"; exit 1; }
	mkdir -p $(SLIDES_NPM)
	cp tools/slides_template/package.json tools/slides_template/package-lock.json $(SLIDES_NPM)/
	cd $(SLIDES_NPM) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

slides: $(STAMP_LAB) $(SLIDES_ASSETS)
	@$(BIN)/python -c "import nbconvert" 2>/dev/null || $(PIP) install nbconvert
	$(BIN)/python tools/slides.py --assets $(SLIDES_NPM)/node_modules $(NB)
	@echo "make slides: total wall time $$(( $$(date +%s) - $(START) )) s"

# The slides' tests: tests/test_slides.py (two decks built and checked; also part of make test) and, with
# reveal.js from npm, tests/browser/test_slides_browser.py (the decks in headless Chromium, network refused).
test-slides: $(STAMP_TEST) $(SLIDES_ASSETS)
	TL_SLIDES_BROWSER=1 $(BIN)/python -m pytest -p no:cacheprovider tests/test_slides.py tests/browser/test_slides_browser.py

# A class on one JupyterHub (docs/teaching.md, "A class on one JupyterHub"): a real JupyterHub on 127.0.0.1
# with configurable-http-proxy, eight simulated students who pull the course through an nbgitpuller link
# and run lesson 01 (three of them lesson 07's training at once) in their own servers' kernels
# (tests/hub, tools/hub_class.py; about 6 minutes here; its budget is 510 s, `timeout` stops it at 540 s and kills it at 600 s). Its own environment, .venv-hub:
# JupyterHub, nbgitpuller, JupyterLab and the course installed from this checkout (not editable, as a hub
# installs it; re-installed when the package changes); the proxy from npm (pinned in tools/hub_proxy) into
# .cache/hub-npm. make hub-capacity measures memory per student and lesson 07's time with 1, 4, 8 at once.
HUB_VENV := .venv-hub
STAMP_HUB := $(HUB_VENV)/.installed-hub
HUB_NPM := .cache/hub-npm
HUB_PROXY := $(HUB_NPM)/node_modules/.installed
HUB_PACKAGES := jupyterhub nbgitpuller jupyterlab psutil requests websocket-client pytest pytest-timeout
$(STAMP_HUB): pyproject.toml $(shell find transformer_lesson -name '*.py' -o -name '*.tsv' 2>/dev/null)
	@$(MAKE) --no-print-directory torch VENV=$(HUB_VENV)
	$(HUB_VENV)/bin/python -m pip install $(HUB_PACKAGES) .
	$(HUB_VENV)/bin/python -m pip install --no-deps --force-reinstall .
	touch $@

$(HUB_PROXY): tools/hub_proxy/package.json tools/hub_proxy/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make test-hub needs npm once, for configurable-http-proxy (Debian/Ubuntu: sudo apt-get install npm)"; exit 1; }
	mkdir -p $(HUB_NPM)
	cp tools/hub_proxy/package.json tools/hub_proxy/package-lock.json $(HUB_NPM)/
	cd $(HUB_NPM) && npm ci --no-audit --no-fund
	touch $@

hub-env: $(STAMP_HUB) $(HUB_PROXY)

test-hub: hub-env
	TL_HUB_TEST=1 timeout -k 60 540 $(HUB_VENV)/bin/python -m pytest tests/hub -p no:cacheprovider --timeout 510; \
	  rc=$$?; echo "make test-hub: total wall time $$(( $$(date +%s) - $(START) )) s"; exit $$rc

hub-capacity: hub-env
	$(HUB_VENV)/bin/python tools/hub_capacity.py

# The course as a website (tools/build_site.py, site/conf.py): every lesson, exercise and solution of both
# editions, the READMEs as home pages and the teacher guide, rendered by Sphinx + myst-nb from the stored
# outputs (nothing runs) into _site/ (static files: open _site/index.html, or publish it; .github/workflows/pages.yml).
# It needs only the `site` extra and the Chinese font package, not the course package nor torch.
# make test-site builds it, then opens every page (73 tests) in a headless Chromium with no Chinese system font
# (tests/site): about 8 minutes here under heavy load (site about 1 minute, the browser about 6).
STAMP_SITE := $(VENV)/.installed-site
$(STAMP_SITE): pyproject.toml | $(BIN)/python
	$(PIP) install $$($(BIN)/python tools/build_site.py --requirements)
	touch $@

site: $(STAMP_SITE)
	$(BIN)/python tools/build_site.py
	@echo "make site: total wall time $$(( $$(date +%s) - $(START) )) s"

test-site: site $(STAMP_TEST)
	TL_SITE_TEST=1 $(BIN)/python -m pytest tests/site -p no:cacheprovider; \
	  rc=$$?; echo "make test-site: total wall time $$(( $$(date +%s) - $(START) )) s"; exit $$rc
