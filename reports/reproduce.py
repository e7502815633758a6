"""``python -m reports reproduce``: the whole pipeline, one stage command after another, with one progress view.

Each stage is its own subprocess, ``python -m <package> <command> --experiment E --preset P --run-dir D`` (plus
any ``--section.field`` overrides given to reproduce). Every stage command exits 0 at once when its work is
complete and resumes where it stopped when it is not, so reproduce itself keeps no state: running it again after
a kill or a failure resumes the pipeline. Before starting a stage, reproduce asks the stage's own completeness
check (``Stage.done``, e.g. :func:`vae.train.is_complete`) with the config that stage would resolve; a current
stage is skipped without a subprocess, so a complete run re-runs in seconds and records nothing. The stage's own output passes through line by line above one tqdm bar
over the stages; progress-bar updates of the stage (carriage returns) show in the bar's postfix. The output of
every stage is also appended to ``<run>/reproduce.log``. A failing stage stops the pipeline with its name and
exit code.
"""
from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from common.config import SECTIONS, Config, ConfigError, make_config
from common.run_layout import RunLayout
_ROOT = Path(__file__).resolve().parents[1]
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STOP_GRACE_SECONDS = 60.0  # an interrupted stage's time to stop cleanly before it is killed


@dataclass(frozen=True)
class Stage:
    name: str  # as in timings.json
    package: str
    command: str
    extra: tuple[str, ...] = ()  # flags of the command that are not settings (e.g. --dream)
    settings: tuple[tuple[str, str], ...] = ()  # ("section.field", value) the stage runs with
    done: str = ""  # "module:function(cfg, run_dir) -> bool", the stage's own completeness check

    def argv(self, cfg: Config, run_dir: Path, overrides: list[str]) -> list[str]:
        own = [item for dotted, value in self.settings for item in (f"--{dotted}", value)]
        return [sys.executable, "-m", self.package, self.command, *self.extra, "--experiment", cfg.experiment,
                "--preset", cfg.preset, "--run-dir", str(run_dir), *own, *overrides]

    def is_done(self, cfg: Config, run_dir: Path, overrides: list[str]) -> bool:
        """The stage's check, on the config the stage would resolve (the run's, its settings, the overrides)."""
        if not self.done:
            return False
        values = {f"{s}.{k}": v for s in SECTIONS for k, v in cfg.to_dict()[s].items()}
        values.update(dict(self.settings))
        values.update({flag[2:]: value for flag, value in zip(overrides[::2], overrides[1::2])})
        try:
            stage_cfg = make_config(cfg.experiment, cfg.preset, values)
        except ConfigError:
            return False  # let the stage itself report it
        module, _, function = self.done.partition(":")
        return bool(getattr(importlib.import_module(module), function)(stage_cfg, run_dir))

    @property
    def label(self) -> str:
        return " ".join([self.package, self.command, *self.extra])


def stages(cfg: Config) -> list[Stage]:
    """collect -> V train -> encode -> M train -> C train -> evaluate (real; Doom also dream; CarRacing also the
    V-only C and the fast env's score) -> report."""
    out = [Stage("collect", "envs", "collect", done="envs.collect:is_complete"),
           Stage("vae_train", "vae", "train", done="vae.train:is_complete"),
           Stage("vae_encode", "vae", "encode", done="vae.encode:is_complete"),
           Stage("rnn_train", "rnn", "train", done="rnn.train:is_complete"),
           Stage("controller_train", "controller", "train", done="reports.reproduce:controller_done"),
           Stage("evaluate", "controller", "evaluate", done="reports.reproduce:real_score_done")]
    if cfg.experiment == "doom":
        # The dream score at the run's τ (es.temperature, which the evaluate command reads from the config).
        out.append(Stage("evaluate_dream", "controller", "evaluate", ("--dream",),
                         done="reports.reproduce:dream_score_done"))
    else:
        # The paper's "V only" row (C on z alone, same CMA-ES budget), and the full agent's score in the fast
        # env beside the gymnasium one.
        v_only = (("controller.inputs", "z"),)
        out += [Stage(f"controller_train-{V_ONLY_TAG}", "controller", "train", ("--tag", V_ONLY_TAG), v_only,
                      done="reports.reproduce:v_only_controller_done"),
                Stage(f"evaluate-{V_ONLY_TAG}", "controller", "evaluate", ("--tag", V_ONLY_TAG), v_only,
                      done="reports.reproduce:v_only_score_done"),
                Stage("evaluate_envpool", "controller", "evaluate", settings=(("evaluate.backend", "envpool"),),
                      done="reports.reproduce:real_score_done")]
    out.append(Stage("report", "reports", "make", done="reports.make:is_current"))
    return out


V_ONLY_TAG = "z"  # <run>/controller-z: CarRacing's C on z alone


def controller_done(cfg: Config, run_dir: Path, tag: str | None = None) -> bool:
    from controller.train import is_complete

    return is_complete(cfg, RunLayout(run_dir).controller(tag).dir)


def real_score_done(cfg: Config, run_dir: Path, tag: str | None = None) -> bool:
    from controller.evaluate import is_current

    return is_current(cfg, run_dir, dream=False, tag=tag)


def v_only_controller_done(cfg: Config, run_dir: Path) -> bool:
    return controller_done(cfg, run_dir, V_ONLY_TAG)


