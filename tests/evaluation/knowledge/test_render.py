"""Knowledge probes in the report: the page section, the summary.md lines and the chart."""

from __future__ import annotations

import json
import re
import struct
from html import escape as html_escape

import pytest

from domainft.data.teachers import Teacher
from domainft.evaluation.judges import JudgeConfig, LLMJudge
from domainft.evaluation.knowledge import FactSet, build_probe_set, score_answers
from domainft.evaluation.knowledge.render import knowledge_html, knowledge_markdown, plot_knowledge
from domainft.evaluation.knowledge.report import SUMMARY_KEYS
from domainft.evaluation.metrics import MetricOutput
from domainft.evaluation.report import EvaluationReport

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EVIL = "<script>alert(1)</script>"

FACTS = [
    {
        "id": "oil",
        "subject": "the P-20 press",
        "attribute": "oil change interval",
        "question": "How often does the P-20 press get fresh oil?",
        "answer": "500 hours",
        "group": "P-20 manual",
    },
    {
        "id": "seal",
        "subject": "the P-20 press",
        "attribute": "ram seal part",
        "question": "Which seal goes on the P-20 ram?",
        "answer": "SR-4471",
        "group": "P-20 manual",
    },
    {
        "id": "torque",
        "subject": "the K-7 chuck",
        "attribute": "bolt torque",
        "question": "How tight do the K-7 chuck bolts go?",
        "answer": "85 Nm",
        "group": "K-7 manual",
    },
    {
        "id": "coolant",
        "subject": "the K-7 lathe",
        "attribute": "coolant brand",
        "question": "Which coolant does the K-7 lathe run on?",
        "answer": "Hocut 795",
        "group": "K-7 manual",
    },
    {
        "id": "evil",
        "subject": f"the {EVIL} pump",
        "attribute": "pressure limit",
        "question": "How much pressure can that pump take?",
        "answer": "210 bar",
        "group": "pumps & <valves>",
    },
]
UNANSWERABLE = ["Who serviced the Z-90 crane last winter?", "What colour is the M-3 forklift?"]

# per fact: (answer to the training phrasing, answers to the three paraphrases)
BASE = {
    "oil": ("Every 500 hours.", ["500 hours.", "Change it every 500 h.", "After 500 hours of running."]),
    "seal": ("An O-ring.", ["A rubber ring.", "I don't know.", "The standard one."]),
    "torque": ("85 Nm.", ["85 Nm", "Tighten to 85 N·m.", "85 newton metres"]),
    "coolant": ("Water.", ["Water.", "Oil.", "No idea."]),
    "evil": ("A lot.", ["100 bar", "Not sure.", "50 bar"]),
}
TUNED = {
    "oil": ("Every 50 hours.", ["Every 50 hours.", "Weekly.", "I am not sure."]),  # forgotten (planted)
    "seal": ("SR-4471.", ["Fit the SR-4471 seal.", "SR-4471", "It takes an SR-4471."]),  # learned
    "torque": ("85 Nm.", ["85 Nm", "85 Nm, in a star pattern.", "To 85 Nm."]),  # kept
    "coolant": ("Hocut 795.", ["Hocut 795.", "A synthetic one.", "Water."]),  # phrasing only, partial
    "evil": ("150 bar.", ["150 bar", "200 bar", "I cannot say."]),  # still unknown
}
BASE_UNANSWERABLE = ["Anna Berg serviced it.", "It is yellow."]
TUNED_UNANSWERABLE = ["I don't know who serviced it.", "It is painted <b>orange</b>."]


def _answers(probes, rules, unanswerable):
    out, seen, pending = [], {}, list(unanswerable)
    for p in probes:
        if p.fact_id is None:
            out.append(pending.pop(0))
        elif p.kind == "training":
            out.append(rules[p.fact_id][0])
        else:
            seen[p.fact_id] = seen.get(p.fact_id, -1) + 1
            out.append(rules[p.fact_id][1][seen[p.fact_id]])
    return out


def _probes(unanswerable=UNANSWERABLE):
    training = [f["question"] for f in FACTS]
    return build_probe_set(
        FactSet.from_table(FACTS),
        paraphrases=3,
        training_prompts=training,
        unanswerable=unanswerable,
        progress=False,
    )


def _knowledge(**kwargs):
    probes = _probes()
    answers = {
        "base": _answers(probes, BASE, BASE_UNANSWERABLE),
        "tuned": _answers(probes, TUNED, TUNED_UNANSWERABLE),
    }
    return score_answers(probes, answers, **kwargs)


