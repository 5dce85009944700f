"""Metrics: ROUGE + corpus BLEU + 1,000-resample bootstrap CIs on 2,000 prediction/reference pairs.

Measures the library's scoring path as a user runs it: ``Evaluator(metrics=["rouge", "bleu"]).score(...)``
on precomputed answers, which computes ROUGE-1/2/L/Lsum (``rouge_score``, stemming, Unicode-aware
tokenizer), corpus BLEU (``sacrebleu``) and percentile bootstrap intervals over 1,000 resamples.

Baseline (measured in the same run): what users write without the library: ``rouge_score``'s
``RougeScorer.score`` per pair, ``sacrebleu.corpus_bleu`` on the whole corpus, then a bootstrap loop that
resamples the examples and recomputes ``sacrebleu.corpus_bleu`` (and the ROUGE means) on every resample.
Only ``--baseline-resamples`` (default 50) resamples are timed; the time of 1,000 is **extrapolated**
linearly and labelled so.

Target: the library's total under 10 s. Correctness (exit 1 when broken): the library's per-pair ROUGE
equals the baseline's on the all-ASCII pairs (rouge_score's default tokenizer deletes accented letters,
the library's keeps them), its corpus BLEU equals sacrebleu's, its bootstrap BLEU of a resample equals
``sacrebleu.corpus_bleu`` of that resample, and its BLEU interval brackets the corpus BLEU and agrees with
the baseline's percentile interval within bootstrap noise.

The 2,000 pairs are built deterministically (seeded) from the machinery tickets: references are repair
reports, predictions are paraphrase-like edits, truncations, shuffled sentences, partial answers,
generic or unrelated answers (see ``make_pairs``).

    python benchmarks/bench_metrics.py [--pairs 2000] [--resamples 1000] [--threads N] [--output FILE]
    python benchmarks/bench_metrics.py --smoke --output metrics-smoke.json   # seconds, for the smoke test
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections import Counter
from typing import Any

from benchlib import machinery_pairs, set_offline, stopwatch, table, verdict, write_result

TARGET_SECONDS = 10.0
#: Checks whose failure makes the script exit 1.
CORRECTNESS = (
    "rouge_matches_baseline_on_ascii_pairs",
    "bleu_matches_baseline",
    "resample_bleu_exact",
    "bleu_ci_brackets_corpus_bleu",
    "bleu_ci_agrees_with_baseline",
)
ROUGE_KEYS = ("rouge1", "rouge2", "rougeL", "rougeLsum")

# ----------------------------------------------------------------------------------------- the pairs
# Word swaps a technician writing the same report in other words might make (authored for this benchmark).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Replaced": ("Swapped", "Changed", "Fitted a new part for"),
    "replaced": ("swapped", "changed", "renewed"),
    "Checked": ("Inspected", "Verified", "Looked over"),
    "checked": ("inspected", "verified", "looked at"),
    "Cleaned": ("Cleared", "Wiped down", "Flushed"),
    "cleaned": ("cleared", "flushed", "wiped"),
    "Adjusted": ("Set", "Re-set", "Tuned"),
    "adjusted": ("set", "re-set", "tuned"),
    "Tested": ("Trialled", "Tried", "Proved"),
    "tested": ("trialled", "tried out", "proved"),
    "worn": ("worn out", "damaged", "badly worn"),
    "blocked": ("clogged", "choked", "plugged"),
    "loose": ("slack", "not tight", "working loose"),
    "damaged": ("broken", "cracked", "faulty"),
    "leaking": ("weeping", "dripping", "losing fluid"),
    "Removed": ("Took off", "Pulled", "Dismantled"),
    "removed": ("took off", "pulled", "dismantled"),
    "Measured": ("Gauged", "Checked the size of", "Recorded"),
    "Ran": ("Operated", "Cycled", "Ran up"),
    "machine": ("unit", "equipment", "line"),
    "production": ("the operators", "the shift", "manufacturing"),
    "bearing": ("bearing unit", "race", "bearing set"),
    "motor": ("drive motor", "electric motor", "drive"),
    "filter": ("strainer", "filter element", "screen"),
    "seal": ("gasket", "lip seal", "sealing ring"),
    "pressure": ("pressure level", "line pressure", "supply pressure"),
    "lubrication": ("greasing", "oiling", "lube"),
    "because": ("since", "as", "due to the fact that"),
    "several": ("a few", "multiple", "some"),
    "stable": ("steady", "consistent", "constant"),
    "Found:": ("Finding:", "Observed:", "Diagnosis:"),
    "Work:": ("Actions:", "Repair:", "Work done:"),
    "Cause:": ("Root cause:", "Reason:", "Why:"),
}
_OPENERS = (
    "I would start here. ",
    "Most likely this is the issue. ",
    "Based on the symptoms described, ",
    "Here is what I would do. ",
    "From experience with this kind of fault: ",
    "",
)
_CLOSERS = (
    " Log the repair in the maintenance system.",
    " If the fault returns, escalate to the manufacturer.",
    " Confirm with the operator before handing back.",
    " Schedule a follow-up check next week.",
    "",
)
_GENERIC = (
    "Check the {m} for obvious faults, look at the alarm history and contact maintenance if it persists.",
    "Stop the {m}, lock it out and inspect it. Replace any worn parts and test before restarting.",
    "This needs a qualified technician. Inspect the {m}, clean it and check the settings.",
    "Power cycle the {m} and see if the problem clears. If not, call the service engineer.",
    "Follow the manufacturer's troubleshooting guide for the {m}.",
    "I am not sure what causes this on a {m}; inspect the usual wear parts first.",
)
_FILLER = (
    "Wear safety glasses during the job.",
    "Make sure the area is clean before starting.",
    "Keep spare parts in stock for next time.",
    "The operator should report any new noises straight away.",
    "Record the running hours on the job card.",
)
# Relative weights of the prediction kinds.
KINDS: dict[str, float] = {
    "verbatim": 0.04,
    "paraphrase": 0.30,
    "truncated": 0.15,
    "shuffled": 0.13,
    "partial": 0.12,
    "verbose": 0.05,
    "generic": 0.08,
    "unrelated": 0.12,
    "empty": 0.01,
}
_SENTENCE_END = re.compile(r"(?<=[.;])\s+")
_MACHINE = re.compile(r"^Machine: (.*?)\. Problem:")


def _paraphrase(text: str, rng: random.Random, swap: float = 0.5, drop: float = 0.06) -> str:
    """Swap words for authored synonyms, drop a few small words, maybe add an opener and a closer."""
    words = []
    for word in text.split():
        core = word.rstrip(".,;")
        tail = word[len(core) :]
        if core in _SYNONYMS and rng.random() < swap:
            word = rng.choice(_SYNONYMS[core]) + tail
        elif len(core) <= 3 and not tail and rng.random() < drop:
            continue
        words.append(word)
    out = " ".join(words)
    if rng.random() < 0.4:
        opener = rng.choice(_OPENERS)
        out = opener + (out[:1].lower() + out[1:] if opener.endswith(", ") else out)
    if rng.random() < 0.3:
        out += rng.choice(_CLOSERS)
    return out


def _sections(response: str) -> list[str]:
    """The ``Found:``/``Work:``/``Cause:`` parts of a response."""
    return [s.strip() for s in re.split(r"(?=\b(?:Found|Work|Cause): )", response) if s.strip()]


def make_pairs(n: int, seed: int = 0) -> tuple[list[str], list[str], dict[str, int]]:
    """``n`` (prediction, reference) pairs with a realistic mix of answer quality, and the count per kind."""
    rng = random.Random(seed)
    source = machinery_pairs()
    order = list(range(len(source)))
    rng.shuffle(order)
    kinds, weights = list(KINDS), list(KINDS.values())
    predictions: list[str] = []
    references: list[str] = []
    counts: Counter[str] = Counter()
    for i in range(n):
        pair = source[order[i % len(order)]]
        reference = pair["response"]
        match = _MACHINE.match(pair["prompt"])
        machine = match.group(1) if match else "machine"
        kind = rng.choices(kinds, weights)[0]
        if kind == "verbatim":
            prediction = reference
        elif kind == "paraphrase":
            prediction = _paraphrase(reference, rng)
        elif kind == "truncated":
            words = reference.split()
            prediction = " ".join(words[: max(1, int(len(words) * rng.uniform(0.15, 0.7)))])
        elif kind == "shuffled":
            sentences = _SENTENCE_END.split(reference)
            rng.shuffle(sentences)
            prediction = _paraphrase(" ".join(sentences), rng, swap=0.2, drop=0.0)
        elif kind == "partial":
            parts = _sections(reference)
            keep = sorted(rng.sample(range(len(parts)), k=max(1, len(parts) - rng.randint(1, 2))))
            prediction = _paraphrase(" ".join(parts[k] for k in keep), rng, swap=0.3)
        elif kind == "verbose":
            extra = rng.sample(_FILLER, k=rng.randint(2, 4))
            prediction = " ".join([_paraphrase(reference, rng, swap=0.2), *extra])
        elif kind == "generic":
            prediction = rng.choice(_GENERIC).format(m=machine)
        elif kind == "unrelated":
            other = source[rng.randrange(len(source))]["response"]
            prediction = _paraphrase(other, rng, swap=0.3)
        else:  # empty: the model said nothing
            prediction = ""
        predictions.append(prediction)
        references.append(reference)
        counts[kind] += 1
    return predictions, references, dict(sorted(counts.items()))


# ----------------------------------------------------------------------------------------- library
def run_library(predictions: list[str], references: list[str], resamples: int) -> dict[str, Any]:
    """The user's path: ``Evaluator.score`` with ROUGE and BLEU and ``resamples`` bootstrap resamples."""
    from domainft import Evaluator

    with stopwatch() as total:
        evaluator = Evaluator(
            metrics=["rouge", "bleu"], progress=False, statistics={"resamples": resamples, "seed": 0}
        )
        report = evaluator.score({"library": predictions}, references)
    values = report.systems["library"]
    return {
        "seconds": total["seconds"],
        "values": {k: values[k].value for k in (*ROUGE_KEYS, "bleu")},
        "ci": {k: [values[k].ci_low, values[k].ci_high] for k in (*ROUGE_KEYS, "bleu")},
    }


