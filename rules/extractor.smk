# Extractor stage: per-fold training of the frame encoders (a job per repeat), then the per-fold
# feature cache (a job per fold, holding every repeat); {repeat} is the training repeat's path
# tag ('' for repeat 0).


rule train_extractor:
    input:
        clips=index_clips,
        folds=index_folds,
        frames=lambda wildcards: frame_files(),
        weights=initial_weights(),
        code=script_code("train_extractor.py"),
    output:
        model=f"{EXTRACTOR_RUN}/model.pt",
        summary=f"{EXTRACTOR_RUN}/summary.json",
        history=f"{EXTRACTOR_RUN}/history.csv",
    log:
        log_path("extractor/{extractor}/{scope}{repeat}"),
    benchmark:
        benchmark_path("extractor/{extractor}/{scope}{repeat}")
    wildcard_constraints:
        extractor="|".join(EXTRACTORS),
    # the longest jobs: first among those ready, so the run does not end waiting on one
    priority: 10
    conda:
        "../envs/torch.yaml"
    threads: config["extractor"]["threads"]
    resources:
        mem_mb=config["extractor"]["mem_mb"],
        runtime=config["extractor"]["runtime"],
        gpu=1,
    params:
        extractor=settings("extractor", *EXTRACTOR_SETTINGS),
        # size and mtime: a file replaced by an older copy reruns training too
        initial_weights=file_stamps(initial_weights()),
        edges=config["labels"]["schemes"][config["extractor"]["labels"]]["edges"],
        seed=training_seed,
    script:
        "../workflow_scripts/train_extractor.py"


rule features:
    input:
        models=lambda wildcards: [extractor_file(wildcards.extractor, wildcards.fold, repeat=r) for r in REPEATS],
        folds=index_folds,
        frames=lambda wildcards: frame_files(),
        code=script_code("cache_features.py"),
    output:
        features=each_repeat(FEATURES),
    log:
        log_path("features/{extractor}/fold{fold}"),
    benchmark:
        benchmark_path("features/{extractor}/fold{fold}")
    wildcard_constraints:
        extractor="|".join(EXTRACTORS),
    conda:
        "../envs/torch.yaml"
    threads: config["extractor"]["threads"]
    resources:
        mem_mb=config["extractor"]["mem_mb"],
        runtime=per_repeat_runtime(config["extractor"]["runtime"]),
        gpu=1,
    params:
        extractor=settings("extractor", "feature_batch_size", "device"),
    script:
        "../workflow_scripts/cache_features.py"
