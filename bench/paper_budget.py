"""What the authors' budget would cost here: each stage of a published `small` run scaled to the `paper` preset by
its count of work, at the run's own measured cost per unit; for CarRacing, where the authors' CMA-ES curve crossed
each score, in episodes and in hours at the run's rate, beside a chosen C's own search; for Doom, how far the
authors' candidates and the run's lived in their dreams.

    python bench/paper_budget.py [--carracing reports/results/carracing] [--doom reports/results/doom]
        [--lineage DIR[:GEN] ...] [--out FILE]

A stage's work: collection and encoding, episodes; V, epochs x episodes it trains on; M, sequence-steps (steps x
batch x length) where the config counts steps (CarRacing) or epochs x episodes where it counts epochs (Doom, with
the run's frames per episode); C, episodes (generations x population x rollouts, plus the evaluations of the CMA
mean). The projection assumes the run's cost per unit: the same episode lengths (a better C's real episodes run
longer, its dream rollouts too) and the same per-frame cost at the paper's larger M batches. Stages the `paper`
preset does not run as such (the τ table, the V-only C, validation) are left out. The authors' log
(reports/reference/*_cma_hist*.csv) evaluates the CMA mean every 25 generations on 1,024 episodes, CarRacing in the
real game; a generation is 64 x 16 episodes.

``--lineage``: the controller folders of one C's search in order (each carried the previous one on, ``es.init_from``),
the last one ``:GEN`` for the generation whose C was kept; its episodes are summed and its validation score
(``evaluation_real_validation.json`` in the last folder) printed beside the authors' curve.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
# Candidate 14 of reports/results/carracing-chosen, the chosen CarRacing C: candidate 1's search, carried on by
# candidate 6, by candidate 8 (64 x 2, its C of generation 16 kept), by candidate 11 (in gymnasium's game, its C of
# generation 16 kept), by candidate 13 (64 x 2, its C of generation 24 kept) and by candidate 14 (64 x 2, each
# candidate ranked by its worse episode), whose C of generation 32 was kept.
CHOSEN = "reports/results/carracing-chosen"
DEFAULT_LINEAGE = [f"{CHOSEN}/controller-first", f"{CHOSEN}/controller-continued", f"{CHOSEN}/controller-pop64:16",
                   f"{CHOSEN}/controller-gymnasium:16", f"{CHOSEN}/controller-gymnasium-continued:24",
                   f"{CHOSEN}/controller:32"]
THRESHOLDS = (850.0, 865.0, 880.0, 890.0, 900.0)  # query points on the authors' curve, not results
STAGES = ("collect", "vae_train", "vae_encode", "rnn_train", "controller_train", "evaluate")


def stage_work(cfg, stage: str) -> float:
    """The units of work a stage does under ``cfg`` (see the module's docstring)."""
    episodes = cfg.collect.episodes
    if stage in ("collect", "vae_encode"):
        return episodes
    if stage == "vae_train":
        return cfg.vae.epochs * (min(cfg.vae.max_episodes, episodes) if cfg.vae.max_episodes else episodes)
    if stage == "rnn_train":
        if cfg.rnn.steps:
            return cfg.rnn.steps * cfg.rnn.batch_size * cfg.rnn.sequence_length
        return cfg.rnn.epochs * episodes
    if stage == "controller_train":
        es = cfg.es
        return es.generations * es.population_size * es.num_rollouts + (es.generations // es.eval_every) * es.eval_rollouts
    if stage == "evaluate":
        return cfg.evaluate.episodes
    raise ValueError(stage)


def search_episodes(folder: Path, last_generation: int | None = None) -> tuple[int, int]:
    """(episodes played, generations) by one controller folder's search up to ``last_generation``: its training
    episodes (history.csv) and the evaluations of its CMA mean (eval_history.csv)."""
    from common.run_layout import ControllerLayout
    from reports.tables import read_csv

    c = ControllerLayout(Path(folder))
    es = json.loads(c.config.read_text())["es"]
    history = [r for r in read_csv(c.history) if last_generation is None or r["generation"] <= last_generation]
    evals = [r for r in read_csv(c.eval_history) if last_generation is None or r["generation"] <= last_generation]
    return len(history) * es["population_size"] * es["num_rollouts"] + len(evals) * es["eval_rollouts"], len(history)


def shown(path: Path) -> str:
    """``path`` as the command line would name it from the project's root."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def project(out, run_dir: Path) -> tuple[float, str]:
    """Prints each stage of ``run_dir`` scaled to the paper preset; returns the C stage's episodes per second and
    the host it was measured on."""
    from common.config import config_from_dict, make_config
    from common.run_layout import RunLayout

    run = RunLayout(run_dir)
    cfg = config_from_dict(json.loads(run.config.read_text()))
    paper = make_config(cfg.experiment, "paper")
    timings = json.loads(run.timings.read_text())
    hosts = {timings[s]["machine"] for s in STAGES if s in timings}
    out.say(f"\n{cfg.experiment}: {shown(run_dir)} (preset {cfg.preset}) scaled to the paper preset; timings measured on "
            + "; ".join(sorted(hosts)))
    out.say(f"  {'stage':<17}{'run wall s':>12}{'run work':>16}{'paper work':>16}{'x':>8}{'paper wall h':>14}")
    total = run_total = 0.0
    for stage in STAGES:
        if stage not in timings:
            continue
        wall = timings[stage]["wall_s"]
        run_work, paper_work = stage_work(cfg, stage), stage_work(paper, stage)
        projected = wall * paper_work / run_work
        total += projected
        run_total += wall
        out.say(f"  {stage:<17}{wall:>12,.1f}{run_work:>16,.0f}{paper_work:>16,.0f}{paper_work / run_work:>8.1f}"
                f"{projected / 3600:>14,.1f}")
    out.say(f"  paper preset, these stages: {total / 3600:,.1f} h ({total / 86400:,.1f} days) on that host, against "
            f"{run_total / 3600:.2f} h for the run's")
    episodes, _ = search_episodes(run.controller().dir)
    rate = episodes / timings["controller_train"]["wall_s"]
    return rate, timings["controller_train"]["machine"]


def carracing_curve(out, rate: float, host: str, lineage: list[str]) -> None:
    from dataclasses import replace

    from common.config import make_config
    from common.run_layout import ControllerLayout
    from reports.published import reference_curve_files
    from reports.tables import read_csv

    history_csv, evaluations_csv = reference_curve_files("carracing")
    rows = read_csv(evaluations_csv)
    wall = {r["generation"]: r["wall_seconds"] for r in read_csv(history_csv)}
    paper = make_config("carracing", "paper")  # the authors' 64 x 16, their evaluations of 1,024 every 25
    out.say(f"\nThe authors' CarRacing CMA-ES (64 x 16 episodes per generation; the CMA mean scored on 1,024 episodes "
            f"every 25 generations), and its episodes at the run's C rate, {rate:.3f} episodes/s on {host}:")
    out.say("  (each score is the first evaluation at or above it: the curve crossed it within the 25 generations "
            "before)")
    out.say(f"  {'first at or above':>18}{'generation':>12}{'its score':>11}{'episodes':>12}{'authors h':>11}"
            f"{'hours here':>12}")
    for threshold in THRESHOLDS:
        row = next((r for r in rows if r["eval_score"] >= threshold), None)
        if row is None:
            out.say(f"  {threshold:>18.1f}  never in {len(rows) * paper.es.eval_every} generations")
            continue
        g = row["generation"]
        episodes = int(stage_work(replace(paper, es=replace(paper.es, generations=g)), "controller_train"))
        out.say(f"  {threshold:>18.1f}{g:>12}{row['eval_score']:>11.1f}{episodes:>12,}"
                f"{wall[g] / 3600:>11.1f}{episodes / rate / 3600:>12,.1f}")
    last = rows[-1]
    out.say(f"  (the authors' last evaluation, generation {last['generation']}: {last['eval_score']:.1f})")
    total, parts = 0, []
    for item in lineage:
        folder, _, gen = item.partition(":")
        episodes, generations = search_episodes(ROOT / folder, int(gen) if gen else None)
        total += episodes
        parts.append(f"{folder} {generations} generations, {episodes:,} episodes")
    last_folder = ControllerLayout(ROOT / lineage[-1].partition(":")[0])
    validation = json.loads(last_folder.evaluation(False, None, 0, 0, split="validation").read_text())
    out.say(f"This project's chosen C: {'; then '.join(parts)}: {total:,} episodes in all, "
            f"{total / rate / 3600:.1f} h at that rate; {validation['mean']:.1f} ± {validation['std']:.1f} over "
            f"{validation['episodes']} validation tracks in {validation['backend']}'s game.")


def doom_dreams(out, run_dir: Path) -> None:
    from common.run_layout import RunLayout
    from reports.published import reference_curve_files
    from reports.tables import read_csv

    authors = read_csv(reference_curve_files("doom")[0])
    best = max(authors, key=lambda r: r["fitness_max"])
    ours = read_csv(RunLayout(run_dir).controller().history)
    first = next((r for r in ours if r["fitness_max"] > best["fitness_max"]), None)
    out.say(f"\nDoom's dream: the authors' best candidate in {len(authors)} generations lived "
            f"{best['fitness_max']:.1f} steps on average over its 16 dream rollouts (generation "
            f"{best['generation']}; their population's mean at the last, {authors[-1]['fitness_mean']:.1f}).")
    if first is not None:
        out.say(f"  {shown(run_dir)}'s C: a candidate passed that at generation {first['generation']} "
                f"({first['fitness_max']:.1f}); its population's mean at the last, generation "
                f"{ours[-1]['generation']}: {ours[-1]['fitness_mean']:.1f}.")
    else:
        out.say(f"  {shown(run_dir)}'s C: no candidate in {len(ours)} generations passed it.")


def lineage_error(lineage: list[str]) -> str | None:
    """A one-line reason why ``--lineage`` cannot be read, or None."""
    from common.run_layout import ControllerLayout

    for i, item in enumerate(lineage):
        folder, _, gen = item.partition(":")
        c = ControllerLayout(ROOT / folder)
        needed = [c.config, c.history, c.eval_history]
        if i == len(lineage) - 1:
            needed.append(c.evaluation(False, None, 0, 0, split="validation"))
        missing = [path.name for path in needed if not path.is_file()]
        if missing:
            return f"{folder}: not a controller folder with {', '.join(missing)}"
        if gen and not gen.isdigit():
            return f"{item}: the generation after ':' must be a whole number"
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--carracing", type=Path, default=ROOT / "reports/results/carracing",
                        help="a published CarRacing run (config.json, timings.json, controller/)")
    parser.add_argument("--doom", type=Path, default=ROOT / "reports/results/doom", help="a published Doom run")
    parser.add_argument("--lineage", nargs="+", default=DEFAULT_LINEAGE, metavar="DIR[:GEN]",
                        help="controller folders of one CarRacing C's search, in order (default: the chosen C)")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args(argv)
    error = lineage_error(args.lineage)
    for path in [args.carracing, args.doom]:
        if not path.is_dir():
            error = f"{path}: no such folder"
    if error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from bench.bench_output import Output

    out = Output(args.out)
    rate, host = project(out, args.carracing)
    carracing_curve(out, rate, host, args.lineage)
    project(out, args.doom)
    doom_dreams(out, args.doom)
    out.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
