"""Where a CarRacing C loses its points on the road: replays the episodes of an evaluation file in gymnasium's game
(the same C, seeds, z and chunks of ``env.vector_envs`` episodes as ``python -m controller evaluate`` played them)
and records the car at every step (``envs.carracing.CarRacing64Env.car_state``): how many wheels touch the road,
its speed, and its heading against the track's at the nearest tile.

    python bench/driving_faults.py reports/results/carracing-chosen/controller/evaluation_real_validation.json \\
        --run-dir reports/results/carracing-chosen --tag ""

Per kind of episode (``reports.results.episode_kind``: finished laps, episodes that left the playfield, and of those
that ran to the step cap the near and the far), and for all: the mean score, the steps with no wheel on the road,
the episodes with an excursion (``--excursion`` steps or more in a row off the road), the steps facing more than 90
degrees away from the track and the episodes with a spin (turned that far round at least once), and the mean speed
on the road. Then the episodes with an excursion or a spin and the clean ones side by side: what the slips cost,
beside what a clean but slow lap costs. The replayed
scores are checked against the file's (a replay that differs says so: then the episodes are not the ones scored).
Diagnosis only: play it on validation seeds to choose anything, never on test seeds.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BACKWARDS = np.pi / 2  # heading more than 90 degrees from the track's: spun round or driving back
CONTROLS = ("speed", "steer", "gas", "brake", "skidding")  # what the car did before a spin (steer as |steer|)
LEAD_UP = ((30, 10), (10, 0))  # windows before a spin, in steps: from 30 to 11 steps before it, the last 10
NAMES = {"steer": "|steer|", "skidding": "wheels skidding"}


def episode_faults(states: list[dict], track: np.ndarray, excursion: int, windows=LEAD_UP) -> dict:
    """One episode's faults from its car states (one per step, ``car_state``) and its track (rows of angle,
    heading, x, y). ``lead_up``: for each spin and each window (a, b) of ``windows``, the mean of each of CONTROLS
    over the steps from a to b + 1 before the step it faced back (spins with fewer steps before them are left
    out); ``on_road``: their sums and the count of the steps on the road facing the track's way."""
    xy = np.array([[s["x"], s["y"]] for s in states])
    nearest = np.argmin(np.hypot(xy[:, :1] - track[None, :, 2], xy[:, 1:] - track[None, :, 3]), axis=1)
    error = np.array([s["heading"] for s in states]) - track[nearest, 1]
    error = np.abs((error + np.pi) % (2 * np.pi) - np.pi)
    off = np.array([s["wheels_on_road"] == 0 for s in states])
    speed = np.array([s["speed"] for s in states])
    back = error > BACKWARDS
    run, excursions = 0, 0
    for is_off in off:
        run = run + 1 if is_off else 0
        excursions += run == excursion
    controls = np.array([[abs(s[k]) if k == "steer" else s[k] for k in CONTROLS] for s in states], np.float64)
    starts = np.flatnonzero(back & ~np.concatenate([[False], back[:-1]]))
    first = max(a for a, _ in windows)
    lead_up = [[controls[t - a:t - b].mean(axis=0).tolist() for a, b in windows] for t in starts if t >= first]
    calm = ~off & ~back
    return {"off_road": int(off.sum()), "excursions": excursions, "backwards": int(back.sum()),
            "spins": len(starts), "speed_on_road": float(speed[~off].mean()) if (~off).any() else 0.0,
            "lead_up": lead_up, "on_road": {"sum": controls[calm].sum(axis=0).tolist(), "count": int(calm.sum())}}


_AGENT = None  # each worker's Agent: V and M loaded, and its step traced, once for all its chunks


def _start_worker(run_dir: str, cfg_dict: dict) -> None:
    global _AGENT
    from common.config import config_from_dict
    from controller.agent import Agent

    _AGENT = Agent(run_dir, config_from_dict(cfg_dict), with_env=False)


