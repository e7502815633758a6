"""A "soup" of controllers: the mean of several Cs' parameter vectors, written as one best.json.

C is linear (a = tanh(W [z, h] + b)), so for Cs that read the same V and M the soup's pre-activation is the mean
of the members' pre-activations: one controller that acts on the committee's mean opinion. The script prints each
member's norm and the cosine similarities between members (how far apart independent CMA-ES runs land), then
writes ``{"params": mean, "sources": [...]}``; score it with ``python -m controller evaluate --tag TAG``.

    python bench/controller_soup.py A/best.json B/best.json ... --out runs/RUN/controller-soup/best.json
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("members", type=Path, nargs="+", help="best.json files of Cs trained on the same V and M")
    parser.add_argument("--out", type=Path, required=True, help="the soup's best.json (its folder is created)")
    args = parser.parse_args(argv)
    import numpy as np

    from common.atomic import write_json
    from common.config import ConfigError
    from controller.evaluate import read_params

    if len(args.members) < 2:
        print("error: a soup needs at least two members", file=sys.stderr)
        return 2
    if args.out.exists():
        print(f"error: {args.out} exists; choose another --out", file=sys.stderr)
        return 2
    try:
        first, _ = read_params(args.members[0], None)  # the first member sets the length the others must have
        params = np.stack([first] + [read_params(path, first.size)[0] for path in args.members[1:]])
        params = params.astype(np.float64)
    except (OSError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    unit = params / np.linalg.norm(params, axis=1, keepdims=True)
    for i, path in enumerate(args.members):
        print(f"member {i}: {path} (norm {np.linalg.norm(params[i]):.2f})")
    print("cosine similarity of the members:")
    for row in unit @ unit.T:
        print("  " + " ".join(f"{c:5.2f}" for c in row))
    soup = params.mean(axis=0)
    print(f"soup: {len(params)} members, {soup.size} parameters, norm {np.linalg.norm(soup):.2f} -> {args.out}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"params": soup.tolist(), "sources": [str(p) for p in args.members]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
