"""Build ``qa_table.jsonl``: the support Q&A table of the WordPress recipe, from fragments we wrote.

    python examples/wordpress/data/make_qa_table.py        # rewrites data/qa_table.jsonl

Every row is one question a site owner sent and the support team's answer in the house pattern: an
optional one-line opening, the numbered steps, an optional closing tip. The steps are the numbered
lists of the documentation pages in ``docs/`` (so every answer is grounded in a page); the questions
and tips are in ``qa_fragments.yaml``; openings, closings and a second wording of some questions are
drawn, with a fixed seed, from the small pools below. A few rows are left broken on purpose (prose
answers, one-step answers, a gap in the numbering, empty answers, duplicates) so that the recipe's
validator and cleaning have something to reject, and report. The output is committed; the recipe
reads it and never runs this script.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SEED = 7

# second wordings of a question, over the fragment's task phrase
FRAMES = [
    "What's the right way to {task}?",
    "Quick one: how can I {task}?",
    "Could you walk me through how to {task}?",
    "I'm not very technical. How would I {task}?",
    "Where in the dashboard do I go to {task}?",
    "Steps to {task}, please.",
    "Is there a way to {task}?",
    "We need to {task} before our launch next week. What do we do?",
    "How would I {task} on a client's site?",
    "What are the steps to {task}?",
    "Can you explain how to {task}?",
    "I'm trying to {task} but I'm stuck. What's the process?",
    "Hi! What's the procedure to {task}?",
    "how can i {task}",
    "Our office manager wants to {task}. How does she do that?",
    "Best way to {task}?",
    "Need to {task} today. Where do I start?",
    "Can I {task} myself, or do I need a developer?",
    "What do I have to do to {task}?",
    "Any guide on how to {task}?",
]
INTROS = [
    "Here's how to {task}:",
    "You can {task} in a few steps:",
    "Sure, here's what to do:",
    "No problem, follow these steps:",
    "Here is the procedure we recommend:",
    "Good question. Here's what to do:",
    "Happy to help. Follow these steps:",
    "This only takes a couple of minutes:",
    "Thanks for reaching out! Here's how:",
]
CLOSINGS_PLUGIN = [
    "If something still looks wrong, send us the system report from Kestrel > Tools > System report.",
    "Let us know if the problem comes back.",
    "Reply to this ticket if you get stuck on any step.",
]
CLOSINGS_WP = [
    "If your screen looks different, tell us which WordPress version you run.",
    "Take a backup first if this is a live site.",
    "Let us know if that solves it.",
]

# planned mess: (kind, how many rows)
MESS = {"prose": 6, "one_step": 3, "gap": 2, "duplicate": 4, "empty_answer": 1, "empty_steps": 1}


def clean_markdown(text: str) -> str:
    """Inline Markdown to plain text: bold, inline code and links keep their words."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = re.sub(r"`([^`]+)`", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    return text.strip()


def procedures(docs: Path) -> dict[str, dict[str, Any]]:
    """``{"page#Heading": {page, page_title, section, steps}}`` for every section with a numbered list."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(docs.glob("*.md")):
        title, section = path.stem, None
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                title = clean_markdown(line[2:])
            elif line.startswith("## "):
                section = clean_markdown(line[3:])
            elif section and (m := re.match(r"^\d+\.\s+(.*)", line)):
                key = f"{path.stem}#{section}"
                entry = found.setdefault(
                    key, {"page": path.stem, "page_title": title, "section": section, "steps": []}
                )
                entry["steps"].append(clean_markdown(m.group(1)))
    return found


def numbered(steps: list[str]) -> str:
    return "\n".join(f"{k}. {s}" for k, s in enumerate(steps, 1))


def compose_answer(rng: random.Random, proc: dict[str, Any], frag: dict[str, Any]) -> str:
    """Opening (most of the time), the numbered steps, and a closing line (often)."""
    lines = []
    if rng.random() < 0.75:
        lines.append(rng.choice(INTROS).format(task=frag["task"]))
    lines.append(numbered(proc["steps"]))
    if frag.get("tip") and rng.random() < 0.7:
        lines.append(frag["tip"])
    elif rng.random() < 0.4:
        pool = CLOSINGS_PLUGIN if proc["page"].startswith("kestrel") else CLOSINGS_WP
        lines.append(rng.choice(pool))
    return "\n".join(lines)


def prose_answer(proc: dict[str, Any]) -> str:
    """The steps as one paragraph: what an agent in a hurry writes, and what the pattern forbids."""
    steps = [s.rstrip(".") for s in proc["steps"]]
    first, *rest = steps
    middle = "; then ".join(s[0].lower() + s[1:] for s in rest)
    return f"{first}, then {middle}."


def build_rows(docs: Path, fragments: dict[str, dict[str, Any]], frames_per_procedure: float) -> list[dict]:
    procs = procedures(docs)
    missing = sorted(set(procs) - set(fragments))
    unknown = sorted(set(fragments) - set(procs))
    if missing or unknown:
        raise SystemExit(
            f"fragments out of sync with docs: no fragment for {missing}; no section for {unknown}"
        )
    rng = random.Random(SEED)
    rows: list[dict[str, Any]] = []
    budget = 0.0
    for key, proc in procs.items():
        frag = fragments[key]
        questions = list(frag["questions"])
        budget += frames_per_procedure
        frames = rng.sample(FRAMES, k=int(budget))
        budget -= int(budget)
        questions += [f.format(task=frag["task"]) for f in frames]
        for question in questions:
            rows.append(
                {
                    "page": proc["page"],
                    "page_title": proc["page_title"],
                    "section": proc["section"],
                    "task": frag["task"],
                    "user_question": question,
                    "steps_text": numbered(proc["steps"]),
                    "answer": compose_answer(rng, proc, frag),
                }
            )
    rng.shuffle(rows)
    # planned mess, on rows chosen with the same seed
    picks = iter(rng.sample(range(len(rows)), k=sum(MESS.values())))
    for _ in range(MESS["prose"]):
        row = rows[next(picks)]
        row["answer"] = prose_answer(procs[f"{row['page']}#{row['section']}"])
    for _ in range(MESS["one_step"]):
        row = rows[next(picks)]
        first = procs[f"{row['page']}#{row['section']}"]["steps"][0]
        row["answer"] = f"1. {first}\nThat should do it."
    for _ in range(MESS["gap"]):
        row = rows[next(picks)]
        steps = procs[f"{row['page']}#{row['section']}"]["steps"]
        row["answer"] = "\n".join(f"{k}. {s}" for k, s in zip([1, 2, 4, 5, 6, 7], steps, strict=False))
    duplicates = []
    for _ in range(MESS["duplicate"]):
        row = dict(rows[next(picks)])
        row["user_question"] = "  " + row["user_question"].replace(
            " ", "  ", 1
        )  # pasted twice, with stray spaces
        duplicates.append(row)
    rows[next(picks)]["answer"] = ""
    row = rows[next(picks)]
    row["answer"], row["steps_text"] = "", ""
    rows += duplicates
    for i, row in enumerate(rows, 1):
        row["id"] = f"wp-{i:04d}"
    return [{"id": r.pop("id"), **r} for r in rows]


def main() -> None:
    fragments = yaml.safe_load((HERE / "qa_fragments.yaml").read_text(encoding="utf-8"))
    rows = build_rows(HERE / "docs", fragments, frames_per_procedure=1.6)
    with (HERE / "qa_table.jsonl").open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} rows to qa_table.jsonl ({len(fragments)} sections; planned mess: {MESS})")


if __name__ == "__main__":
    main()
