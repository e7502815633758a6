"""How many of its 64 latent dimensions a Doom V uses, against the authors' V: the KL of each dimension's posterior
on the first frame of 1,000 random-policy episodes.

    python bench/v_latent_use.py runs/doom-small [runs/doom-vlong ...] [--out FILE]

The authors' Doom V is not released, but their dream's start states are (reports/reference/doomrnn_initial_z.json:
mu and logvar of frame 0 of 1,000 episodes); each run's ``series/initial_z.npz`` holds the same statistics for its
own V. A dimension whose posterior stays near N(0, 1) carries nothing for M to model. Prints per V: the mean KL
summed over dimensions (the loss's floor is kl_tolerance x 64 = 32 nats), how many dimensions carry more than 0.1
and 0.5 nats on average, and the ten largest per-dimension KLs.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.run_layout import RunLayout  # noqa: E402
from reports.published import REFERENCE_DIR  # noqa: E402

AUTHORS = REFERENCE_DIR / "doomrnn_initial_z.json"


def authors_initial_z():
    """The authors' [mu, logvar], stored as integers x 10,000."""
    import numpy as np

    mu, logvar = json.loads(AUTHORS.read_text())
    return np.asarray(mu, np.float64) / 1e4, np.asarray(logvar, np.float64) / 1e4


def latent_use(mu, logvar) -> dict:
    """KL(N(mu, exp(logvar)) || N(0, 1)) per episode and dimension, summarised."""
    import numpy as np

    kl = 0.5 * (mu ** 2 + np.exp(logvar) - 1.0 - logvar)
    per_dim = kl.mean(axis=0)
    return {"episodes": len(mu), "kl_total": float(kl.sum(axis=1).mean()),
            "dims_over_0.1": int((per_dim > 0.1).sum()), "dims_over_0.5": int((per_dim > 0.5).sum()),
            "largest": sorted(per_dim.tolist(), reverse=True)[:10]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="run folders holding series/initial_z.npz")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args(argv)
    from bench.bench_output import Output
    from common.config import ConfigError
    from envs.episodes import load_initial_z

    sources = [("authors' V (reports/reference/doomrnn_initial_z.json)", authors_initial_z())]
    for run in args.runs:
        try:
            path = RunLayout(run).initial_z
            sources.append((str(path), load_initial_z(path)))
        except ConfigError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    out = Output(args.out)
    for name, (mu, logvar) in sources:
        use = latent_use(mu, logvar)
        out.say(f"{name}: {use['episodes']} first frames, KL {use['kl_total']:.1f} nats, dimensions over 0.1 nats "
                f"{use['dims_over_0.1']}, over 0.5 nats {use['dims_over_0.5']}; largest per dimension "
                + " ".join(f"{k:.2f}" for k in use["largest"]))
    out.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