def library_stages(predictions: list[str], references: list[str], resamples: int) -> dict[str, Any]:
    """The same work split into stages through the public metric and statistics API.

    ``tokenize`` is reported on its own and is also inside ``rouge`` and ``bleu`` (they tokenize as they
    score); the ``bootstrap`` stage assembles the report from the two metric outputs.
    """
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    from domainft.evaluation.metrics.lexical import BleuMetric, RougeMetric, UnicodeTokenizer
    from domainft.evaluation.report import EvaluationReport

    texts = predictions + references
    with stopwatch() as tok_rouge:
        unicode_tokenizer = UnicodeTokenizer(use_stemmer=True)
        for text in texts:
            unicode_tokenizer.tokenize(text)
    with stopwatch() as tok_bleu:
        tokenizer_13a = Tokenizer13a()
        for text in texts:
            tokenizer_13a(text)
    with stopwatch() as rouge:
        rouge_out = RougeMetric().compute(predictions, references)
    with stopwatch() as bleu:
        bleu_out = BleuMetric().compute(predictions, references)
    with stopwatch() as boot:
        report = EvaluationReport.from_outputs(
            {"library": {"rouge": rouge_out, "bleu": bleu_out}},
            references=references,
            predictions={"library": predictions},
            statistics={"resamples": resamples, "seed": 0},
        )
    return {
        "tokenize_rouge_s": tok_rouge["seconds"],
        "tokenize_bleu_s": tok_bleu["seconds"],
        "rouge_s": rouge["seconds"],
        "bleu_s": bleu["seconds"],
        "bootstrap_s": boot["seconds"],
        "bleu_output": bleu_out,
        "rouge_per_sample": rouge_out.per_sample,
        "bleu_ci": [report.systems["library"]["bleu"].ci_low, report.systems["library"]["bleu"].ci_high],
    }


