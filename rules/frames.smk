# Frame stage: one job per clip with video; face crops and valence on the rating grid.


rule frames:
    input:
        unpack(clip_inputs),
        code=script_code("extract_frames.py"),
    output:
        npz="results/frames/{clip}.npz",
    log:
        "results/logs/frames/{clip}.log",
    benchmark:
        "results/benchmarks/frames/{clip}.tsv"
    group:
        "frames"
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=config["frames"]["mem_mb"],
        runtime=30,
    params:
        frames=settings("frames"),
        dataset=clip_stamps,
    script:
        "../workflow_scripts/extract_frames.py"


rule face_report:
    input:
        npz=lambda wildcards: frame_files(),
        code=script_code("face_report.py"),
    output:
        table="results/frames/face_detection.tsv",
    log:
        "results/logs/face_report.log",
    benchmark:
        "results/benchmarks/face_report.tsv"
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        clips=lambda wildcards: video_clips(),
        warn_below=0.5,
    script:
        "../workflow_scripts/face_report.py"
