"""Read a run's files and build the report's tables: our numbers beside the published ones.

Every function here takes what is on disk (``history.csv``, ``best.json``, ``evaluation_*.json``,
``timings.json``) and returns plain dicts that go into ``results.json`` unchanged; the Markdown in REPORT.md is
rendered from those dicts only (:func:`markdown_table`), so each number in the report is one in results.json.
A missing file gives ``None`` (rendered "not run"); an unreadable one gives ``{"error": ...}``.
"""
from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path
from typing import Any, Sequence

from common.config import EvalConfig
from common.run_layout import ControllerLayout
from reports import published

STAGES = ("collect", "vae_train", "vae_encode", "rnn_train", "controller_train", "validate", "validate_dream",
          "evaluate", "evaluate_dream")
STAGE_COMMANDS = {
    "collect": "python -m envs collect", "vae_train": "python -m vae train", "vae_encode": "python -m vae encode",
    "rnn_train": "python -m rnn train", "controller_train": "python -m controller train",
    "evaluate": "python -m controller evaluate", "evaluate_dream": "python -m controller evaluate --dream",
    "validate": "python -m controller evaluate --evaluate.split validation",
    "validate_dream": "python -m controller evaluate --dream --evaluate.split validation",
    "controller_train-z": "python -m controller train --tag z --controller.inputs z",
    "evaluate-z": "python -m controller evaluate --tag z --controller.inputs z",
    "evaluate_envpool": "python -m controller evaluate --evaluate.backend envpool",
    "choose": "python -m controller choose",
}
NOT_RUN = "not run"
_DREAM_FILE = re.compile(r"^evaluation_dream_tau(\d+(?:\.\d+)?)(_validation)?\.json$")


class UnreadableFile(ValueError):
    """A run file that exists but cannot be parsed."""


# ----------------------------------------------------------------------------------------------- readers

def read_csv(path: Path) -> list[dict[str, float]] | None:
    """Rows of a numeric CSV with a header row (None if the file is missing)."""
    if not path.exists():
        return None
    try:
        with open(path, newline="") as fh:
            rows = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]
    except (ValueError, TypeError, csv.Error) as err:
        raise UnreadableFile(f"{path.name}: {err}") from None
    for row in rows:  # generations are counts: keep them ints in results.json
        if "generation" in row:
            row["generation"] = int(row["generation"])
    return rows


def read_json(path: Path) -> Any:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UnreadableFile(f"{path.name}: {err}") from None


def guarded(read, *args) -> Any:
    """``read(*args)``, with an unreadable file turned into ``{"error": message}``."""
    try:
        return read(*args)
    except UnreadableFile as err:
        return {"error": f"unreadable {err}"}


def temperature_key(value: float) -> str:
    """τ as the evaluation files name it (two decimals)."""
    return f"{value:.2f}"


def score_summary(evaluation: dict | None) -> dict | None:
    """The numbers of one ``evaluation_*.json``: mean and std as written, episodes, per-episode scores and
    lengths."""
    if evaluation is None or "error" in evaluation:
        return evaluation
    scores = [float(s) for s in evaluation.get("scores", [])]
    return {"mean": float(evaluation["mean"]), "std": float(evaluation["std"]),
            "episodes": int(evaluation.get("episodes", len(scores))), "scores": scores,
            "lengths": [int(n) for n in evaluation.get("lengths") or []],
            "min": min(scores) if scores else None, "max": max(scores) if scores else None,
            "temperature": evaluation.get("temperature"), "generation": evaluation.get("generation"),
            "seeds": evaluation.get("seeds", []), "mode": evaluation.get("mode")}


