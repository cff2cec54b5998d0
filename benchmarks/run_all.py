"""`make bench`: every benchmark with its default (small) sizes; each prints its own figures."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    ["read_accuracy.py", "--style", "printed,handwritten", "--profile", "clean300,office200,skewed", "--count", "10"],
    ["pdf_render.py", "--count", "5"],
    ["robot_entry.py", "--count", "200", "--sessions", "4"],
    ["review_load.py", "--fields", "10000", "--requests", "200"],
    ["intake_throughput.py", "--count", "200"],
]


def main() -> int:
    failures = 0
    for command in BENCHMARKS:
        print(f"== {' '.join(command)}", flush=True)
        failures += subprocess.call([sys.executable, str(HERE / command[0]), *command[1:]]) != 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