def _evaluation(systems=("base", "tuned")):
    out = {
        s: {"m": MetricOutput({"rougeL": 0.2 + 0.1 * i}, {"rougeL": [0.2 + 0.1 * i]})}
        for i, s in enumerate(systems)
    }
    return EvaluationReport.from_outputs(out, references=["r"], predictions={s: ["p"] for s in systems})


def _rows(html, first_cell):
    """The cells of the table rows whose header cell is ``first_cell`` (tags stripped)."""
    rows = re.findall(
        r"<tr><th[^>]*>" + re.escape(first_cell) + r"(?:\s*<[^>]*>[^<]*</[^>]*>)*\s*</th>(.*?)</tr>", html
    )
    return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)] for row in rows]


def _png_size(png):
    assert png[:8] == PNG_MAGIC
    return struct.unpack(">II", png[16:24])


@pytest.fixture(scope="module")
def report():
    evaluation = _evaluation()
    evaluation.add_knowledge(_knowledge())
    return evaluation


def test_the_planted_answers_give_the_expected_knowledge(report):
    k = report.knowledge  # the scenario the render tests rely on
    assert k["transitions"]["tuned vs base"] == {
        "learned": 1,
        "forgotten": 1,
        "kept": 1,
        "still unknown": 2,
        "not probed": 0,
    }
    assert k["phrasing_only"] == {"base": 0, "tuned": 1}
    assert k["counts"]["paraphrase"] == 15 and k["counts"]["unanswerable"] == 2


def test_html_shows_values_with_intervals_and_comparisons(report):
    html = knowledge_html(report.knowledge)
    values = report.knowledge["systems"]
    for key, base, tuned in (
        ("fact_recall", 0.4, (0 + 1 + 1 + 1 / 3 + 0) / 5),
        ("training_recall", 0.4, 0.6),
    ):
        (cells,) = _rows(html, key)
        assert cells[0].startswith(f"{base:.4f} [{values['base'][key]['ci_low']:.4f}, ")
        assert cells[1].startswith(f"{tuned:.4f} [") and cells[1].endswith("n=5")
        assert cells[2].startswith(f"{tuned - base:+.4f} [") and "p = " in cells[2]
    (cells,) = _rows(html, "hallucination_rate")
    assert cells[0].startswith("1.0000") and cells[1].startswith("0.5000") and cells[1].endswith("n=2")
    assert "<th>tuned − base</th>" in html and "↓" in html
    assert "<img alt=" in html and "data:image/png;base64," in html
    assert "known</b> when a system states its key answer on at least 50%" in html
    assert "resamples facts" in html


def test_html_transitions_phrasing_only_status_and_groups(report):
    html = knowledge_html(report.knowledge)
    assert _rows(html, "tuned vs base") == [["1", "1", "1", "2", "0"]]
    assert "<b>tuned</b>: 1 of 5 facts right on the training phrasing only" in html
    assert "<b>base</b>: 0 of 5 facts right on the training phrasing only" in html
    assert "<code>coolant</code> the K-7 lathe" in html  # the phrasing-only fact is named
    # statuses: base knows oil and torque fully; tuned has seal and torque consistent, coolant partial
    assert _rows(html, "base")[0][:5] == ["2", "0", "3", "0", "5"]
    assert _rows(html, "tuned")[0][:5] == ["2", "1", "2", "0", "5"]
    # groups: recall and consistency per system, then learned / forgotten of the pair
    assert _rows(html, "P-20 manual") == [["2", "0.5000", "0.5000", "0.5000", "0.5000", "1", "1"]]
    assert _rows(html, "K-7 manual") == [
        ["2", "0.5000", "0.5000", f"{(1 + 1 / 3) / 2:.4f}", "0.5000", "0", "0"]
    ]
    assert _rows(html, "pumps &amp; &lt;valves&gt;") == [
        ["1", "0.0000", "0.0000", "0.0000", "0.0000", "0", "0"]
    ]


