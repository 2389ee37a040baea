#!/usr/bin/env bash
# Stop the test cluster that slurm_up.sh started (the packages and config stay).
pkill -x slurmd 2>/dev/null || true
pkill -x slurmctld 2>/dev/null || true
pkill -x munged 2>/dev/null || true
echo "SLURM daemons stopped"
