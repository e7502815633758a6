"""``python -m reports reproduce``: the whole pipeline, one stage command after another, with one progress view.

Each stage is its own process, ``python -m <package> <command> --experiment E --preset P --run-dir D`` (plus any
``--section.field`` overrides given to reproduce); on Linux it is forked from a helper that has imported TensorFlow
once for the whole run (:mod:`reports.preloaded`): what the command line runs, minus the import. With
``iterate.rounds`` (Doom), the rounds of iterative training follow the run folder's own stages, each in its own
folder ``<run>/round{k}`` (:mod:`reports.iterate`). Every stage command exits 0 at once when its work is complete
and resumes where it stopped when it is not, so reproduce itself keeps no state: running it again after a kill or a
failure resumes the pipeline. Before starting a stage, reproduce asks the stage's own completeness check
(``Stage.done``, e.g. :func:`vae.train.is_complete`) with the config that stage would resolve; a current stage is
skipped without starting a process, so a complete run re-runs in seconds and
records nothing. The stage's own output passes through line by line above one tqdm bar over the stages; progress-bar
updates of the stage (carriage returns) show in the bar's postfix. The output of every stage is also appended to
``<run>/reproduce.log``. A failing stage stops the pipeline with its name and exit code.
"""
from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from common.cli import read_run_config
from common.config import Config, ConfigError, make_config
from common.run_layout import RunLayout
from reports import preloaded

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
    done: str = ""  # "module:function(cfg, run_dir[, tag]) -> bool", the stage's own completeness check
    tag: str | None = None  # a tagged controller folder <run>/controller-TAG (--tag); CHOSEN: choice.json's

    def resolved(self, run_dir: Path) -> "Stage":
        """The stage on the final agent named in ``<run>/choice.json`` (tag CHOSEN; written by the stage before
        it): that C's folder and the τ it was trained at; the stage itself when it names its folder."""
        if self.tag != CHOSEN:
            return self
        from controller.choose import read_choice

        choice = read_choice(run_dir)
        if not choice or choice["tag"] is None:
            return replace(self, tag=None)
        return replace(self, tag=choice["tag"],
                       settings=(*self.settings, ("es.temperature", f"{float(choice['temperature']):g}")))

    def argv(self, cfg: Config, run_dir: Path, overrides: list[str]) -> list[str]:
        own = [item for dotted, value in self.settings for item in (f"--{dotted}", value)]
        return [sys.executable, "-m", self.package, self.command, *self.flags, "--experiment", cfg.experiment,
                "--preset", cfg.preset, "--run-dir", str(run_dir), *own, *overrides]

    def is_done(self, cfg: Config, run_dir: Path, overrides: list[str]) -> bool:
        """The stage's check, on the config the stage would resolve (the run's, its settings, the overrides)."""
        if not self.done:
            return False
        values = cfg.dotted()
        values.update(dict(self.settings))
        values.update({flag[2:]: value for flag, value in zip(overrides[::2], overrides[1::2])})
        try:
            stage_cfg = make_config(cfg.experiment, cfg.preset, values)
        except ConfigError:
            return False  # let the stage itself report it
        module, _, function = self.done.partition(":")
        check = getattr(importlib.import_module(module), function)
        return bool(check(stage_cfg, run_dir) if self.tag is None else check(stage_cfg, run_dir, self.tag))

    @property
    def flags(self) -> tuple[str, ...]:
        """The command's own flags: ``extra``, then ``--tag TAG``."""
        return (*self.extra, *(("--tag", self.tag) if self.tag else ()))

    @property
    def label(self) -> str:
        return " ".join([self.package, self.command, *self.flags])


def stages(cfg: Config) -> list[Stage]:
    """The run folder's own stages. Without iterative rounds: collect -> V train -> encode -> M train -> C train ->
    evaluate (real; Doom also dream; CarRacing also the V-only C and the fast env's score) -> report. With
    iterate.rounds (Doom): the first pass up to C and its validation scores; the rounds follow
    (:func:`reports.iterate.round_stages`) and the last one ends with the final score and the report."""
    out = [Stage("collect", "envs", "collect", done="envs.collect:is_complete"),
           Stage("vae_train", "vae", "train", done="vae.train:is_complete"),
           Stage("vae_encode", "vae", "encode", done="vae.encode:is_complete"),
           Stage("rnn_train", "rnn", "train", done="rnn.train:is_complete"),
           Stage("controller_train", "controller", "train", done="reports.reproduce:controller_done")]
    if cfg.iterate.rounds:
        return out + validation_stages()
    out += final_stages(cfg)
    return out


def validation_stages() -> list[Stage]:
    """A candidate agent's scores on the validation seeds, real and dream (which round did best, the dream-real
    gap per round), never on the test seeds."""
    split = (("evaluate.split", "validation"),)
    return [Stage("validate", "controller", "evaluate", settings=split, done="reports.reproduce:real_score_done"),
            Stage("validate_dream", "controller", "evaluate", ("--dream",), split,
                  done="reports.reproduce:dream_score_done")]


