"""REPORT.md of a run, written from the results dict alone (so every number in it is in results.json)."""
from __future__ import annotations

from controller.video import REPORT_VIDEO_FRAMES
from reports import published
from reports.draw import curve_name
from reports.tables import NOT_RUN, final_summary, fmt_duration, fmt_number, fmt_score, markdown_table


def _figure_md(results: dict, name: str, caption: str) -> str:
    entry = results["figures"].get(name, {"missing": NOT_RUN})
    if "file" in entry:
        return f"![{caption}]({entry['file']})\n\n*{caption}*"
    return f"*{caption}: {entry['missing']}.*"


def _training_md(results: dict) -> list[str]:
    out = ["## 1. Training of C with CMA-ES", ""]
    ref = results["reference_curve"]
    setup = results["published"]["authors_es_setup"]
    dream = results["settings"]["es.dream"]
    where = "in the dream" if dream else "in the real game"
    if not results["controllers"]:
        out += [f"C training: {NOT_RUN} (`python -m controller train`).", ""]
    for summary in results["controllers"]:
        name = curve_name(summary["folder"])
        out += [f"### `{summary['folder']}/`", ""]
        training = summary.get("training")
        if training is None:
            error = (summary.get("history") or {}).get("error")
            out += [f"Training: history.csv unavailable ({error})." if error else f"Training: {NOT_RUN}.", ""]
        else:
            last = training["last_generation"]
            line = (f"{training['generations']} generations in {fmt_duration(training['wall_seconds'])}; "
                    f"last generation fitness mean {fmt_number(last['fitness_mean'], 2)}, "
                    f"worst {fmt_number(last['fitness_min'], 2)}, best {fmt_number(last['fitness_max'], 2)}; "
                    f"highest best-candidate fitness {fmt_number(training['best_fitness_max'], 2)}.")
            if "best_eval" in training:
                line += (f" Best eval score of the CMA mean ({where}): "
                         f"{fmt_number(training['best_eval']['eval_score'], 2)} at generation "
                         f"{training['best_eval']['generation']}.")
            if training.get("restart_at"):
                line += (f" After generation {training['restart_at']} a new CMA-ES started at the C kept so far, "
                         f"with the step size reached (es.restart_at).")
            out += [line, ""]
        best = summary.get("best")
        if isinstance(best, dict) and "error" not in best:
            tau = "" if best.get("temperature") is None else f", τ {fmt_number(best['temperature'], 2)}"
            out += [f"Kept agent (`best.json`): score {fmt_number(best['score'], 2)} at generation "
                    f"{best['generation']}, inputs `{best['inputs']}`, {fmt_number(best['num_params'])} "
                    f"parameters{tau}.", ""]
        out += [_figure_md(results, name, f"CMA-ES training curve of {summary['folder']}/ (left) and the "
                                          f"authors' published curve (right)"), ""]
    if "error" in ref:
        out += [f"Authors' curve: unavailable ({ref['error']}).", ""]
    else:
        out += [f"Authors' published run: {ref['generations']} generations in "
                f"{fmt_duration(ref['wall_seconds'])} on {setup['cores']} cores "
                f"(population {setup['population_size']}, "
                f"{setup['num_rollouts']} episodes per candidate); best eval score "
                f"{fmt_number(ref['best_eval']['eval_score'], 2)} at generation {ref['best_eval']['generation']} "
                f"(source: {ref['source']}).", ""]
    return out


