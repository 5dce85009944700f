"""Pattern checks: every rule kind on passing and failing answers, pass rates, details and errors."""

from __future__ import annotations

import pytest

from domainft.errors import ConfigError
from domainft.evaluation.metrics import get_metric
from domainft.evaluation.metrics.patterns import PatternConfig, PatternMetric, PatternRule, count_words


def rule(**fields) -> PatternRule:
    return PatternRule(name=fields.pop("name", "r"), **fields)


@pytest.mark.parametrize(
    ("fields", "passing", "failing", "reason"),
    [
        (
            {"kind": "regex", "pattern": r"^Expected time: \d+(\.\d+)? h\.?$"},
            "Fix.\nExpected time: 1.5 h.",
            "Expected time: soon",
            "no match",
        ),
        (
            {"kind": "regex", "pattern": r"\bas an ai\b", "must_match": False},
            "Replace the seal.",
            "As an AI, I cannot.",
            "must not match",
        ),
        (
            {"kind": "starts_with", "text": "Hi, thanks for contacting"},
            "  hi, thanks for contacting us.",
            "Hello there",
            "expected 'Hi, thanks for contacting'",
        ),
        (
            {"kind": "ends_with", "text": "Best regards, the Support Team"},
            "Done.\nBest regards, the Support Team\n",
            "Done. Cheers",
            "ends with",
        ),
        (
            {"kind": "numbered_steps", "count": 3},
            "1. Stop.\n2) Drain.\n  3. Refill.",
            "1. Stop.\n2. Drain. 3. Refill.",
            "found 2 numbered steps, need at least 3",
        ),
        (
            {"kind": "max_words", "count": 5},
            "One two three four five.",
            "One two three four five six.",
            "6 words, limit 5",
        ),
        ({"kind": "min_words", "count": 3}, "Thay dầu máy.", "Thay dầu", "2 words, need at least 3"),
        (
            {"kind": "required_terms", "terms": ["bearing", "hydraulic pump"]},
            "The BEARING of the Hydraulic  Pump.",
            "The bearings of the pump.",
            "missing ['bearing', 'hydraulic pump']",
        ),
        (
            {"kind": "required_terms", "terms": ["plugin", "theme"], "mode": "any"},
            "Disable the Plugin.",
            "Clear the cache.",
            "none of",
        ),
        (
            {"kind": "forbidden_terms", "terms": ["sorry", "unfortunately"]},
            "The sorrowful pump works.",
            "Unfortunately it broke.",
            "contains forbidden ['unfortunately']",
        ),
        ({"kind": "json"}, ' {"verdict": 1} ', "{'verdict': 1}", "not valid JSON"),
        (
            {"kind": "sections", "headings": ["Cause", "Solution", "Expected time"]},
            "Cause: worn bearing. Solution: replace it. Expected time: 2 h.",
            "Solution: replace it. Cause: worn bearing. Expected time: 2 h.",
            "section 'Solution' is not after 'Cause'",
        ),
        (
            {"kind": "sections", "headings": ["Steps", "Result"]},
            "## Steps\n1. a\n**Result**\nok",
            "## Steps\n1. a\nThe result is fine.",
            "missing section 'Result'",
        ),
    ],
)
def test_rule_kinds(fields, passing, failing, reason):
    r = rule(**fields)
    assert r.check(passing) == (True, "")
    ok, why = r.check(failing)
    assert not ok
    assert reason in why


def test_case_sensitive_rules():
    assert not rule(kind="starts_with", text="Hi", case_sensitive=True).check("hi there")[0]
    assert rule(kind="regex", pattern="error").check("ERROR 42")[0]
    assert not rule(kind="regex", pattern="error", case_sensitive=True).check("ERROR 42")[0]
    assert count_words("- 1. Thay dầu — máy!") == 4