# ----------------------------------------------------------------------------------------- baseline
def run_baseline(
    predictions: list[str], references: list[str], resamples: int, timed_resamples: int, seed: int
) -> dict[str, Any]:
    """rouge_score per pair + corpus_bleu, then a bootstrap recomputing corpus_bleu per resample.

    Only ``timed_resamples`` resamples run; their time is scaled to ``resamples`` (extrapolated).
    """
    import numpy as np
    import sacrebleu
    from rouge_score import rouge_scorer
    from rouge_score.tokenizers import DefaultTokenizer
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    n = len(references)
    with stopwatch() as tok:  # the same work happens again inside the ROUGE and BLEU stages
        default_tokenizer, tokenizer_13a = DefaultTokenizer(use_stemmer=True), Tokenizer13a()
        for text in predictions + references:
            default_tokenizer.tokenize(text)
            tokenizer_13a(text)
    with stopwatch() as rouge:
        scorer = rouge_scorer.RougeScorer(list(ROUGE_KEYS), use_stemmer=True)
        per_pair = [scorer.score(r, p) for p, r in zip(predictions, references, strict=True)]
        rouge_scores = {k: np.array([s[k].fmeasure for s in per_pair]) for k in ROUGE_KEYS}
    with stopwatch() as bleu:
        corpus_bleu = sacrebleu.corpus_bleu(predictions, [references]).score
    rng = np.random.default_rng(seed)
    boot_bleu: list[float] = []
    boot_rouge: dict[str, list[float]] = {k: [] for k in ROUGE_KEYS}
    with stopwatch() as boot:
        for _ in range(timed_resamples):
            idx = rng.integers(0, n, size=n)
            boot_bleu.append(
                sacrebleu.corpus_bleu([predictions[i] for i in idx], [[references[i] for i in idx]]).score
            )
            for k in ROUGE_KEYS:
                boot_rouge[k].append(float(rouge_scores[k][idx].mean()))
    per_resample = boot["seconds"] / timed_resamples
    low, high = (float(q) for q in np.quantile(boot_bleu, [0.025, 0.975]))
    return {
        "tokenize_s": tok["seconds"],
        "rouge_s": rouge["seconds"],
        "bleu_s": bleu["seconds"],
        "bootstrap_timed_s": boot["seconds"],
        "bootstrap_timed_resamples": timed_resamples,
        "bootstrap_extrapolated_s": per_resample * resamples,
        "seconds_extrapolated": rouge["seconds"] + bleu["seconds"] + per_resample * resamples,
        "values": {**{k: float(v.mean()) for k, v in rouge_scores.items()}, "bleu": corpus_bleu},
        "bleu_ci": [low, high],
        "rouge_ci": {k: [float(q) for q in np.quantile(v, [0.025, 0.975])] for k, v in boot_rouge.items()},
        "bleu_samples": boot_bleu,
        "rouge_per_sample": {k: v.tolist() for k, v in rouge_scores.items()},
    }


