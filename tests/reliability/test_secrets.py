"""API keys never leak: a canary key in the environment reaches the server (as ``Authorization: Bearer``)
and nowhere else: not in any file written (outputs, caches, reports, manifests, recipes, logs), not
in the captured logs at DEBUG or the process's stdout/stderr, not in the configs' to_dict/to_yaml/repr,
and not in the error of a 401 or a refused connection. Each file is searched as bytes for the key, its
base64 forms, "Bearer <key>" and the key's random part."""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from domainft.errors import ConfigError
from domainft.llm.openai_compat import ChatClient, ChatEndpointConfig, ChatEndpointError
from domainft.utils.privacy import check_env_var_name, redact, scrub, secret_env_values
from tests.fake_openai import FakeOpenAIServer, FakeReply, ReceivedRequest, error

SECRET_PART = secrets.token_hex(16)
KEY = f"sk-domainft-canary-{SECRET_PART}"
JUDGE_ENV = "DOMAINFT_CANARY_JUDGE_KEY"
TEACHER_ENV = "DOMAINFT_CANARY_TEACHER_KEY"
SERVE_ENV = "DOMAINFT_CANARY_SERVE_KEY"
PROMPT = "Machine: {machine_type}. Problem: {problem}"
RESPONSE = "Cause: {cause} Solution: {solution} Expected time: {hours:g} h."


def key_forms(key: str = KEY) -> set[str]:
    """The key as it could appear: raw, as a Bearer header, URL-quoted, hex, and base64 (standard and
    URL-safe) at each of the three alignments it can have inside a longer encoded text."""
    raw = key.encode()
    forms = {key, f"Bearer {key}", urllib.parse.quote(key), raw.hex(), key.split("-")[-1]}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for shift in range(3):
            text = encode(b"\0" * shift + raw).decode()
            forms.add(text[4 if shift else 0 : -4])  # the groups that hold only key bytes
    return forms


FORMS = key_forms()


def leaks_in(data: bytes | str) -> list[str]:
    blob = data.encode("utf-8", errors="replace") if isinstance(data, str) else data
    return sorted(form for form in FORMS if form.encode() in blob)


def leaking_files(root: Path) -> dict[str, list[str]]:
    """Every file under ``root`` (read as bytes) that holds a form of the key."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            hits = leaks_in(path.read_bytes())
            if hits:
                found[str(path.relative_to(root))] = hits
    return found


def file_count(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file())


@pytest.fixture
def capture_all(caplog):
    """Every logger at DEBUG, so that a key in any log record would be caught."""
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level not in (logging.NOTSET, logging.DEBUG):
            caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def assert_nothing_leaked(tmp_path: Path, caplog, capfd, *texts: str) -> None:
    assert leaking_files(tmp_path) == {}
    out, err = capfd.readouterr()
    logged = caplog.text + "".join(str(r.msg) + repr(r.args) for r in caplog.records)
    for name, text in {"log": logged, "stdout": out, "stderr": err, **dict(enumerate(texts))}.items():
        assert leaks_in(text) == [], f"the key leaked into {name}"


def authorization(request: ReceivedRequest) -> str | None:
    return next((v for k, v in request.headers.items() if k.lower() == "authorization"), None)


def keyed(answer):
    """A handler that insists on the canary key, like a hosted API, then answers with ``answer``."""

    def handle(request: ReceivedRequest):
        if authorization(request) != f"Bearer {KEY}":
            return error(401, "Incorrect API key provided")
        return answer(request)

    return handle


def answers(request: ReceivedRequest) -> str:
    """Judge grades and verdicts, teacher questions and answers, and a served system's answers."""
    text = request.last_user
    if "[Answer to grade]" in text:
        return '{"score": 6, "rationale": "Plausible but brief."}'
    if "[Assistant 1]" in text:
        return '{"winner": "tie", "rationale": "Equally good."}'
    if text.startswith("A technician asks:"):
        return "1. Isolate the machine. 2. Replace the worn seal. 3. Test under load."
    if text.startswith("Write the question"):
        return "Why does the machine leak after a restart?"
    return "Cause: worn seal. Solution: replace the seal. Expected time: 1 h."


@pytest.fixture
def keyed_server(monkeypatch):
    for name in (JUDGE_ENV, TEACHER_ENV):
        monkeypatch.setenv(name, KEY)
    with FakeOpenAIServer(keyed(answers)) as server:
        yield server


def endpoint(server: FakeOpenAIServer, env: str = JUDGE_ENV, **extra) -> dict:
    return {
        "base_url": server.url,
        "model": "judge",
        "api_key_env": env,
        "max_retries": 1,
        "backoff_s": 0.01,
        **extra,
    }


