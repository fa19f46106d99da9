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
rounded to the nearest 5 minutes. The exercise's minutes are the sum of the "Time about N min" badges of
the lesson's exercise notebook. Each lesson states both in the line under its title:
`*About N minutes (reading and running it), plus about M minutes for the exercise. ...*`, and the tour's
map (notebooks/00_tour.ipynb, `| NN | topic | ... | N min |`) gives the same N.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
WORDS_PER_MINUTE = 130
HANZI_PER_MINUTE = 250
CODE_LINES_PER_MINUTE = 10
MINUTES_PER_FIGURE = 0.5
MINUTES_PER_WIDGET = 2.0
MINUTES_PER_PREDICT = 1.0
MINUTES_PER_THINK = 2.0

STATED = re.compile(r"\*About (\d+) minutes \(reading and running it\)(?:, plus about (\d+) minutes for the exercise)?")
BADGE = re.compile(r"\*\*Time\*\* about (\d+) min")
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
        if cell.cell_type == "markdown":
            text = _prose(cell.source)
            hanzi += len(HANZI.findall(text))
            words += len([w for w in HANZI.sub(" ", text).split() if re.search(r"[A-Za-z0-9]", w)])
            predicts += cell.source.count("**Predict (先猜一猜):**")
            thinks += cell.source.count("**Think (想一想):**")
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
    exercise = ROOT / "exercises" / lesson.name
    if not exercise.exists():
        return None
    nb = nbformat.read(exercise, as_version=4)
    return sum(int(m) for cell in nb.cells if cell.cell_type == "markdown" for m in BADGE.findall(cell.source))


def stated(path: Path) -> tuple[int | None, int | None]:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells[:3]:
        match = STATED.search(cell.source) if cell.cell_type == "markdown" else None
        if match:
            return int(match.group(1)), (int(match.group(2)) if match.group(2) else None)
    return None, None


def lessons() -> list[Path]:
    return sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if re.match(r"0[1-9]_", p.name))


MAP_ROW = re.compile(r"^\| (\d\d) \|.*\| (\d+) min \|$", re.M)


def tour_map() -> dict[str, int]:
    """Lesson number -> minutes, as the tour's map states them."""
    tour = ROOT / "notebooks" / "00_tour.ipynb"
    if not tour.exists():
        return {}
    nb = nbformat.read(tour, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return {number: int(minutes) for number, minutes in MAP_ROW.findall(text)}


def problems() -> list[str]:
    found = []
    mapped = tour_map()
    for path in lessons():
        if mapped and mapped.get(path.name[:2]) != estimate(path).rounded:
            found.append(f"00_tour.ipynb: the map gives lesson {path.name[:2]} {mapped.get(path.name[:2])} min; "
                         f"the measure gives {estimate(path).rounded} min")
    for path in lessons():
        want, want_exercise = estimate(path).rounded, exercise_minutes(path)
        said, said_exercise = stated(path)
        if said != want or said_exercise != want_exercise:
            exercise = f", plus about {want_exercise} minutes for the exercise" if want_exercise else ""
            found.append(f"{path.name}: states {said} / {said_exercise} minutes; the measure gives "
                         f"'*About {want} minutes (reading and running it){exercise}.'")
    return found


STATEMENT = re.compile(r"\*About \d+ minutes( \(reading and running it\))?(, plus about \d+ minutes for the exercise)?")


def statement(path: Path) -> str:
    exercise = exercise_minutes(path)
    plus = f", plus about {exercise} minutes for the exercise" if exercise else ""
    return f"*About {estimate(path).rounded} minutes (reading and running it){plus}"


def write() -> list[str]:
    """Put the measured times into each lesson's first cell and the tour's map (markdown only)."""
    changed = []
    for path in lessons():
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0]
        new = STATEMENT.sub(statement(path).replace("\\", "\\\\"), first.source, count=1)
        if new == first.source and not STATEMENT.search(first.source):
            raise SystemExit(f"{path.name}: no '*About N minutes' line in the first cell to update")
        if new != first.source:
            first.source = new
            nbformat.write(nb, path)
            changed.append(path.name)
    tour = ROOT / "notebooks" / "00_tour.ipynb"
    nb = nbformat.read(tour, as_version=4)
    minutes = {p.name[:2]: estimate(p).rounded for p in lessons()}
    edited = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            new = MAP_ROW.sub(lambda m: m.group(0)[: m.start(2) - m.start(0)]
                              + str(minutes.get(m.group(1), int(m.group(2)))) + " min |", cell.source)
            if new != cell.source:
                cell.source, edited = new, True
    if edited:
        nbformat.write(nb, tour)
        changed.append(tour.name)
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
    for path in lessons():
        e = estimate(path)
        said, _ = stated(path)
        print(f"{path.name:36} {e.words:6} {e.hanzi:5} {e.code_lines:5} {e.figures:5} {e.widgets:7} "
              f"{e.predicts:7} {e.thinks:5} {e.minutes:5.0f}→{e.rounded:<2} {str(said):>7} "
              f"{str(exercise_minutes(path)):>8}")
    if args.check:
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