# ----------------------------------------------------------------------------------------- checks
def exact_resample_check(
    predictions: list[str], references: list[str], bleu_output: Any, resamples: int, check: int
) -> dict[str, Any]:
    """The library's BLEU on its first ``check`` resamples against ``sacrebleu.corpus_bleu`` of them."""
    import sacrebleu

    from domainft.evaluation.stats import KeyScores, StatisticsConfig, StatisticsEngine, bootstrap_indices

    n = len(references)
    engine = StatisticsEngine(n, StatisticsConfig(resamples=resamples, seed=0))
    key = KeyScores.build(bleu_output.values["bleu"], None, bleu_output.corpus_statistics["bleu"])
    library = engine.samples(key)
    assert library is not None
    indices = bootstrap_indices(n, resamples, seed=0)  # the rows the engine counted
    worst = 0.0
    for r in range(check):
        idx = indices[r]
        direct = sacrebleu.corpus_bleu([predictions[i] for i in idx], [[references[i] for i in idx]]).score
        worst = max(worst, abs(direct - float(library[r])))
    return {"resamples_checked": check, "max_abs_diff": worst, "samples": library}


def ci_agreement(library_samples: Any, baseline_ci: list[float], timed: int, seed: int) -> dict[str, Any]:
    """Does the baseline's ``timed``-resample CI fall where ``timed``-resample CIs of the library's bootstrap
    distribution fall? The band is the 0.5-99.5 % range of each end over 2,000 random subsets."""
    import numpy as np

    rng = np.random.default_rng(seed)
    samples = np.asarray(library_samples, dtype=np.float64)
    picks = rng.integers(0, samples.size, size=(2000, timed))
    ends = np.quantile(samples[picks], [0.025, 0.975], axis=1)  # 2 x 2000
    band_low = [float(x) for x in np.quantile(ends[0], [0.005, 0.995])]
    band_high = [float(x) for x in np.quantile(ends[1], [0.005, 0.995])]
    ok = band_low[0] <= baseline_ci[0] <= band_low[1] and band_high[0] <= baseline_ci[1] <= band_high[1]
    return {"low_end_band": band_low, "high_end_band": band_high, "agrees": bool(ok)}


