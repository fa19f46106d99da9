"""How long a lesson takes a learner: measured from its text, not guessed.

    python tools/reading_time.py            # a table for every lesson
    python tools/reading_time.py --check    # exit 1 if a lesson's stated time disagrees with the table
    python tools/reading_time.py --write    # write the measured times into the lessons and the tour's map

A lesson's minutes are the sum of
- reading its prose: English words at 130 per minute (careful technical reading, often in a second
  language, well below the 200-250 of light reading) and Chinese characters at 250 per minute;
- reading its code: 10 lines a minute (a learner reads a line, and its printed output, before moving on);
- looking at each figure for 30 s, playing with each widget for 2 minutes, and answering each
  "Predict" prompt for 1 minute and each "Think" question for 2 minutes;
rounded to the nearest 5 minutes. The install cell and the Binder / Colab line under the title
(tools/first_cell.py) are not lesson material and are not counted. The exercise's minutes are the sum of the "Time about N min" badges of
the lesson's exercise notebook. Each lesson states both in the line under its title:
`*About N minutes (reading and running it), plus about M minutes for the exercise. ...*`, and the tour's
map (notebooks/00_tour.ipynb, `| NN | topic | ... | N min |`) gives the same N.

The Chinese edition (zh/notebooks, zh/exercises) is measured the same way from its own text (its prose
is Chinese characters, read at 250 a minute) and states it as `*约 N 分钟（阅读并运行），另加约 M 分钟做练习。…*`,
its exercises' badges as `**用时** 约 N 分钟`, its tour's map as `| NN | … | N 分钟 |`.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))
from first_cell import LINKS_LINE, is_install_cell  # noqa: E402  (the generated cell and links line)
WORDS_PER_MINUTE = 130
HANZI_PER_MINUTE = 250
CODE_LINES_PER_MINUTE = 10
MINUTES_PER_FIGURE = 0.5
MINUTES_PER_WIDGET = 2.0
MINUTES_PER_PREDICT = 1.0
MINUTES_PER_THINK = 2.0

STATED = re.compile(r"\*About (\d+) minutes \(reading and running it\)(?:, plus about (\d+) minutes for the exercise)?")
BADGE = re.compile(r"\*\*Time\*\* about (\d+) min")
EDITIONS = ("en", "zh")
ZH_STATED = re.compile(r"\*约 (\d+) 分钟（阅读并运行）(?:，另加约 (\d+) 分钟做练习)?")
ZH_BADGE = re.compile(r"\*\*用时\*\* 约 (\d+) 分钟")


def _base(edition: str) -> Path:
    if edition not in EDITIONS:
        raise ValueError(f"expected edition 'en' or 'zh', got {edition!r}")
    return ROOT if edition == "en" else ROOT / "zh"


def _edition(path: Path) -> str:
    return "zh" if path.parent.parent.name == "zh" else "en"
HANZI = re.compile(r"[\u4e00-\u9fff]")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@dataclass
class Estimate:
    words: int
    hanzi: int
    code_lines: int
    figures: int
    widgets: int
    predicts: int
    thinks: int

    @property
    def minutes(self) -> float:
        return (self.words / WORDS_PER_MINUTE + self.hanzi / HANZI_PER_MINUTE
                + self.code_lines / CODE_LINES_PER_MINUTE + self.figures * MINUTES_PER_FIGURE
                + self.widgets * MINUTES_PER_WIDGET + self.predicts * MINUTES_PER_PREDICT
                + self.thinks * MINUTES_PER_THINK)

    @property
    def rounded(self) -> int:
        return max(5, 5 * round(self.minutes / 5))


def _prose(source: str) -> str:
    source = re.sub(r"<[^>]+>", " ", source)  # HTML tags (details/summary) are not read
    return re.sub(r"[#*`|>_]", " ", source)


def estimate(path: Path) -> Estimate:
    nb = nbformat.read(path, as_version=4)
    words = hanzi = code = figures = widgets = predicts = thinks = 0
    for cell in nb.cells:
        if is_install_cell(cell):
            continue
        if cell.cell_type == "markdown":
            text = _prose(LINKS_LINE.sub("", cell.source))
            hanzi += len(HANZI.findall(text))
            words += len([w for w in HANZI.sub(" ", text).split() if re.search(r"[A-Za-z0-9]", w)])
            predicts += cell.source.count("**Predict (先猜一猜):**") + cell.source.count("**先猜一猜 (Predict):**")
            thinks += cell.source.count("**Think (想一想):**") + cell.source.count("**想一想 (Think):**")
        elif cell.cell_type == "code":
            code += sum(1 for line in cell.source.splitlines()
                        if line.strip() and not line.lstrip().startswith("#"))
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if WIDGET_VIEW in data:
                    widgets += 1
                elif "image/png" in data:
                    figures += 1
    return Estimate(words, hanzi, code, figures, widgets, predicts, thinks)


def exercise_minutes(lesson: Path) -> int | None:
    edition = _edition(lesson)
    exercise = _base(edition) / "exercises" / lesson.name
    if not exercise.exists():
        return None
    nb = nbformat.read(exercise, as_version=4)
    badge = ZH_BADGE if edition == "zh" else BADGE
    return sum(int(m) for cell in nb.cells if cell.cell_type == "markdown" for m in badge.findall(cell.source))


def stated(path: Path) -> tuple[int | None, int | None]:
    nb = nbformat.read(path, as_version=4)
    pattern = ZH_STATED if _edition(path) == "zh" else STATED
    for cell in nb.cells[:3]:
        match = pattern.search(cell.source) if cell.cell_type == "markdown" else None
        if match:
            return int(match.group(1)), (int(match.group(2)) if match.group(2) else None)
    return None, None


def lessons(edition: str = "en") -> list[Path]:
    return sorted(p for p in (_base(edition) / "notebooks").glob("*.ipynb") if re.match(r"0[1-9]_", p.name))


MAP_ROW = re.compile(r"^\| (\d\d) \|.*\| (\d+) min \|$", re.M)
ZH_MAP_ROW = re.compile(r"^\| \[?(\d\d)\]?(?:\([^)]*\))? \|.*\| (\d+) 分钟 \|$", re.M)  # | [01](01_….ipynb) | … | 60 分钟 |


def tour_map(edition: str = "en") -> dict[str, int]:
    """Lesson number -> minutes, as the tour's map states them."""
    tour = _base(edition) / "notebooks" / "00_tour.ipynb"
    if not tour.exists():
        return {}
    nb = nbformat.read(tour, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return {number: int(minutes) for number, minutes in (ZH_MAP_ROW if edition == "zh" else MAP_ROW).findall(text)}


def problems(editions: tuple[str, ...] = ("en",)) -> list[str]:
    found = []
    for edition in editions:
        mapped = tour_map(edition)
        tour = "zh/notebooks/00_tour.ipynb" if edition == "zh" else "00_tour.ipynb"
        for path in lessons(edition):
            if mapped and mapped.get(path.name[:2]) != estimate(path).rounded:
                found.append(f"{tour}: the map gives lesson {path.name[:2]} {mapped.get(path.name[:2])} min; "
                             f"the measure gives {estimate(path).rounded} min")
        if edition == "zh" and lessons("zh") and set(mapped) - {"00"} != {p.name[:2] for p in lessons("zh")}:
            found.append(f"{tour}: the map lists {sorted(mapped)}, the lessons are "
                         f"{[p.name[:2] for p in lessons('zh')]} (rows `| NN | … | N 分钟 |`)")
        for path in lessons(edition):
            want, want_exercise = estimate(path).rounded, exercise_minutes(path)
            said, said_exercise = stated(path)
            if said != want or said_exercise != want_exercise:
                found.append(f"{path.relative_to(ROOT)}: states {said} / {said_exercise} minutes; the measure "
                             f"gives '{statement(path)}'")
    return found


STATEMENT = re.compile(r"\*About \d+ minutes( \(reading and running it\))?(, plus about \d+ minutes for the exercise)?")
ZH_STATEMENT = re.compile(r"\*约 \d+ 分钟（阅读并运行）(，另加约 \d+ 分钟做练习)?")


def statement(path: Path) -> str:
    exercise = exercise_minutes(path)
    if _edition(path) == "zh":
        plus = f"，另加约 {exercise} 分钟做练习" if exercise else ""
        return f"*约 {estimate(path).rounded} 分钟（阅读并运行）{plus}"
    plus = f", plus about {exercise} minutes for the exercise" if exercise else ""
    return f"*About {estimate(path).rounded} minutes (reading and running it){plus}"


def write(editions: tuple[str, ...] = EDITIONS) -> list[str]:
    """Put the measured times into each lesson's first cell and the tour's map (markdown only)."""
    changed = []
    for edition in editions:
        changed += _write(edition)
    return changed


def _write(edition: str) -> list[str]:
    changed = []
    pattern, row, unit = ((ZH_STATEMENT, ZH_MAP_ROW, " 分钟 |") if edition == "zh" else (STATEMENT, MAP_ROW, " min |"))
    for path in lessons(edition):
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0]
        new = pattern.sub(statement(path).replace("\\", "\\\\"), first.source, count=1)
        if new == first.source and not pattern.search(first.source):
            raise SystemExit(f"{path.relative_to(ROOT)}: no time line in the first cell to update")
        if new != first.source:
            first.source = new
            nbformat.write(nb, path)
            changed.append(str(path.relative_to(ROOT)))
    tour = _base(edition) / "notebooks" / "00_tour.ipynb"
    if not tour.exists():
        return changed
    nb = nbformat.read(tour, as_version=4)
    minutes = {p.name[:2]: estimate(p).rounded for p in lessons(edition)}
    edited = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            new = row.sub(lambda m: m.group(0)[: m.start(2) - m.start(0)]
                          + str(minutes.get(m.group(1), int(m.group(2)))) + unit, cell.source)
            if new != cell.source:
                cell.source, edited = new, True
    if edited:
        nbformat.write(nb, tour)
        changed.append(str(tour.relative_to(ROOT)))
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a stated time disagrees")
    parser.add_argument("--write", action="store_true", help="write the measured times into the notebooks")
    args = parser.parse_args(argv)
    if args.write:
        print("updated:", ", ".join(write()) or "nothing")
    print(f"{'lesson':36} {'words':>6} {'汉字':>5} {'code':>5} {'figs':>5} {'widgets':>7} "
          f"{'predict':>7} {'think':>5} {'minutes':>8} {'stated':>7} {'exercise':>8}")
    for path in lessons("en") + lessons("zh"):
        e = estimate(path)
        said, _ = stated(path)
        name = ("zh/" if _edition(path) == "zh" else "") + path.name
        print(f"{name:36} {e.words:6} {e.hanzi:5} {e.code_lines:5} {e.figures:5} {e.widgets:7} "
              f"{e.predicts:7} {e.thinks:5} {e.minutes:5.0f}→{e.rounded:<2} {str(said):>7} "
              f"{str(exercise_minutes(path)):>8}")
    if args.check:
        found = problems(EDITIONS)
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
