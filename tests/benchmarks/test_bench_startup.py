import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_startup.py"


def test_startup_benchmark_times_every_case(tmp_path):
    out = tmp_path / "startup.json"
    subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--output", str(out)], check=True, timeout=120)
    report = json.loads(out.read_text())
    assert set(report["median_seconds"]) == {
        "python -c pass",
        "import torch",
        "import domainft",
        "domainft --help",
    }
    assert all(seconds > 0 for seconds in report["median_seconds"].values())
    assert report["machine"]["versions"]["torch"] and report["machine"]["cpu_count"] >= 1
