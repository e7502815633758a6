#!/bin/bash
# The same three arms with CMA-ES seed 112, after commands.sh: C in the published M's dream, in the ensemble dream
# (published M + rnn.seed 1's M, 8 + 8 rollouts) and in rnn.seed 1's M alone; each in its own controller-s112 folder,
# scored on the validation seeds only (real game; dream in each run's own M).
set -e
. .venv/bin/activate  # run from the repository root
M1=runs/doom-m1; X=runs/doom-ens
L="flock /tmp/wm-heavy.lock"
for RUN in $X $M1; do  # X's own M alone: the published M (hard links of runs/doom-small)
  $L python -m controller train --run-dir $RUN --tag s112 --es.seed 112 --es.dream_models ""
  $L python -m controller evaluate --run-dir $RUN --tag s112 --evaluate.split validation
  $L python -m controller evaluate --dream --run-dir $RUN --tag s112 --evaluate.split validation
done
$L python -m controller train --run-dir $X --tag ens-s112 --es.seed 112 --es.dream_models $M1
$L python -m controller evaluate --run-dir $X --tag ens-s112 --evaluate.split validation
$L python -m controller evaluate --dream --run-dir $X --tag ens-s112 --evaluate.split validation --es.dream_models ""