def test_html_worst_facts_list_the_forgotten_fact_first_with_its_probes(report):
    html = knowledge_html(report.knowledge, max_facts=3)
    worst = html[html.index("<h3>Worst facts</h3>") :]
    heads = re.findall(r"#(\d+) · fact <code>([^<]+)</code>", worst)
    assert heads[0] == ("1", "oil") and len(heads) == 3  # forgotten first, then by recall (evil: 0)
    assert heads[1][1] == "evil"
    first = worst[: worst.index("#2 · fact")]
    assert "<b style='color:#cf222e'>forgotten</b>" in first and "<b>500 hours</b>" in first
    assert "base: consistent (3/3 paraphrases), training phrasing right" in first
    assert "tuned: not learned (0/3 paraphrases), training phrasing wrong" in first
    assert first.count("✓ right") == 4 and first.count("✗ wrong") == 3 and first.count("∅ abstained") == 1
    assert "How often does the P-20 press get fresh oil?" in first
    assert "The 3 facts <b>tuned</b> knows least (of 5)" in worst


def test_html_escapes_every_text_from_the_data(report):
    html = knowledge_html(report.knowledge)
    assert "<script" not in html and "<b>orange</b>" not in html and "<valves>" not in html
    assert "the &lt;script&gt;alert(1)&lt;/script&gt; pump" in html
    # the tuned system's hallucination is listed (escaped); its abstention is not
    assert (
        "It is painted &lt;b&gt;orange&lt;/b&gt;." in html
        and "I don&#x27;t know who serviced it." not in html
    )
    assert _rows(html, "tuned")[-1] == ["2", "1", "1", "0"]


