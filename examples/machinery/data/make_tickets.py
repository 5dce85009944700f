"""Write ``tickets.csv`` and ``translations_it_en.jsonl`` from the authored fragments (deterministic).

    python examples/machinery/data/make_tickets.py

The tickets imitate a maintenance system's CSV export: English tickets drawn from the fault
scenarios in ``fragments_en.py`` (a reported problem, then one of the scenario's stories: what was
found, the work done and the cause), Italian tickets from ``fragments_it.py`` (hours with a decimal
comma), and the mess real exports have: exact duplicate rows, tickets closed without notes (empty
``work_performed``) or opened without a problem text, and text fields carrying HTML from the web
form. The shipped files are what the recipe reads; this script only documents how they were made.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fragments_en import SCENARIOS  # noqa: E402
from fragments_it import TICKETS_IT  # noqa: E402

FIELDS = ["id", "date", "machine_type", "problem", "found_condition", "work_performed", "cause", "hours"]
TEXT_FIELDS = ["problem", "found_condition", "work_performed", "cause"]
SEED = 7
ENGLISH_TICKETS = 292
N_HTML = 17
N_EMPTY_WORK = 6
N_EMPTY_PROBLEM = 4
N_DUPLICATES = 12

PROBLEM_PREFIXES = ["Operator reports: ", "Shift lead: ", "From the night shift: ", "Line 2 - "]
PROBLEM_SUFFIXES = [
    " Second time this month.",
    " Started after the weekend shutdown.",
    " Machine stopped, production waiting.",
    " Order due today, please treat as urgent.",
    " Happened on the previous shift too.",
]
FOUND_PREFIXES = ["On inspection: ", "Checked on arrival. ", "After lock-out: "]
WORK_SUFFIXES = [
    " Handed the machine back to production.",
    " Logged the spare parts used.",
    " Informed the shift lead and closed the job.",
    " Added a check to the preventive maintenance plan.",
]

_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([\d.]+)-([\d.]+)|=([^{}]+))?\}")


def fill(text: str, values: dict[str, str], rng: random.Random) -> str:
    """Fill ``{name:lo-hi}``, ``{name=a|b}`` and ``{name}`` placeholders; a name keeps its first value."""

    def one(match: re.Match[str]) -> str:
        name, lo, hi, choices = match.groups()
        if name in values:
            return values[name]
        if lo is not None:
            decimals = len(lo.split(".")[1]) if "." in lo else 0
            value = rng.uniform(float(lo), float(hi))
            values[name] = f"{value:.{decimals}f}" if decimals else str(round(value))
        elif choices is not None:
            values[name] = rng.choice(choices.split("|"))
        else:
            raise KeyError(f"placeholder {{{name}}} used before it is defined in {text!r}")
        return values[name]

    return _PLACEHOLDER.sub(one, text)


def draw_hours(lo: float, hi: float, rng: random.Random) -> str:
    quarters = rng.randint(round(lo * 4), round(hi * 4))
    return f"{quarters / 4:g}"


def english_ticket(scenario: dict, rng: random.Random) -> dict[str, str]:
    values: dict[str, str] = {}
    problem = fill(rng.choice(scenario["problem"]), values, rng)
    story = rng.randrange(len(scenario["found"]))  # found, work and cause tell one story together
    found = fill(scenario["found"][story], values, rng)
    work = fill(scenario["work"][story], values, rng)
    cause = fill(scenario["cause"][story], values, rng)
    roll = rng.random()
    if roll < 0.12:
        problem = rng.choice(PROBLEM_PREFIXES) + problem
    elif roll < 0.3:
        problem += rng.choice(PROBLEM_SUFFIXES)
    if rng.random() < 0.2:
        found = rng.choice(FOUND_PREFIXES) + found[0].lower() + found[1:]
    if rng.random() < 0.25:
        work += rng.choice(WORK_SUFFIXES)
    return {
        "machine_type": scenario["machine"],
        "problem": problem,
        "found_condition": found,
        "work_performed": work,
        "cause": cause,
        "hours": draw_hours(*scenario["hours"], rng),
    }


def htmlify(ticket: dict[str, str], rng: random.Random) -> None:
    """Turn a ticket's text into what a rich-text web form stores (tags, entities, non-breaking spaces)."""
    work = ticket["work_performed"].replace(" and ", " & ", 1)  # typed by hand in the form
    sentences = re.split(r"(?<=\.) (?=[A-Z])", work)
    if rng.random() < 0.5:
        ticket["work_performed"] = "<br>".join(sentences).replace("&", "&amp;")
    else:
        ticket["work_performed"] = "".join(f"<p>{s.replace('&', '&amp;')}</p>" for s in sentences)
    ticket["problem"] = f"<p>{ticket['problem'].replace('&', '&amp;')}</p>"
    found = ticket["found_condition"]
    head, sep, tail = found.partition("; ")
    ticket["found_condition"] = f"<b>{head}</b>{sep}{tail}" if sep else f"<b>{found}</b>"
    if rng.random() < 0.5:
        ticket["cause"] = ticket["cause"].replace(" ", "&nbsp;", 1)


