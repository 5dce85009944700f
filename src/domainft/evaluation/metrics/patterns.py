"""Pattern checks: does each answer follow the house style? Regex and structure rules as pass rates.

A :class:`PatternRule` is one check (``regex``, ``starts_with``, ``ends_with``, ``numbered_steps``,
``max_words``, ``min_words``, ``required_terms``, ``forbidden_terms``, ``json``, ``sections``). The
``patterns`` metric applies every rule of a :class:`PatternConfig` to every answer: per example 1
(pass) or 0 (fail) under ``pattern_<rule name>``, plus ``pattern_all`` (1 when every rule passes);
headline values are pass rates. ``details["failing"]`` lists, per rule, the first failing examples
with the reason. References are not used. Text comparisons ignore case unless ``case_sensitive``.

Examples:
    >>> from domainft.evaluation.metrics.patterns import PatternMetric
    >>> metric = PatternMetric(rules=[
    ...     {"name": "steps", "kind": "numbered_steps", "count": 2},
    ...     {"name": "short", "kind": "max_words", "count": 30},
    ... ])
    >>> out = metric.compute(["1. Stop the pump.\\n2. Replace the seal.", "Replace the seal."], ["", ""])
    >>> out.values
    {'pattern_steps': 0.5, 'pattern_short': 1.0, 'pattern_all': 0.5}
    >>> out.details["failing"]["steps"]
    [{'index': 1, 'reason': 'found 0 numbered steps, need at least 2'}]
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError
from domainft.evaluation.metrics import register_metric
from domainft.evaluation.metrics.base import Metric, MetricOutput

__all__ = ["PATTERN_KINDS", "PatternConfig", "PatternMetric", "PatternRule", "count_words"]

#: Rule kinds -> the PatternRule fields each one reads (besides name, kind, case_sensitive, description).
PATTERN_KINDS: dict[str, tuple[str, ...]] = {
    "regex": ("pattern", "must_match"),
    "starts_with": ("text",),
    "ends_with": ("text",),
    "numbered_steps": ("count",),
    "max_words": ("count",),
    "min_words": ("count",),
    "required_terms": ("terms", "mode"),
    "forbidden_terms": ("terms",),
    "json": (),
    "sections": ("headings",),
}
_OPTIONAL_FIELDS = ("must_match", "mode")  # have defaults that make sense for their kind
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_NUMBERED_LINE = re.compile(r"^[ \t]*(?:\*\*)?\d{1,3}[.)](?:\*\*)?[ \t]+\S", re.MULTILINE)


def count_words(text: str) -> int:
    """Whitespace-separated tokens holding at least one letter or digit (bullets and dashes do not count).

    Examples:
        >>> count_words("- Thay dầu — then restart the máy!")
        6
    """
    return sum(1 for token in text.split() if any(c.isalnum() for c in token))


def _default_of(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _excerpt(text: str, width: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def _term_regex(term: str, flags: int) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(part) for part in term.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", flags)


def _heading_regex(heading: str, flags: int) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(part) for part in heading.split())
    own_line = rf"^[ \t]*(?:\#{{1,6}}[ \t]*)?(?:\*\*|__)?{body}(?:\*\*|__)?[ \t]*:?[ \t]*$"
    label = rf"(?<!\w)(?:\*\*|__)?{body}(?:\*\*|__)?[ \t]*:"
    return re.compile(rf"{own_line}|{label}", flags | re.MULTILINE)


@dataclass
class PatternRule(ConfigBase):
    """One check applied to every answer.

    Examples:
        >>> rule = PatternRule(name="greeting", kind="starts_with", text="Hi")
        >>> rule.check("hi Anna, thanks for writing."), rule.check("Dear Anna")
        ((True, ''), (False, "starts with 'Dear Anna', expected 'Hi'"))
        >>> PatternRule(name="no_todo", kind="regex", pattern="TODO|FIXME", must_match=False).check("x TODO")
        (False, "matches 'TODO|FIXME' at 'TODO' (must not match)")
    """

    name: str = config_field(
        dataclasses.MISSING, help="Rule name: letters, digits, _ . -; the value is pattern_<name>."
    )
    kind: str = config_field(dataclasses.MISSING, help="One of: " + ", ".join(PATTERN_KINDS) + ".")
    pattern: str | None = config_field(
        None, help="regex: Python regular expression searched in the answer (^ and $ match at lines)."
    )
    must_match: bool = config_field(True, help="regex: true = must match, false = must not match.")
    text: str | None = config_field(
        None, help="starts_with / ends_with: the phrase (surrounding space ignored)."
    )
    terms: list[str] = config_field(
        [], help="required_terms / forbidden_terms: words or phrases, matched as whole words."
    )
    mode: Literal["all", "any"] = config_field("all", help="required_terms: all terms, or at least one.")
    count: int | None = config_field(
        None, help="numbered_steps: at least this many numbered lines; max_words / min_words: the limit."
    )
    headings: list[str] = config_field(
        [], help="sections: headings that must appear in this order (own line, or 'Heading:' label)."
    )
    case_sensitive: bool = config_field(False, help="Compare text (and regexes) case-sensitively.")
    description: str = config_field("", help="What the rule is for (shown in reports).")
    _regex: Any = dataclasses.field(default=None, init=False, repr=False, compare=False)
    _checker: Any = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def validate(self) -> None:
        where = f"pattern rule {self.name!r}"
        if not _NAME.match(self.name or ""):
            raise ConfigError(
                f"pattern rule name {self.name!r}: use letters, digits, '_', '.', '-' "
                "(it becomes pattern_<name>)"
            )
        if self.name == "all":
            raise ConfigError("pattern rule name 'all' is reserved for pattern_all (every rule passes)")
        if self.kind not in PATTERN_KINDS:
            raise ConfigError(f"{where}: unknown kind {self.kind!r}; known kinds: {', '.join(PATTERN_KINDS)}")
        used = PATTERN_KINDS[self.kind]
        fields = {f.name: f for f in dataclasses.fields(self)}
        for field_name in ("pattern", "must_match", "text", "terms", "mode", "count", "headings"):
            value = getattr(self, field_name)
            is_default = value == _default_of(fields[field_name])
            if field_name not in used and not is_default:
                raise ConfigError(f"{where}: field {field_name!r} is not used by kind {self.kind!r}")
            if field_name in used and field_name not in _OPTIONAL_FIELDS and is_default:
                raise ConfigError(f"{where}: kind {self.kind!r} needs {field_name!r}")
        flags = 0 if self.case_sensitive else re.IGNORECASE
        if self.kind == "regex":
            try:
                self._regex = re.compile(self.pattern or "", flags | re.MULTILINE)
            except re.error as exc:
                raise ConfigError(f"{where}: invalid regular expression {self.pattern!r}: {exc}") from None
        if self.kind in ("starts_with", "ends_with") and not (self.text or "").strip():
            raise ConfigError(f"{where}: text must be a non-empty phrase")
        if self.kind in ("required_terms", "forbidden_terms"):
            if any(not t.strip() for t in self.terms):
                raise ConfigError(f"{where}: terms must be non-empty strings, got {self.terms}")
            self._regex = [_term_regex(t, flags) for t in self.terms]
        if self.kind == "sections":
            if any(not h.strip() for h in self.headings):
                raise ConfigError(f"{where}: headings must be non-empty strings, got {self.headings}")
            self._regex = [_heading_regex(h, flags) for h in self.headings]
        if self.kind in ("numbered_steps", "max_words", "min_words"):
            low = 1 if self.kind == "numbered_steps" else 0
            if self.count is None or self.count < low:
                raise ConfigError(f"{where}: count must be an integer >= {low}, got {self.count}")
        self._checker = getattr(self, f"_check_{self.kind}")

    def check(self, answer: str) -> tuple[bool, str]:
        """``(passed, reason)`` for one answer; ``reason`` is empty when it passes."""
        return self._checker(answer)

    # ------------------------------------------------------------------------------------ checks

    def _fold(self, text: str) -> str:
        return text if self.case_sensitive else text.casefold()

    def _check_regex(self, answer: str) -> tuple[bool, str]:
        found = self._regex.search(answer)
        if self.must_match:
            return (True, "") if found else (False, f"no match for {self.pattern!r}")
        if found:
            return False, f"matches {self.pattern!r} at {_excerpt(found.group(0))!r} (must not match)"
        return True, ""

    def _check_starts_with(self, answer: str) -> tuple[bool, str]:
        phrase = (self.text or "").strip()
        body = answer.lstrip()
        if self._fold(body).startswith(self._fold(phrase)):
            return True, ""
        return False, f"starts with {_excerpt(body[: len(phrase) + 20])!r}, expected {phrase!r}"

    def _check_ends_with(self, answer: str) -> tuple[bool, str]:
        phrase = (self.text or "").strip()
        body = answer.rstrip()
        if self._fold(body).endswith(self._fold(phrase)):
            return True, ""
        return False, f"ends with {_excerpt(body[-(len(phrase) + 20) :])!r}, expected {phrase!r}"

    def _check_numbered_steps(self, answer: str) -> tuple[bool, str]:
        found = len(_NUMBERED_LINE.findall(answer))
        need = int(self.count or 0)
        if found >= need:
            return True, ""
        return False, f"found {found} numbered step{'s' if found != 1 else ''}, need at least {need}"

    def _check_max_words(self, answer: str) -> tuple[bool, str]:
        n = count_words(answer)
        return (True, "") if n <= int(self.count or 0) else (False, f"{n} words, limit {self.count}")

    def _check_min_words(self, answer: str) -> tuple[bool, str]:
        n = count_words(answer)
        return (True, "") if n >= int(self.count or 0) else (False, f"{n} words, need at least {self.count}")

    def _check_required_terms(self, answer: str) -> tuple[bool, str]:
        present = [t for t, rx in zip(self.terms, self._regex, strict=True) if rx.search(answer)]
        if self.mode == "any":
            return (True, "") if present else (False, f"none of {self.terms} found")
        missing = [t for t in self.terms if t not in present]
        return (True, "") if not missing else (False, f"missing {missing}")

    def _check_forbidden_terms(self, answer: str) -> tuple[bool, str]:
        present = [t for t, rx in zip(self.terms, self._regex, strict=True) if rx.search(answer)]
        return (True, "") if not present else (False, f"contains forbidden {present}")

    def _check_json(self, answer: str) -> tuple[bool, str]:
        try:
            json.loads(answer.strip())
        except ValueError as exc:
            return False, f"not valid JSON: {exc}"
        return True, ""

    def _check_sections(self, answer: str) -> tuple[bool, str]:
        position = 0
        previous = None
        for heading, rx in zip(self.headings, self._regex, strict=True):
            found = rx.search(answer, position)
            if found is None:
                if rx.search(answer) is not None:
                    return False, f"section {heading!r} is not after {previous!r}"
                return False, f"missing section {heading!r}"
            position, previous = found.end(), heading
        return True, ""


def _rules_from(rules: Any) -> list[PatternRule]:
    """Rules from a list (of PatternRule or dicts) or a mapping ``{name: {kind: ..., ...}}``."""
    if isinstance(rules, Mapping):
        out = []
        for name, body in rules.items():
            if isinstance(body, PatternRule):
                out.append(body)
                continue
            if not isinstance(body, Mapping):
                raise ConfigError(f"pattern rule {name!r}: expected a mapping of rule fields, got {body!r}")
            if "name" in body and body["name"] != name:
                raise ConfigError(f"pattern rule {name!r}: its name field says {body['name']!r}")
            out.append(PatternRule.from_dict({**body, "name": name}, _where=f"pattern rule {name!r}"))
        return out
    if isinstance(rules, (str, bytes)) or not isinstance(rules, Sequence):
        raise ConfigError(
            f"pattern rules: expected a list of rules or a mapping name -> rule, got {rules!r:.80}"
        )
    out = []
    for i, rule in enumerate(rules):
        if isinstance(rule, PatternRule):
            out.append(rule)
        elif isinstance(rule, Mapping):
            label = f"pattern rule {rule.get('name', f'#{i}')!r}"
            out.append(PatternRule.from_dict(dict(rule), _where=label))
        else:
            raise ConfigError(f"pattern rules[{i}]: expected a mapping of rule fields, got {rule!r:.80}")
    return out


@dataclass
class PatternConfig(ConfigBase):
    """The pattern rules of a recipe (``evaluation.patterns``) and how many failures to list.

    Examples:
        >>> cfg = PatternConfig.from_dict({"rules": [{"name": "is_json", "kind": "json"}]})
        >>> cfg.rules[0].check('{"ok": true}')
        (True, '')
    """

    rules: list[PatternRule] = config_field([], help="The checks; each gives pattern_<name>.")
    max_examples: int = config_field(20, help="Failing examples listed per rule in the details.")

    def validate(self) -> None:
        if not self.rules:
            raise ConfigError("PatternConfig.rules is empty: give at least one rule (name, kind, ...)")
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ConfigError(f"PatternConfig.rules: two rules are named {rule.name!r}")
            seen.add(rule.name)
        if self.max_examples < 0:
            raise ConfigError(f"PatternConfig.max_examples must be >= 0, got {self.max_examples}")


@register_metric("patterns")
class PatternMetric(Metric):
    """Pass rates of pattern rules; per example 1/0 under ``pattern_<rule>`` and ``pattern_all``.

    Args:
        rules: a list of :class:`PatternRule` (or dicts of its fields), or a mapping
            ``{name: {kind: ..., ...}}``.
        config: a :class:`PatternConfig` (or dict) instead of ``rules``.
        max_examples: failing examples listed per rule in ``details["failing"]``.

    Examples:
        >>> out = PatternMetric(rules={"no_sorry": {"kind": "forbidden_terms", "terms": ["sorry"]}}).compute(
        ...     ["Sorry, I can't.", "Done."], ["", ""])
        >>> out.per_sample["pattern_no_sorry"], out.details["n_failing"]
        ([0.0, 1.0], {'no_sorry': 1})
    """

    name = "patterns"

    def __init__(
        self,
        rules: Any | None = None,
        *,
        config: PatternConfig | Mapping[str, Any] | None = None,
        max_examples: int | None = None,
    ) -> None:
        if (rules is None) == (config is None):
            raise ConfigError(
                "patterns: give the rules (rules=[...]) or a PatternConfig (config=...), not both"
            )
        if config is None:
            data: dict[str, Any] = {"rules": _rules_from(rules)}
        elif isinstance(config, PatternConfig):
            data = {"rules": list(config.rules), "max_examples": config.max_examples}
        elif isinstance(config, Mapping):
            data = dict(config)
            data["rules"] = _rules_from(data.get("rules", []))
        else:
            raise ConfigError(
                f"patterns: config must be a PatternConfig or a dict, got {type(config).__name__}"
            )
        if max_examples is not None:
            data["max_examples"] = max_examples
        self.config = PatternConfig.from_dict(data, _where="patterns")
        self.rules = self.config.rules

    @property
    def keys(self) -> list[str]:
        """Names of the reported values: ``pattern_<rule>`` for each rule, then ``pattern_all``."""
        return [f"pattern_{r.name}" for r in self.rules] + ["pattern_all"]

    def _compute(self, predictions: list[str], references: list[str]) -> MetricOutput:
        per_sample: dict[str, list[float | None]] = {k: [] for k in self.keys}
        failing: dict[str, list[dict[str, Any]]] = {r.name: [] for r in self.rules}
        n_failing = dict.fromkeys(failing, 0)
        limit = self.config.max_examples
        for i, answer in enumerate(predictions):
            all_pass = True
            for rule in self.rules:
                passed, reason = rule.check(answer)
                per_sample[f"pattern_{rule.name}"].append(1.0 if passed else 0.0)
                if not passed:
                    all_pass = False
                    n_failing[rule.name] += 1
                    if len(failing[rule.name]) < limit:
                        failing[rule.name].append({"index": i, "reason": reason})
            per_sample["pattern_all"].append(1.0 if all_pass else 0.0)
        n = len(predictions)
        values = {key: sum(v for v in scores if v is not None) / n for key, scores in per_sample.items()}
        details = {
            "rules": [r.to_dict() for r in self.rules],
            "failing": failing,
            "n_failing": n_failing,
        }
        return MetricOutput(values=values, per_sample=per_sample, details=details)