def controller_summary(folder: Path) -> dict:
    """Everything one controller folder holds, as numbers (None where a file is missing); the real score is the
    one on the run's own test seeds (evaluation_real.json, see :func:`controller.evaluate.evaluation_file`)."""
    files = ControllerLayout(folder)
    history = guarded(read_csv, files.history)
    evals = guarded(read_csv, files.eval_history)
    best = guarded(read_json, files.best)
    dream, dream_validation = {}, {}
    for path in sorted(folder.glob("evaluation_dream_tau*.json")):
        match = _DREAM_FILE.match(path.name)
        if match:
            found = dream_validation if match.group(2) else dream
            found[temperature_key(float(match.group(1)))] = score_summary(guarded(read_json, path))
    out: dict[str, Any] = {"folder": folder.name, "history": history, "eval_history": evals,
                           "real": score_summary(guarded(read_json, files.evaluation(False, None, EvalConfig.seed,
                                                                                     EvalConfig.seed))),
                           "dream": dream or None}
    validation = files.evaluation(False, None, EvalConfig.seed, EvalConfig.seed, split="validation")
    if validation.exists():  # scored on the validation seeds (a round's C, the τ table)
        out["real_validation"] = score_summary(guarded(read_json, validation))
    if dream_validation:
        out["dream_validation"] = dream_validation
    fast = files.evaluation(False, None, EvalConfig.seed, EvalConfig.seed, "envpool")
    if fast.exists():  # CarRacing: the same controller scored in envpool's game (what it trained in)
        out["real_envpool"] = score_summary(guarded(read_json, fast))
    if isinstance(best, dict) and "error" not in best:
        out["best"] = {"score": best.get("score"), "generation": best.get("generation"),
                       "dream": best.get("dream"), "temperature": best.get("temperature"),
                       "inputs": best.get("inputs"), "num_params": len(best.get("params", []))}
    else:
        out["best"] = best
    if isinstance(history, list) and history:
        last = history[-1]
        out["training"] = {
            "generations": last["generation"], "wall_seconds": last.get("wall_seconds"),
            "last_generation": {k: last.get(k) for k in ("fitness_mean", "fitness_min", "fitness_max",
                                                         "fitness_std")},
            "best_fitness_max": max(r["fitness_max"] for r in history),
            "best_fitness_mean": max(r["fitness_mean"] for r in history),
        }
        if isinstance(evals, list) and evals:
            top = max(evals, key=lambda r: r["eval_score"])
            out["training"]["best_eval"] = {"generation": top["generation"], "eval_score": top["eval_score"]}
        restart_at = _restart_at(guarded(read_json, files.config))
        if restart_at and last["generation"] > restart_at:
            out["training"]["restart_at"] = restart_at
    return out


def _restart_at(config) -> int:
    """The generation after which the folder's CMA-ES restarted (es.restart_at of its config.json; 0: none)."""
    es = config.get("es") if isinstance(config, dict) else None
    return int(es.get("restart_at", 0)) if isinstance(es, dict) else 0


def reference_curve(experiment: str) -> dict:
    """The authors' published training log: rows plus the summary numbers the report quotes."""
    hist_path, best_path = published.reference_curve_files(experiment)
    history, evals = read_csv(hist_path), read_csv(best_path)
    if history is None or evals is None:
        return {"error": f"{hist_path.parent} lacks {hist_path.name} or {best_path.name}"}
    top = max(evals, key=lambda r: r["eval_score"])
    return {"history": history, "eval_history": evals, "source": published.reference_curve_source(experiment),
            "generations": history[-1]["generation"], "wall_seconds": history[-1]["wall_seconds"],
            "best_eval": {"generation": top["generation"], "eval_score": top["eval_score"]}}


def final_folder(results: dict) -> str:
    """The final agent's controller folder: the one ``choice.json`` names (Doom's τ table), else ``controller``."""
    return (results.get("final") or {}).get("folder") or "controller"


def final_summary(controllers: Sequence[dict], results: dict) -> dict | None:
    """The final agent's controller summary among ``controllers`` (None when it is not there)."""
    return next((c for c in controllers if c["folder"] == final_folder(results)), None)


# ----------------------------------------------------------------------------------------------- tables

