# Extractor stage: per-fold training of the frame encoders, then the per-fold feature cache.


rule train_extractor:
    input:
        clips="results/index/clips.parquet",
        folds="results/index/folds.parquet",
        frames=lambda wildcards: frame_files(),
        code=package_code(
            "models/resnet_attention.py",
            "extractor/data.py",
            "extractor/train.py",
            "labels.py",
            "metrics.py",
            "seeding.py",
        ),
    output:
        model="results/extractor/{extractor}/{scope}/model.pt",
        summary="results/extractor/{extractor}/{scope}/summary.json",
        history="results/extractor/{extractor}/{scope}/history.csv",
    wildcard_constraints:
        extractor="|".join(EXTRACTORS),
        scope=r"fold\d+|shared",
    params:
        extractor=settings("extractor"),
        edges=config["labels"]["schemes"][config["extractor"]["labels"]]["edges"],
        seed=SEED,
    threads: config["extractor"]["threads"]
    resources:
        mem_mb=config["extractor"]["mem_mb"],
        runtime=config["extractor"]["runtime"],
        gpu=1,
    conda:
        "../envs/torch.yaml"
    log:
        "results/logs/extractor/{extractor}/{scope}.log",
    benchmark:
        "results/benchmarks/extractor/{extractor}/{scope}.tsv"
    script:
        "../workflow_scripts/train_extractor.py"


rule features:
    input:
        model=lambda wildcards: extractor_file(wildcards.extractor, wildcards.fold),
        folds="results/index/folds.parquet",
        frames=lambda wildcards: frame_files(),
        code=package_code("features.py", "extractor/data.py"),
    output:
        features="results/features/{extractor}/fold{fold}.parquet",
    wildcard_constraints:
        extractor="|".join(EXTRACTORS),
        fold=r"\d+",
    params:
        extractor=settings("extractor", "feature_batch_size", "device"),
    threads: config["extractor"]["threads"]
    resources:
        mem_mb=config["extractor"]["mem_mb"],
        runtime=config["extractor"]["runtime"],
        gpu=1,
    conda:
        "../envs/torch.yaml"
    log:
        "results/logs/features/{extractor}/fold{fold}.log",
    benchmark:
        "results/benchmarks/features/{extractor}/fold{fold}.tsv"
    script:
        "../workflow_scripts/cache_features.py"
