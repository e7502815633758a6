#!/bin/bash
# Issue 12 and 13 lever: C reads V's mean instead of a sample (controller.z mean). The published Cs played with
# V's mean, the z-noise diagnosis, and a CarRacing C trained with V's mean from the start; validation seeds only,
# paired by seed with the published Cs. Run from the repository root on a host without runs/cr-zmean etc.
set -eo pipefail
. .venv/bin/activate
R=reports/results; Z=$R/z-mean; L="flock /tmp/wm-heavy.lock"
python bench/z_noise.py $R/carracing-sampled-z --out $Z/carracing/z_noise.txt
python bench/z_noise.py $R/doom --tag tau1.00 --out $Z/doom/z_noise.txt
# The published Cs, trained with sampled z, played with V's mean.
cp -r $R/carracing-sampled-z runs/cr-pubmean && cp -r $R/doom runs/doom-zmean
$L python -m controller evaluate --run-dir runs/cr-pubmean --controller.z mean --evaluate.split validation \
    --evaluate.backend envpool --evaluate.episodes 200
$L python -m controller evaluate --run-dir runs/doom-zmean --tag tau1.00 --controller.z mean --evaluate.split validation
# A CarRacing C trained with V's mean: the published run's C stage (V, M, 72 generations of 32 x 2, CMA-ES seed 0).
cp -r $R/carracing-sampled-z runs/cr-zmean
$L python -m controller train --experiment carracing --preset small --run-dir runs/cr-zmean --tag zmean --controller.z mean
$L python -m controller evaluate --run-dir runs/cr-zmean --tag zmean --controller.z mean --evaluate.split validation \
    --evaluate.backend envpool --evaluate.episodes 200
$L python -m controller evaluate --run-dir runs/cr-zmean --tag zmean --controller.z mean --evaluate.split validation \
    --evaluate.episodes 100
mkdir -p $Z/carracing/published-c $Z/carracing/controller-zmean
cp runs/cr-pubmean/controller/evaluation_real_envpool_validation.json $Z/carracing/published-c/
cp runs/doom-zmean/controller-tau1.00/evaluation_real_validation.json $Z/doom/
cp runs/cr-zmean/controller-zmean/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_envpool_validation.json,evaluation_real_validation.json} \
    $Z/carracing/controller-zmean/
# Paired by seed with the published Cs' validation scores (sampled z).
python bench/paired_scores.py $R/carracing-refine/controller/evaluation_real_envpool_validation.json \
    $Z/carracing/published-c/evaluation_real_envpool_validation.json --cap 1000 --out $Z/carracing/paired_published_c.txt
python bench/paired_scores.py $R/carracing-refine/controller/evaluation_real_envpool_validation.json \
    $Z/carracing/controller-zmean/evaluation_real_envpool_validation.json --cap 1000 --out $Z/carracing/paired_validation.txt
python bench/paired_scores.py $R/carracing-v-adapt/baseline/evaluation_real_validation.json \
    $Z/carracing/controller-zmean/evaluation_real_validation.json --cap 1000 --out $Z/carracing/paired_validation_gymnasium.txt
python bench/paired_scores.py $R/doom/controller-tau1.00/evaluation_real_validation.json \
    $Z/doom/evaluation_real_validation.json --out $Z/doom/paired_validation.txt