def carracing_table(controllers: Sequence[dict]) -> list[dict]:
    """The paper's CarRacing table; ours filled from the controller folder trained with that row's inputs."""
    by_inputs: dict[str, dict] = {}
    for summary in controllers:  # controller/ comes first and wins
        inputs = (summary.get("best") or {}).get("inputs")
        if inputs and inputs not in by_inputs:
            by_inputs[inputs] = summary
    rows = []
    for method, inputs, score in published.CARRACING_TABLE:
        row = {"method": method, "inputs": inputs, "published": score.to_dict(), "ours": None, "folder": None}
        if inputs is not None and inputs in by_inputs:
            row["folder"] = by_inputs[inputs]["folder"]
            for key, source in (("ours", "real"), ("ours_envpool", "real_envpool")):
                real = by_inputs[inputs].get(source)
                row[key] = None if real is None else {k: real.get(k) for k in ("mean", "std", "episodes", "error")
                                                      if k in real}
        rows.append(row)
    return rows


def doom_table(controllers: Sequence[dict]) -> list[dict]:
    """τ | dream score | real score: each τ the paper ran, and each τ a controller folder of ours was trained at."""
    ours: dict[str, dict] = {}
    for summary in controllers:
        best = summary.get("best") or {}
        if best.get("temperature") is None or "error" in best:
            continue
        key = temperature_key(float(best["temperature"]))
        if key in ours:  # controller/ first; a second folder at the same τ is listed in its own row below
            key = f"{key} ({summary['folder']})"
        tau = temperature_key(float(best["temperature"]))
        ours[key] = {"folder": summary["folder"], "temperature": float(best["temperature"]),
                     "dream": short_score((summary.get("dream") or {}).get(tau), se=True),
                     "real": short_score(summary.get("real"), se=True),
                     "dream_validation": short_score((summary.get("dream_validation") or {}).get(tau), se=True),
                     "real_validation": short_score(summary.get("real_validation"), se=True)}
    rows = []
    for tau, (dream, real) in published.DOOM_TEMPERATURES.items():
        key = temperature_key(tau)
        row = {"temperature": tau, "published": {"dream": dream.to_dict(), "real": real.to_dict()},
               "ours": ours.pop(key, None)}
        rows.append(row)
    for key, entry in ours.items():
        rows.append({"temperature": entry["temperature"], "published": None, "ours": entry})
    return sorted(rows, key=lambda r: (r["temperature"], r["ours"] is None or r["ours"]["folder"]))


def short_score(summary: dict | None, se: bool = False) -> dict | None:
    """Mean, std, episodes (or the error) of a score summary; ``se``: also the standard error of the mean,
    std / sqrt(episodes) (the τ table)."""
    if summary is None:
        return None
    out = {k: summary[k] for k in ("mean", "std", "episodes", "error") if k in summary}
    if se and "error" not in out and out.get("episodes"):
        out["se"] = out["std"] / math.sqrt(out["episodes"])
    return out


def count_parameters(cfg) -> dict:
    """Our V, M and C parameter counts, by building the models at the run's sizes (errors reported, not raised)."""
    out: dict[str, Any] = {}
    try:
        import numpy as np
        from vae.model import ConvVAE

        vae = ConvVAE(cfg.vae.z_size)
        if not vae.built:
            vae.encode(np.zeros((1, 64, 64, 3), np.float32))
        out["V"] = int(vae.encoder.count_params() + vae.decoder.count_params())
    except Exception as err:  # noqa: BLE001  (the report shows why a count is missing)
        out["V"] = {"error": f"{type(err).__name__}: {err}"}
    try:
        import numpy as np
        from rnn.model import build_mdnrnn

        rnn = build_mdnrnn(cfg)
        batch = 1
        h = np.zeros((batch, cfg.rnn.hidden_size), np.float32)
        rnn.step(np.zeros((batch, cfg.vae.z_size), np.float32), np.zeros((batch, cfg.env.action_size), np.float32),
                 np.zeros((batch,), np.float32), h, h)
        out["M"] = int(rnn.count_params())
    except Exception as err:  # noqa: BLE001
        out["M"] = {"error": f"{type(err).__name__}: {err}"}
    try:
        from controller.shape import controller_shape

        out["C"] = int(controller_shape(cfg).num_params)
    except Exception as err:  # noqa: BLE001
        out["C"] = {"error": f"{type(err).__name__}: {err}"}
    return out


