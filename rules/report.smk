# Results people read: fold scores aggregated, paired comparisons, figures, run manifest.
# Every rule reads cached outputs only; `snakemake --report results/report.html` gathers the
# files registered with report() into one self-contained page.


rule aggregate:
    input:
        metrics=classifier_results("metrics.json"),
        predictions=classifier_results("predictions.parquet"),
        code=script_code("aggregate.py"),
    output:
        summary=report(
            "results/metrics/summary.csv",
            category="1. Results",
            labels={"table": "summary over folds (csv)"},
            caption="../report/summary.rst",
        ),
        summary_md="results/metrics/summary.md",
        folds="results/metrics/folds.csv",
        per_speaker="results/metrics/per_speaker.csv",
        per_clip="results/metrics/per_clip.csv",
    log:
        "results/logs/report/aggregate.log",
    benchmark:
        "results/benchmarks/report/aggregate.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../workflow_scripts/aggregate.py"


rule compare:
    input:
        folds=rules.aggregate.output.folds,
        per_clip=rules.aggregate.output.per_clip,
        code=script_code("compare.py"),
    output:
        markdown=report(
            "results/metrics/comparisons.md",
            category="1. Results",
            labels={"table": "paired comparisons (text)"},
            caption="../report/comparisons.rst",
        ),
        table=report(
            "results/metrics/comparisons.csv",
            category="1. Results",
            labels={"table": "paired comparisons (csv)"},
            caption="../report/comparisons.rst",
        ),
    log:
        "results/logs/report/compare.log",
    benchmark:
        "results/benchmarks/report/compare.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        metric=config["report"]["metric"],
    script:
        "../workflow_scripts/compare.py"


rule manifest:
    input:
        summary=rules.aggregate.output.summary,
        comparisons=rules.compare.output.table,
        code=script_code("write_manifest.py"),
    output:
        manifest=report(
            "results/metrics/manifest.json",
            category="4. Run",
            labels={"file": "manifest"},
            caption="../report/manifest.rst",
        ),
    log:
        "results/logs/report/manifest.log",
    benchmark:
        "results/benchmarks/report/manifest.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../workflow_scripts/write_manifest.py"


# --- figures: each from cached outputs only; only report.* settings reach them -------------


rule figure_comparison:
    input:
        summary=rules.aggregate.output.summary,
        code=script_code("figure_comparison.py"),
    output:
        png=report(
            "results/figures/comparison.png",
            category="1. Results",
            labels={"figure": "comparison bar chart"},
            caption="../report/comparison.rst",
        ),
    log:
        "results/logs/report/figure_comparison.log",
    benchmark:
        "results/benchmarks/report/figure_comparison.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        metric=config["report"]["metric"],
        dpi=config["report"]["dpi"],
    script:
        "../workflow_scripts/figure_comparison.py"


rule figure_confusion:
    input:
        metrics=lambda wildcards: classifier_results("metrics.json", labels=wildcards.labels),
        code=script_code("figure_confusion.py"),
    output:
        png=report(
            "results/figures/confusion_{labels}.png",
            category="2. Figures",
            subcategory="Confusion matrices",
            labels={"labels": "{labels}"},
            caption="../report/confusion.rst",
        ),
    log:
        "results/logs/report/figure_confusion_{labels}.log",
    benchmark:
        "results/benchmarks/report/figure_confusion_{labels}.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        labels=lambda wildcards: wildcards.labels,
        dpi=config["report"]["dpi"],
    script:
        "../workflow_scripts/figure_confusion.py"


rule figure_timelines:
    input:
        predictions=lambda wildcards: MODEL_RESULT.format(
            **timeline_model(), fold=wildcards.fold, name="predictions.parquet"
        ),
        code=script_code("figure_timelines.py"),
    output:
        folder=report(
            directory("results/figures/timelines/fold{fold}"),
            patterns=["{clip}.png"],
            category="3. Valence over time",
            subcategory="fold {fold}",
            labels={"clip": "{clip}"},
            caption="../report/timelines.rst",
        ),
    log:
        "results/logs/report/figure_timelines_fold{fold}.log",
    benchmark:
        "results/benchmarks/report/figure_timelines_fold{fold}.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        scheme=config["labels"]["schemes"][timeline_model()["labels"]],
        dpi=config["report"]["dpi"],
    script:
        "../workflow_scripts/figure_timelines.py"


rule figure_curves:
    input:
        extractor_histories=sorted(
            {extractor_file(e, k, "history.csv") for e in config["extractor"]["kinds"] for k in FOLDS}
        ),
        classifier_histories=classifier_results("history.csv"),
        code=script_code("figure_curves.py"),
    output:
        extractor=report(
            "results/figures/training_extractor.png",
            category="2. Figures",
            subcategory="Training curves",
            labels={"stage": "extractor"},
            caption="../report/curves.rst",
        ),
        classifier=report(
            "results/figures/training_classifier.png",
            category="2. Figures",
            subcategory="Training curves",
            labels={"stage": "classifier"},
            caption="../report/curves.rst",
        ),
    log:
        "results/logs/report/figure_curves.log",
    benchmark:
        "results/benchmarks/report/figure_curves.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        dpi=config["report"]["dpi"],
    script:
        "../workflow_scripts/figure_curves.py"


rule figure_attention:
    input:
        model=lambda wildcards: extractor_file(wildcards.extractor, ATTENTION_FOLD),
        folds="results/index/folds.parquet",
        frames=lambda wildcards: frame_files(),
        code=script_code("figure_attention.py"),
    output:
        png=report(
            "results/figures/attention_{extractor}.png",
            category="2. Figures",
            subcategory="Attention",
            labels={"extractor": "{extractor}"},
            caption="../report/attention.rst",
        ),
    log:
        "results/logs/report/figure_attention_{extractor}.log",
    benchmark:
        "results/benchmarks/report/figure_attention_{extractor}.tsv"
    conda:
        "../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        fold=ATTENTION_FOLD,
        n_frames=config["report"]["attention"]["frames"],
        include_faces=include_faces(),
        seed=SEED,
        dpi=config["report"]["dpi"],
    script:
        "../workflow_scripts/figure_attention.py"
