#!/bin/bash
# Issue 13 lever: a warier dream. C trains in a dream where a rollout dies when M's death logit exceeds
# es.death_logit (the authors' 0: probability > 0.5; -1: > 0.27; -2: > 0.12), on the then-published agent's V and M
# (reports/results/doom-1300-intel, round 2); a fresh C at tau 1.15 per threshold and CMA-ES seed, scored on the validation
# seeds only (real and dream), and paired against the same seed's C at the authors' threshold.
set -e
. .venv/bin/activate  # run from the repository root
X=runs/doom-wary
if [ ! -d $X ]; then
  cp -r reports/results/doom-1300-intel $X.tmp && mv $X.tmp $X
fi
L="flock /tmp/wm-heavy.lock"
for seed in 111 112; do
  for logit in 0 -1 -2; do
    args="--run-dir $X --tag s$seed-logit$logit --es.seed $seed --es.death_logit $logit"
    $L python -m controller train $args
    $L python -m controller evaluate $args --evaluate.split validation
    $L python -m controller evaluate --dream $args --evaluate.split validation
  done
done
