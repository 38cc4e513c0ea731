from __future__ import annotations

import pytest

from bench import __main__ as bench_main
from bench.__main__ import Figure, Row

FIRST_ROW: Row = ("first figure", "1 ms", "2 ms", "0.50x", "<= 1.0x", True)


def test_each_figure_shows_its_rows_before_the_next_is_measured(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen_before_second: list[str] = []

    def second(quick: bool) -> list[Row]:
        seen_before_second.append(capsys.readouterr().err)
        raise RuntimeError("wrk is missing")

    monkeypatch.setattr(
        bench_main,
        "FIGURES",
        (Figure("first", lambda quick: [FIRST_ROW]), Figure("second", second)),
    )

    status = bench_main.main(["--quick"])

    finished = capsys.readouterr()
    assert (
        "| first figure | 1 ms | 2 ms | 0.50x | <= 1.0x | yes |"
        in (seen_before_second[0])
    )
    assert "| second | failed: wrk is missing |" in finished.err
    assert finished.out.startswith("| figure | ours | baseline |")
    assert "| first figure | 1 ms |" in finished.out
    assert status == 1
