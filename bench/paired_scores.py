"""Two or more controllers scored on the same seeds: each one's mean ± std, and each one's paired difference from the
first with its standard error (a track's difficulty cancels out of the difference, so it resolves far smaller gaps
than the two means); and the one of highest mean (the choice between candidates, made on validation seeds only).

    python bench/paired_scores.py A/evaluation_real_envpool_validation.json B/evaluation_real_envpool_validation.json

The inputs are evaluation files of ``python -m controller evaluate``; they must hold the same seeds in the same
order (else exit 2). ``--cap STEPS`` (the episode's step cap, CarRacing 1000) also prints each one's median and how
many episodes ended before the cap (CarRacing's v0 rule: every tile visited, or the car off the playfield) with the
mean score of those that ran to it. ``--solved 900`` (CarRacing, with ``--cap``) also splits each one's distance
below that score over its kinds of episode (``reports.results.carracing_shortfall``): finished laps, episodes that
left the playfield, and of those that ran to the cap the near (>= 90% of the tiles visited) and the far.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


_KINDS = (("near", "near"), ("far", "far"), ("finished", "finished"), ("left_playfield", "left the playfield"))
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
             "twelfth")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path, help="evaluation file of controller A")
    parser.add_argument("others", type=Path, nargs="+", help="evaluation files of controllers B, C, ... (the same seeds)")
    parser.add_argument("--cap", type=int, help="the episodes' step cap: also count the episodes that ended before it")
    parser.add_argument("--solved", type=float,
                        help="CarRacing, with --cap: split each one's distance below this score over its episodes")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args(argv)
    if args.solved is not None and args.cap is None:
        parser.error("--solved needs --cap")
    files = [args.first, *args.others]
    import numpy as np

    from bench.bench_output import Output, read_evaluations

    results = read_evaluations(files)
    if results is None:
        return 2
    for path, result in zip(files[1:], results[1:]):
        if result.get("seeds") != results[0].get("seeds"):
            print(f"error: {files[0]} and {path} were not played on the same seeds", file=sys.stderr)
            return 2
    out = Output(args.out)
    scores = [np.asarray(r["scores"], np.float64) for r in results]
    for path, s in zip(files, scores):
        out.say(f"{path}: {s.mean():.1f} ± {s.std():.1f} over {len(s)} episodes (standard error "
                f"{s.std(ddof=1) / np.sqrt(len(s)):.1f})")
    if args.cap is not None:
        for path, s, r in zip(files, scores, results):
            ran = np.asarray(r["lengths"]) >= args.cap
            out.say(f"{path}: median {np.median(s):.1f}; {int((~ran).sum())} of {len(s)} episodes ended before step "
                    f"{args.cap}; the {int(ran.sum())} that ran to it average "
                    + (f"{s[ran].mean():.1f}" if ran.any() else "-"))
    if args.solved is not None:
        from reports.results import carracing_shortfall

        for path, r in zip(files, results):
            short = carracing_shortfall(r["scores"], r["lengths"], args.cap, args.solved)
            parts = []
            for kind, name in _KINDS:
                k = short[kind]
                mean = f" (mean {k['mean']:.1f}, {k['share']:+.1f})" if k["count"] else ""
                parts.append(f"{name} {k['count']}{mean}")
            out.say(f"{path}: {short['below']:.1f} below {args.solved:g}: " + ", ".join(parts) + f" (near: ran to "
                    f"step {args.cap} having visited >= {short['near_visited_percent']}% of the tiles; far: fewer)")
    for i, s in enumerate(scores[1:], 1):
        name = _ORDINALS[i] if i < len(_ORDINALS) else f"file {i + 1}"
        diff = s - scores[0]
        out.say(f"{name} - first, paired by seed: {diff.mean():+.1f} ± {diff.std(ddof=1) / np.sqrt(len(diff)):.1f} "
                f"(standard error); the {name} is higher on {int((diff > 0).sum())} of {len(diff)} seeds")
    best = max(range(len(scores)), key=lambda i: scores[i].mean())  # the first of equal means
    out.say(f"highest mean: {files[best]} ({scores[best].mean():.1f})")
    out.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