def main() -> None:
    for scenario in SCENARIOS:
        stories = {len(scenario[k]) for k in ("found", "work", "cause")}
        assert len(stories) == 1, f"{scenario['machine']}: found, work and cause need one entry per story"
    rng = random.Random(SEED)
    per_scenario = [3] * len(SCENARIOS)
    for i in rng.sample(range(len(SCENARIOS)), ENGLISH_TICKETS - 3 * len(SCENARIOS)):
        per_scenario[i] += 1
    tickets: list[dict[str, str]] = []
    seen: set[tuple[str, ...]] = set()
    for scenario, count in zip(SCENARIOS, per_scenario, strict=True):
        made = 0
        while made < count:
            ticket = english_ticket(scenario, rng)
            key = tuple(ticket[f] for f in ["machine_type", *TEXT_FIELDS])
            if key in seen:
                continue
            seen.add(key)
            ticket["lang"] = "en"
            tickets.append(ticket)
            made += 1
    memory: list[dict[str, str]] = []
    for item in TICKETS_IT:
        ticket = {"machine_type": item["machine"], "hours": item["hours"], "lang": "it"}
        for field, key in zip(TEXT_FIELDS, ["problem", "found", "work", "cause"], strict=True):
            source, target = item[key]
            ticket[field] = source
            memory.append({"field": field, "source": source, "target": target})
        tickets.append(ticket)

    start = dt.date(2022, 3, 1)
    days = (dt.date(2024, 10, 31) - start).days
    for ticket in tickets:
        ticket["date"] = (start + dt.timedelta(days=rng.randint(0, days))).isoformat()
    tickets.sort(key=lambda t: (t["date"], t["machine_type"], t["problem"]))
    per_year: dict[str, int] = {}
    for ticket in tickets:
        year = ticket["date"][:4]
        per_year[year] = per_year.get(year, 0) + 1
        ticket["id"] = f"WO-{year}-{per_year[year]:04d}"

    english = [t for t in tickets if t["lang"] == "en"]
    picked = rng.sample(english, N_HTML + N_EMPTY_WORK + N_EMPTY_PROBLEM)
    for ticket in picked[:N_HTML]:
        htmlify(ticket, rng)
    for ticket in picked[N_HTML : N_HTML + N_EMPTY_WORK]:
        ticket["work_performed"] = ""
    for ticket in picked[N_HTML + N_EMPTY_WORK :]:
        ticket["problem"] = ""

    complete = [t for t in english if t["problem"] and t["work_performed"]]
    rows = [{f: t[f] for f in FIELDS} for t in tickets]
    for k, ticket in enumerate(rng.sample(complete, N_DUPLICATES)):
        copy = {f: ticket[f] for f in FIELDS}
        if k % 4 == 3:  # exported again after an edit that only touched whitespace
            copy["problem"] = copy["problem"].replace(" ", "  ", 1) + " "
        rows.insert(rows.index({f: ticket[f] for f in FIELDS}) + 1, copy)

    with open(HERE / "tickets.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    with open(HERE / "translations_it_en.jsonl", "w", encoding="utf-8") as fh:
        for entry in memory:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    print(
        f"{len(rows)} rows ({len(english)} English, {len(TICKETS_IT)} Italian, {N_DUPLICATES} duplicates, "
        f"{N_HTML} with HTML, {N_EMPTY_WORK + N_EMPTY_PROBLEM} incomplete); "
        f"{len(memory)} translation memory entries"
    )


if __name__ == "__main__":
    main()
