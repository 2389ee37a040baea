# Classifier stage: temporal models and baselines on the cached features, one job per
# (extractor, classifier, label scheme, fold), training each repeat in turn. The torch models
# keep model.pt; the per-step baselines keep model.npz, so their jobs never import torch.


rule classifier:
    input:
        checked=after_checks,
        features=feature_files,
        folds=index_folds,
        code=classifier_code,
    output:
        predictions=each_repeat(f"{CLASSIFIER_RUN}/predictions.parquet"),
        metrics=each_repeat(f"{CLASSIFIER_RUN}/metrics.json"),
        history=each_repeat(f"{CLASSIFIER_RUN}/history.csv"),
        model=each_repeat(f"{CLASSIFIER_RUN}/model.pt"),
    log:
        log_path("classifier/{extractor}/{classifier}/{labels}/fold{fold}"),
    benchmark:
        benchmark_path("classifier/{extractor}/{classifier}/{labels}/fold{fold}")
    wildcard_constraints:
        classifier="|".join(classifier_names("torch")),
    priority: 5  # the torch models before the per-step baselines and the report
    conda:
        "../envs/torch.yaml"
    threads: config["classifier"]["threads"]
    resources:
        mem_mb=config["classifier"]["mem_mb"],
        runtime=per_repeat_runtime(config["classifier"]["runtime"]),
        gpu=1,
    params:
        classifier=classifier_params,
        scheme=lambda wildcards: config["labels"]["schemes"][wildcards.labels],
        seeds=REPEAT_SEEDS,
    script:
        "../workflow_scripts/train_classifier.py"


use rule classifier as per_step_classifier with:
    output:
        predictions=each_repeat(f"{CLASSIFIER_RUN}/predictions.parquet"),
        metrics=each_repeat(f"{CLASSIFIER_RUN}/metrics.json"),
        history=each_repeat(f"{CLASSIFIER_RUN}/history.csv"),
        model=each_repeat(f"{CLASSIFIER_RUN}/model.npz"),
    wildcard_constraints:
        classifier="|".join(classifier_names("per_step")),
    resources:
        mem_mb=config["classifier"]["mem_mb"],
        runtime=per_repeat_runtime(config["classifier"]["runtime"]),
        gpu=0,
