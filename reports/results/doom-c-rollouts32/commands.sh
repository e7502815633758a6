#!/bin/bash
# Issue 13 lever: C's rollouts per candidate in the dream, 32 instead of 16, on round 2's V and M; the same CMA-ES
# seed, generations and tau 1.15 as round 2's C; scored on the validation seeds only, paired with round 2's C.
set -e
. .venv/bin/activate  # run from the repository root
R=runs/doom-small/round2; X=runs/doom-c32
if [ ! -d $X ]; then
  mkdir -p $X.tmp && cp -al $R/rollouts $R/series $R/vae $R/rnn $X.tmp/ && cp $R/config.json $X.tmp/
  mv $X.tmp $X
fi
L="flock /tmp/wm-heavy.lock"
$L python -m controller train --run-dir $X --es.num_rollouts 32
$L python -m controller evaluate --run-dir $X --evaluate.split validation
$L python -m controller evaluate --dream --run-dir $X --evaluate.split validation
