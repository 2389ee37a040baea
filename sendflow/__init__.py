"""sendflow: a Snakemake pipeline that learns emotional valence over time from facial video."""

__version__ = "0.1.0"
