"""Start-up cost: ``import domainft`` and ``domainft --help`` wall time, against ``import torch``.

Targets: import under 0.5 s, ``--help`` under 1.5 s. The baselines (``python -c pass`` and
``import torch``) are measured in the same run, so the ratios hold on a noisy machine.

    python benchmarks/bench_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from benchlib import table, verdict, write_result

CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import torch": [sys.executable, "-c", "import torch"],
    "import domainft": [sys.executable, "-c", "import domainft"],
    "domainft --help": [sys.executable, "-m", "domainft.cli", "--help"],
}
TARGETS = {"import domainft": 0.5, "domainft --help": 1.5}


def wall_time(cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="one repeat")
    parser.add_argument("--output", default=None, help="JSON result path (default benchmarks/results/)")
    args = parser.parse_args()
    repeats = 1 if args.smoke else args.repeats
    results = {name: wall_time(cmd, repeats) for name, cmd in CASES.items()}
    rows = [
        {
            "case": name,
            "seconds": seconds,
            "vs_torch": seconds / results["import torch"],
            "target": TARGETS.get(name),
            "verdict": verdict(seconds, TARGETS[name], higher_is_better=False) if name in TARGETS else "",
        }
        for name, seconds in results.items()
    ]
    columns = [("case", "case", ""), ("seconds", "median s", ".3f"), ("vs_torch", "vs import torch", ".2f")]
    print(table(rows, [*columns, ("target", "target s", ""), ("verdict", "", "")]))
    payload = {"repeats": repeats, "median_seconds": results, "targets": TARGETS}
    print(f"wrote {write_result('startup', payload, output=args.output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