def config_texts(*configs) -> list[str]:
    """What a config shows of itself: repr, to_dict, to_yaml."""
    texts = []
    for cfg in configs:
        texts += [repr(cfg), json.dumps(cfg.to_dict(), default=str), cfg.to_yaml()]
    return texts


def ticket_rows(n: int) -> list[dict]:
    from domainft.data.samples import builtin_path

    rows = [json.loads(line) for line in builtin_path("machinery_tickets").read_text("utf-8").splitlines()]
    return [r for r in rows if r["problem"].strip() and r["solution"].strip()][:n]


# ------------------------------------------------------------------------------------------ helpers


def test_key_forms_find_the_key_in_every_encoding(tmp_path):
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "planted.bin").write_bytes(b"\x00\xff" + base64.b64encode(KEY.encode()))
    (tmp_path / "clean.txt").write_text("sk-domainft-canary- and nothing else")
    assert list(leaking_files(tmp_path)) == [str(Path("deep/er/planted.bin"))]
    for shift in range(3):
        blob = base64.b64encode(b"x" * shift + f"Authorization: Bearer {KEY}\n".encode())
        assert leaks_in(blob), shift
    assert leaks_in(base64.urlsafe_b64encode(b"yy" + KEY.encode()))
    assert leaks_in(f"...{SECRET_PART}...") and not leaks_in("sk-domainft-canary-")


def test_redact_scrub_and_env_name_check():
    assert redact(f"401: bad key {KEY}; sent Bearer {KEY}", [KEY]) == "401: bad key ***; sent Bearer ***"
    encoded = base64.b64encode(KEY.encode()).decode()
    assert redact(f"basic {encoded}", [KEY, None, ""]) == "basic ***"
    env = {"JUDGE_API_KEY": KEY, "TOKENIZERS_PARALLELISM": "false-false", "HF_TOKEN": "short"}
    assert secret_env_values(env) == [KEY]
    nested = {"a": [f"x {KEY}", ("t", KEY)], KEY: 1, "n": 2.5}
    assert scrub(nested, [KEY]) == {"a": ["x ***", ("t", "***")], "***": 1, "n": 2.5}
    assert check_env_var_name(JUDGE_ENV, "f") == JUDGE_ENV and check_env_var_name(None, "f") is None
    with pytest.raises(ConfigError) as caught:
        check_env_var_name(KEY, "ChatEndpointConfig.api_key_env")
    assert "NAME of an environment variable" in str(caught.value) and not leaks_in(str(caught.value))


def test_manifest_scrubs_secret_environment_values(monkeypatch):
    from domainft.training.manifest import build_manifest

    monkeypatch.setenv("DOMAINFT_CANARY_API_KEY", KEY)
    manifest = build_manifest(note=f"run with {KEY}", nested={"header": f"Bearer {KEY}"})
    assert leaks_in(json.dumps(manifest)) == []
    assert manifest["note"] == "run with ***" and manifest["nested"]["header"] == "Bearer ***"
    assert manifest["versions"]["domainft"]  # the rest is untouched


# ------------------------------------------------------------------------------------------ real work


def test_teacher_generation_keeps_the_key_out_of_outputs_caches_and_logs(
    keyed_server, tmp_path, capture_all, capfd
):
    from domainft.data.synthetic import SyntheticConfig, SyntheticQAGenerator

    config = SyntheticConfig(
        mode="records",
        teacher="openai",
        teacher_options=endpoint(keyed_server, TEACHER_ENV, model="teacher"),
        question_template="Write the question a technician would ask about a {machine_type} with this "
        "problem: {problem}. Reply with the question only.",
        answer_template="A technician asks: {question}\nThe cause was: {cause}\nThe fix was: {solution}\n"
        "Write the expert's answer.",
        cache_dir=str(tmp_path / "synthetic-cache"),
        progress=False,
    )
    generator = SyntheticQAGenerator(config)
    dataset = generator.generate(ticket_rows(5))
    generator.save(tmp_path / "synthetic")
    assert len(dataset) == 5 and generator.stats.to_dict()
    assert keyed_server.count == 10
    assert all(authorization(r) == f"Bearer {KEY}" for r in keyed_server.requests)  # the key was sent
    assert file_count(tmp_path) >= 6
    teacher = generator.teacher
    texts = [*config_texts(config), repr(teacher), json.dumps(teacher.settings()), str(teacher.fingerprint())]
    texts += [repr(teacher.client), str(generator.stats), json.dumps(generator.rejected())]
    assert_nothing_leaked(tmp_path, capture_all, capfd, *texts)


