#!/bin/bash
# Issue 13 lever: V trained longer. The one-command run's V (runs/doom-small: 3 epochs over the first 1,000
# random-policy episodes) continues for 2 more epochs over the first 2,000 episodes; every episode is encoded again;
# M is trained fresh by the preset's rule (20 epochs of the 5,200 episodes); a fresh C at tau 1.15 with the same
# CMA-ES seed and budget as runs/doom-small/controller; scored on the validation seeds only and paired with that C.
set -e
. .venv/bin/activate  # run from the repository root
R=runs/doom-small; X=runs/doom-vlong
if [ ! -d $X ]; then
  mkdir -p $X.tmp/vae && cp -al $R/rollouts $X.tmp/ && cp $R/config.json $X.tmp/
  cp -r $R/vae/model.keras $R/vae/train_state.json $R/vae/saved_model $X.tmp/vae/
  mv $X.tmp $X
fi
L="flock /tmp/wm-heavy.lock"
$L python -m vae train --run-dir $X --vae.epochs 5 --vae.max_episodes 2000
$L python -m vae encode --run-dir $X
$L python -m rnn train --run-dir $X
$L python -m controller train --run-dir $X
$L python -m controller evaluate --run-dir $X --evaluate.split validation
$L python -m controller evaluate --dream --run-dir $X --evaluate.split validation
$L python -m rnn diagnose --run-dir $X