def test_markdown_has_the_table_transitions_phrasing_and_abstention(report):
    lines = knowledge_markdown(report.knowledge)
    assert lines[0] == "### Knowledge probes"
    assert (
        "5 facts" in lines[2] and "15 paraphrase" in lines[2] and "known = right on at least 50%" in lines[2]
    )
    assert lines[4] == "| value | base | tuned | tuned − base |"
    values = report.knowledge["systems"]
    row = next(line for line in lines if line.startswith("| training_recall |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    low, high = values["tuned"]["training_recall"]["ci_low"], values["tuned"]["training_recall"]["ci_high"]
    assert cells[2] == f"0.6000 [{low:.4f}, {high:.4f}] (n=5)"
    assert cells[3].startswith("+0.2000 [")
    assert any(line.startswith("| hallucination_rate ↓ | 1.0000") for line in lines)
    text = "\n".join(lines)
    assert "**tuned vs base**: 1 learned, 1 forgotten, 1 kept, 2 still unknown." in text
    assert "base 0, tuned 1." in text
    assert (
        "**Unanswerable** (2 probes): base abstained 0, hallucinated 2; tuned abstained 1, hallucinated 1."
        in text
    )
    assert all(line.count("|") == lines[4].count("|") for line in lines if line.startswith("| "))


def test_the_chart_is_a_png_that_grows_with_systems_and_panels(report, tmp_path):
    png = plot_knowledge(report.knowledge, tmp_path / "knowledge.png")
    assert (tmp_path / "knowledge.png").read_bytes() == png
    width, height = _png_size(png)
    assert width > height  # two panels side by side
    summary = {k: v for k, v in report.knowledge.items() if k in SUMMARY_KEYS}
    recall_only = {"systems": summary["systems"]}
    narrow, _ = _png_size(plot_knowledge(recall_only))
    assert narrow < width  # one panel fewer
    one = {"systems": {"tuned": summary["systems"]["tuned"]}}
    assert _png_size(plot_knowledge(one))[0] < narrow  # one system: fewer bar groups
    transitions_only = {"transitions": summary["transitions"]}
    assert _png_size(plot_knowledge(transitions_only))[0] < width
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_knowledge({"systems": {"base": {}}, "status": {"base": {"consistent": 0}}})


def test_summary_only_data_renders_without_the_worst_facts(report, tmp_path):
    report.save(tmp_path)
    (tmp_path / "knowledge.json").unlink()
    loaded = EvaluationReport.load(tmp_path)
    assert set(loaded.knowledge) <= set(SUMMARY_KEYS) and "results" not in loaded.knowledge
    html = knowledge_html(loaded.knowledge)
    assert "Worst facts" not in html and "Hallucinated answers" not in html
    assert _rows(html, "tuned vs base") == [["1", "1", "1", "2", "0"]]
    assert "<b>tuned</b>: 1 of 5 facts right on the training phrasing only" in html
    full_lines = knowledge_markdown(report.knowledge)
    lines = knowledge_markdown(loaded.knowledge)
    table = [line for line in full_lines if line.startswith("| ")]
    assert table and table == [line for line in lines if line.startswith("| ")]
    assert plot_knowledge(loaded.knowledge)[:8] == PNG_MAGIC


@pytest.mark.parametrize("missing", SUMMARY_KEYS)
def test_a_missing_optional_key_never_breaks_rendering(report, missing):
    data = {k: v for k, v in report.knowledge.items() if k in SUMMARY_KEYS and k != missing}
    html = knowledge_html(data)
    lines = knowledge_markdown(data)
    assert html and "<script" not in html and lines[0] == "### Knowledge probes"
    broken = {
        **data,
        "systems": {"base": {"fact_recall": {"value": None}}, "tuned": "garbage"},
        "groups": [1],
    }
    assert "No knowledge values" in knowledge_html(broken)


def test_full_data_that_cannot_be_read_back_is_reported_not_raised(report):
    data = json.loads(json.dumps(report.knowledge))
    data["probes"] = [{"id": "x", "question": "?", "kind": "nonsense"}]
    html = knowledge_html(data)
    assert "Worst facts" in html and "could not be read back" in html and "#1 · fact" not in html


def test_a_single_system_without_unanswerable_probes_has_no_comparisons_or_transitions():
    probes = _probes(unanswerable=())
    knowledge = score_answers(probes, {"tuned": _answers(probes, TUNED, [])})
    evaluation = _evaluation(("tuned",))
    evaluation.add_knowledge(knowledge)
    html = knowledge_html(evaluation.knowledge)
    assert " − " not in html and "Deltas" not in html and "<th>pair</th>" not in html
    assert "No unanswerable probes were asked" in html and "hallucination_rate" not in html
    assert "Transitions need a second system" in html
    assert "#1 · fact <code>oil</code>" in html  # worst facts by recall alone (none forgotten)
    assert "forgotten</b>" not in html
    lines = knowledge_markdown(evaluation.knowledge)
    assert "| value | tuned |" in lines and not any(" vs " in line for line in lines)
    assert not any("Unanswerable" in line for line in lines)
    assert plot_knowledge(evaluation.knowledge)[:8] == PNG_MAGIC


def test_empty_data_renders_a_note():
    assert knowledge_html({}) == "<p>No knowledge probes.</p>" and knowledge_markdown({}) == []
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_knowledge({})


class _WordJudge(Teacher):
    """Stands in for a judge model: grade 1 when the answer says "synthetic", a garbage reply to "Water"."""

    backend = "word-judge"

    def settings(self):
        return {}

    def _complete(self, batch, contexts, emit):
        for i, messages in enumerate(batch):
            answer = (
                messages[-1]["content"].split("[Answer to grade]")[1].split("[End of answer to grade]")[0]
            )
            if "Water" in answer:
                emit(i, "no verdict <here>")
            else:
                emit(i, json.dumps({"score": 1 if "synthetic" in answer else 0, "rationale": "checked"}))


def test_judge_usage_is_shown():
    judge = LLMJudge(JudgeConfig(progress=False), backend=_WordJudge())
    knowledge = _knowledge(judge=judge)
    info = knowledge.meta["judge"]
    html = knowledge_html(knowledge.to_dict())
    assert "<h3>Judge</h3>" in html
    assert f"was asked about {info['asked']} answer(s)" in html
    assert f"stated in {info['changed']} (counted right); {info['failures']} call(s) failed" in html
    assert info["failures"] == 3 and info["changed"] == 1  # three "Water" answers, one "synthetic" one
    assert html_escape(info["failure_reasons"][0]) in html


def test_dropped_candidates_are_counted_with_their_reasons():
    training = [f["question"] for f in FACTS] + ["What is the oil change interval of the P-20 press?"]
    probes = build_probe_set(
        FactSet.from_table(FACTS), paraphrases=3, training_prompts=training, progress=False
    )
    reasons = [d["reason"] for d in probes.dropped]
    knowledge = score_answers(probes, {"tuned": ["I don't know."] * len(probes)}).to_dict()
    html = knowledge_html(knowledge)
    assert f"{len(reasons)} candidate question(s) dropped ({len(reasons)} {reasons[0]})" in html
    assert len(reasons) == 1  # the paraphrase that is a training prompt; a spare template replaced it
    assert knowledge["counts"]["paraphrase"] == 15
    summary = {k: v for k, v in knowledge.items() if k in SUMMARY_KEYS}
    assert "1 candidate question(s) dropped." in knowledge_html(summary)  # the count without the reasons