def parameter_table(experiment: str, ours: dict, controllers: Sequence[dict]) -> list[dict]:
    """V, M, C: ours (built) beside the paper's; plus each trained controller variant (params in best.json)."""
    rows = []
    for part, (count, source) in published.PARAMETERS[experiment].items():
        rows.append({"part": part, "ours": ours.get(part), "published": {"count": count, "source": source}})
    for summary in controllers:
        best = summary.get("best") or {}
        if "num_params" not in best:
            continue
        inputs = best.get("inputs")
        ref = published.CONTROLLER_VARIANT_PARAMETERS.get(inputs) if experiment == "carracing" else None
        if ref is None and inputs == {"carracing": "zh", "doom": "zch"}[experiment]:
            ref = published.PARAMETERS[experiment]["C"]
        rows.append({"part": f"C in {summary['folder']}/ (inputs {inputs})", "ours": best["num_params"],
                     "published": None if ref is None else {"count": ref[0], "source": ref[1]}})
    return rows


def cost_table(timings: dict | None) -> list[dict]:
    """Wall and CPU seconds per stage from ``timings.json`` (stages in pipeline order, then any others)."""
    timings = timings or {}
    # The validation stages exist only in runs with rounds of iterative training: no "not run" row elsewhere.
    names = [n for n in STAGES if n in timings or not n.startswith("validate")]
    names += sorted(k for k in timings if k not in STAGES)
    rows = []
    for name in names:
        entry = timings.get(name)
        rows.append({"stage": name, "command": STAGE_COMMANDS.get(name, ""),
                     "wall_s": None if entry is None else entry.get("wall_s"),
                     "cpu_s": None if entry is None else entry.get("cpu_s"),
                     "parts": None if entry is None else entry.get("parts"),
                     "machine": None if entry is None else entry.get("machine")})
    return rows + [_total_row(rows)]


def _total_row(rows: list[dict]) -> dict:
    """The "total" row of a cost table: the sums over the stages that ran."""
    done = [r for r in rows if r["wall_s"] is not None]
    return {"stage": "total", "command": "", "wall_s": sum(r["wall_s"] for r in done) if done else None,
            "cpu_s": sum(r["cpu_s"] or 0.0 for r in done) if done else None, "parts": None, "machine": None}


def cost_table_rounds(parts: list[tuple[str, dict]]) -> list[dict]:
    """The cost table of every pass of iterative training, one after another: ``parts`` are (stage-name prefix,
    timings) per round ("" for the first pass, "round1/", ...); one total row at the end."""
    rows = []
    for prefix, timings in parts:
        rows += [dict(r, stage=prefix + r["stage"]) for r in cost_table(timings)[:-1] if r["wall_s"] is not None]
    return rows + [_total_row(rows)]


# ----------------------------------------------------------------------------------------------- Markdown

def fmt_number(value: Any, digits: int = 1) -> str:
    if value is None:
        return NOT_RUN
    if isinstance(value, dict):
        return f"unavailable ({value['error']})" if "error" in value else NOT_RUN
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:,.{digits}f}"


def fmt_score(score: dict | None, digits: int = 1) -> str:
    """``mean ± std (n episodes)``, or "not run" / the error."""
    if score is None:
        return NOT_RUN
    if "error" in score:
        return f"unavailable ({score['error']})"
    text = fmt_number(score["mean"], digits)
    if score.get("std") is not None:
        text += f" ± {fmt_number(score['std'], digits)}"
    if score.get("episodes") is not None:
        se = f"SE {fmt_number(score['se'], digits)}, " if score.get("se") is not None else ""
        text += f" ({se}{score['episodes']} ep.)"
    return text


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return NOT_RUN
    return f"{seconds:,.1f} s" if seconds < 3600 else f"{seconds:,.1f} s ({seconds / 3600:.2f} h)"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def clean(cell: str) -> str:
        return str(cell).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(clean(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
