"""reports: figures and tables from synthetic run folders (no trained models needed).

The run folders are written here in the CONTRACTS formats (history.csv, eval_history.csv, best.json,
evaluation_*.json, timings.json); the tests check that results.json carries exactly those numbers, that the
published numbers come with sources, that missing stages read "not run", and that bad input exits 2.
"""
from __future__ import annotations

import csv
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import v_latent_use
from common.cli import save_run_config
from common.config import make_config
from common.run_layout import RunLayout
from reports import published, tables
from reports.make import make_report, render_markdown

ROOT = Path(__file__).resolve().parents[1]
HISTORY_COLUMNS = ["generation", "wall_seconds", "fitness_mean", "fitness_min", "fitness_max", "fitness_std",
                   "cma_std_mean", "episode_length_mean", "candidate_mean_length_max", "sigma"]
EVAL_COLUMNS = ["generation", "wall_seconds", "improvement", "eval_score", "prev_best_score", "best_score"]


@pytest.fixture(autouse=True)
def fast_parameter_counts(request, monkeypatch):
    """Building paper-size V and M takes seconds: only the parameter-count test below does it."""
    if not request.node.name.startswith("test_parameter_counts_built"):
        monkeypatch.setattr(tables, "count_parameters", lambda cfg: {"V": 11, "M": 22, "C": 33})


