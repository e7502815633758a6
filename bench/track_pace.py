"""Why a CarRacing C's episodes end where they do: for each kind of episode (``reports.results.episode_kind``:
finished laps, episodes that left the playfield, and of those that ran to the step cap the near (>= 90% of the
tiles visited) and the far), the length of the tracks (tiles) and the car's pace (tiles visited per 100 steps).

    python bench/track_pace.py reports/results/carracing-chosen/controller/evaluation_real_validation.json

The inputs are evaluation files of ``python -m controller evaluate`` played in gymnasium's game (the tracks are
rebuilt from their seeds by ``reset(seed=...)``, a fraction of a second each; envpool's tracks for the same seeds
differ, so its files exit 2). A lap at the mean pace of the finished laps takes (tiles / pace) steps; an episode
that ran to the cap was either on a longer track, or slower, or both.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


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
                tiles = env.track_tiles
                visited = tiles_visited(score, steps) * tiles
                rows[episode_kind(score, steps, max_steps)].append((tiles, 100 * visited / steps))
            parts = []
            for kind in EPISODE_KINDS:
                if rows[kind]:
                    tiles, pace = np.asarray(rows[kind]).T
                    parts.append(f"{kind} {len(tiles)}: tracks of {tiles.mean():.1f} tiles ({tiles.min():.0f}-"
                                 f"{tiles.max():.0f}), pace {pace.mean():.1f} tiles per 100 steps "
                                 f"({pace.min():.1f}-{pace.max():.1f})")
            out.say(f"{path}: " + "; ".join(parts))
    finally:
        env.close()
    out.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
