"""Why a CarRacing C's episodes end where they do: for each kind of episode (``reports.results.episode_kind``:
finished laps, episodes that left the playfield, and of those that ran to the step cap the near (>= 90% of the
tiles visited) and the far), the length of the tracks (tiles) and the car's pace (tiles visited per 100 steps).

    python bench/track_pace.py reports/results/carracing-chosen/controller/evaluation_real_validation.json

The inputs are evaluation files of ``python -m controller evaluate`` played in gymnasium's game (the tracks are
rebuilt from their seeds by ``reset(seed=...)``, a fraction of a second each; envpool's tracks for the same seeds
differ, so its files exit 2). A lap at the mean pace of the finished laps takes (tiles / pace) steps; an episode
that ran to the cap was either on a longer track, or slower, or both. How much a track turns (``turning_per_tile``:
the mean absolute change of heading from one tile to the next, in degrees) is printed beside its length, and a last
line per file says which of the two goes with the pace: their correlations with it over all its episodes and the
least-squares fit of the pace on both.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def turning_per_tile(track) -> float:
    """Mean absolute change of heading between consecutive tiles of a closed track, in degrees (a straight: 0;
    CarRacing's generator turns at most 0.31 rad, 17.8 degrees, per tile). ``track``: rows of (angle, heading, x, y);
    headings are compared modulo a full turn."""
    import numpy as np

    heading = np.asarray(track, np.float64)[:, 1]
    change = np.diff(np.append(heading, heading[0]))
    return float(np.degrees(np.abs((change + np.pi) % (2 * np.pi) - np.pi)).mean())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", type=Path, nargs="+", help="evaluation files played in gymnasium's game")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args(argv)
    from bench.bench_output import Output, read_evaluations

    results = read_evaluations(args.files)
    if results is None:
        return 2
    for path, result in zip(args.files, results):
        if result.get("backend") != "gymnasium":
            print(f"error: {path}: played in {result.get('backend')!r}, not gymnasium's game", file=sys.stderr)
            return 2
    import numpy as np

    from common.config import make_config
    from envs.carracing import CarRacing64Env, tiles_visited
    from reports.results import EPISODE_KINDS, episode_kind

    max_steps = make_config("carracing", "paper").env.max_steps  # 1000, as `small` (only `tiny` runs shorter)
    out = Output(args.out)
    env = CarRacing64Env()
    try:
        for path, result in zip(args.files, results):
            rows = {kind: [] for kind in EPISODE_KINDS}
            for seed, score, steps in zip(result["seeds"], result["scores"], result["lengths"]):
                env.reset(seed=seed)
                track = env.track
                visited = tiles_visited(score, steps) * len(track)
                rows[episode_kind(score, steps, max_steps)].append(
                    (len(track), 100 * visited / steps, turning_per_tile(track)))
            parts = []
            for kind in EPISODE_KINDS:
                if rows[kind]:
                    tiles, pace, turning = np.asarray(rows[kind]).T
                    parts.append(f"{kind} {len(tiles)}: tracks of {tiles.mean():.1f} tiles ({tiles.min():.0f}-"
                                 f"{tiles.max():.0f}) turning {turning.mean():.2f} degrees per tile, pace "
                                 f"{pace.mean():.1f} tiles per 100 steps ({pace.min():.1f}-{pace.max():.1f})")
            out.say(f"{path}: " + "; ".join(parts))
            tiles, pace, turning = np.asarray([row for kind in EPISODE_KINDS for row in rows[kind]]).T
            if len(pace) > 2:
                fit = np.linalg.lstsq(np.column_stack([np.ones_like(pace), turning, tiles]), pace, rcond=None)[0]
                r = np.corrcoef([pace, turning, tiles])
                out.say(f"{path}: over its {len(pace)} episodes the pace correlates {r[0, 1]:+.2f} with the turning "
                        f"per tile and {r[0, 2]:+.2f} with the track's tiles (turning and tiles: {r[1, 2]:+.2f}); "
                        f"least squares: pace = {fit[0]:.1f} {fit[1]:+.2f} x turning {100 * fit[2]:+.2f} x tiles / 100")
    finally:
        env.close()
    out.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