# ----------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--baseline-resamples", type=int, default=50, help="Timed baseline resamples.")
    parser.add_argument("--check-resamples", type=int, default=5, help="Resamples checked exactly.")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", choices=["cpu"], help="Metrics run on the CPU only.")
    parser.add_argument("--smoke", action="store_true", help="Tiny sizes (seconds); for the smoke test.")
    parser.add_argument(
        "--output", default=None, help="Result file (default benchmarks/results/metrics.json)."
    )
    args = parser.parse_args(argv)
    if args.smoke:
        if not args.output:
            parser.error("--smoke needs --output (smoke runs never write to benchmarks/results)")
        args.pairs, args.resamples, args.baseline_resamples, args.check_resamples = 120, 200, 20, 3
    set_offline()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # read by numpy's BLAS when it is first imported, just below
    # imports are paid before any timing, by both sides
    import numpy  # noqa: F401
    import rouge_score.rouge_scorer  # noqa: F401
    import sacrebleu  # noqa: F401

    import domainft.evaluation.evaluator
    import domainft.evaluation.metrics.lexical  # noqa: F401

    predictions, references, kinds = make_pairs(args.pairs, args.seed)
    lib = run_library(predictions, references, args.resamples)
    stages = library_stages(predictions, references, args.resamples)
    base = run_baseline(predictions, references, args.resamples, args.baseline_resamples, seed=args.seed + 1)
    exact = exact_resample_check(
        predictions, references, stages["bleu_output"], args.resamples, args.check_resamples
    )
    agreement = ci_agreement(exact["samples"], base["bleu_ci"], args.baseline_resamples, seed=args.seed + 2)

    # rouge_score's default tokenizer deletes non-ASCII letters (the library's keeps them), so per-pair ROUGE
    # must be equal on all-ASCII pairs only; corpus BLEU must be equal outright.
    ascii_pairs = [
        i for i, (p, r) in enumerate(zip(predictions, references, strict=True)) if (p + r).isascii()
    ]
    rouge_diff = max(
        abs(stages["rouge_per_sample"][k][i] - base["rouge_per_sample"][k][i])
        for k in ROUGE_KEYS
        for i in ascii_pairs
    )
    bleu_diff = abs(lib["values"]["bleu"] - base["values"]["bleu"])
    lib_vs_stages = max(
        abs(lib["values"][k] - float(sum(v) / len(v))) for k, v in stages["rouge_per_sample"].items()
    )
    bleu = lib["values"]["bleu"]
    bleu_ci = lib["ci"]["bleu"]
    brackets = bleu_ci[0] is not None and bleu_ci[0] <= bleu <= bleu_ci[1]
    checks = {
        "rouge_matches_baseline_on_ascii_pairs": rouge_diff == 0.0 and lib_vs_stages < 1e-12,
        "ascii_pairs": len(ascii_pairs),
        "non_ascii_pairs": len(predictions) - len(ascii_pairs),
        "rouge_max_abs_diff_ascii_pairs": rouge_diff,
        "rouge_mean_abs_diff_all_pairs": {k: abs(lib["values"][k] - base["values"][k]) for k in ROUGE_KEYS},
        "bleu_matches_baseline": bleu_diff < 1e-9,
        "bleu_abs_diff": bleu_diff,
        "resample_bleu_exact": exact["max_abs_diff"] < 1e-9,
        "resample_bleu_max_abs_diff": exact["max_abs_diff"],
        "resamples_checked": exact["resamples_checked"],
        "bleu_ci_brackets_corpus_bleu": bool(brackets),
        "bleu_ci_agrees_with_baseline": agreement["agrees"],
        "bleu_ci_agreement": agreement,
    }
    speedup = base["seconds_extrapolated"] / lib["seconds"]
    rows = [
        {
            "variant": "baseline: rouge_score + corpus_bleu per resample",
            "tokenize": base["tokenize_s"],
            "rouge": base["rouge_s"],
            "bleu": base["bleu_s"],
            "bootstrap": base["bootstrap_extrapolated_s"],
            "total": base["seconds_extrapolated"],
            "note": f"bootstrap extrapolated from {args.baseline_resamples} resamples",
        },
        {
            "variant": "library stages (metric API)",
            "tokenize": stages["tokenize_rouge_s"] + stages["tokenize_bleu_s"],
            "rouge": stages["rouge_s"],
            "bleu": stages["bleu_s"],
            "bootstrap": stages["bootstrap_s"],
            "total": stages["rouge_s"] + stages["bleu_s"] + stages["bootstrap_s"],
        },
        {
            "variant": "library: Evaluator.score",
            "total": lib["seconds"],
            "speedup": speedup,
            "target": f"< {TARGET_SECONDS:g} s",
            "verdict": verdict(lib["seconds"], TARGET_SECONDS, higher_is_better=False),
        },
    ]
    print(f"{args.pairs} pairs, {args.resamples} bootstrap resamples, {args.threads} threads; kinds: {kinds}")
    print(
        table(
            rows,
            [
                ("variant", "variant", ""),
                ("tokenize", "tokenize s", ".2f"),
                ("rouge", "rouge s", ".2f"),
                ("bleu", "bleu s", ".2f"),
                ("bootstrap", "bootstrap s", ".2f"),
                ("total", "total s", ".2f"),
                ("speedup", "vs baseline", ".1f"),
                ("target", "target", ""),
                ("verdict", "verdict", ""),
                ("note", "note", ""),
            ],
        )
    )
    print(
        "tokenize s is timed on its own; the same work is inside rouge s and bleu s (total s leaves it out)"
    )
    print(
        f"BLEU {bleu:.2f}: library 95% CI [{bleu_ci[0]:.2f}, {bleu_ci[1]:.2f}] ({args.resamples} resamples); "
        f"baseline [{base['bleu_ci'][0]:.2f}, {base['bleu_ci'][1]:.2f}] "
        f"({args.baseline_resamples} resamples); "
        f"agrees within bootstrap noise: {agreement['agrees']}; brackets corpus BLEU: {brackets}"
    )
    print(
        f"per-pair ROUGE = rouge_score on the {len(ascii_pairs)} all-ASCII pairs "
        f"(max |diff| {rouge_diff:.1e}; "
        f"the other {len(predictions) - len(ascii_pairs)} hold accented letters rouge_score deletes); "
        f"BLEU = sacrebleu (|diff| {bleu_diff:.1e}); resample BLEU = sacrebleu on "
        f"{exact['resamples_checked']} resamples (max |diff| {exact['max_abs_diff']:.1e})"
    )
    base.pop("bleu_samples")
    base.pop("rouge_per_sample")
    stages.pop("bleu_output")
    stages.pop("rouge_per_sample")
    path = write_result(
        "metrics",
        {
            "smoke": args.smoke,
            "settings": {
                "pairs": args.pairs,
                "resamples": args.resamples,
                "baseline_timed_resamples": args.baseline_resamples,
                "threads": args.threads,
                "seed": args.seed,
                "prediction_kinds": kinds,
                "metrics": ["rouge1", "rouge2", "rougeL", "rougeLsum", "bleu"],
            },
            "target": {"library_seconds_below": TARGET_SECONDS},
            "library": {**lib, "stages": stages},
            "baseline": {**base, "extrapolated": True},
            "speedup": speedup,
            "verdict": verdict(lib["seconds"], TARGET_SECONDS, higher_is_better=False),
            "checks": checks,
        },
        output=args.output,
    )
    print(f"wrote {path}")
    failed = [k for k in CORRECTNESS if not checks[k]]
    if failed:
        print(f"CORRECTNESS FAILED: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"bench_metrics finished in {time.perf_counter() - start:.1f} s")
    sys.exit(code)
