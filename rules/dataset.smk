# Dataset stage: the synthetic demo dataset, the clip index and the speaker-wise folds.


rule demo_dataset:
    output:
        marker=os.path.join(DATA_ROOT, ".sendflow-demo"),
    params:
        demo=config["data"]["demo"],
        seed=SEED,
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../envs/data.yaml"
    log:
        "results/logs/demo_dataset.log",
    benchmark:
        "results/benchmarks/demo_dataset.tsv"
    script:
        "../workflow_scripts/make_demo_dataset.py"


checkpoint index:
    input:
        dataset_marker(),
        package_code("index.py", "layout.py", "ratings.py"),
    output:
        clips="results/index/clips.parquet",
    params:
        root=DATA_ROOT,  # a folder, tracked as a param: a new data.root reruns the index
    threads: 2
    resources:
        mem_mb=1000,
        runtime=20,
    conda:
        "../envs/data.yaml"
    log:
        "results/logs/index.log",
    benchmark:
        "results/benchmarks/index.tsv"
    script:
        "../workflow_scripts/build_index.py"


rule folds:
    input:
        clips=rules.index.output.clips,
        code=package_code("folds.py"),
    output:
        folds="results/index/folds.parquet",
    params:
        cv=config["cv"],
        seed=SEED,
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/data.yaml"
    log:
        "results/logs/folds.log",
    benchmark:
        "results/benchmarks/folds.tsv"
    script:
        "../workflow_scripts/make_folds.py"
