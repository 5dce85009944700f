"""Write ``dialogues.jsonl``: Linux help-channel dialogues assembled from the fragments in scenarios.py.

One line per utterance, in the layout of chat-log corpora such as the Ubuntu Dialogue Corpus:
``{"dialogue_id", "turn", "timestamp", "speaker", "text"}`` with speakers ``user`` and ``helper``
(domainft's ``dialogue`` record format assembles them into conversations). The dialogues span 2023 and
2024; the channel gets busier over time and some topics fade (Wi-Fi drivers, GRUB) while others rise
(ufw, SSH keys, systemd). The mess of a real channel is planted on purpose and counted at the end:
small talk (greetings, thanks, "lol"), pasted links, empty utterances, a few questions nobody
answered, re-posted duplicates, and a few rude answers (the dataset report's sentiment section finds
them).

Run from the repository root (deterministic for a seed):
    python examples/linux_dialogues/data/make_dialogues.py
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenarios import (
    BUMPS,
    COMMON_SLOTS,
    DOC_LABELS,
    DOC_LINKS,
    GREETINGS,
    HELPER_SMALL_TALK,
    LAUGHS,
    OFF_TONE,
    SCENARIOS,
    THANKS,
    TOPIC_TREND,
    USER_LINKS,
    Scenario,
)

N_ANSWERED = 212  # distinct answered dialogues
N_UNANSWERED = 3  # questions nobody answered (a record format rejects them)
N_REPOSTS = 11  # the same dialogue posted again later (~5% duplicates)
N_OFF_TONE = 8  # answers that open rudely (~4%)
MAX_UTTERANCES = 6
START = datetime(2023, 1, 1, tzinfo=timezone.utc)
SPAN_DAYS = 730
_SLOT = re.compile(r"\{(\w+)\}")

Turn = tuple[str, str]  # (speaker, text)


def fill(text: str, values: dict[str, str]) -> str:
    """Replace ``{slot}`` markers (twice, for slots inside slot values); other braces stay."""
    for _ in range(2):
        text = _SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    left = [m.group(0) for m in _SLOT.finditer(text) if m.group(1) in _known_slots()]
    if left:
        raise ValueError(f"unfilled slot(s) {left} in {text[:60]!r}")
    return text


def _known_slots() -> set[str]:
    names = set(COMMON_SLOTS)
    for sc in SCENARIOS:
        for key in sc.slots:
            names.update(key.split(","))
    return names


def pick_slots(sc: Scenario, rng: random.Random) -> dict[str, str]:
    """One value per slot; a key like ``"svc,check"`` takes a tuple of related values."""
    values = {name: rng.choice(options) for name, options in COMMON_SLOTS.items()}
    for key, options in sc.slots.items():
        choice = rng.choice(options)
        names = key.split(",")
        for name, value in zip(names, choice if len(names) > 1 else (choice,), strict=True):
            values[name] = value
    return values


def user_style(text: str, rng: random.Random) -> str:
    """Users type casually: sometimes all lower case, sometimes without the final punctuation."""
    if rng.random() < 0.25 and text[1:2].islower():  # "How do I" -> "how do I", but "PHP" stays
        text = text[0].lower() + text[1:]
    if rng.random() < 0.2 and text[-1] in "?.":
        text = text[:-1]
    return text


def core_turns(sc: Scenario, rng: random.Random) -> list[Turn]:
    values = pick_slots(sc, rng)
    turns = [
        ("user", user_style(fill(rng.choice(sc.openers), values), rng)),
        ("helper", fill(rng.choice(sc.answers), values)),
    ]
    if sc.followups and rng.random() < 0.55:
        question, answer = rng.choice(sc.followups)
        turns += [("user", user_style(fill(question, values), rng)), ("helper", fill(answer, values))]
    return turns


def _code(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def add_noise(turns: list[Turn], topic: str, rng: random.Random, stats: dict[str, int]) -> list[Turn]:
    """Small talk, links and empty utterances around the real exchange (never beyond 6 utterances)."""
    turns = list(turns)
    room = lambda: MAX_UTTERANCES - len(turns)  # noqa: E731
    if rng.random() < 0.09:  # a link pasted by the user (log, screenshot)
        template = rng.choice(USER_LINKS)
        link = template.format(code=_code(rng, 10 if "paste" in template else 7))
        sep = "\n" if rng.random() < 0.5 else " "
        turns[0] = (turns[0][0], f"{turns[0][1]}{sep}{link}")
        stats["user_links"] += 1
    if rng.random() < 0.08:  # a documentation link added by the helper
        i = max(i for i, (who, _) in enumerate(turns) if who == "helper")
        link = f"{rng.choice(DOC_LABELS)} {rng.choice(DOC_LINKS[topic])}"
        sep = "\n" if rng.random() < 0.4 else " "
        turns[i] = (turns[i][0], f"{turns[i][1]}{sep}{link}")
        stats["helper_links"] += 1
    if room() and rng.random() < 0.09:
        turns.insert(0, ("user", rng.choice(GREETINGS)))
        stats["small_talk"] += 1
    if room() and rng.random() < 0.04 and len(turns) > 2:  # laughing at the answer before asking more
        first_answer = next(i for i, (who, _) in enumerate(turns) if who == "helper")
        turns.insert(first_answer + 1, ("user", rng.choice(LAUGHS)))
        stats["small_talk"] += 1
    if room() and rng.random() < 0.12:
        turns.append(("user", rng.choice(THANKS)))
        stats["small_talk"] += 1
        if room() and rng.random() < 0.55:
            turns.append(("helper", rng.choice(HELPER_SMALL_TALK)))
            stats["small_talk"] += 1
    if room() and rng.random() < 0.05:  # an accidental empty message
        at = rng.randrange(1, len(turns))
        turns.insert(at, (turns[at][0], rng.choice(["", " ", "  "])))
        stats["empty"] += 1
    return turns


def sample_time(topic: str, rng: random.Random) -> datetime:
    """A start time in 2023-2024: volume grows over time; early topics fade, late ones rise."""
    trend = TOPIC_TREND.get(topic, "steady")
    density = {
        "steady": lambda t: 0.35 + 1.3 * t,
        "early": lambda t: 1.5 - 1.2 * t,
        "late": lambda t: 0.1 + 1.8 * t,
    }[trend]
    while True:
        t = rng.random()
        if rng.random() * 1.9 < density(t):
            break
    day = START + timedelta(days=int(t * SPAN_DAYS))
    return day.replace(hour=rng.randrange(6, 24), minute=rng.randrange(60), second=rng.randrange(60))


def timestamps(start: datetime, turns: list[Turn], rng: random.Random) -> list[str]:
    out, now = [], start
    for i, (who, text) in enumerate(turns):
        if i:
            short = text.strip() in THANKS + HELPER_SMALL_TALK + LAUGHS or not text.strip()
            now += timedelta(
                seconds=rng.randrange(20, 240)
                if short
                else rng.randrange(60, 1500 if who == "helper" else 900)
            )
        out.append(now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return out


def repost_text(text: str, rng: random.Random) -> str:
    """A re-posted message: the same words, now and then with stray spaces or different case."""
    if rng.random() < 0.5:
        text = text.replace(" ", "  ", 1)
    if rng.random() < 0.3:
        text = text + " "
    if rng.random() < 0.3:
        text = text.lower()
    return text


def build(seed: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    rng = random.Random(seed)
    stats = {"user_links": 0, "helper_links": 0, "small_talk": 0, "empty": 0}
    order = [SCENARIOS[i % len(SCENARIOS)] for i in range(N_ANSWERED)]
    rng.shuffle(order)
    dialogues: list[dict[str, Any]] = []
    seen: set[str] = set()
    for sc in order:
        for _ in range(50):  # a combination not generated before
            turns = core_turns(sc, rng)
            key = "\n".join(text.lower() for _, text in turns)
            if key not in seen:
                break
        seen.add(key)
        turns = add_noise(turns, sc.topic, rng, stats)
        dialogues.append({"topic": sc.topic, "start": sample_time(sc.topic, rng), "turns": turns})
    tone_rng = random.Random(seed + 1)  # its own generator: every other draw stays as it was
    for d, opening in zip(tone_rng.sample(dialogues, N_OFF_TONE), OFF_TONE, strict=True):
        at = next(i for i, (who, text) in enumerate(d["turns"]) if who == "helper" and text.strip())
        d["turns"][at] = ("helper", f"{opening} {d['turns'][at][1]}")
    stats["off_tone"] = N_OFF_TONE
    for _ in range(N_UNANSWERED):
        sc = rng.choice(SCENARIOS)
        question = user_style(fill(rng.choice(sc.openers), pick_slots(sc, rng)), rng)
        dialogues.append(
            {
                "topic": sc.topic,
                "start": sample_time(sc.topic, rng),
                "turns": [("user", question), ("user", rng.choice(BUMPS))],
            }
        )
    for original in rng.sample(dialogues[:N_ANSWERED], N_REPOSTS):
        turns = [(who, repost_text(text, rng)) for who, text in original["turns"]]
        later = original["start"] + timedelta(days=rng.randrange(1, 30), minutes=rng.randrange(600))
        dialogues.append(
            {
                "topic": original["topic"],
                "start": min(later, START + timedelta(days=SPAN_DAYS - 1)),
                "turns": turns,
            }
        )
    dialogues.sort(key=lambda d: d["start"])
    rows = []
    for number, d in enumerate(dialogues, 1):
        for turn, ((who, text), stamp) in enumerate(
            zip(d["turns"], timestamps(d["start"], d["turns"], rng), strict=True), 1
        ):
            rows.append(
                {
                    "dialogue_id": f"lx-{number:04d}",
                    "turn": turn,
                    "timestamp": stamp,
                    "speaker": who,
                    "text": text,
                }
            )
    stats.update(dialogues=len(dialogues), utterances=len(rows), reposts=N_REPOSTS, unanswered=N_UNANSWERED)
    return rows, stats


def main(argv: list[str] | None = None) -> dict[str, int]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent / "dialogues.jsonl"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rows, stats = build(args.seed)
    with open(args.output, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    name = Path(args.output).name
    print(f"wrote {stats['utterances']} utterances of {stats['dialogues']} dialogues to {name}")
    print(", ".join(f"{k}: {v}" for k, v in stats.items()))
    return stats


if __name__ == "__main__":
    main()
