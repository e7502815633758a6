"""How much of a CarRacing candidate's fitness noise comes from the track it drew: plays K candidates around the
run's trained C (θ = best + σ·N(0, I), as a late CMA-ES generation samples them) on the same T tracks each, in
envpool's game (training seeds), and splits the scores by a two-way analysis of variance into

    score[c, t] = mean + candidate effect a_c + track effect b_t + residual e_ct.

CMA-ES ranks candidates by the mean of R episodes. With tracks drawn per candidate (the authors: candidates i and
i + P/2 share a seed, the rest differ) a candidate's fitness carries the track effects as noise, var(b) + var(e)
over R; when every candidate of a generation plays the same R tracks, the track effects are common to all and drop
out of the ranking, leaving var(e) over R. The script prints both, and measures the ranking itself: the Spearman
correlation between the candidates' R-episode fitness and their mean over all T tracks, with R tracks drawn per
candidate or shared, averaged over many draws from the T tracks (the T-track mean includes the R drawn tracks,
so both correlations run a little high, alike).

    python bench/track_variance.py --run-dir reports/results/carracing-sampled-z --out bench/results/track_variance.txt
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def variance_components(scores):
    """Two-way ANOVA without replication of ``scores`` [K candidates, T tracks]: (var_candidate, var_track,
    var_residual), the components' unbiased estimates (clipped at 0)."""
    import numpy as np

    k, t = scores.shape
    mean = scores.mean()
    a = scores.mean(axis=1) - mean
    b = scores.mean(axis=0) - mean
    e = scores - mean - a[:, None] - b[None, :]
    ms_c = t * np.sum(a ** 2) / (k - 1)
    ms_t = k * np.sum(b ** 2) / (t - 1)
    ms_e = np.sum(e ** 2) / ((k - 1) * (t - 1))
    return max((ms_c - ms_e) / t, 0.0), max((ms_t - ms_e) / k, 0.0), float(ms_e)


def ranking_correlation(scores, rollouts: int, shared: bool, draws: int, rng) -> float:
    """Mean Spearman correlation between each candidate's fitness over ``rollouts`` of the T tracks (the same
    tracks for all candidates when ``shared``, else drawn per candidate) and its mean over all T tracks."""
    import numpy as np

    def ranks(x):
        return np.argsort(np.argsort(x))

    k, t = scores.shape
    truth = scores.mean(axis=1)
    values = []
    for _ in range(draws):
        if shared:
            cols = np.tile(rng.choice(t, rollouts, replace=False), (k, 1))
        else:
            cols = np.stack([rng.choice(t, rollouts, replace=False) for _ in range(k)])
        fitness = np.take_along_axis(scores, cols, axis=1).mean(axis=1)
        values.append(np.corrcoef(ranks(fitness), ranks(truth))[0, 1])
    return float(np.mean(values))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", required=True, help="a CarRacing run with V, M and controller/best.json")
    parser.add_argument("--candidates", type=int, default=16, help="K candidates around best.json")
    parser.add_argument("--tracks", type=int, default=16, help="T tracks every candidate plays")
    parser.add_argument("--sigma", type=float, default=0.1, help="σ of the candidates (the run's last CMA σ ~0.10)")
    parser.add_argument("--rollouts", type=int, nargs="+", default=[1, 2, 4], help="R episodes per candidate")
    parser.add_argument("--draws", type=int, default=2000, help="track draws averaged per correlation")
    parser.add_argument("--scores", type=Path, help="keep the [K, T] scores in this .npy file and, when it exists, "
                                                     "analyse it instead of playing again")
    parser.add_argument("--out", type=Path, help="also write the figures to this file (bench/results/...)")
    args = parser.parse_args(argv)
    if args.candidates < 3 or args.tracks < max(args.rollouts) + 1:
        parser.error("need at least 3 candidates and more tracks than the largest --rollouts")
    from bench.bench_output import Output

    out = Output(args.out)
    import numpy as np

    from common.cli import read_run_config
    from common.run_layout import RunLayout
    from common.seeds import TRAINING
    from controller.backends import PoolBackend, real_factory
    from controller.evaluate import read_params
    from controller.shape import controller_shape

    run_dir = Path(args.run_dir)
    cfg = read_run_config(run_dir)
    best, _ = read_params(RunLayout(run_dir).controller().best, controller_shape(cfg).num_params)
    rng = np.random.default_rng(0)
    k, t = args.candidates, args.tracks
    candidates = best[None] + args.sigma * rng.standard_normal((k, best.size))
    tracks = list(range(TRAINING.low, TRAINING.low + t))
    out.say(f"{k} candidates θ = best.json + {args.sigma}·N(0, I) x {t} envpool tracks (seeds {tracks[0]}..), "
            f"v0 rule, {cfg.env.max_steps}-step cap, {cfg.es.workers} workers")
    if args.scores and args.scores.exists():
        scores = np.load(args.scores)
        out.say(f"scores read from {args.scores}")
    else:
        backend = PoolBackend(cfg, real_factory(cfg, run_dir))
        try:
            rows = np.repeat(candidates.astype(np.float32), t, axis=0)
            returns, _ = backend.episodes(rows, tracks * k)
        finally:
            backend.close()
        scores = returns.reshape(k, t)
        if args.scores:
            np.save(args.scores, scores)
    var_c, var_t, var_e = variance_components(scores)
    out.say(f"scores: mean {scores.mean():.1f}, std {scores.std():.1f} over {scores.size} episodes")
    out.say(f"std of the candidate effect {np.sqrt(var_c):.1f}, of the track effect {np.sqrt(var_t):.1f}, "
            f"of the residual {np.sqrt(var_e):.1f} (share of the episode variance: candidate "
            f"{var_c / (var_c + var_t + var_e):.0%}, track {var_t / (var_c + var_t + var_e):.0%}, residual "
            f"{var_e / (var_c + var_t + var_e):.0%})")
    for r in args.rollouts:
        drawn = np.sqrt((var_t + var_e) / r)
        shared = np.sqrt(var_e / r)
        out.say(f"R = {r}: fitness noise {drawn:.1f} with tracks drawn per candidate, {shared:.1f} with shared "
                f"tracks; Spearman vs the {t}-track mean: drawn "
                f"{ranking_correlation(scores, r, False, args.draws, rng):.2f}, shared "
                f"{ranking_correlation(scores, r, True, args.draws, rng):.2f}")
    out.save()


if __name__ == "__main__":
    main()
