"""The benchmark runs and reports all four comparisons (timings are printed by `make bench`, never asserted)."""
from transformer_lesson import bench


def test_quick_benchmark_prints_four_rows_with_ratios(capsys):
    bench.main(["--quick"])
    out = capsys.readouterr().out
    for row in ("multi-head attention, training step", "encoder layer, training step",
                "multi-head attention, inference", "encoder layer, inference"):
        line = next(line for line in out.splitlines() if line.startswith(row))
        assert float(line.split()[-1]) > 0
    assert "worst ratio" in out