def _scores_md(results: dict) -> list[str]:
    pub = results["published"]
    threshold = pub["solved_threshold"]
    out = ["## 2. The final agent's score", ""]
    main = final_summary(results["controllers"], results)
    choice = (results.get("final") or {}).get("choice")
    if isinstance(choice, dict) and "candidates" in choice:
        scores = "; ".join(f"`{c['folder']}/` (τ {fmt_number(c['temperature'], 2)}) {fmt_number(c['mean'])}"
                           for c in choice["candidates"])
        out += [f"The final agent is `{choice['folder']}/`, the best of the run's Cs on the validation seeds "
                f"(mean real-game score over {choice['candidates'][0]['episodes']} episodes: {scores}; "
                f"`python -m controller choose`, `choice.json`). Only it is scored on the test seeds.", ""]
    real = main["real"] if main else None
    if real is None or "error" in real:
        out += [f"Real-game evaluation: {NOT_RUN if real is None else real['error']} "
                f"(`python -m controller evaluate`).", ""]
    else:
        solved = "solved" if real["mean"] > threshold["mean"] else "not solved"
        if real["episodes"] < threshold["episodes"]:
            solved = f"too few episodes to call it solved or not ({real['episodes']} of {threshold['episodes']})"
        out += [f"Real game: **{fmt_score(real)}**, min {fmt_number(real['min'])}, max {fmt_number(real['max'])}; "
                f"{solved} (threshold {fmt_number(threshold['mean'])} over {threshold['episodes']} episodes; "
                f"{threshold['source']}).",
                ""]
    out += [_figure_md(results, "histogram_real", "Histogram of the final agent's real-game scores"), ""]
    if results["experiment"] == "doom":
        dream = None
        if main and main["dream"]:
            dream = next(iter(main["dream"].values()))
            for value in main["dream"].values():
                if value and "error" not in value:
                    out += [f"Dream (τ {fmt_number(value['temperature'], 2)}): **{fmt_score(value)}**.", ""]
        if dream is None:
            out += [f"Dream evaluation: {NOT_RUN} (`python -m controller evaluate --dream`).", ""]
        out += [_figure_md(results, "histogram_dream", "Histogram of the final agent's dream scores"), ""]
    return out


def _shortfall_md(short: dict, max_steps: int) -> str:
    """One bullet: how far the mean is below solved, and which kind of episode costs how much of it."""
    def kind(name: str, what: str) -> str:
        k = short[name]
        return (f"{k['count']} {what} (mean {fmt_number(k['mean'])}, {fmt_number(k['share'])} of it)" if k["count"]
                else f"none {what}")

    pct = f"{short['near_visited_percent']}%"
    return (f"- **Where the points go.** The mean is {fmt_number(short['below'])} below the "
            f"{fmt_number(short['threshold'], 0)} of solved. Of the episodes that ran all {max_steps} steps, "
            + kind("near", f"had visited at least {pct} of the track's tiles") + "; "
            + kind("far", f"less than {pct}") + "; "
            + kind("finished", "finished the lap") + "; "
            + kind("left_playfield", "left the playfield")
            + " (`reports.results.carracing_shortfall`; `bench/track_pace.py` measures why).")


def _carracing_diagnosis_md(results: dict) -> list[str]:
    diag = results.get("carracing_diagnosis")
    if not diag:
        return []
    noise, laps = diag["fitness_noise"], diag["laps"]
    spread = ", ".join(fmt_number(v) for v in noise["population_fitness_std_last"]) or NOT_RUN
    out = ["### Why the score is what it is", "",
           f"- **Fitness noise.** The final C's scores spread with std {fmt_number(noise['episode_std'])} over "
           f"{noise['game']} tracks, so "
           + (f"the mean of a candidate's {noise['episodes_per_candidate']} episodes has a standard error of about "
              f"{fmt_number(noise['fitness_se'])} (its fitness was the worse of them, `es.fitness min`)"
              if noise.get("fitness") == "min" else
              f"a candidate's fitness, the mean of {noise['episodes_per_candidate']} episodes, has a standard "
              f"error of about {fmt_number(noise['fitness_se'])}")
           + f"; the population's fitness std in the last generations was {spread} (`history.csv`). With the authors' "
           f"{noise['authors_rollouts']} episodes per candidate the error would be "
           f"{fmt_number(noise['fitness_se_authors'])}.",
           f"- **Finished laps.** {laps['finished']} of {laps['episodes']} test episodes ended before step "
           f"{laps['max_steps']}, every tile visited (the v0 rule)"
           + (f", scoring {fmt_number(laps['finished_min'])} to {fmt_number(laps['finished_max'])}"
              if laps["finished"] else "")
           + (f"; the {laps['full_length']} that ran all {laps['max_steps']} steps average "
              f"{fmt_number(laps['full_length_mean'])}." if laps["full_length"] else "."),
           _shortfall_md(diag["shortfall"], laps["max_steps"])]
    if diag["frame_gap"]:
        out.append(f"- **V on both games.** V's reconstruction loss on gymnasium's and envpool's frames: "
                   f"[{diag['frame_gap']}](../{diag['frame_gap']}) (`bench/frame_gap.py`).")
    return out + [""]


