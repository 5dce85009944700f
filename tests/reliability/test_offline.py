"""The offline guarantee: the demo and an evaluation run with no offline variables set by the user and a
socket guard that fails (and records) every connection or DNS lookup leaving this machine; loopback
endpoints (a judge, a served system) still work. Also: the guard itself works, and ``import domainft``
turns third-party telemetry off (a telemetry ping that the guard catches without it is not sent)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from domainft.utils.privacy import TELEMETRY_DEFAULTS, disable_telemetry
from tests.fake_openai import FakeOpenAIServer, ReceivedRequest
from tests.reliability import socket_guard

HERE = Path(__file__).resolve().parent
JOB = HERE / "offline_job.py"

#: What a user who "set nothing" has not set: the offline switches and every telemetry opt-out.
UNSET = (
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "HF_HUB_DISABLE_TELEMETRY",
    "DO_NOT_TRACK",
    "RAGAS_DO_NOT_TRACK",
    "DISABLE_TELEMETRY",
    "CI",  # trl skips its telemetry ping on CI; a user's machine is not CI
)


class Guarded:
    """Runs Python subprocesses with the socket guard installed (via sitecustomize) before any import."""

    def __init__(self, root: Path) -> None:
        self.site = root / "guard-site"
        self.site.mkdir(parents=True, exist_ok=True)
        (self.site / "sitecustomize.py").write_text(socket_guard.sitecustomize_source(), encoding="utf-8")
        self.log = root / "blocked.jsonl"
        env = {k: v for k, v in os.environ.items() if k not in UNSET}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(self.site), env.get("PYTHONPATH")) if p)
        env[socket_guard.LOG_ENV] = str(self.log)
        env["PYTHONWARNINGS"] = "ignore"
        self.env = env

    def run(self, args: list[str], *, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=timeout
        )

    @property
    def installed_in(self) -> list[str]:
        marker = Path(f"{self.log}.installed")
        return marker.read_text(encoding="utf-8").split() if marker.exists() else []

    def attempts(self) -> list[dict]:
        return socket_guard.read_log(self.log)

    def describe(self) -> str:
        return "\n".join(f"{a['what']} {a['target']}\n{a['stack']}" for a in self.attempts()[:3])


@pytest.fixture
def guarded(tmp_path) -> Guarded:
    return Guarded(tmp_path)


# ------------------------------------------------------------------------------------------ the guard


def test_guard_blocks_and_records_non_loopback_targets(tmp_path):
    log = tmp_path / "blocked.jsonl"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    acceptor = threading.Thread(
        target=lambda: [accepted.append(listener.accept()[0]) for _ in range(3)], daemon=True
    )
    acceptor.start()
    socket_guard.install(log)
    try:
        with pytest.raises(OSError, match="not allowed"):
            socket.create_connection(("192.0.2.1", 80), timeout=1)
        with pytest.raises(OSError, match="not allowed"):
            socket.getaddrinfo("example.invalid", 443)
        with pytest.raises(OSError, match="not allowed"):
            socket.gethostbyname("example.invalid")
        with socket.socket() as raw, pytest.raises(OSError, match="not allowed"):
            raw.connect(("198.51.100.7", 443))
        with socket.socket(socket.AF_INET6) as raw, pytest.raises(OSError, match="not allowed"):
            raw.connect_ex(("2001:db8::1", 443, 0, 0))
        # loopback still works, by address and by name
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        with socket.socket() as raw:
            assert raw.connect_ex(("127.0.0.1", port)) == 0
        assert socket.getaddrinfo("localhost", port)
        socket.create_connection(("localhost", port), timeout=5).close()
    finally:
        socket_guard.uninstall()
        acceptor.join(timeout=5)
        listener.close()
        for conn in accepted:
            conn.close()
    attempts = socket_guard.read_log(log)
    assert [(a["what"], a["target"]) for a in attempts] == [
        ("create_connection", "('192.0.2.1', 80)"),
        ("getaddrinfo", "'example.invalid'"),
        ("gethostbyname", "'example.invalid'"),
        ("connect", "('198.51.100.7', 443)"),
        ("connect_ex", "('2001:db8::1', 443, 0, 0)"),
    ]
    assert all("test_offline.py" in a["stack"] for a in attempts)  # the log says who tried
    # uninstalled: the originals are back
    assert socket.create_connection.__module__ == "socket"


def test_guard_is_active_in_a_subprocess_before_anything_is_imported(guarded, tmp_path):
    code = (
        "import sys, urllib.request\n"
        "assert 'domainft' not in sys.modules\n"
        "try:\n"
        "    urllib.request.urlopen('http://192.0.2.1/', timeout=2)\n"
        "except OSError as exc:\n"
        "    print('blocked:', exc)\n"
    )
    done = guarded.run(["-c", code], cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "blocked:" in done.stdout and "not allowed" in done.stdout
    assert len(guarded.installed_in) == 1
    assert [a["target"] for a in guarded.attempts()] == ["('192.0.2.1', 80)"]


# ------------------------------------------------------------------------------------------ telemetry


def test_disable_telemetry_keeps_explicit_settings_and_forces_ragas_off(monkeypatch):
    monkeypatch.delenv("HF_HUB_DISABLE_TELEMETRY", raising=False)
    monkeypatch.setenv("DO_NOT_TRACK", "0")  # the user's explicit choice is kept
    monkeypatch.setenv("RAGAS_DO_NOT_TRACK", "false")  # ragas is forced off
    changed = disable_telemetry()
    assert changed == {"HF_HUB_DISABLE_TELEMETRY": "1", "RAGAS_DO_NOT_TRACK": "true"}
    assert os.environ["DO_NOT_TRACK"] == "0" and os.environ["RAGAS_DO_NOT_TRACK"] == "true"
    assert disable_telemetry() == {}  # idempotent
    assert set(TELEMETRY_DEFAULTS) == {"HF_HUB_DISABLE_TELEMETRY", "DO_NOT_TRACK"}
    assert "HF_HUB_DISABLE_IMPLICIT_TOKEN" not in changed  # gated downloads keep the user's saved token


def test_disable_telemetry_updates_an_already_imported_huggingface_hub(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", False)
    monkeypatch.delenv("HF_HUB_DISABLE_TELEMETRY", raising=False)
    disable_telemetry()
    assert constants.HF_HUB_DISABLE_TELEMETRY is True


PING = (
    "import json, os, sys\n"
    "for name in sys.argv[2].split(','):\n"
    "    if name: __import__(name)\n"
    "if sys.argv[1] == 'hub':\n"
    "    from huggingface_hub.utils import send_telemetry\n"
    "    from huggingface_hub.utils._telemetry import _TELEMETRY_QUEUE\n"
    "    send_telemetry(topic='domainft-offline-test', library_name='domainft')\n"
    "    _TELEMETRY_QUEUE.join()\n"
    "else:\n"
    "    from ragas._analytics import LLMUsageEvent, track\n"
    "    try:\n"
    "        track(LLMUsageEvent(provider='domainft-test', llm_type='test'))\n"
    "    except OSError as exc:\n"
    "        print('ragas tried to send:', exc)\n"
    "names = ['HF_HUB_DISABLE_TELEMETRY', 'DO_NOT_TRACK', 'RAGAS_DO_NOT_TRACK', 'HF_HUB_DISABLE_IMPLICIT_TOKEN']\n"
    "print(json.dumps({n: os.environ.get(n) for n in names}))\n"
)


@pytest.mark.parametrize(
    ("library", "imports", "pings"),
    [
        ("hub", "", True),  # control: without domainft the ping is attempted (and the guard catches it)
        ("hub", "domainft", False),
        ("hub", "huggingface_hub.constants,transformers,domainft", False),  # hub read its switch first
        ("ragas", "", True),
        ("ragas", "ragas._analytics,domainft", False),  # ragas cached its switch before domainft came
    ],
)
def test_import_domainft_turns_third_party_telemetry_off(guarded, tmp_path, library, imports, pings):
    guarded.env["XDG_DATA_HOME"] = str(tmp_path / "data-home")  # ragas saves a user id there
    done = guarded.run(["-c", PING, library, imports], cwd=tmp_path, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    env = json.loads(done.stdout.strip().splitlines()[-1])
    attempts = guarded.attempts()
    if pings:
        host = "huggingface.co" if library == "hub" else "explodinggradients.com"
        assert attempts and all(host in a["target"] for a in attempts), attempts
        assert env == dict.fromkeys(env)  # nothing set
    else:
        assert attempts == [], guarded.describe()
        assert env == {
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "DO_NOT_TRACK": "1",
            "RAGAS_DO_NOT_TRACK": "true",
            "HF_HUB_DISABLE_IMPLICIT_TOKEN": None,
        }


# ------------------------------------------------------------------------------------------ real work


def _judge_and_served(request: ReceivedRequest) -> str:
    """Grades 7, prefers the first answer, and answers generation requests like a technician."""
    text = request.last_user
    if "[Answer to grade]" in text:
        return '{"score": 7, "rationale": "Names a plausible cause."}'
    if "[Assistant 1]" in text:
        return '{"winner": "1", "rationale": "More specific."}'
    return "Cause: worn seal. Solution: replace the seal and test under load. Expected time: 1 h."


def test_evaluation_runs_offline_with_nothing_set_and_loopback_judge(guarded, tmp_path):
    out = tmp_path / "job"
    with FakeOpenAIServer(_judge_and_served) as server:
        done = guarded.run([str(JOB), str(out), server.url], cwd=tmp_path)
        requests = list(server.requests)
    assert done.returncode == 0, done.stderr[-4000:]
    assert guarded.attempts() == [], guarded.describe()
    assert len(guarded.installed_in) == 1
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["guarded"] is True
    assert result["env_before_import"] == dict.fromkeys(result["env_before_import"])  # the user set none
    for system in ("tiny", "served"):
        assert {"rouge1", "bleu", "semantic_similarity", "judge_score"} <= set(result["systems"][system])
        assert result["judge_score"][system] == 7.0
    assert result["semantic"]["served"] > result["semantic"]["tiny"]  # the served answers are on topic
    assert result["pairwise"] == ["served vs tiny"]
    assert result["sentiment_scored"] == 2 * 46 and result["layer_rows"] == 16  # diagnostics ran offline too
    kinds = {
        "grade" if "[Answer to grade]" in r.last_user else "pair" if "[Assistant 1]" in r.last_user else "gen"
        for r in requests
    }
    assert kinds == {"grade", "pair", "gen"}  # the judge and the served system both went over loopback
    for name in ("metrics.json", "samples.jsonl", "report.html"):
        assert (out / "eval" / name).is_file()
    assert (out / "data-report").is_dir() and any((out / "data-report").iterdir())
    assert any((out / "judge-cache").iterdir()) and any((out / "generation-cache").iterdir())


# the demo: 23 s alone, about 45 s on a busy 2-core machine
def test_demo_runs_offline_with_nothing_set(guarded, tmp_path):
    out = tmp_path / "demo"
    done = guarded.run(
        ["-m", "domainft.cli", "demo", "--output-dir", str(out), "--epochs", "1", "--quiet"], cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert guarded.attempts() == [], guarded.describe()
    assert len(guarded.installed_in) == 1
    metrics = json.loads((out / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["systems"]) == {"base", "tuned"}
    for name in (
        "manifest.json",
        "adapter/adapter_config.json",
        "eval/report.html",
        "tiny-model/config.json",
    ):
        assert (out / name).is_file(), name
