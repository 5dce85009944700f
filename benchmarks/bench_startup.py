"""Start-up cost: ``import domainft`` and ``domainft --help`` wall time, against ``import torch``.

Targets: import under 0.5 s, ``--help`` under 1.5 s. The baseline (``python -c pass`` and
``import torch``) is measured in the same run, so the ratios hold on a noisy machine.

    python benchmarks/bench_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

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
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "startup.json"))
    args = parser.parse_args()
    results = {name: wall_time(cmd, args.repeats) for name, cmd in CASES.items()}
    torch_time = results["import torch"]
    print(f"{'case':<18}{'median s':>10}{'vs torch':>10}{'target':>10}")
    for name, seconds in results.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else ("ok" if seconds < target else "MISSED")
        print(f"{name:<18}{seconds:>10.3f}{seconds / torch_time:>9.2f}x{verdict:>10}")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": {"platform": platform.platform(), "python": platform.python_version()},
                "repeats": args.repeats,
                "median_seconds": results,
                "targets": TARGETS,
            },
            indent=2,
        )
        + "\n"
    )
    return 0 if all(results[k] < v for k, v in TARGETS.items()) else 1


if __name__ == "__main__":
    sys.exit(main())