def _rounds_md(results: dict) -> list[str]:
    """Iterative training: what each round added and how its C scored on the validation seeds."""
    rounds = results.get("rounds")
    if not rounds:
        return []
    rows = []
    for r in rounds:
        real, dream = r["validation_real"], r["validation_dream"]
        rows.append(["first pass (random-policy data)" if r["round"] == 0 else f"round {r['round']}",
                     fmt_number(r["episodes"]), fmt_number(r["m_steps"]), fmt_number(r["m_death_recall"], 3),
                     fmt_number(r["m_false_alarm_rate"], 4), fmt_score(dream), fmt_score(real),
                     fmt_number(r["dream_minus_real"])])
    return ["## 2b. Iterative training, round by round", "",
            markdown_table(["pass", "episodes (all so far)", "M steps", "M: death recall", "M: false alarms",
                            "C in the dream (validation)", "C in the real game (validation)", "dream − real"], rows),
            "",
            "Each round's C is scored on the validation seeds only (common/seeds.py); the test seeds score the "
            "last round's C once (section 2). Each round's episodes were played by the round before's agent. M's "
            "death recall (death probability > 0.5 on the fatal frame) and false alarms (share of earlier frames "
            "above 0.5) are measured on the same first 200 training episodes for every pass (`python -m rnn "
            "diagnose`).", ""]


def _models_md(results: dict) -> list[str]:
    doom = results["experiment"] == "doom"
    out = ["## 3. V and M", "",
           _figure_md(results, "vae_reconstruction", "V: real frames (top) over V's reconstructions (bottom)"), "",
           _figure_md(results, "rnn_dream_strip", "M: a dream (M's samples decoded by V) beside the real frames"), "",
           _figure_md(results, "rnn_loss", "M: training loss"), "",
           *_diagnostics_md(results.get("m_diagnostics")),
           "## 4. The agent " + ("in the dream and in the real game" if doom else "in the real game"), ""]
    episodes = results.get("agent_episodes")
    if episodes:
        for key, ep in episodes.items():
            if "error" in ep:
                out += [f"- {key}: {ep['error']}"]
                continue
            tau = "" if ep["temperature"] is None else f", τ {fmt_number(ep['temperature'], 2)}"
            out += [f"- {key}: seed {ep['seed']}, {ep['length']} frames{tau}"]
        out += [""]
    out += [_figure_md(results, "agent_frames", "Frames of the final agent, evenly spaced over one episode"), ""]
    out += videos_md(episodes or {})
    return out


def videos_md(episodes: dict) -> list[str]:
    """Links to the agent's GIFs beside REPORT.md (``agent_episodes[mode]["video"]``)."""
    names = {"real": "the real game (frame | V's reconstruction)", "dream": "M's dream (decoded z)"}
    links = [f"[{names[k]}]({ep['video']}) (an episode of {ep['video_length']} frames with seed {ep['seed']}, "
             f"its first "
             f"{min(ep['video_length'], REPORT_VIDEO_FRAMES)} shown)"
             for k, ep in episodes.items() if isinstance(ep, dict) and ep.get("video")]
    if not links:
        return []
    return [f"Watch the agent: {' and '.join(links)}.", ""]


def _diagnostics_md(diag: dict | None) -> list[str]:
    if diag is None:
        return []
    if "error" in diag:
        return [f"M diagnostics: unavailable ({diag['error']}).", ""]
    rows = [["death recall on the fatal frame", fmt_number(diag["death_recall_last"], 3)],
            [f"death recall within the last {diag['window']} frames", fmt_number(diag["death_recall_window"], 3)],
            ["false alarms per frame (earlier frames)", fmt_number(diag["false_alarm_rate"], 4)],
            ["episodes with a false alarm", fmt_number(diag["episodes_with_false_alarm"], 3)],
            ["z NLL per dimension (τ 1)", fmt_number(diag["z_nll"], 4)]]
    return ["M's predictions on the recorded episodes (`python -m rnn diagnose`; teacher-forced, "
            f"{diag['episodes']} training episodes, {diag['episodes_ending_in_death']} ending in death; "
            "a death probability > 0.5 counts as predicted):", "", markdown_table(["measure", "value"], rows), ""]


