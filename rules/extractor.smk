# Extractor stage: per-fold training of the frame encoders, then the per-fold feature cache.


rule train_extractor:
    input:
        clips="results/index/clips.parquet",
        folds="results/index/folds.parquet",
        frames=lambda wildcards: frame_files(),
        code=script_code("train_extractor.py"),
    output:
        model="results/extractor/{extractor}/{scope}/model.pt",
        summary="results/extractor/{extractor}/{scope}/summary.json",
        history="results/extractor/{extractor}/{scope}/history.csv",
    log:
        "results/logs/extractor/{extractor}/{scope}.log",
    benchmark:
        "results/benchmarks/extractor/{extractor}/{scope}.tsv"
    wildcard_constraints:
        extractor="|".join(EXTRACTORS),
    conda:
        "../envs/torch.yaml"
    threads: config["extractor"]["threads"]
    resources:
        mem_mb=config["extractor"]["mem_mb"],
        runtime=config["extractor"]["runtime"],
        gpu=1,
    params:
        extractor=settings("extractor", *EXTRACTOR_SETTINGS),
        edges=config["labels"]["schemes"][config["extractor"]["labels"]]["edges"],
        seed=SEED,
    script:
        "../workflow_scripts/train_extractor.py"


rule features:
    input:
        model=lambda wildcards: extractor_file(wildcards.extractor, wildcards.fold),
        folds="results/index/folds.parquet",
        frames=lambda wildcards: frame_files(),
        code=script_code("cache_features.py"),
    output:
        features="results/features/{extractor}/fold{fold}.parquet",
    log:
        "results/logs/features/{extractor}/fold{fold}.log",
    benchmark:
        "results/benchmarks/features/{extractor}/fold{fold}.tsv"
    wildcard_constraints:
        extractor="|".join(EXTRACTORS),
    conda:
        "../envs/torch.yaml"
    threads: config["extractor"]["threads"]
    resources:
        mem_mb=config["extractor"]["mem_mb"],
        runtime=config["extractor"]["runtime"],
        gpu=1,
    params:
        extractor=settings("extractor", "feature_batch_size", "device"),
    script:
        "../workflow_scripts/cache_features.py"
