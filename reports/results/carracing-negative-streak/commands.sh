#!/bin/bash
# Issue 12 lever: Tang et al.'s training-only cut. The small preset's C stage on the published V and M, with every
# CMA-ES training rollout ended after more than 20 steps in a row of negative reward (no new tile); the CMA mean's
# evaluations on the 64 selection tracks and every score play whole episodes. Scored on the 200 envpool validation
# tracks only and paired by seed with the published C. Run from the repository root.
set -e
. .venv/bin/activate
R=reports/results; L="flock /tmp/wm-heavy.lock"
cp -r $R/carracing-sampled-z runs/cr-cut && rm -rf runs/cr-cut/report
$L python -m controller train --experiment carracing --preset small --run-dir runs/cr-cut --tag cut20 \
    --es.negative_streak 20
$L python -m controller evaluate --run-dir runs/cr-cut --tag cut20 --evaluate.split validation \
    --evaluate.backend envpool --evaluate.episodes 200
X=$R/carracing-negative-streak; mkdir -p $X/controller
cp runs/cr-cut/controller-cut20/{best.json,config.json,eval_history.csv,history.csv,evaluation_real_envpool_validation.json} $X/controller/
python bench/paired_scores.py $R/carracing-refine/controller/evaluation_real_envpool_validation.json \
    $X/controller/evaluation_real_envpool_validation.json --out $X/paired_validation.txt