def v_only_score_done(cfg: Config, run_dir: Path) -> bool:
    return real_score_done(cfg, run_dir, V_ONLY_TAG)


def dream_score_done(cfg: Config, run_dir: Path) -> bool:
    from controller.evaluate import is_current

    return is_current(cfg, run_dir, dream=True)


class StageFailed(RuntimeError):
    def __init__(self, stage: Stage, code: int, tail: list[str]):
        self.stage, self.code, self.tail = stage, code, tail
        super().__init__(f"stage {stage.name} (`python -m {stage.label}`) failed with exit code {code}")


def _run_stage(stage: Stage, argv: list[str], bar: tqdm, log) -> None:
    """Run one stage, passing its lines through ``tqdm.write`` and its \\r-updates into the bar's postfix."""
    env = {"TF_CPP_MIN_LOG_LEVEL": "2", **os.environ, "PYTHONUNBUFFERED": "1"}  # TF's C++ info lines are noise here
    tail: list[str] = []
    proc = subprocess.Popen(argv, cwd=_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    assert proc.stdout is not None
    buffer = b""
    try:
        while True:
            chunk = proc.stdout.read1(65536)
            if not chunk:
                break
            log.write(chunk.decode("utf-8", "replace"))
            log.flush()
            buffer += chunk
            while True:
                match = re.search(rb"[\r\n]", buffer)
                if match is None:
                    break
                piece, sep, buffer = buffer[:match.start()], buffer[match.start():match.end()], buffer[match.end():]
                text = _ANSI.sub("", piece.decode("utf-8", "replace")).rstrip()
                if not text:
                    continue
                if sep == b"\n":
                    tqdm.write(f"  {text}", file=sys.stdout)
                    tail = (tail + [text])[-20:]
                else:  # a progress-bar redraw of the stage: show it in our bar instead of a new line
                    bar.set_postfix_str(text[-70:], refresh=True)
        code = proc.wait()
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM): let the stage stop as it would alone, finishing its own interruption
        # handling (the resumable part of its timing, its workers), and only then kill it.
        proc.terminate()
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    if buffer.strip():
        text = buffer.decode("utf-8", "replace").rstrip()
        tqdm.write(f"  {text}", file=sys.stdout)
        tail = (tail + [text])[-20:]
    if code != 0:
        raise StageFailed(stage, code, tail)


def reproduce(cfg: Config, run_dir: Path, overrides: list[str]) -> int:
    """Run every stage in order; return 0, or the failing stage's exit code after naming it."""
    return run_stages(stages(cfg), cfg, run_dir, overrides)


def for_stages(path: Path) -> Path:
    """``path`` as the stages, which run in the repository root, must see it to mean what the user meant."""
    return path if Path.cwd().resolve() == _ROOT else path.resolve()


def run_stages(plan: list[Stage], cfg: Config, run_dir: Path, overrides: list[str]) -> int:
    """Run ``plan`` in order, logging to <run>/reproduce.log; 0, or the failing stage's exit code after naming it."""
    run_dir = for_stages(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    done: list[tuple[str, float]] = []
    print(f"[reproduce] {cfg.experiment}, preset {cfg.preset}, run dir {run_dir}: "
          f"{' -> '.join(s.name for s in plan)}", flush=True)
    log_file = RunLayout(run_dir).reproduce_log
    with open(log_file, "a", encoding="utf-8") as log, \
            tqdm(total=len(plan), unit="stage", dynamic_ncols=True, file=sys.stderr, disable=None,
                 bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} stages [{elapsed}]{postfix}") as bar:
        for i, stage in enumerate(plan, 1):
            bar.set_description_str(f"[{i}/{len(plan)}] {stage.name}")
            bar.set_postfix_str("")
            argv = stage.argv(cfg, run_dir, overrides)
            command = " ".join(["python", *argv[1:]])
            if stage.is_done(cfg, run_dir, overrides):
                tqdm.write(f"[reproduce] stage {i}/{len(plan)} {stage.name}: complete, skipped", file=sys.stdout)
                done.append((stage.name, 0.0))
                bar.update(1)
                continue
            tqdm.write(f"[reproduce] stage {i}/{len(plan)} {stage.name}: {command}", file=sys.stdout)
            log.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} {command}\n")
            t0 = time.monotonic()
            try:
                _run_stage(stage, argv, bar, log)
            except StageFailed as err:
                bar.close()
                print(f"\n[reproduce] FAILED at stage {i}/{len(plan)} {stage.name}: `{command}` exited with "
                      f"code {err.code}. Its last lines:", file=sys.stderr)
                for line in err.tail:
                    print(f"    {line}", file=sys.stderr)
                print(f"[reproduce] full output in {log_file}; fix the cause and run the same "
                      f"reproduce command again to resume from this stage.", file=sys.stderr)
                return err.code if 0 < err.code < 128 else 1
            done.append((stage.name, time.monotonic() - t0))
            tqdm.write(f"[reproduce] stage {stage.name} done in {done[-1][1]:.1f} s", file=sys.stdout)
            bar.update(1)
    total = time.monotonic() - started
    print(f"[reproduce] all {len(plan)} stages done in {total:.1f} s: "
          + ", ".join(f"{n} {s:.1f} s" for n, s in done), flush=True)
    print(f"[reproduce] report: {RunLayout(run_dir).report_md}", flush=True)
    return 0
