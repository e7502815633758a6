#!/bin/bash
# Issue 13 lever: C generations. A fresh tau 1.15 C on the then-published agent's V and M (reports/results/doom-1300-intel, round 2)
# with 60 CMA-ES generations instead of the preset's 20, the same CMA-ES seed (111) as doom-wary-dream's
# controller-s111-logit0 (20 generations, the same V and M, the same host); scored on the validation seeds only.
set -e
. .venv/bin/activate  # run from the repository root
X=runs/doom-wary  # the copy of reports/results/doom-1300-intel that doom-wary-dream/commands.sh makes
if [ ! -d $X ]; then
  cp -r reports/results/doom-1300-intel $X.tmp && mv $X.tmp $X
fi
L="flock /tmp/wm-heavy.lock"
args="--run-dir $X --tag s111-gen60 --es.seed 111 --es.generations 60"
$L python -m controller train $args
$L python -m controller evaluate $args --evaluate.split validation
$L python -m controller evaluate --dream $args --evaluate.split validation
