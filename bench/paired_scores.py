"""Two controllers scored on the same seeds: each one's mean ± std, and their paired difference with its standard
error (a track's difficulty cancels out of the difference, so it resolves far smaller gaps than the two means).

    python bench/paired_scores.py A/evaluation_real_envpool_validation.json B/evaluation_real_envpool_validation.json

The inputs are evaluation files of ``python -m controller evaluate``; they must hold the same seeds in the same
order (else exit 2). ``--cap STEPS`` (the episode's step cap, CarRacing 1000) also prints each one's median and how
many episodes ended before the cap (CarRacing's v0 rule: every tile visited, or the car off the playfield) with the
mean score of those that ran to it.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path, help="evaluation file of controller A")
    parser.add_argument("second", type=Path, help="evaluation file of controller B (the same seeds)")
    parser.add_argument("--cap", type=int, help="the episodes' step cap: also count the episodes that ended before it")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args(argv)
    import numpy as np

    from bench.bench_output import Output

    results = []
    for path in (args.first, args.second):
        try:
            results.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as err:
            print(f"error: {path}: {err}", file=sys.stderr)
            return 2
    if results[0].get("seeds") != results[1].get("seeds"):
        print(f"error: {args.first} and {args.second} were not played on the same seeds", file=sys.stderr)
        return 2
    out = Output(args.out)
    scores = [np.asarray(r["scores"], np.float64) for r in results]
    for path, s in zip((args.first, args.second), scores):
        out.say(f"{path}: {s.mean():.1f} ± {s.std():.1f} over {len(s)} episodes (standard error "
                f"{s.std(ddof=1) / np.sqrt(len(s)):.1f})")
    if args.cap is not None:
        for path, s, r in zip((args.first, args.second), scores, results):
            ran = np.asarray(r["lengths"]) >= args.cap
            out.say(f"{path}: median {np.median(s):.1f}; {int((~ran).sum())} of {len(s)} episodes ended before step "
                    f"{args.cap}; the {int(ran.sum())} that ran to it average "
                    + (f"{s[ran].mean():.1f}" if ran.any() else "-"))
    diff = scores[1] - scores[0]
    out.say(f"second - first, paired by seed: {diff.mean():+.1f} ± {diff.std(ddof=1) / np.sqrt(len(diff)):.1f} "
            f"(standard error); the second is higher on {int((diff > 0).sum())} of {len(diff)} seeds")
    out.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
