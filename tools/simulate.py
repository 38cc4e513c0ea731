"""Play traffic against a local runtime to see what operators would see.

    python -m tools.simulate alerts [--drill twilio|billing|latency|error-rate]

`alerts` plays the staging alert drills (tools/drills.py): each starts its
own local runtime with one threshold lowered, sends the breaching request and
prints the alert that fired with its runbook link. It exits 1 if a drill did
not produce exactly its one alert.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from tools import drills


def run_alerts(args: argparse.Namespace) -> int:
    chosen = [drills.DRILLS_BY_NAME[args.drill]] if args.drill else drills.DRILLS
    failures = 0
    for drill in chosen:
        result = drills.play(drill)
        print(drills.report(result), flush=True)
        failures += 0 if result.passed else 1
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.simulate", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)

    alerts = commands.add_parser(
        "alerts", help="play the staging alert drills and print each alert"
    )
    alerts.add_argument(
        "--drill", choices=sorted(drills.DRILLS_BY_NAME), help="play only this one"
    )
    alerts.set_defaults(run=run_alerts)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
