"""`make bench`: every benchmark with its default (small) sizes; each prints its own figures."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Issue 4's targets: ≥ 100 forms per form and style with seeds the calibration never saw (printed: 34 per profile
# over three profiles), fax and photo reported, and the Tesseract peer side by side on the same pages.
BENCHMARKS = [
    ["read_accuracy.py", "--form", "all", "--style", "printed", "--profile", "clean300,office200,skewed",
     "--count", "34"],
    ["read_accuracy.py", "--form", "all", "--style", "handwritten", "--profile", "office200", "--count", "100"],
    ["read_accuracy.py", "--form", "all", "--style", "printed,handwritten", "--profile", "fax,photo", "--count", "20"],
    ["read_accuracy.py", "--form", "all", "--style", "printed", "--profile", "office200", "--count", "10",
     "--engines", "rapidocr,tesseract"],
    ["pdf_render.py", "--count", "5"],
    ["robot_entry.py", "--count", "200", "--sessions", "4"],
    ["review_load.py", "--fields", "10000", "--requests", "200"],
    ["read_accuracy.py", "--form", "all", "--style", "printed,handwritten", "--profile", "office200,robust",
     "--count", "20"],
    ["intake_throughput.py", "--count", "200"],
    ["profile_read.py", "--count", "24"],
    ["soak.py", "--pages", "200"],
]


def main() -> int:
    failures = 0
    for command in BENCHMARKS:
        print(f"== {' '.join(command)}", flush=True)
        failures += subprocess.call([sys.executable, str(HERE / command[0]), *command[1:]]) != 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
