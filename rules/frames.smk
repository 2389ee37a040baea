# Frame stage: one job per clip with video (face crops and valence on the rating grid), then
# the frame check, which decides which clips the later stages use.


rule frames:
    input:
        unpack(clip_inputs),
        code=script_code("extract_frames.py"),
    output:
        npz=FRAMES,
    log:
        log_path("frames/{clip}"),
    benchmark:
        benchmark_path("frames/{clip}")
    group:
        "frames"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=config["frames"]["mem_mb"],
        runtime=30,
    params:
        frames=settings("frames", *FRAME_JOB_KEYS),
        dataset=clip_stamps,
    script:
        "../workflow_scripts/extract_frames.py"


# The frame check: which clips' frames the later stages use (a checkpoint: they read its table).
checkpoint face_report:
    input:
        npz=lambda wildcards: all_frame_files(),
        code=script_code("face_report.py"),
    output:
        table=FACE_DETECTION,
    log:
        log_path("face_report"),
    benchmark:
        benchmark_path("face_report")
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        clips=lambda wildcards: video_clips(),
        warn_below=0.5,
        check=settings("frames", *FRAME_CHECK_KEYS),
    script:
        "../workflow_scripts/face_report.py"
