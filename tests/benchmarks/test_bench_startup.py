from tests.benchmarks import run_smoke


def test_startup_benchmark_times_every_case(tmp_path):
    _, report = run_smoke("startup", tmp_path)
    assert set(report["median_seconds"]) == {
        "python -c pass",
        "import torch",
        "import domainft",
        "domainft --help",
    }
    assert all(seconds > 0 for seconds in report["median_seconds"].values())
    assert report["machine"]["versions"]["torch"] and report["machine"]["cpu_count"] >= 1
