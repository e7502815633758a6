"""``python -m reports publish --run-dir D --to FOLDER``: the small, committable part of a finished run.

Copies what a reader needs to check and re-score the result, and nothing bulky: the run's config and timings, V's
and M's SavedModels (the real-env agent serves from them when the Keras files are absent,
:func:`vae.export.load_v`, :func:`rnn.export.load_m`), M's loss history, each controller folder's parameters, logs and
evaluations (not the CMA state: it is the size of the covariance matrix), the report, and ``diagnosis/``
(bench outputs saved into the run, e.g. ``bench/dream_gap.py ... > <run>/diagnosis/dream_gap.txt``) and the
dream's initial z (so the dream video and viewer run from the folder). A round of iterative training
(``<run>/round{k}``) publishes as the final agent, with each earlier pass's config, timings, M's step count and C's
files under ``passes/round{k}/`` (``passes/round0/``: the first pass). It then writes
FOLDER/README.md from the run's own files: the commands that ran (from ``reproduce.log`` and the stage logs), the
wall time of each stage (``timings.json``) and the size of what was copied. Rollouts, series, Keras files,
backups and TensorBoard logs stay in the run folder.

The result can be re-scored from a copy of FOLDER (re-scoring writes evaluation and timing files into the run
folder it is given): ``cp -r FOLDER /tmp/x && python -m controller evaluate --run-dir /tmp/x --seed S``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from common import atomic
from common.config import ConfigError
from common.run_layout import RunLayout
from reports.tables import fmt_duration

# RunLayout attributes; the first two files and three folders are required.
FILES = ("config", "timings", "rnn_history", "rnn_diagnostics", "initial_z", "choice")
FOLDERS = ("vae_saved_model", "rnn_saved_model", "report", "diagnosis")  # report/ holds the agent's GIFs
CONTROLLER_FILES = ("best", "config", "history", "eval_history")  # ControllerLayout attributes
MAX_BYTES = 60 * 2 ** 20  # a result folder stays small enough to commit


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


PASS_FILES = ("config", "timings", "rnn_done", "rnn_history")  # what each earlier pass keeps (RunLayout attributes)


def _commands(run_dir: Path) -> list[str]:
    """The stage commands in the order they ran, from the ``===== <date> <command>`` lines of reproduce.log."""
    log = RunLayout(run_dir).reproduce_log
    if not log.exists():
        return []
    lines = [line[6:].strip() for line in log.read_text(errors="replace").splitlines() if line.startswith("===== ")]
    return lines


def one_command(run_dir: Path, commands: list[str]) -> str | None:
    """``python -m reports reproduce ...`` when the logged stage commands are exactly that command's stages (no
    other flags, nothing else ran in the folder); None otherwise (e.g. a run built by several commands)."""
    from common.cli import read_run_config
    from reports.reproduce import plan as reproduce_plan

    cfg = read_run_config(run_dir)
    commands = [c.split(" ", 2)[-1] for c in commands]  # drop the date and time of each log line
    if cfg is None or not commands:
        return None
    logged_dir = commands[0].split("--run-dir ", 1)[-1].split(" ", 1)[0]
    plan = {" ".join(["python", *s.resolved(b.run_dir).argv(cfg, b.run_dir, [])[1:]])
            for b in reproduce_plan(cfg, Path(logged_dir)) for s in b.stages}
    if not set(commands) <= plan:
        return None
    return f"python -m reports reproduce --experiment {cfg.experiment} --preset {cfg.preset} --run-dir {logged_dir}"


def _controller_files(folder) -> list[Path]:
    return [getattr(folder, name) for name in CONTROLLER_FILES] + sorted(folder.dir.glob("evaluation_*.json"))


def publish(run_dir: Path, to: Path) -> dict:
    """Copy the committable files of ``run_dir`` into ``to`` (replacing it) and write ``to/README.md``."""
    run_dir, to = Path(run_dir), Path(to)
    layout = RunLayout(run_dir)
    missing = [str(getattr(layout, name).relative_to(run_dir)) for name in (*FILES[:2], *FOLDERS[:3])
               if not getattr(layout, name).exists()]
    if missing:
        raise ConfigError(f"{run_dir} lacks {', '.join(missing)}: finish the run (python -m reports reproduce) first")
    controllers = [c for c in layout.controllers() if c.best.exists()]
    if not controllers:
        raise ConfigError(f"{run_dir} holds no trained controller (controller*/best.json)")
    tmp = to.with_name(f".{to.name}{atomic.TMP_MARK}publish")
    shutil.rmtree(tmp, ignore_errors=True)
    sources = [getattr(layout, name) for name in (*FILES, *FOLDERS)]
    for folder in controllers:
        sources += _controller_files(folder)
    for src in sources:
        dst = tmp / src.relative_to(run_dir)
        if src.is_dir():
            shutil.copytree(src, dst)
        elif src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    total = _size(tmp)
    if total > MAX_BYTES:
        shutil.rmtree(tmp)
        raise ConfigError(f"the files to publish take {total / 2**20:.1f} MiB, over {MAX_BYTES / 2**20:.0f} MiB")
    from reports.iterate import passes

    chain = passes(run_dir)
    for k, folder in chain[:-1]:  # the earlier passes of iterative training: their record, not their models
        src = RunLayout(folder)
        for path in [getattr(src, name) for name in PASS_FILES] + _controller_files(src.controller()):
            if path.exists():
                dst = tmp / "passes" / f"round{k}" / path.relative_to(folder)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dst)
    timings = [(k, json.loads(RunLayout(folder).timings.read_text())) for k, folder in chain
               if RunLayout(folder).timings.exists()]
    root = chain[0][1]
    atomic.write_text(tmp / "README.md", _readme(root, run_dir, to, timings, _commands(root), tmp))
    if to.exists():
        shutil.rmtree(to)
    tmp.rename(to)
    return {"folder": str(to), "bytes": _size(to)}


def _readme(root: Path, run_dir: Path, to: Path, timings: list[tuple[int, dict]], commands: list[str],
            tmp: Path) -> str:
    """``root``: the run folder reproduce ran in (``run_dir`` itself, or the first pass of the round published)."""
    config = json.loads(RunLayout(run_dir).config.read_text())
    made_by = one_command(root, commands)
    rounds = len(timings) - 1 if root != run_dir else 0
    what = f", round {rounds} of iterative training (earlier passes in passes/)" if rounds else ""
    lines = [f"# Published run: {config['experiment']}, preset {config['preset']}{what}", "",
             f"Written by `python -m reports publish --run-dir {run_dir} --to {to}` from the run's own files. "
             f"The report is [report/REPORT.md](report/REPORT.md); every number in it is in "
             f"[report/results.json](report/results.json).", ""]
    if made_by:
        lines += ["The whole run is one command (every stage below is one of its stages, nothing else ran):", "",
                  f"    {made_by}", ""]
    from controller.choose import read_choice

    choice = read_choice(run_dir)
    chosen = f" --tag {choice['tag']} --es.temperature {float(choice['temperature']):g}" \
        if choice and choice["tag"] else ""
    lines += [
             "## Re-score the agent", "",
             "From a copy of this folder (re-scoring writes its evaluation and timing files into the folder it "
             "is given, and these files are tracked):", "",
             f"    cp -r {to} /tmp/rescore && python -m controller evaluate --run-dir /tmp/rescore{chosen} --seed S",
             "",
             "Any S in the test range [10,000,000, 100,000,000 - episodes] works (common/seeds.py); the report's "
             "score used the config's `evaluate.seed`. "
             "V and M are served from the SavedModels below.", "",
             "## Commands that ran", "",
             "In order, as `reproduce.log` recorded them (a stage that was resumed appears more than once):", ""]
    lines += [f"    {c}" for c in commands] or ["    (no reproduce.log in the run)"]
    lines += ["", "## Wall time of each stage", "", "| stage | wall | CPU | parts | machine |", "|---|---|---|---|---|"]
    from reports.iterate import stage_prefix

    for k, entries in timings:
        for stage, entry in entries.items():
            wall, cpu = fmt_duration(entry.get('wall_s')), fmt_duration(entry.get('cpu_s'))
            parts, machine = entry.get('parts', 1), entry.get('machine', '')
            lines.append(f"| {stage_prefix(k)}{stage} | {wall} | {cpu} | {parts} | {machine} |")
    total = sum(e.get("wall_s", 0.0) for _, entries in timings for e in entries.values())
    lines += [f"| all | {fmt_duration(total)} | | | |", "", "## Files", "", "| path | size |", "|---|---|"]
    for path in sorted(p for p in tmp.iterdir()):
        lines.append(f"| `{path.name}` | {_size(path) / 2**20:.1f} MiB |")
    return "\n".join(lines) + "\n"