def test_evaluation_with_a_judge_and_an_endpoint_system_keeps_the_key_out_of_the_report(
    keyed_server, tmp_path, tiny_model_dir, tiny_dsd, capture_all, capfd
):
    from domainft import EvaluationConfig, Evaluator, QuantizedLoader

    config = EvaluationConfig(
        metrics=["rouge", "bleu", "judge"],
        decoding={"max_new_tokens": 8},
        max_samples=4,
        judge={
            "endpoint": endpoint(keyed_server),
            "cache_dir": str(tmp_path / "judge-cache"),
            "progress": False,
        },
        pairwise=[["tiny", "served"]],
        cache_dir=str(tmp_path / "generation-cache"),
    )
    model, tokenizer = QuantizedLoader(str(tiny_model_dir), quantization=None).load()
    systems = {"tiny": model, "served": endpoint(keyed_server, TEACHER_ENV, model="served")}
    report = Evaluator(config=config, progress=False).compare(systems, tiny_dsd["test"], tokenizer=tokenizer)
    report.save(tmp_path / "eval")
    assert report.to_dict()["systems"]["served"]["judge_score"]["value"] == 6.0
    assert {"metrics.json", "samples.jsonl", "report.html", "summary.md"} <= {
        p.name for p in (tmp_path / "eval").iterdir()
    }
    assert all(authorization(r) == f"Bearer {KEY}" for r in keyed_server.requests)
    assert keyed_server.count == 4 + 4 * 2 + 4 * 2  # served answers, grades, pairwise in both orders
    texts = config_texts(config, config.judge, config.judge.endpoint)
    texts += [repr(report), report.summary(), report.to_markdown(), json.dumps(report.to_dict(), default=str)]
    assert_nothing_leaked(tmp_path, capture_all, capfd, *texts)


def test_training_run_with_a_judge_in_the_recipe_keeps_the_key_out_of_the_run_folder(
    keyed_server, tmp_path, tiny_model_dir, capture_all, capfd
):
    from domainft import Recipe
    from domainft.workflows import evaluate_from_recipe, train_from_recipe

    recipe = Recipe.from_dict(
        {
            "data": {
                "path": "builtin:machinery_tickets",
                "columns": {"prompt": PROMPT, "response": RESPONSE},
                "validation": 0.1,
                "test": 0.1,
                "seed": 42,
            },
            "model": {"name_or_path": str(tiny_model_dir), "quantization": None},
            "adapter": {"r": 4, "alpha": 8, "target_modules": ["attention"]},
            "training": {
                "output_dir": str(tmp_path / "run"),
                "max_steps": 4,
                "per_device_train_batch_size": 8,
                "logging_steps": 2,
                "disable_tqdm": True,
                "max_length": 256,
            },
            "evaluation": {
                "metrics": ["rouge", "judge"],
                "max_samples": 3,
                "decoding": {"max_new_tokens": 8},
                "judge": {"endpoint": endpoint(keyed_server), "progress": False},
                "pairwise": [["base", "tuned"]],
            },
        }
    )
    outcome = train_from_recipe(recipe)
    evaluate_from_recipe(
        recipe,
        datasets=outcome.datasets,
        model=outcome.model,
        tokenizer=outcome.tokenizer,
        adapter_dir=outcome.adapter_dir,
        progress=False,
    )
    run = tmp_path / "run"
    manifest = (run / "manifest.json").read_text(encoding="utf-8")
    assert '"training"' in manifest and (run / "eval" / "metrics.json").is_file()
    assert JUDGE_ENV in (run / "recipe.yaml").read_text(encoding="utf-8")  # the variable's name is kept
    assert keyed_server.count >= 3 * 2 and all(  # grades of both systems (identical pairs are not asked)
        authorization(r) == f"Bearer {KEY}" for r in keyed_server.requests
    )
    assert_nothing_leaked(tmp_path, capture_all, capfd, *config_texts(recipe))


