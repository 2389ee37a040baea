# Classifier stage: temporal models and baselines on the cached features, one job per
# (extractor, classifier, label scheme, fold). The torch models keep model.pt; the per-step
# baselines keep model.npz, so their jobs never import torch.


rule classifier:
    input:
        features="results/features/{extractor}/fold{fold}.parquet",
        folds="results/index/folds.parquet",
        code=classifier_code,
    output:
        predictions="results/classifier/{extractor}/{classifier}/{labels}/fold{fold}/predictions.parquet",
        metrics="results/classifier/{extractor}/{classifier}/{labels}/fold{fold}/metrics.json",
        history="results/classifier/{extractor}/{classifier}/{labels}/fold{fold}/history.csv",
        model="results/classifier/{extractor}/{classifier}/{labels}/fold{fold}/model.pt",
    log:
        "results/logs/classifier/{extractor}/{classifier}/{labels}/fold{fold}.log",
    benchmark:
        "results/benchmarks/classifier/{extractor}/{classifier}/{labels}/fold{fold}.tsv"
    wildcard_constraints:
        classifier="|".join(TORCH_CLASSIFIERS),
    conda:
        "../envs/torch.yaml"
    threads: config["classifier"]["threads"]
    resources:
        mem_mb=config["classifier"]["mem_mb"],
        runtime=config["classifier"]["runtime"],
        gpu=1,
    params:
        classifier=lambda wildcards: classifier_settings(config["classifier"], wildcards.classifier),
        scheme=lambda wildcards: config["labels"]["schemes"][wildcards.labels],
        seed=SEED,
    script:
        "../workflow_scripts/train_classifier.py"


use rule classifier as per_step_classifier with:
    output:
        predictions="results/classifier/{extractor}/{classifier}/{labels}/fold{fold}/predictions.parquet",
        metrics="results/classifier/{extractor}/{classifier}/{labels}/fold{fold}/metrics.json",
        history="results/classifier/{extractor}/{classifier}/{labels}/fold{fold}/history.csv",
        model="results/classifier/{extractor}/{classifier}/{labels}/fold{fold}/model.npz",
    wildcard_constraints:
        classifier="|".join(PER_STEP_CLASSIFIERS),
    resources:
        mem_mb=config["classifier"]["mem_mb"],
        runtime=config["classifier"]["runtime"],
        gpu=0,
