#!/bin/bash
# Issue 13 lever: an ensemble dream. A second M on the published run's V and data (runs/doom-small), trained by the
# preset's rule (2,060 steps) with another seed (rnn.seed 1: other initial weights, batch order and noise). A fresh
# tau 1.15 C, with the same CMA-ES seed and budget as the published run's own C, trains in a dream where each
# candidate's 16 rollouts are split 8 + 8 between the published M and the new one (es.dream_models). A control C
# trains in the new M's dream alone. Scored on the validation seeds only (real game; dream in each run's own M) and
# paired by seed with the published run's C.
set -e
. .venv/bin/activate  # run from the repository root
R=runs/doom-small; M1=runs/doom-m1; X=runs/doom-ens
if [ ! -d $M1 ]; then
  mkdir -p $M1.tmp && cp -al $R/rollouts $R/series $R/vae $M1.tmp/ && cp $R/config.json $M1.tmp/ && mv $M1.tmp $M1
fi
if [ ! -d $X ]; then
  mkdir -p $X.tmp && cp -al $R/rollouts $R/series $R/vae $R/rnn $X.tmp/ && cp $R/config.json $X.tmp/ && mv $X.tmp $X
fi
L="flock /tmp/wm-heavy.lock"
$L python -m rnn train --run-dir $M1 --rnn.seed 1
$L python -m rnn diagnose --run-dir $M1
$L python -m controller train --run-dir $X --es.dream_models $M1
$L python -m controller evaluate --run-dir $X --evaluate.split validation
$L python -m controller evaluate --dream --run-dir $X --evaluate.split validation --es.dream_models ""
$L python -m controller train --run-dir $M1
$L python -m controller evaluate --run-dir $M1 --evaluate.split validation
$L python -m controller evaluate --dream --run-dir $M1 --evaluate.split validation