def final_stages(cfg: Config, validated: bool = False) -> list[Stage]:
    """The final agent's scores on the test seeds, then the report. Doom's τ table comes first: its Cs and the
    run's own C (scored on the validation seeds here unless ``validated``: a round did it) are the candidates, and
    the best of them on the validation seeds is the final agent (``controller choose``), scored on the test seeds."""
    evaluate = Stage("evaluate", "controller", "evaluate", done="reports.reproduce:real_score_done")
    if cfg.experiment == "doom":
        out = temperature_stages(cfg)
        if out:  # the final agent is the best candidate on the validation seeds (controller/choose.py)
            out += [*([] if validated else validation_stages()),
                    Stage("choose", "controller", "choose", done="controller.choose:is_current")]
            evaluate = replace(evaluate, tag=CHOSEN)
        # The dream score at the final agent's τ (es.temperature, which the evaluate command reads from the config).
        out += [evaluate, Stage("evaluate_dream", "controller", "evaluate", ("--dream",),
                                done="reports.reproduce:dream_score_done", tag=evaluate.tag)]
    else:
        out = [evaluate]
        # The paper's "V only" row (C on z alone; evaluate.v_only_generations of CMA-ES), and the full agent's
        # score in the fast env beside the gymnasium one.
        v_only = (("controller.inputs", "z"),)
        generations = cfg.evaluate.v_only_generations
        budget = (("es.generations", str(generations)),) if generations else ()
        out += [Stage(f"controller_train-{V_ONLY_TAG}", "controller", "train", (), v_only + budget,
                      done="reports.reproduce:controller_done", tag=V_ONLY_TAG),
                Stage(f"evaluate-{V_ONLY_TAG}", "controller", "evaluate", (), v_only,
                      done="reports.reproduce:real_score_done", tag=V_ONLY_TAG),
                Stage("evaluate_envpool", "controller", "evaluate", settings=(("evaluate.backend", "envpool"),),
                      done="reports.reproduce:real_score_done")]
    out.append(Stage("report", "reports", "make", done="reports.make:is_current"))
    return out


def temperature_stages(cfg: Config) -> list[Stage]:
    """The paper's τ table (Doom, evaluate.temperatures): per τ a C trained in the final M's dream at that τ
    (<run>/controller-tau{τ}), scored on the validation seeds in the real game and in the dream at its τ."""
    from common.config import temperatures

    out = []
    for tau in temperatures(cfg):
        tag, at = f"tau{tau:.2f}", (("es.temperature", f"{tau:g}"),)
        split = at + (("evaluate.split", "validation"),)
        out += [Stage(f"controller_train-{tag}", "controller", "train",
                      settings=at + (("es.generations", str(cfg.evaluate.temperature_generations)),),
                      done="reports.reproduce:controller_done", tag=tag),
                Stage(f"validate-{tag}", "controller", "evaluate", settings=split,
                      done="reports.reproduce:real_score_done", tag=tag),
                Stage(f"validate_dream-{tag}", "controller", "evaluate", ("--dream",), split,
                      done="reports.reproduce:dream_score_done", tag=tag)]
    return out


@dataclass(frozen=True)
class Block:
    """Stages that run in one run folder: the run itself, or round k of iterative training (<run>/round{k}),
    which ``prepare()`` builds from the round before it when it does not exist yet."""
    run_dir: Path
    stages: list[Stage]
    prepare: Callable[[], None] | None = None
    label: str = ""  # prefix of the stage names in the progress view ("round1/")


def plan(cfg: Config, run_dir: Path) -> list[Block]:
    """The run folder's stages, then one block per round of iterative training (iterate.rounds)."""
    from reports.iterate import round_blocks

    return [Block(run_dir, stages(cfg))] + round_blocks(cfg, run_dir)


V_ONLY_TAG = "z"  # <run>/controller-z: CarRacing's C on z alone
CHOSEN = "<chosen>"  # Stage.tag of the final agent's test scores: the C that <run>/choice.json names


def controller_done(cfg: Config, run_dir: Path, tag: str | None = None) -> bool:
    from controller.train import is_complete

    return is_complete(cfg, RunLayout(run_dir).controller(tag).dir)


def real_score_done(cfg: Config, run_dir: Path, tag: str | None = None) -> bool:
    from controller.evaluate import is_current

    return is_current(cfg, run_dir, dream=False, tag=tag)


def dream_score_done(cfg: Config, run_dir: Path, tag: str | None = None) -> bool:
    from controller.evaluate import is_current

    return is_current(cfg, run_dir, dream=True, tag=tag)


class StageFailed(RuntimeError):
    def __init__(self, stage: Stage, code: int, tail: list[str]):
        self.stage, self.code, self.tail = stage, code, tail
        super().__init__(f"stage {stage.name} (`python -m {stage.label}`) failed with exit code {code}")


