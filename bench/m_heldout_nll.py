"""M's z loss on episodes it never trained on: how well two or more Ms predict the same held-out series.

Each M (``<run>/rnn``, the Keras file or the SavedModel) steps over every series episode of ``--series`` from the
zero state with the recorded actions (teacher forcing, as in training), and scores the mixture NLL of z[t+1] per
dimension (z sampled from the stored posterior with a fixed seed per episode: the training z loss at τ = 1). The
episodes' z must come from the same V as each M's (copy the V into the held-out run before encoding). Also scores
each M on the first ``--own`` episodes of its own series: the gap between the two is what M memorised.

    python -m envs collect --experiment carracing --run-dir runs/heldout --collect.seed 5000000 --collect.episodes 50
    python -m vae encode --experiment carracing --run-dir runs/heldout      # with the Ms' V copied into runs/heldout/vae
    python bench/m_heldout_nll.py --series runs/heldout/series runs/cr-a runs/cr-b

Prints per M: mean z NLL per dimension-step over the held-out episodes, with the standard error across episodes,
and the mean paired difference from the first M on the same episodes.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def episode_nlls(model, series_dir: Path, episodes: int) -> list[float]:
    """Mean z NLL of each of the first ``episodes`` series files of ``series_dir`` under ``model`` (an MDNRNN or a
    served M: both step), all episodes stepped together, the shorter ones masked."""
    import numpy as np
    import tensorflow as tf

    from envs.episodes import list_episode_files, load_series
    from rnn.model import mdn_nll
    from vae.model import sample_z

    files = list_episode_files(series_dir)[:episodes] if Path(series_dir).is_dir() else []
    if not files:
        return []
    series = [load_series(path, model.z_size, model.action_size) for path in files]
    lengths = np.array([len(ep["mu"]) for ep in series])
    batch, steps = len(series), int(lengths.max())
    z = np.zeros((batch, steps, model.z_size), np.float32)
    action = np.zeros((batch, steps, model.action_size), np.float32)
    for i, ep in enumerate(series):
        z[i, :lengths[i]] = sample_z(tf.constant(ep["mu"]), tf.constant(ep["logvar"]), tf.constant([0, i], tf.int32))
        action[i, :lengths[i]] = ep["action"]
    h, c = model.initial_state(batch)
    total = np.zeros(batch)
    for t in range(steps - 1):
        restart = np.full(batch, float(t == 0), np.float32) if model.predict_death else None
        out, h, c = model.step(z[:, t], action[:, t], restart, h, c)
        nll = tf.reduce_mean(mdn_nll(out.logmix, out.mean, out.logstd, z[:, t + 1]), axis=-1).numpy()
        total += nll * (t + 1 < lengths)  # the target z[t+1] exists
    return list(total / np.maximum(lengths - 1, 1))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run folders whose M to score (the first is the baseline)")
    parser.add_argument("--series", type=Path, required=True, help="held-out series folder (same V as the Ms')")
    parser.add_argument("--episodes", type=int, default=50, help="held-out episodes to score")
    parser.add_argument("--own", type=int, default=50, help="episodes of each M's own series to score (0: skip)")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args(argv)
    from bench.bench_output import Output

    out = Output(args.out)
    import numpy as np

    from common.run_layout import RunLayout
    from rnn.export import load_m

    base = None
    for run in args.runs:
        model = load_m(run)
        held = np.array(episode_nlls(model, args.series, args.episodes))
        if not len(held):
            raise SystemExit(f"no series files in {args.series}")
        line = (f"{run}: z NLL {held.mean():.4f} ± {held.std(ddof=1) / np.sqrt(len(held)):.4f} "
                f"(standard error, {len(held)} episodes of {args.series})")
        if base is None:
            base = held
        elif len(held) == len(base):
            diff = held - base
            line += f"; minus {args.runs[0]}'s, paired: {diff.mean():+.4f} ± {diff.std(ddof=1) / np.sqrt(len(diff)):.4f}"
        if args.own:
            own = np.array(episode_nlls(model, RunLayout(run).series, args.own))
            line += (f"; on its own first {len(own)} training episodes {own.mean():.4f}" if len(own) else
                     "; its own series is not on disk")
        out.say(line)
    out.save()


if __name__ == "__main__":
    main()
