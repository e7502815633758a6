#!/bin/bash
# Control for doom-vnew: round 2's V and series unchanged, M trained fresh for round 2's 1,650 steps on the same
# 2,500 episodes, then the same C training and validation. Separates "V retrained" from "M trained fresh".
set -e
. .venv/bin/activate  # run from the repository root
R=runs/doom-small/round2; X=runs/doom-mfresh
if [ ! -d $X ]; then
  mkdir -p $X.tmp && cp -al $R/rollouts $R/series $R/vae $X.tmp/ && cp $R/config.json $X.tmp/
  mv $X.tmp $X
fi
L="flock /tmp/wm-heavy.lock"
$L python -m rnn train --run-dir $X --rnn.steps 1650
$L python -m controller train --run-dir $X
$L python -m controller evaluate --run-dir $X --evaluate.split validation
$L python -m controller evaluate --dream --run-dir $X --evaluate.split validation
$L python -m rnn diagnose --run-dir $X
