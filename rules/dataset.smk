# Dataset stage: the synthetic demo dataset, the clip index and the speaker-wise folds.


rule demo_dataset:
    input:
        code=script_code("make_demo_dataset.py"),
    output:
        marker=DEMO_DONE,
    log:
        log_path("demo_dataset"),
    benchmark:
        benchmark_path("demo_dataset")
    conda:
        "../envs/data.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        demo=config["data"]["demo"],
        seed=SEED,
    script:
        "../workflow_scripts/make_demo_dataset.py"


checkpoint index:
    input:
        dataset=dataset_files(),
        code=script_code("build_index.py"),
    output:
        clips=INDEX_CLIPS,
    log:
        log_path("index"),
    benchmark:
        benchmark_path("index")
    conda:
        "../envs/data.yaml"
    threads: 2
    resources:
        mem_mb=1000,
        runtime=20,
    params:
        root=lambda wildcards: DATA_ROOT,  # a folder, tracked as a param: a new data.root reruns the index
        min_rating_span=config["data"]["min_rating_span"],
        unknown_split=config["data"]["unknown_split"],
        rating_checks=config["data"]["rating_checks"],
        dataset=dataset_fingerprint(),
    script:
        "../workflow_scripts/build_index.py"


rule folds:
    input:
        clips=index_clips,
        code=script_code("make_folds.py"),
    output:
        folds=INDEX_FOLDS,
    log:
        log_path("folds"),
    benchmark:
        benchmark_path("folds")
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=500,
        runtime=5,
    params:
        cv=config["cv"],
        seed=SEED,
    script:
        "../workflow_scripts/make_folds.py"
