"""`python -m bench [--quick] [--only NAME ...] [--write docs/benchmarks.md]`

Prints each figure's rows on stderr as soon as it is measured, then one
table on stdout: figure, ours, baseline, ratio, target, met. With --write
the table, the machine and the versions go to the named Markdown file.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

Row = tuple[str, str, str, str, str, bool]


@dataclass(frozen=True)
class Figure:
    name: str
    run: Callable[[bool], list[Row]]


def _cold_start(quick: bool) -> list[Row]:
    from bench import coldstart

    results = coldstart.measure(rounds=3 if quick else 7)
    base = results.pop("baseline hello-world")
    rows: list[Row] = []
    failed = {name: result for name, result in results.items() if result.error}
    for name, result in failed.items():
        rows.append(
            (f"cold start, {name}", f"failed: {result.error}", "-", "-", "-", False)
        )
        del results[name]
    for name, result in results.items():
        ratio = result.seconds / base.seconds
        rows.append(
            (
                f"cold start, {name}",
                f"{result.seconds * 1000:.0f} ms",
                f"{base.seconds * 1000:.0f} ms",
                f"{ratio:.2f}x",
                "<= 1.3x",
                ratio <= 1.3,
            )
        )
    for name, result in results.items():
        ratio = result.rss_kib / base.rss_kib
        rows.append(
            (
                f"idle memory, {name}",
                f"{result.rss_kib / 1024:.1f} MiB",
                f"{base.rss_kib / 1024:.1f} MiB",
                f"{ratio:.2f}x",
                "<= 1.5x",
                ratio <= 1.5,
            )
        )
    return rows


def _throughput(quick: bool) -> list[Row]:
    from bench import throughput

    results = throughput.measure(rounds=1 if quick else 3, seconds=4 if quick else 8)
    ours, base = results["ours"], results["baseline"]
    ratio = ours.requests_per_second / base.requests_per_second
    return [
        (
            "signed SMS webhook, warm throughput",
            f"{ours.requests_per_second:.0f} req/s",
            f"{base.requests_per_second:.0f} req/s",
            f"{ratio:.2f}x",
            ">= 0.5x",
            ratio >= 0.5 and ours.errors == 0,
        ),
        (
            "signed SMS webhook, p50 / p99 latency",
            f"{ours.p50_ms:.1f} / {ours.p99_ms:.1f} ms",
            f"{base.p50_ms:.1f} / {base.p99_ms:.1f} ms",
            "-",
            "(reported)",
            ours.errors == 0,
        ),
    ]


def _log_line(quick: bool) -> list[Row]:
    from bench import logline

    results = logline.measure(
        rounds=3 if quick else 7, number=5_000 if quick else 20_000
    )
    ours, base = results["ours"], results["python-json-logger"]
    ratio = ours / base
    return [
        (
            "one JSON log line",
            f"{ours:.2f} us",
            f"{base:.2f} us (python-json-logger)",
            f"{ratio:.2f}x",
            "<= 1.0x",
            ratio <= 1.0,
        ),
        (
            "one JSON log line vs structlog",
            f"{ours:.2f} us",
            f"{results['structlog']:.2f} us (structlog)",
            f"{ours / results['structlog']:.2f}x",
            "(reported)",
            True,
        ),
    ]


def _router(quick: bool) -> list[Row]:
    from bench import router

    rate = router.measure(rounds=3 if quick else 5, count=2_000 if quick else 5_000)
    return [
        (
            "alert router, normalise + dedup + route",
            f"{rate:.0f} alerts/s",
            "-",
            "-",
            ">= 5000/s",
            rate >= 5000,
        )
    ]


def _voice(quick: bool) -> list[Row]:
    from bench import voice

    results = voice.measure(turns=3 if quick else 5)
    hanging, embedded = results["hanging model"], results["embedded"]
    return [
        (
            "voice turn, model endpoint hanging",
            f"{hanging * 1000:.0f} ms",
            f"{embedded * 1000:.0f} ms (embedded)",
            f"{hanging / embedded:.1f}x",
            "<= 3000 ms",
            hanging <= 3.0,
        )
    ]


FIGURES = (
    Figure("coldstart", _cold_start),
    Figure("throughput", _throughput),
    Figure("logline", _log_line),
    Figure("router", _router),
    Figure("voice", _voice),
)
HEADER = ("figure", "ours", "baseline", "ratio", "target", "met")


def _table(rows: list[Row]) -> str:
    lines = [_line(HEADER), "|" + "---|" * len(HEADER), _lines(rows)]
    return "\n".join(lines)


def _lines(rows: list[Row]) -> str:
    return "\n".join(_line((*row[:5], "yes" if row[5] else "NO")) for row in rows)


def _line(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cells) + " |"


def _machine() -> str:
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("functions-framework", "gunicorn", "Flask", "twilio")
    )
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}; {versions}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Measure every figure beside its baseline."
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds, for a smoke run"
    )
    parser.add_argument("--only", nargs="*", choices=[f.name for f in FIGURES])
    parser.add_argument(
        "--write", type=Path, help="also write the results to this Markdown file"
    )
    args = parser.parse_args(argv)

    rows: list[Row] = []
    for figure in FIGURES:
        if args.only and figure.name not in args.only:
            continue
        print(f"measuring {figure.name} ...", file=sys.stderr, flush=True)
        try:
            measured = figure.run(args.quick)
        except Exception as exc:  # one broken figure must not hide the others
            measured = [(figure.name, f"failed: {exc}", "-", "-", "-", False)]
        print(_lines(measured), file=sys.stderr, flush=True)
        rows.extend(measured)

    table = _table(rows)
    print(table)
    print(f"\nmachine: {_machine()}")
    if args.write:
        _write(args.write, table)
    return 0 if all(row[5] for row in rows) else 1


def _write(path: Path, table: str) -> None:
    text = path.read_text() if path.exists() else ""
    marker_start, marker_end = "<!-- results:start -->", "<!-- results:end -->"
    block = f"{marker_start}\n{table}\n\nMachine: {_machine()}\n{marker_end}"
    if marker_start in text:
        head, rest = text.split(marker_start, 1)
        text = head + block + rest.split(marker_end, 1)[1]
    else:
        text = text + "\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