def _replay(job) -> list[dict]:
    """Worker: play one chunk of episodes, returning each one's score, length and faults."""
    params, seeds, excursion = job  # params [k, N]: the C once per episode, as controller evaluate's tasks
    states = [[] for _ in seeds]
    tracks = {}

    def record(batch, stepped):
        envs = batch.envs
        for i in np.flatnonzero(stepped):
            env = envs[i].unwrapped
            if i not in tracks:  # the track is fixed from reset on
                tracks[i] = env.track
            states[i].append(env.car_state())

    returns, lengths = _AGENT.play(params, seeds, backend="gymnasium", on_step=record)
    return [{"seed": int(seed), "score": float(score), "steps": int(steps),
             **episode_faults(states[i], tracks[i], excursion)}
            for i, (seed, score, steps) in enumerate(zip(seeds, returns, lengths))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("evaluation", type=Path, help="an evaluation file of python -m controller evaluate, "
                                                      "played in gymnasium's game")
    parser.add_argument("--run-dir", type=Path, required=True, help="the run folder that holds the C's V and M")
    parser.add_argument("--tag", default="", help="the C's tag in that folder (default: its controller/)")
    parser.add_argument("--excursion", type=int, default=10,
                        help="steps in a row with no wheel on the road that count as an excursion (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="processes, one core each (default 2)")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args(argv)
    from bench.bench_output import Output, read_evaluations
    from common.cli import read_run_config
    from common.config import ConfigError
    from common.run_layout import RunLayout

    results = read_evaluations([args.evaluation])
    if results is None:
        return 2
    result = results[0]
    try:
        if result.get("backend") != "gymnasium":
            raise ConfigError(f"{args.evaluation}: played in {result.get('backend')!r}, not gymnasium's game")
        if args.excursion < 1 or args.workers < 1:
            raise ConfigError("--excursion and --workers must be at least 1")
        cfg = read_run_config(args.run_dir)
        if cfg is None or cfg.experiment != "carracing":
            raise ConfigError(f"{args.run_dir}: no CarRacing run there (config.json)")
        from controller.agent import has_models
        from controller.backends import episode_tasks
        from controller.evaluate import as_trained, params_digest, read_params, scoring_config
        from controller.model import controller_shape

        folder = RunLayout(args.run_dir).controller(args.tag or None)
        cfg = scoring_config(as_trained(cfg, folder.dir, False))
        params, _ = read_params(folder.best, controller_shape(cfg).num_params)
        if params_digest(params) != result.get("params_sha256"):
            raise ConfigError(f"{folder.best} is not the C that {args.evaluation} scored (another sha256)")
        if result.get("z") not in (None, cfg.controller.z):
            raise ConfigError(f"{args.evaluation} played z {result.get('z')!r}, the folder's C plays "
                              f"{cfg.controller.z!r}")
        if not has_models(args.run_dir):
            raise ConfigError(f"{args.run_dir} holds no V and M")
    except (ConfigError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from reports.results import EPISODE_KINDS, episode_kind

    chunks = episode_tasks(np.repeat(params[None], len(result["seeds"]), 0), result["seeds"], cfg.env.vector_envs)
    jobs = [(p, s, args.excursion) for p, s, _ in chunks]
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                             initargs=(str(args.run_dir), cfg.to_dict())) as pool:
        episodes = [e for chunk in pool.map(_replay, jobs) for e in chunk]

    out = Output(args.out)
    same = sum(abs(e["score"] - s) < 1e-6 and e["steps"] == n
               for e, s, n in zip(episodes, result["scores"], result["lengths"]))
    out.say(f"{args.evaluation}: {len(episodes)} episodes replayed in gymnasium's game, {same} with the file's score "
            f"and length; an excursion is {args.excursion} or more steps in a row with no wheel on the road")
    max_steps, solved = cfg.env.max_steps, cfg.env.reward_threshold
    groups = {kind: [e for e in episodes if episode_kind(e["score"], e["steps"], max_steps) == kind]
              for kind in EPISODE_KINDS}
    groups["all"] = episodes
    for kind, group in groups.items():
        if not group:
            continue
        mean = {key: float(np.mean([e[key] for e in group]))
                for key in ("score", "off_road", "backwards", "speed_on_road")}
        out.say(f"{kind} {len(group)}: score {mean['score']:.1f}; steps off the road {mean['off_road']:.1f}, "
                f"episodes with an excursion {sum(e['excursions'] > 0 for e in group)}, steps facing back "
                f"{mean['backwards']:.1f}, episodes with a spin {sum(e['spins'] > 0 for e in group)}; speed on the "
                f"road {mean['speed_on_road']:.1f}")
    lead_up = np.array([w for e in episodes for w in e["lead_up"]]).reshape(-1, len(LEAD_UP), len(CONTROLS))
    calm = np.sum([e["on_road"]["sum"] for e in episodes], axis=0) / max(1, sum(e["on_road"]["count"]
                                                                                for e in episodes))
    rows = [(f"{a} to {b + 1} steps before each of the {len(lead_up)} spins", lead_up[:, k].mean(axis=0))
            for k, (a, b) in enumerate(LEAD_UP) if len(lead_up)]
    for label, values in rows + [("every step on the road facing the track's way", calm)]:
        out.say(f"{label}: " + ", ".join(f"{NAMES.get(k, k)} {v:.2f}" for k, v in zip(CONTROLS, values)))
    slipped = [bool(e["excursions"] or e["spins"]) for e in episodes]
    for label, group in (("with an excursion or a spin", [e for e, s in zip(episodes, slipped) if s]),
                         ("without", [e for e, s in zip(episodes, slipped) if not s])):
        if group:
            scores = np.array([e["score"] for e in group])
            out.say(f"episodes {label}: {len(group)}, score {scores.mean():.1f} ± {scores.std():.1f} "
                    f"(min {scores.min():.1f}); their share of the mean's distance below {solved:g}: "
                    f"{np.sum(solved - scores) / len(episodes):.1f}")
    out.save()
    return 0 if same == len(episodes) else 1


if __name__ == "__main__":
    sys.exit(main())