def _write_csv(path: Path, columns: list[str], rows: list[list[float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(rows)


def write_controller(folder: Path, *, inputs: str, num_params: int, temperature: float | None, dream: bool,
                     generations: int = 6, seed: int = 0, real: bool = True, dream_eval: bool = False) -> dict:
    """A controller folder in the CONTRACTS formats, with random but known numbers; returns them."""
    rng = np.random.default_rng(seed)
    history = []
    for g in range(1, generations + 1):
        fit = np.sort(rng.normal(100 + 20 * g, 30, size=8))
        history.append([g, 10.5 * g, round(float(fit.mean()), 2), round(float(fit[0]), 2), round(float(fit[-1]), 2),
                        round(float(fit.std()), 2), 0.1 - 0.001 * g, 150.0 + g, 200 + g, 0.1])
    _write_csv(folder / "history.csv", HISTORY_COLUMNS, history)
    evals = [[g, 10.5 * g + 1, 3.25, 150.0 + 7.125 * g, 140.0, 150.0 + 7.125 * g] for g in range(2, generations + 1, 2)]
    _write_csv(folder / "eval_history.csv", EVAL_COLUMNS, evals)
    best = {"params": [0.01] * num_params, "score": evals[-1][3], "generation": evals[-1][0], "dream": dream,
            "temperature": temperature, "inputs": inputs}
    (folder / "best.json").write_text(json.dumps(best))
    out = {"history": history, "evals": evals, "best": best}
    if real:
        scores = [float(s) for s in rng.integers(100, 2100, size=12)]
        out["real"] = {"mode": "real", "temperature": None, "episodes": len(scores),
                       "seeds": list(range(10_000_000, 10_000_012)), "scores": scores,
                       "lengths": [int(s) for s in scores], "mean": float(np.mean(scores)),
                       "std": float(np.std(scores)), "generation": best["generation"], "params_file": "best.json"}
        (folder / "evaluation_real.json").write_text(json.dumps(out["real"]))
    if dream_eval:
        scores = [float(s) for s in rng.integers(50, 2100, size=9)]
        out["dream"] = {"mode": "dream", "temperature": temperature, "episodes": len(scores),
                        "seeds": list(range(9)), "scores": scores, "lengths": [int(s) for s in scores],
                        "mean": float(np.mean(scores)), "std": float(np.std(scores)),
                        "generation": best["generation"], "params_file": "best.json"}
        (folder / f"evaluation_dream_tau{temperature:.2f}.json").write_text(json.dumps(out["dream"]))
    return out


TIMINGS = {"collect": {"wall_s": 12.5, "cpu_s": 20.25, "parts": 1, "machine": "x86_64, 2 cores, CPython 3.12"},
           "vae_train": {"wall_s": 30.0, "cpu_s": 55.5, "parts": 2, "machine": "x86_64, 2 cores, CPython 3.12"},
           "controller_train": {"wall_s": 5000.0, "cpu_s": 9000.0, "parts": 1,
                                "machine": "x86_64, 2 cores, CPython 3.12"}}


@pytest.fixture
def doom_run(tmp_path):
    run = tmp_path / "doom-run"
    save_run_config(make_config("doom", "tiny"), run)
    main = write_controller(run / "controller", inputs="zch", num_params=1088, temperature=1.15, dream=True,
                            dream_eval=True)
    other = write_controller(run / "controller-tau1.00", inputs="zch", num_params=1088, temperature=1.0, dream=True,
                             seed=1, dream_eval=True)
    (run / "timings.json").write_text(json.dumps(TIMINGS))
    return run, main, other


@pytest.fixture
def car_run(tmp_path):
    run = tmp_path / "car-run"
    save_run_config(make_config("carracing", "tiny"), run)
    main = write_controller(run / "controller", inputs="zh", num_params=867, temperature=None, dream=False)
    zonly = write_controller(run / "controller-zonly", inputs="z", num_params=99, temperature=None, dream=False,
                             seed=2)
    write_controller(run / "controller-hidden", inputs="z_hidden", num_params=1443, temperature=None, dream=False,
                     seed=3, real=False)
    return run, main, zonly


def _load(run: Path) -> tuple[dict, str]:
    report = run / "report"
    return json.loads((report / "results.json").read_text()), (report / "REPORT.md").read_text()


def test_doom_report_numbers_come_from_the_run_files(doom_run):
    run, main, other = doom_run
    make_report(make_config("doom", "tiny"), run)
    results, text = _load(run)
    by_folder = {c["folder"]: c for c in results["controllers"]}
    assert list(by_folder) == ["controller", "controller-tau1.00"]
    c = by_folder["controller"]
    last = main["history"][-1]
    assert c["training"]["generations"] == last[0]
    assert c["training"]["last_generation"] == {"fitness_mean": last[2], "fitness_min": last[3],
                                                "fitness_max": last[4], "fitness_std": last[5]}
    assert c["training"]["best_fitness_max"] == max(r[4] for r in main["history"])
    top = max(main["evals"], key=lambda r: r[3])
    assert c["training"]["best_eval"] == {"generation": top[0], "eval_score": top[3]}
    assert c["real"]["mean"] == main["real"]["mean"] and c["real"]["std"] == main["real"]["std"]
    assert c["real"]["scores"] == main["real"]["scores"]
    assert c["dream"]["1.15"]["mean"] == main["dream"]["mean"]
    assert c["best"]["num_params"] == 1088 and c["best"]["temperature"] == 1.15
    # τ table: our 1.15 and 1.00 rows beside the paper's, the paper's other τ present with "not run" for ours.
    rows = {r["temperature"]: r for r in results["tables"]["doom"]}
    assert set(rows) == {0.10, 0.50, 1.00, 1.15, 1.30}
    assert rows[1.15]["ours"]["real"]["mean"] == main["real"]["mean"]
    assert rows[1.15]["ours"]["dream"]["mean"] == main["dream"]["mean"]
    assert rows[1.00]["ours"]["real"]["mean"] == other["real"]["mean"]
    assert rows[1.00]["ours"]["folder"] == "controller-tau1.00"
    assert rows[0.50]["ours"] is None
    assert rows[1.15]["published"]["real"] == {"mean": 1092, "std": 556, "source": published.PAPER_DOOM}
    # cost table: timings.json values, missing stages None, total the sum.
    cost = {r["stage"]: r for r in results["tables"]["cost"]}
    assert cost["vae_train"]["wall_s"] == 30.0 and cost["vae_train"]["cpu_s"] == 55.5
    assert cost["rnn_train"]["wall_s"] is None
    assert cost["total"]["wall_s"] == pytest.approx(5042.5)
    assert results["machine"]["stages"] == ["x86_64, 2 cores, CPython 3.12"]
    # the figures that need only files are drawn; the ones that need trained models read "not run".
    for name in ("training_curve", "training_curve_controller-tau1.00", "histogram_real", "histogram_dream"):
        assert results["figures"][name] == {"file": f"{name}.png"}
        assert (run / "report" / f"{name}.png").stat().st_size > 1000
        assert f"]({name}.png)" in text
    for name in ("vae_reconstruction", "rnn_dream_strip", "agent_frames"):
        assert results["figures"][name] == {"missing": "not run"}
    assert f"{main['real']['mean']:,.1f} ± {main['real']['std']:,.1f}" in text
    assert "1,092 ± 556" in text and published.PAPER_DOOM in text


def test_carracing_table_fills_ours_by_controller_inputs(car_run):
    run, main, zonly = car_run
    make_report(make_config("carracing", "tiny"), run)
    results, text = _load(run)
    rows = {r["inputs"]: r for r in results["tables"]["carracing"] if r["inputs"]}
    assert rows["zh"]["ours"]["mean"] == main["real"]["mean"] and rows["zh"]["folder"] == "controller"
    assert rows["z"]["ours"]["mean"] == zonly["real"]["mean"] and rows["z"]["folder"] == "controller-zonly"
    assert rows["z_hidden"]["folder"] == "controller-hidden" and rows["z_hidden"]["ours"] is None
    methods = [r["method"] for r in results["tables"]["carracing"]]
    assert methods[:4] == ["DQN", "A3C (continuous)", "A3C (discrete)", "Gym leaderboard"]
    for row in results["tables"]["carracing"]:
        assert row["published"]["source"] == published.PAPER_CAR
    params = {p["part"]: p for p in results["tables"]["parameters"]}
    assert params["C in controller-zonly/ (inputs z)"]["ours"] == 99
    assert params["C in controller-zonly/ (inputs z)"]["published"]["count"] == 99
    assert params["C in controller-hidden/ (inputs z_hidden)"]["published"]["count"] == 1443
    assert params["V"]["published"] == {"count": 4_348_547, "source": published.PAPER_V}
    # the authors' curve beside ours: the best row of their log
    assert results["reference_curve"]["best_eval"]["eval_score"] == 900.460571875
    assert results["reference_curve"]["best_eval"]["generation"] == 1800
    assert "906 ± 21" in text and "not run" in text


def test_a_restarted_search_is_named_in_the_report(car_run):
    run, _, _ = car_run
    restarted = {"es": {"restart_at": 4}}  # the controller folder's own config.json; its history runs to 6
    (run / "controller" / "config.json").write_text(json.dumps(restarted))
    (run / "controller-zonly" / "config.json").write_text(json.dumps({"es": {"restart_at": 6}}))  # never reached
    make_report(make_config("carracing", "tiny"), run)
    results, text = _load(run)
    training = {c["folder"]: c.get("training") or {} for c in results["controllers"]}
    assert training["controller"]["restart_at"] == 4
    assert "restart_at" not in training["controller-zonly"]
    assert text.count("a new CMA-ES started at the C kept so far") == 1 and "After generation 4 a new" in text


KINDS = ("finished", "left_playfield", "near", "far")


def test_carracing_diagnosis_is_computed_from_the_final_agents_files(car_run):
    run, main, _ = car_run
    cfg = make_config("carracing", "tiny")  # env.max_steps 120, es.num_rollouts 2, CMA-ES in envpool's game
    # As the game scores them (-0.1 per step, 1000 for all tiles): two finished laps (1000 - 0.1 x steps), one
    # left the playfield (its -100), and of the two that ran all 120 steps one visited 95% of the tiles, one 61%.
    test = {**main["real"], "scores": [990.0, 989.0, 490.0, 938.0, 600.0], "lengths": [100, 110, 100, 120, 120],
            "std": 50.0, "episodes": 5, "seeds": list(range(10_000_000, 10_000_005))}
    (run / "controller" / "evaluation_real.json").write_text(json.dumps(test))
    make_report(cfg, run)
    diag = _load(run)[0]["carracing_diagnosis"]
    assert diag["fitness_noise"]["game"] == "gymnasium" and diag["fitness_noise"]["episode_std"] == 50.0
    (run / "controller" / "evaluation_real_envpool.json").write_text(json.dumps({**test, "std": 40.0}))
    (run / "diagnosis").mkdir()
    (run / "diagnosis" / "frame_gap.txt").write_text("V's loss on both games\n")
    make_report(cfg, run)
    results, text = _load(run)
    diag = results["carracing_diagnosis"]
    noise = diag["fitness_noise"]
    assert noise["game"] == "envpool" and noise["episodes_per_candidate"] == 2
    assert math.isclose(noise["fitness_se"], 40 / math.sqrt(2)) and math.isclose(noise["fitness_se_authors"], 10.0)
    assert noise["population_fitness_std_last"] == [row[5] for row in main["history"][-4:]]
    assert diag["laps"] == {"episodes": 5, "max_steps": 120, "finished": 2, "finished_min": 989.0,
                            "finished_max": 990.0, "full_length": 2, "full_length_mean": 769.0}
    short = diag["shortfall"]  # the mean 801.4 is 98.6 below 900: -179/5, 410/5, -38/5 and 300/5
    assert short["threshold"] == 900.0 and math.isclose(short["below"], 98.6)
    assert {k: (short[k]["count"], short[k]["mean"], short[k]["min"]) for k in short if k in KINDS} == {
        "finished": (2, 989.5, 989.0), "left_playfield": (1, 490.0, 490.0), "near": (1, 938.0, 938.0),
        "far": (1, 600.0, 600.0)}
    shares = [short[k]["share"] for k in KINDS]
    assert [round(v, 6) for v in shares] == [-35.8, 82.0, -7.6, 60.0] and math.isclose(sum(shares), short["below"])
    assert diag["frame_gap"] == "diagnosis/frame_gap.txt"
    assert "standard error of about 28.3" in text and "scoring 989.0 to 990.0" in text and "average 769.0" in text
    assert "The mean is 98.6 below the 900 of solved" in text
    assert "1 left the playfield (mean 490.0, 82.0 of it)" in text
    make_report(make_config("carracing", "tiny", {"es.fitness": "min"}), run)  # a search ranked by the worse episode
    results, text = _load(run)
    assert results["carracing_diagnosis"]["fitness_noise"]["fitness"] == "min"
    assert "the mean of a candidate's 2 episodes has a standard error of about 28.3 (its fitness was the worse" in text


def test_a_doom_report_has_no_carracing_diagnosis(doom_run):
    make_report(make_config("doom", "tiny"), doom_run[0])
    results, text = _load(doom_run[0])
    assert "carracing_diagnosis" not in results and "Why the score" not in text


def _numbers(value) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize("fixture", ["doom_run", "car_run"])
def test_every_number_in_the_report_is_in_results_json(fixture, request):
    run = request.getfixturevalue(fixture)[0]
    cfg = make_config("doom" if fixture == "doom_run" else "carracing", "tiny")
    make_report(cfg, run)
    results, text = _load(run)
    # Text that results.json holds as strings (sources, folder names, paths) is not a number of ours.
    for s in sorted(set(_strings(results)), key=len, reverse=True):
        if len(s) > 3:
            text = text.replace(s, " ")
    text = re.sub(r"\]\([^)]*\)", " ", text)  # figure links
    text = re.sub(r"^#+ \d+\.", " ", text, flags=re.M)  # section numbers
    known = _numbers(results)
    for token in re.findall(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?", text):
        value = float(token.replace(",", ""))
        decimals = len(token.split(".")[1]) if "." in token else 0
        ok = any(math.isclose(round(k, decimals), value, abs_tol=10 ** -decimals / 2) for k in known) or \
            any(math.isclose(k / 3600, value, abs_tol=0.006) for k in known)  # hours beside seconds
        assert ok, f"{token!r} in REPORT.md is not a number of results.json"


def test_missing_stages_read_not_run(tmp_path):
    run = tmp_path / "empty"
    save_run_config(make_config("doom", "tiny"), run)
    make_report(make_config("doom", "tiny"), run)
    results, text = _load(run)
    assert results["controllers"] == []
    assert all("missing" in f for f in results["figures"].values())
    assert all(r["wall_s"] is None for r in results["tables"]["cost"])
    assert all(r["ours"] is None for r in results["tables"]["doom"])
    assert "C training: not run" in text and "Real-game evaluation: not run" in text
    assert "Dream evaluation: not run" in text
    assert not list((run / "report").glob("*.png"))


def test_unreadable_files_are_reported_not_raised(doom_run):
    run = doom_run[0]
    (run / "controller" / "evaluation_real.json").write_text("{not json")
    (run / "controller" / "history.csv").write_text("generation,fitness_mean\n1,abc\n")
    (run / "timings.json").write_text("[")
    make_report(make_config("doom", "tiny"), run)
    results, text = _load(run)
    c = results["controllers"][0]
    assert "error" in c["real"] and "error" in c["history"]
    assert "unavailable" in text and "cost_error" in results["tables"]
    assert "missing" in results["figures"]["training_curve"]


@pytest.mark.parametrize("experiment", ["carracing", "doom"])
def test_parameter_counts_built_from_the_models_equal_the_papers(experiment):
    pytest.importorskip("vae.model")
    pytest.importorskip("rnn.model")
    pytest.importorskip("controller.model")
    ours = tables.count_parameters(make_config(experiment, "tiny"))
    for part, (count, _) in published.PARAMETERS[experiment].items():
        assert ours[part] == count, (part, ours[part])


def test_published_numbers_carry_sources():
    for experiment in ("carracing", "doom"):
        pub = published.published_dict(experiment)

        def walk(value):
            if isinstance(value, dict):
                if any(k in value for k in ("mean", "count")):
                    assert value.get("source"), value
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)
        walk(pub)
    assert published.DOOM_TEMPERATURES[1.15][1].mean == 1092
    assert published.PARAMETERS["doom"]["C"][0] == 1088


def test_reference_curves_are_copies_of_the_shared_ones():
    shared = ROOT.parent / "shared" / "reference"
    copies = [*published.reference_curve_files("carracing"), *published.reference_curve_files("doom"),
              v_latent_use.AUTHORS]
    for path in copies:
        assert path.exists(), path
        if shared.is_dir():
            assert path.read_bytes() == (shared / path.name).read_bytes()
    rows = tables.read_csv(published.reference_curve_files("doom")[1])
    assert max(r["eval_score"] for r in rows) == 958.505859375


def test_render_markdown_is_deterministic_given_results(doom_run):
    run = doom_run[0]
    make_report(make_config("doom", "tiny"), run)
    results, text = _load(run)
    assert render_markdown(results) == text


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "reports", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args", [
    ["make", "--experiment", "pong", "--run-dir", "RUN"],
    ["make", "--experiment", "carracing", "--run-dir", "RUN"],  # RUN holds a doom run
    ["make", "--experiment", "doom", "--run-dir", "MISSING"],
    ["reproduce", "--experiment", "doom", "--preset", "huge", "--run-dir", "MISSING"],
    ["reproduce", "--experiment", "carracing", "--run-dir", "RUN"],
])
def test_bad_input_exits_2_and_writes_nothing(args, tmp_path):
    run = tmp_path / "doom-run"
    save_run_config(make_config("doom", "tiny"), run)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = _cli(*[a.replace("RUN", str(run)).replace("MISSING", str(tmp_path / "missing")) for a in args])
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().startswith("error:") and len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_make_command_writes_the_report(doom_run):
    run = doom_run[0]
    result = _cli("make", "--experiment", "doom", "--run-dir", str(run))
    assert result.returncode == 0, result.stderr
    assert (run / "report" / "REPORT.md").exists() and (run / "report" / "results.json").exists()


FAKE_STAGE = '''
import sys, pathlib
command, run_dir = sys.argv[1], pathlib.Path(sys.argv[sys.argv.index("--run-dir") + 1])
with open(run_dir / "calls.txt", "a") as fh:
    fh.write(command + "\\n")
print(f"stage {command} line one")
sys.stdout.write("progress 50%\\rprogress 100%\\r\\n")
print(f"stage {command} last line")
sys.exit(3 if command == "boom" else 0)
'''


def test_reproduce_runs_stages_in_order_and_names_the_failing_one(tmp_path, monkeypatch, capsys):
    from reports import reproduce as rep

    (tmp_path / "fakestage").mkdir()
    (tmp_path / "fakestage" / "__main__.py").write_text(FAKE_STAGE)
    (tmp_path / "fakestage" / "__init__.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    run = tmp_path / "run"
    plan = [rep.Stage("collect", "fakestage", "one"), rep.Stage("vae_train", "fakestage", "boom"),
            rep.Stage("vae_encode", "fakestage", "never")]
    monkeypatch.setattr(rep, "stages", lambda cfg: plan)
    single = make_config("doom", "tiny", {"iterate.rounds": 0})  # one pass: the plan is the three stages
    code = rep.reproduce(single, run, ["--es.generations", "3"])
    out, err = capsys.readouterr()
    assert code == 3
    assert (run / "calls.txt").read_text().split() == ["one", "boom"]
    assert "stage one line one" in out and "stage boom last line" in out
    assert "FAILED at stage 2/3 vae_train" in err and "exited with code 3" in err
    assert "stage boom last line" in RunLayout(run).reproduce_log.read_text()
    # Fixed, the same command goes through every stage (the stage commands themselves skip complete work).
    plan[1] = rep.Stage("vae_train", "fakestage", "two")
    assert rep.reproduce(single, run, []) == 0
    assert (run / "calls.txt").read_text().split() == ["one", "boom", "one", "two", "never"]
    assert "all 3 stages done" in capsys.readouterr().out


def test_reproduce_plan_matches_the_pipeline(tmp_path):
    from reports import reproduce as rep
    from reports.reproduce import plan, stages

    doom = [s.label for s in stages(make_config("doom", "tiny", {"iterate.rounds": 0, "evaluate.temperatures": ""}))]
    assert doom == ["envs collect", "vae train", "vae encode", "rnn train", "controller train",
                    "controller evaluate", "controller evaluate --dream", "reports make"]
    # Two rounds of iterative training: the first pass and round 1 end at their validation scores, round 2 (in
    # <run>/round2) with the final test scores and the report.
    blocks = plan(make_config("doom", "small", {"iterate.rounds": 2}), tmp_path)
    assert [b.run_dir for b in blocks] == [tmp_path, tmp_path / "round1", tmp_path / "round2"]
    names = [[s.name for s in b.stages] for b in blocks]
    assert names[0] == ["collect", "vae_train", "vae_encode", "rnn_train", "controller_train", "validate",
                        "validate_dream"]
    assert names[1] == ["collect", "vae_encode", "rnn_train", "controller_train", "validate", "validate_dream"]
    # ... and the paper's τ table: a C per other τ, in the final M's dream, scored on the validation seeds only,
    # all of them before the first test seed is played; the best candidate there is the one the test scores.
    taus = [f"{kind}-tau{t}" for t in ("0.10", "0.50", "1.00", "1.30")
            for kind in ("controller_train", "validate", "validate_dream")]
    assert names[2] == names[1] + taus + ["choose", "evaluate", "evaluate_dream", "report"]
    assert [s.tag for s in blocks[2].stages if s.name.startswith("evaluate")] == [rep.CHOSEN, rep.CHOSEN]
    # Without rounds, the run's own C is scored on the validation seeds with the τ table, before the choice.
    single = [s.name for s in stages(make_config("doom", "tiny", {"iterate.rounds": 0}))]
    assert single[5:] == ["controller_train-tau1.30", "validate-tau1.30", "validate_dream-tau1.30", "validate",
                          "validate_dream", "choose", "evaluate", "evaluate_dream", "report"]
    assert all(dict(s.settings).get("evaluate.split") == "validation" for b in blocks for s in b.stages
               if s.name.startswith("validate"))
    tau = next(s for s in blocks[2].stages if s.name == "controller_train-tau0.50")
    assert tau.label == "controller train --tag tau0.50" and dict(tau.settings) == {"es.temperature": "0.5",
                                                                                  "es.generations": "10"}
    car = [s.name for s in stages(make_config("carracing", "tiny"))]
    assert car == ["collect", "vae_train", "vae_encode", "rnn_train", "controller_train", "evaluate",
                   "controller_train-z", "evaluate-z", "evaluate_envpool", "report"]  # + the V-only C, envpool score
    assert set(car) - {"report"} <= set(tables.STAGES) | set(tables.STAGE_COMMANDS)
    # The V-only C's CMA-ES budget: its own generations where the preset sets them (small), es.generations else.
    v_only = {p: next(s for s in stages(make_config("carracing", p)) if s.name == "controller_train-z")
              for p in ("tiny", "small")}
    assert dict(v_only["tiny"].settings) == {"controller.inputs": "z"}
    assert dict(v_only["small"].settings) == {"controller.inputs": "z", "es.generations": "16"}


SLOW_STAGE = '''
import pathlib, signal, sys, time
run_dir = pathlib.Path(sys.argv[sys.argv.index("--run-dir") + 1])

def stop(signum, frame):  # a stage's clean stop: it takes a moment, then records that it stopped
    time.sleep(1.0)
    (run_dir / "stopped.txt").write_text("recorded")
    sys.exit(128 + signum)

signal.signal(signal.SIGTERM, stop)
print("started", flush=True)
time.sleep(60)
'''


def test_interrupted_reproduce_lets_the_stage_stop_cleanly(tmp_path, monkeypatch):
    """SIGTERM to reproduce reaches the running stage as SIGTERM, and reproduce waits for it to finish stopping
    (e.g. recording the resumable part of its timing) instead of killing it at once."""
    import signal
    import threading
    import time

    from reports import reproduce as rep

    (tmp_path / "slowstage").mkdir()
    (tmp_path / "slowstage" / "__main__.py").write_text(SLOW_STAGE)
    (tmp_path / "slowstage" / "__init__.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    run = tmp_path / "run"
    monkeypatch.setattr(rep, "stages", lambda cfg: [rep.Stage("collect", "slowstage", "slow")])

    def interrupt():  # once the stage runs, SIGTERM this process, as `kill PID` would
        log = RunLayout(run).reproduce_log
        for _ in range(600):
            if log.exists() and "started" in log.read_text():
                break
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)

    def exit_on_sigterm(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_on_sigterm)  # what common.cli.main installs
    try:
        threading.Thread(target=interrupt, daemon=True).start()
        with pytest.raises(SystemExit):
            rep.reproduce(make_config("doom", "tiny", {"iterate.rounds": 0}), run, [])
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert (run / "stopped.txt").read_text() == "recorded"
