#!/bin/bash
# Issue 13 lever: a third round. Round 3 is prepared from round 2 as the pipeline prepares every round
# (reports.iterate.prepare: 600 episodes by round 2's agent, 450 more M steps, a fresh C), then its stages up to the
# validation scores; the final stages (test seeds) are not run.
set -e
. .venv/bin/activate  # run from the repository root
R=runs/doom-small/round2; X=runs/doom-round3
[ -d $X ] || python -c "from pathlib import Path; from reports.iterate import prepare; prepare(Path('$R'), Path('$X'), 3)"
L="flock /tmp/wm-heavy.lock"
$L python -m envs collect --run-dir $X
$L python -m vae encode --run-dir $X
$L python -m rnn train --run-dir $X
$L python -m controller train --run-dir $X
$L python -m controller evaluate --run-dir $X --evaluate.split validation
$L python -m controller evaluate --dream --run-dir $X --evaluate.split validation
$L python -m rnn diagnose --run-dir $X