def stage_env() -> dict[str, str]:
    return {"TF_CPP_MIN_LOG_LEVEL": "2", **os.environ, "PYTHONUNBUFFERED": "1"}  # TF's C++ info lines are noise here


class Launcher:
    """Starts stage processes: forked from a preloaded helper where :mod:`reports.preloaded` can (started at the
    first stage that runs, so a complete run starts nothing), else ``python -m`` subprocesses."""

    def __init__(self):
        self._helper = None
        self._use_helper = preloaded.available()

    def start(self, argv: list[str]):
        if self._use_helper:
            try:
                self._helper = self._helper or preloaded.Helper(stage_env())
                return self._helper.start(argv)
            except OSError as err:
                tqdm.write(f"[reproduce] stages run as fresh processes ({err})", file=sys.stdout)
                self.close()
                self._use_helper = False
        return subprocess.Popen(argv, cwd=_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=stage_env())

    def close(self) -> None:
        if self._helper is not None:
            self._helper.close()
            self._helper = None


def _run_stage(stage: Stage, argv: list[str], bar: tqdm, log, launcher: Launcher) -> None:
    """Run one stage, passing its lines through ``tqdm.write`` and its \\r-updates into the bar's postfix."""
    tail: list[str] = []
    proc = launcher.start(argv)
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
    if RunLayout(run_dir).iterate_info.exists():
        raise ConfigError(f"--run-dir {run_dir} is a round of iterative training; run reproduce on the run "
                          f"folder that holds it")
    from reports.iterate import check_overrides

    check_overrides(cfg, overrides)
    run_dir = for_stages(run_dir)
    return run_blocks(plan(cfg, run_dir), cfg, run_dir, overrides)


def for_stages(path: Path) -> Path:
    """``path`` as the stages, which run in the repository root, must see it to mean what the user meant."""
    return path if Path.cwd().resolve() == _ROOT else path.resolve()


def run_blocks(blocks: list[Block], cfg: Config, run_dir: Path, overrides: list[str]) -> int:
    """Run every block's stages in order under one progress bar, logging to <run>/reproduce.log; 0, or the failing
    stage's exit code after naming it. A block's stages see its folder's config (a round's own config.json)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    done: list[tuple[str, float]] = []
    names = [f"{b.label}{s.name}" for b in blocks for s in b.stages]
    print(f"[reproduce] {cfg.experiment}, preset {cfg.preset}, run dir {run_dir}: {' -> '.join(names)}",
          flush=True)
    log_file = RunLayout(run_dir).reproduce_log
    total, i = len(names), 0
    launcher = Launcher()
    with open(log_file, "a", encoding="utf-8") as log, closing(launcher), \
            tqdm(total=total, unit="stage", dynamic_ncols=True, file=sys.stderr, disable=None,
                 bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} stages [{elapsed}]{postfix}") as bar:
        for block in blocks:
            if block.prepare is not None and not RunLayout(block.run_dir).config.exists():
                block.prepare()
                tqdm.write(f"[reproduce] {block.run_dir}: prepared from the round before", file=sys.stdout)
            block_cfg = read_run_config(block.run_dir) if block.prepare is not None else cfg
            for stage in block.stages:
                stage = stage.resolved(block.run_dir)
                i += 1
                name = f"{block.label}{stage.name}"
                bar.set_description_str(f"[{i}/{total}] {name}")
                bar.set_postfix_str("")
                argv = stage.argv(block_cfg, block.run_dir, overrides)
                command = " ".join(["python", *argv[1:]])
                if stage.is_done(block_cfg, block.run_dir, overrides):
                    tqdm.write(f"[reproduce] stage {i}/{total} {name}: complete, skipped", file=sys.stdout)
                    done.append((name, 0.0))
                    bar.update(1)
                    continue
                tqdm.write(f"[reproduce] stage {i}/{total} {name}: {command}", file=sys.stdout)
                log.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} {command}\n")
                t0 = time.monotonic()
                try:
                    _run_stage(stage, argv, bar, log, launcher)
                except StageFailed as err:
                    bar.close()
                    print(f"\n[reproduce] FAILED at stage {i}/{total} {name}: `{command}` exited with "
                          f"code {err.code}. Its last lines:", file=sys.stderr)
                    for line in err.tail:
                        print(f"    {line}", file=sys.stderr)
                    print(f"[reproduce] full output in {log_file}; fix the cause and run the same "
                          f"reproduce command again to resume from this stage.", file=sys.stderr)
                    return err.code if 0 < err.code < 128 else 1
                done.append((name, time.monotonic() - t0))
                tqdm.write(f"[reproduce] stage {name} done in {done[-1][1]:.1f} s", file=sys.stdout)
                bar.update(1)
    elapsed = time.monotonic() - started
    print(f"[reproduce] all {total} stages done in {elapsed:.1f} s: "
          + ", ".join(f"{n} {s:.1f} s" for n, s in done), flush=True)
    print(f"[reproduce] report: {RunLayout(blocks[-1].run_dir).report_md}", flush=True)
    return 0