def _comparison_md(results: dict) -> list[str]:
    out = ["## 5. Our scores beside the published ones", ""]
    if results["experiment"] == "carracing":
        rows = [[r["method"], fmt_score(r["ours"]) if r["inputs"] else "(not part of this project)",
                 (fmt_score(r.get("ours_envpool")) if r.get("ours_envpool") else "") if r["inputs"] else "",
                 r["folder"] + "/" if r["folder"] else "", fmt_score(r["published"])]
                for r in results["tables"]["carracing"]]
        out += [markdown_table(["method", "ours (gymnasium CarRacing-v3)", "ours (envpool CarRacing-v3)",
                                "our run folder", "paper"], rows), "",
                "Ours: the controller folders of this run whose `best.json` has those inputs "
                "(`python -m controller train --controller.inputs z|z_hidden --tag T`), scored over the same test "
                "seeds in gymnasium's game (the reference) and, where scored, in envpool's (the game CMA-ES "
                f"trained in; other tracks for the same seeds). Paper: {published.PAPER_CAR}.", ""]
    else:
        rows = []
        for r in results["tables"]["doom"]:
            ours, pub = r["ours"], r["published"]
            rows.append([fmt_number(r["temperature"], 2),
                         fmt_score(ours["dream_validation"] or ours["dream"]) if ours else NOT_RUN,
                         fmt_score(ours["real_validation"]) if ours else NOT_RUN,
                         fmt_score(ours["real"]) if ours and ours["real"] else "",
                         ours["folder"] + "/" if ours else "",
                         fmt_score(pub["dream"]) if pub else "", fmt_score(pub["real"]) if pub else ""])
        for base in results["published"]["baselines"]:
            rows.append([base["method"], "", "", "", "", "", fmt_score(base)])
        out += [markdown_table(["τ", "ours: dream", "ours: real game, validation seeds", "ours: real game, test "
                                "seeds", "our run folder", "paper: dream", "paper: real game"], rows), "",
                "Ours: one row per controller folder, at the τ in its `best.json`, mean ± std with the standard "
                "error of the mean (SE). Every C is scored on the validation seeds "
                "(`evaluation_*_validation.json`); only the run's own C (τ of the run) also on the test seeds, "
                "once (`evaluation_real.json`). The dream column is on the validation seeds where scored there, "
                f"else the test seeds. Paper: {published.PAPER_DOOM}. Last row: "
                f"{published.AUTHORS_DOOM_RESULTS}.", ""]
    params = results["tables"]["parameters"]
    out += ["### Parameter counts", "",
            markdown_table(["part", "ours", "published", "source"],
                           [[p["part"], fmt_number(p["ours"]), fmt_number((p["published"] or {}).get("count")),
                             (p["published"] or {}).get("source", "")] for p in params]), "",
            "Ours: V and M built at this run's sizes, C from `controller.model.controller_shape`; "
            "per folder: the length of `best.json` params.", ""]
    return out


def _cost_md(results: dict) -> list[str]:
    rows = [[r["stage"], f"`{r['command']}`" if r["command"] else "", fmt_duration(r["wall_s"]),
             fmt_duration(r["cpu_s"]), fmt_number(r["parts"]) if r["parts"] is not None else ""]
            for r in results["tables"]["cost"]]
    machines = results["machine"]["stages"]
    out = ["## 6. Cost", "", markdown_table(["stage", "command", "wall time", "CPU time", "parts"], rows), "",
           f"Preset `{results['preset']}`. Machine of the stages: {', '.join(machines) if machines else NOT_RUN}. "
           "Times from `timings.json`, summed over resumed parts; CPU time includes child processes.", ""]
    if "cost_error" in results["tables"]:
        out += [f"timings.json unavailable ({results['tables']['cost_error']}).", ""]
    return out


def _settings_md(results: dict) -> list[str]:
    data = results["data"]
    rows = [[k, fmt_number(v, 2) if isinstance(v, float) else str(v)] for k, v in sorted(results["settings"].items())]
    return ["## Run settings", "", markdown_table(["setting", "value"], rows), "",
            f"Data on disk: {data['rollout_files']} rollout files, {data['series_files']} series files, "
            f"V model {'present' if data['vae_model'] else NOT_RUN}, M model "
            f"{'present' if data['rnn_model'] else NOT_RUN}.", ""]


def render_markdown(results: dict) -> str:
    title = {"carracing": "CarRacing", "doom": "VizDoom TakeCover (DoomRNN)"}[results["experiment"]]
    rounds = results.get("rounds")
    what = f"`{results['preset']}` preset"
    if rounds:
        what += f", {len(rounds) - 1} round{'s' if len(rounds) != 2 else ''} of iterative training"
    lines = [f"# World Models reproduction: {title}, {what}", "",
             f"Run folder `{results['run_dir']}`; written by `{results['generated_by']}` at "
             f"{results['generated_at']}. Every number below is in `results.json` beside this file; the published "
             "numbers are labelled with their source.", ""]
    for part in (_training_md, _scores_md, _carracing_diagnosis_md, _rounds_md, _models_md, _comparison_md,
                 _cost_md, _settings_md):
        lines += part(results)
    return "\n".join(lines).rstrip() + "\n"
