# Feature sources that need no video: SEND's own Emotient action units (every clip, limited-use
# ones too; not trained, so one file per fold for every repeat), and their fusion with a learned
# extractor's features (one file per fold and repeat).


rule emotient_steps:
    input:
        clips="results/index/clips.parquet",
        emotient=lambda wildcards: emotient_files(),
        code=script_code("emotient_steps.py"),
    output:
        steps="results/features/emotient/steps.parquet",
    log:
        "results/logs/features/emotient/steps.log",
    benchmark:
        "results/benchmarks/features/emotient/steps.tsv"
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=config["emotient"]["mem_mb"],
        runtime=30,
    params:
        columns=config["emotient"]["columns"],
        dataset=lambda wildcards: file_stamps(emotient_files()),
    script:
        "../workflow_scripts/emotient_steps.py"


rule emotient_features:
    input:
        steps=rules.emotient_steps.output.steps,
        folds="results/index/folds.parquet",
        code=script_code("emotient_features.py"),
    output:
        features="results/features/emotient/fold{fold}.parquet",
    log:
        "results/logs/features/emotient/fold{fold}.log",
    benchmark:
        "results/benchmarks/features/emotient/fold{fold}.tsv"
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=config["emotient"]["mem_mb"],
        runtime=10,
    script:
        "../workflow_scripts/emotient_features.py"


rule fused_features:
    input:
        learned=f"results/features/{config['emotient']['fuse_with']}/fold{{fold}}{{repeat}}.parquet",
        emotient=rules.emotient_features.output.features,
        folds="results/index/folds.parquet",
        code=script_code("fused_features.py"),
    output:
        features="results/features/fused/fold{fold}{repeat}.parquet",
    log:
        "results/logs/features/fused/fold{fold}{repeat}.log",
    benchmark:
        "results/benchmarks/features/fused/fold{fold}{repeat}.tsv"
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=config["emotient"]["mem_mb"],
        runtime=10,
    params:
        components=config["emotient"]["fuse_components"],
    script:
        "../workflow_scripts/fused_features.py"