def test_metric_pass_rates_per_sample_and_details(ticket_pairs):
    answers = [p["response"] for p in ticket_pairs[:6]]
    answers[1] = "Cause: unknown."  # no solution, no time
    answers[4] = answers[4].replace("Expected time", "Time")
    metric = get_metric(
        "patterns",
        rules={
            "structure": {"kind": "sections", "headings": ["Cause", "Solution", "Expected time"]},
            "time": {"kind": "regex", "pattern": r"Expected time: \d+(\.\d+)? h\.$"},
            "short": {"kind": "max_words", "count": 200},
        },
    )
    out = metric.compute(answers, [""] * len(answers))
    assert out.per_sample["pattern_structure"] == [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    assert out.per_sample["pattern_time"] == [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    assert out.per_sample["pattern_short"] == [1.0] * 6
    assert out.per_sample["pattern_all"] == [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    assert out.values == {
        "pattern_structure": pytest.approx(4 / 6),
        "pattern_time": pytest.approx(4 / 6),
        "pattern_short": 1.0,
        "pattern_all": pytest.approx(4 / 6),
    }
    assert out.details["n_failing"] == {"structure": 2, "time": 2, "short": 0}
    assert out.details["failing"]["structure"] == [
        {"index": 1, "reason": "missing section 'Solution'"},
        {"index": 4, "reason": "missing section 'Expected time'"},
    ]
    assert [r["name"] for r in out.details["rules"]] == ["structure", "time", "short"]
    assert out.failures == []


def test_failing_examples_are_capped():
    metric = PatternMetric(rules=[{"name": "j", "kind": "json"}], max_examples=20)
    out = metric.compute(["nope"] * 30, [""] * 30)
    assert len(out.details["failing"]["j"]) == 20
    assert out.details["n_failing"]["j"] == 30
    assert out.values["pattern_j"] == 0.0


def test_config_round_trip_and_recipe_form(tmp_path):
    cfg = PatternConfig.from_dict(
        {
            "rules": [
                {"name": "greeting", "kind": "starts_with", "text": "Hi"},
                {"name": "steps", "kind": "numbered_steps", "count": 2, "description": "numbered"},
            ],
            "max_examples": 5,
        }
    )
    path = tmp_path / "patterns.yaml"
    cfg.to_yaml(path)
    again = PatternConfig.from_yaml(path)
    assert again == cfg
    metric = PatternMetric(config=again)
    assert metric.keys == ["pattern_greeting", "pattern_steps", "pattern_all"]
    out = metric.compute(["Hi!\n1. a\n2. b", "Hi"], ["", ""])
    assert out.values["pattern_all"] == 0.5


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"name": "x", "kind": "palindrome"},
            "pattern rule 'x': unknown kind 'palindrome'; known kinds: regex",
        ),
        (
            {"name": "bad_re", "kind": "regex", "pattern": "([a-z"},
            "pattern rule 'bad_re': invalid regular expression",
        ),
        (
            {"name": "steps", "kind": "numbered_steps"},
            "pattern rule 'steps': kind 'numbered_steps' needs 'count'",
        ),
        ({"name": "n", "kind": "max_words", "count": -1}, "count must be an integer >= 0"),
        (
            {"name": "t", "kind": "starts_with", "text": "Hi", "terms": ["x"]},
            "field 'terms' is not used by kind",
        ),
        ({"name": "t", "kind": "required_terms", "terms": [""]}, "terms must be non-empty"),
        ({"name": "all", "kind": "json"}, "reserved"),
        ({"name": "two words", "kind": "json"}, "use letters, digits"),
        ({"name": "s", "kind": "sections"}, "needs 'headings'"),
    ],
)
def test_rule_errors_name_the_rule(fields, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        PatternRule.from_dict(fields)


def test_metric_errors():
    with pytest.raises(ConfigError, match="two rules are named 'a'"):
        PatternMetric(rules=[{"name": "a", "kind": "json"}, {"name": "a", "kind": "json"}])
    with pytest.raises(ConfigError, match="rules is empty"):
        PatternMetric(rules=[])
    with pytest.raises(ConfigError, match="not both"):
        PatternMetric()
    with pytest.raises(ConfigError, match="pattern rule 'x': unknown kind"):
        get_metric("patterns", rules={"x": {"kind": "nope"}})


def test_rule_sets_of_the_docs_work():
    import re
    from pathlib import Path

    import yaml

    text = (Path(__file__).resolve().parents[2] / "docs" / "ragas.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "rules:" in b]
    wordpress, machinery = (PatternMetric(config=b) for b in blocks)
    good = (
        "Hi, thanks for reaching out! Please try this:\n1. Go to Dashboard > Plugins.\n"
        "2. Deactivate the cache plugin and reload the page.\nBest regards, the Support Team"
    )
    out = wordpress.compute([good, "Just run DELETE FROM wp_options, obviously."], ["", ""])
    assert out.per_sample["pattern_all"] == [1.0, 0.0]
    assert out.details["n_failing"]["no_raw_sql"] == 1 and out.details["n_failing"]["no_blame"] == 1
    ticket = (
        "Cause: worn front bearing.\nSolution:\n1. Isolate the lathe and apply the lockout.\n"
        "2. Replace the front spindle bearing set and set the preload.\nExpected time: 1.5 h."
    )
    out = machinery.compute([ticket, "Cause: x. Solution: y. Expected time: 9 h."], ["", ""])
    assert out.per_sample["pattern_all"] == [1.0, 0.0]
    assert out.per_sample["pattern_expected_time"] == [1.0, 1.0]
