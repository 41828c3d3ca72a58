"""Every benchmark, one after the other: `python -m bench [--database-url URL] [--only ...]`.

Each runs in a process of its own, prints its table and writes its JSON under bench/results/.
With a PostgreSQL URL, the benchmarks that compare databases run on both. None of this is part
of the test suite: timings are measured and reported, never asserted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

BENCHES = ("tallies", "answers", "broadcast", "replies", "memory", "scale", "handling")


def commands(database_url: str | None) -> dict[str, list[list[str]]]:
    postgres = ["--database-url", database_url] if database_url else []
    tallies = [["--json", "bench/results/tallies.json"]]
    if database_url:
        tallies.append([*postgres, "--json", "bench/results/tallies-postgresql.json"])
    return {
        "tallies": tallies,
        "answers": [["--both", *postgres] if database_url else []],
        "broadcast": [[]],
        "replies": [[]],
        "memory": [[]],
        "scale": [postgres],
        "handling": [postgres],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--database-url", help="a PostgreSQL server, to measure it as well")
    parser.add_argument("--only", default=",".join(BENCHES), help="a comma-separated subset")
    args = parser.parse_args(argv)
    wanted = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(BENCHES))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {BENCHES}")
    failed = []
    for name in wanted:
        for extra in commands(args.database_url)[name]:
            command = [sys.executable, "-m", f"bench.{name}", *extra]
            print(f"\n=== {' '.join(['python', *command[1:]])}", flush=True)
            if subprocess.run(command, check=False).returncode:
                failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