def _get(url: str, key: str | None = None, body: dict | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, reply.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def test_serve_requires_the_key_and_never_shows_it(tmp_path, tiny_model_dir, monkeypatch, capfd):
    from tests.serving.conftest import free_port

    port = free_port()
    env = {**os.environ, SERVE_ENV: KEY, "PYTHONWARNINGS": "ignore"}
    log = tmp_path / "serve.log"
    cmd = [sys.executable, "-m", "domainft.cli", "-v", "serve", "--model", str(tiny_model_dir)]
    cmd += ["--port", str(port), "--api-key-env", SERVE_ENV, "--log-level", "debug", "--max-new-tokens", "8"]
    with log.open("wb") as handle:
        process = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    root = f"http://127.0.0.1:{port}"
    texts: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()
            try:
                status, health = _get(f"{root}/health")
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert status == 200 and json.loads(health)["auth_required"] is True
        texts.append(health)
        texts.append(_get(f"{root}/")[1])  # the chat page
        models = _get(f"{root}/v1/models", KEY)
        assert models[0] == 200
        wrong = _get(f"{root}/v1/models", "sk-wrong-key")
        missing = _get(f"{root}/v1/models")
        assert wrong[0] == missing[0] == 401
        texts += [models[1], wrong[1], missing[1]]
        monkeypatch.setenv(JUDGE_ENV, KEY)
        name = json.loads(models[1])["data"][0]["id"]
        client = ChatClient(base_url=f"{root}/v1", model=name, api_key_env=JUDGE_ENV, max_tokens=8)
        reply = client.chat([{"role": "user", "content": "Machine: pump. Problem: it leaks."}])
        texts += [repr(client), json.dumps(reply.raw)]
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    served = log.read_text(encoding="utf-8", errors="replace")
    assert "serving" in served  # the log was captured
    out, err = capfd.readouterr()
    assert leaking_files(tmp_path) == {}
    for text in [*texts, out, err]:
        assert leaks_in(text) == []


# ------------------------------------------------------------------------------------------ error paths


def _error_texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


@pytest.mark.parametrize("fault", ["http_401", "connection_refused"])
def test_failures_do_not_put_the_key_in_errors_records_or_reports(
    fault, tmp_path, monkeypatch, capture_all, capfd
):
    from domainft import Evaluator, get_metric
    from domainft.data.synthetic import SyntheticConfig, SyntheticQAGenerator
    from tests.serving.conftest import free_port

    monkeypatch.setenv(JUDGE_ENV, KEY)
    server = FakeOpenAIServer(lambda request: error(401, "Incorrect API key provided")).start()
    url = server.url
    if fault == "connection_refused":
        server.stop()
        url = f"http://127.0.0.1:{free_port()}/v1"
    try:
        ep = {"base_url": url, "model": "m", "api_key_env": JUDGE_ENV, "max_retries": 1, "backoff_s": 0.01}
        with pytest.raises(ChatEndpointError) as caught:
            ChatClient(**ep).chat([{"role": "user", "content": "Hi"}])
        assert caught.value.kind == ("http" if fault == "http_401" else "connection")
        texts = [*_error_texts(caught.value), str(caught.value.failure())]

        judge = get_metric("judge", endpoint=ep, progress=False)
        report = Evaluator(metrics=[judge], progress=False).score(
            {"sys": ["Replace the seal."]}, ["Replace the worn seal."], prompts=["Why does it leak?"]
        )
        report.save(tmp_path / "eval")
        texts += [json.dumps(report.to_dict(), default=str), report.summary()]
        assert json.dumps(report.to_dict()["failures"], default=str).count(url) >= 1  # the failure is kept

        generator = SyntheticQAGenerator(
            SyntheticConfig(
                teacher="openai",
                teacher_options=ep,
                instruction_template="Ticket: {problem}. Write the question and the answer.",
                progress=False,
            )
        )
        generator.generate([{"id": "t1", "problem": "the pump leaks"}])
        generator.save(tmp_path / "synthetic")
        assert [r["reason"] for r in generator.rejected()] == ["call_failed"]
    finally:
        if fault == "http_401":
            server.stop()
    assert_nothing_leaked(tmp_path, capture_all, capfd, *texts)


def test_a_server_echoing_the_key_in_its_error_does_not_leak_it(tmp_path, monkeypatch):
    monkeypatch.setenv(JUDGE_ENV, KEY)
    echo = FakeReply(status=401, body={"error": {"message": f"Incorrect API key provided: {KEY}"}})
    with FakeOpenAIServer(lambda request: echo) as server:
        client = ChatClient(base_url=server.url, model="m", api_key_env=JUDGE_ENV, max_retries=0)
        with pytest.raises(ChatEndpointError) as caught:
            client.chat([{"role": "user", "content": "Hi"}])
    assert "401" in str(caught.value)
    for text in _error_texts(caught.value):
        assert leaks_in(text) == []


def test_an_explicit_key_argument_is_refused_without_repeating_it():
    for build in (
        lambda: ChatClient(base_url="http://127.0.0.1:9/v1", model="m", api_key=KEY),
        lambda: ChatEndpointConfig.from_dict(
            {"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key": KEY}
        ),
    ):
        with pytest.raises(ConfigError) as caught:
            build()
        assert "api_key_env" in str(caught.value) and leaks_in(str(caught.value)) == []


@pytest.mark.parametrize("where", ["ChatEndpointConfig", "ServerConfig"])
def test_a_key_given_as_api_key_env_is_refused_without_repeating_it(where, monkeypatch):
    from domainft.serving.server import ServerConfig

    monkeypatch.delenv(KEY, raising=False)
    with pytest.raises(ConfigError) as caught:
        if where == "ChatEndpointConfig":
            ChatClient(base_url="http://127.0.0.1:9/v1", model="m", api_key_env=KEY)
        else:
            ServerConfig(api_key_env=KEY)
    assert leaks_in(str(caught.value)) == []
