"""Coverage of candidate 95% intervals for a paired comparison over test speakers, by simulation.

Each simulated data set is a per-clip table of differences (candidate minus reference CCC) like
the one `comparisons.csv` is computed from: speakers x clips x training repeats, with
  diff = effect + speaker + clip (within speaker) + repeat (per clip and repeat)
         [+ run: one draw per fold and repeat, shared by the fold's speakers]
each term normal with the standard deviations given (`--speaker-dist` makes the speaker term
skewed or heavy-tailed with the same sd). `--estimate per_clip.csv` prints these standard
deviations for one comparison of a run with repeats, to pass back on the command line.

Candidates, each at 95%:
- hierarchical: the bootstrap sendflow used before (speakers, then clips, then repeats),
  expanded percentile;
- speaker percentile / speaker expanded: a bootstrap of the speaker means, plain percentile and
  Hesterberg's expanded percentile;
- speaker BCa and speaker studentised: bias-corrected and accelerated, and bootstrap-t, over
  the speaker means;
- t: the t interval over the speaker means;
- sign-flip: the interval that inverts the sign-flip permutation test over speaker means.

Per cell it prints coverage (the interval holds the true effect), the "better" rate (the
interval's low end above 0: power when the effect is positive, false verdicts when it is 0),
and how often the sign-flip permutation p is <= 0.05. Monte Carlo standard error of a coverage
near 0.95 with 2,000 data sets: 0.005. All candidates see the same data sets.

Usage:
  python bench/coverage.py [--speakers 10 15 30] [--effects 0 0.05 0.1] [--datasets 2000]
      [--clips 2] [--repeats 3] [--sd-speaker 0.20] [--sd-clip 0.09] [--sd-repeat 0.24]
      [--sd-run 0] [--folds 5] [--speaker-dist normal|skewed|heavy] [--seed 0]
  python bench/coverage.py --estimate results/metrics/per_clip.csv [--factor extractor]
      [--candidate resattn] [--reference resnet] [--fixed mstcn three]
"""

import argparse
import sys
import time

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri, stdtrit

from sendflow.report.aggregate import markdown_table
from sendflow.report.stats import clip_repeat_values, sign_flip

LEVEL = 0.95
ALPHA = (1 - LEVEL) / 2
BOOTSTRAP = 2000  # resamples per bootstrap interval, as the project's intervals use
CHUNK_ELEMENTS = 1_000_000  # gathered values per chunk of hierarchical resamples (~30 MB)
MONTE_CARLO_FLIPS = 10_000  # sign patterns above 16 speakers (the project uses 100,000; 10x faster here)
CANDIDATES = (
    "hierarchical",
    "speaker percentile",
    "speaker expanded",
    "speaker BCa",
    "speaker studentised",
    "t",
    "sign-flip",
)


def _dense(cells: pd.Series):
    """speakers x max_clips x max_repeats array, NaN where a speaker has no such clip or repeat,
    and each speaker's number of clips and of repeats. Positions are ranks within the speaker,
    so a speaker's clips (and repeats) fill the first slots."""
    frame = cells.reset_index()
    s = frame.groupby("speaker", sort=True).ngroup().to_numpy()
    c = frame.groupby(["speaker", "clip_id"], sort=True).ngroup().to_numpy()
    r = frame.groupby(["speaker", "repeat"], sort=True).ngroup().to_numpy()
    # ngroup numbers groups in sorted order, so subtracting each speaker's first number ranks
    # its clips (repeats) from 0
    c = c - pd.Series(c).groupby(s).transform("min").to_numpy()
    r = r - pd.Series(r).groupby(s).transform("min").to_numpy()
    n_s = s.max() + 1
    n_clips = np.zeros(n_s, int)
    np.maximum.at(n_clips, s, c + 1)
    n_repeats = np.zeros(n_s, int)
    np.maximum.at(n_repeats, s, r + 1)
    values = np.full((n_s, n_clips.max(), n_repeats.max()), np.nan)
    values[s, c, r] = frame[cells.name].to_numpy(float)
    return values, n_clips, n_repeats


def _masked_mean(x, valid, axis):
    """Mean of x over axis where valid, and whether any was valid (no warnings on empty)."""
    count = valid.sum(axis)
    total = np.where(valid, x, 0.0).sum(axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count, count > 0


def expanded_tail(alpha: float, n: int) -> float:
    """The tail probability at which to read bootstrap percentiles of a mean over n units.

    The plain percentile interval is too narrow for few units: the bootstrap's variance divides
    by n, not n - 1, and its tails are normal, not Student's t (about 85% coverage for 5
    speakers). The expanded percentile interval (Hesterberg 2015, "What teachers should know
    about the bootstrap") reads them at Phi(-sqrt(n / (n - 1)) * t_{n-1}(1 - alpha)) instead:
    0.001 for 5 speakers, 0.007 for 9, 0.019 for 30, alpha itself as n grows."""
    if n < 2:
        return alpha
    return float(ndtr(-np.sqrt(n / (n - 1)) * stdtrit(n - 1, 1 - alpha)))


def hierarchical_bootstrap(
    table: pd.DataFrame, value: str, n_resamples: int = 2000, seed: int = 0, level: float = 0.95
):
    """Percentile interval of the mean over speakers of speaker means, from a bootstrap that
    resamples speakers, then clips within each drawn speaker (as many as it has), then repeats
    (drawn once per drawn speaker and shared by its clips, since one training run of a fold
    covers all of its clips). The percentiles are expanded for few speakers (`expanded_tail`).
    Fixed seed -> identical result. Returns (low, high). sendflow's interval until the coverage
    study of this script replaced it."""
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    cells = clip_repeat_values(table, value)
    if cells.empty:
        return float("nan"), float("nan")
    values, n_clips, n_repeats = _dense(cells)
    n_s, max_c, max_r = values.shape
    flat = values.ravel()
    clip_slot, repeat_slot = np.arange(max_c), np.arange(max_r)
    rng = np.random.default_rng(seed)
    per_resample = n_s * max_c * max_r
    chunk = max(1, CHUNK_ELEMENTS // per_resample)
    stats = np.empty(n_resamples)
    for start in range(0, n_resamples, chunk):
        b = min(chunk, n_resamples - start)
        sp = rng.integers(0, n_s, (b, n_s))
        nc, nr = n_clips[sp][..., None], n_repeats[sp][..., None]
        # uniform draws scaled by each drawn speaker's own count keep indices inside its data
        # (the minimum guards against u * n rounding up to n); slots past the count are masked
        ci = np.minimum((rng.random((b, n_s, max_c)) * nc).astype(np.int64), nc - 1)
        ri = np.minimum((rng.random((b, n_s, max_r)) * nr).astype(np.int64), nr - 1)
        index = ((sp[..., None, None] * max_c + ci[..., :, None]) * max_r) + ri[..., None, :]
        drawn = flat[index]  # (b, speakers, clips, repeats)
        repeat_used = (repeat_slot < nr)[..., None, :] & ~np.isnan(drawn)
        clip_mean, clip_ok = _masked_mean(drawn, repeat_used, axis=-1)
        # a drawn clip can also be empty when all its drawn repeats are missing rows
        speaker_mean, speaker_ok = _masked_mean(clip_mean, clip_ok & (clip_slot < nc), axis=-1)
        stats[start : start + b] = _masked_mean(speaker_mean, speaker_ok, axis=-1)[0]
    alpha = expanded_tail((1 - level) / 2, n_s)
    low, high = np.nanquantile(stats, [alpha, 1 - alpha])
    return float(low), float(high)


def speaker_term(rng, dist: str, sd: float, shape) -> np.ndarray:
    """Mean-0 draws with standard deviation sd: normal, skewed (a centred gamma with shape 2,
    skewness 1.4) or heavy-tailed (Student's t with 3 degrees of freedom)."""
    if dist == "normal":
        return rng.normal(0, sd, shape)
    if dist == "skewed":
        return (rng.gamma(2.0, 1.0, shape) - 2.0) / np.sqrt(2.0) * sd
    if dist == "heavy":
        return rng.standard_t(3, shape) / np.sqrt(3.0) * sd
    raise ValueError(f"unknown speaker distribution {dist!r}")


def simulate(rng, a, n_speakers: int, effect: float) -> np.ndarray:
    """data sets x speakers x clips x repeats of per-clip differences (see the module docstring)."""
    d, s, c, r = a.datasets, n_speakers, a.clips, a.repeats
    values = effect + speaker_term(rng, a.speaker_dist, a.sd_speaker, (d, s, 1, 1))
    values = values + rng.normal(0, a.sd_clip, (d, s, c, 1)) + rng.normal(0, a.sd_repeat, (d, s, c, r))
    if a.sd_run:
        run = rng.normal(0, a.sd_run, (d, a.folds, r))  # one training run per fold and repeat
        values = values + run[:, np.arange(s) % a.folds][:, :, None, :]
    return values


def long_table(values: np.ndarray) -> pd.DataFrame:
    """One data set as the per-clip table the project's functions read."""
    s, c, r = values.shape
    index = pd.MultiIndex.from_product([range(s), range(c), range(r)], names=["speaker", "clip_id", "repeat"])
    return pd.DataFrame({"diff": values.ravel()}, index=index).reset_index()


def speaker_bootstraps(means: np.ndarray, rng) -> dict:
    """The bootstrap candidates over speaker means (data sets x speakers), each (low, high)."""
    d, n = means.shape
    estimate = means.mean(axis=1)
    out = {name: (np.empty(d), np.empty(d)) for name in CANDIDATES[1:5]}
    expanded = expanded_tail(ALPHA, n)
    jackknife = (means.sum(axis=1, keepdims=True) - means) / (n - 1)
    spread = jackknife.mean(axis=1, keepdims=True) - jackknife
    acceleration = (spread**3).sum(axis=1) / (6 * ((spread**2).sum(axis=1)) ** 1.5)
    sd = means.std(axis=1, ddof=1)
    z = ndtri(np.array([ALPHA, 1 - ALPHA]))
    for start in range(0, d, 100):
        block = slice(start, min(start + 100, d))
        m = means[block]
        drawn = np.take_along_axis(m[:, None, :], rng.integers(0, n, (m.shape[0], BOOTSTRAP, n)), axis=2)
        boot = drawn.mean(axis=2)
        for name, tails in (("speaker percentile", [ALPHA, 1 - ALPHA]), ("speaker expanded", [expanded, 1 - expanded])):
            q = np.quantile(boot, tails, axis=1)
            out[name][0][block], out[name][1][block] = q
        # BCa: the bias correction from the share of resamples below the estimate
        z0 = ndtri(np.clip((boot < estimate[block, None]).mean(axis=1), 1 / BOOTSTRAP, 1 - 1 / BOOTSTRAP))
        acc = acceleration[block]
        for side, zq in enumerate(z):
            tail = ndtr(z0 + (z0 + zq) / (1 - acc * (z0 + zq)))
            out["speaker BCa"][side][block] = [np.quantile(b, t) for b, t in zip(boot, tail)]
        # bootstrap-t: resamples of one repeated speaker have no spread and are left out
        boot_sd = drawn.std(axis=2, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(boot_sd > 0, (boot - estimate[block, None]) / (boot_sd / np.sqrt(n)), np.nan)
        t_low, t_high = np.nanquantile(t, [ALPHA, 1 - ALPHA], axis=1)
        se = sd[block] / np.sqrt(n)
        out["speaker studentised"][0][block] = estimate[block] - t_high * se
        out["speaker studentised"][1][block] = estimate[block] - t_low * se
    return out


def cell(rng, a, n_speakers: int, effect: float) -> dict:
    """Coverage and "better" rate of every candidate, and the permutation test's rejections."""
    values = simulate(rng, a, n_speakers, effect)
    means = values.mean(axis=(2, 3))  # balanced: the project's speaker_means
    intervals = speaker_bootstraps(means, rng)
    estimate, se = means.mean(axis=1), means.std(axis=1, ddof=1) / np.sqrt(n_speakers)
    half = stdtrit(n_speakers - 1, 1 - ALPHA) * se
    intervals["t"] = (estimate - half, estimate + half)
    hier, flip, p = [], [], []
    for i in range(a.datasets):
        h = hierarchical_bootstrap(long_table(values[i]), "diff", n_resamples=BOOTSTRAP, seed=i)
        f = sign_flip(means[i], level=LEVEL, n_resamples=MONTE_CARLO_FLIPS, seed=i)
        hier.append(h)
        flip.append((f.low, f.high))
        p.append(f.p)
    intervals["hierarchical"] = tuple(np.array(hier).T)
    intervals["sign-flip"] = tuple(np.array(flip).T)
    row = {"speakers": n_speakers, "effect": effect}
    for name in CANDIDATES:
        low, high = intervals[name]
        row[f"{name} coverage"] = np.mean((low <= effect) & (effect <= high))
        row[f"{name} better"] = np.mean(low > 0)
    row["permutation p <= 0.05"] = np.mean(np.array(p) <= 1 - LEVEL)
    return row


def estimate_components(path, factor: str, candidate: str, reference: str, fixed: list[str]) -> dict:
    """Standard deviations of the simulation's terms for one comparison of a run with repeats,
    by the method of moments on per_clip.csv: the repeat term from each clip's spread over
    repeats, the run term from each fold's mean over its clips across repeats, the clip term
    from each speaker's clip means, the speaker term from the speaker means."""
    clips = pd.read_csv(path)
    keys = [k for k in ("extractor", "classifier", "labels") if k != factor]
    chosen = clips[clips[keys].astype(str).apply(tuple, axis=1) == tuple(fixed)] if fixed else clips
    a = chosen[chosen[factor] == candidate].drop(columns=factor)
    b = chosen[chosen[factor] == reference].drop(columns=factor)
    pairs = a.merge(b, on=[*keys, "fold", "repeat", "speaker", "clip_id"])
    if pairs.empty:
        sys.exit(f"{path}: no clips where {candidate} and {reference} both ran with {fixed}")
    pairs["diff"] = pairs["ccc_x"] - pairs["ccc_y"]
    repeats = pairs["repeat"].nunique()
    within_clip = pairs.groupby("clip_id")["diff"].var(ddof=1).mean()  # run + repeat
    runs = pairs.groupby(["fold", "repeat"])["diff"].mean().groupby("fold").var(ddof=1).mean()
    clips_per_fold = pairs.groupby("fold")["clip_id"].nunique().mean()
    # within_clip = run + rep, runs = run + rep / clips_per_fold
    rep = max(0.0, (within_clip - runs) / (1 - 1 / clips_per_fold))
    run = max(0.0, within_clip - rep)
    clip_means = pairs.groupby(["speaker", "clip_id"])["diff"].mean()
    per_speaker = clip_means.groupby("speaker")
    clip = max(0.0, per_speaker.var(ddof=1).mean() - rep / repeats)
    n_clips = per_speaker.size().mean()
    speaker = max(0.0, per_speaker.mean().var(ddof=1) - clip / n_clips - rep / (repeats * n_clips) - run / repeats)
    return {
        "pairs": len(pairs),
        "speakers": pairs["speaker"].nunique(),
        "repeats": repeats,
        "mean diff": pairs["diff"].mean(),
        "sd-speaker": np.sqrt(speaker),
        "sd-clip": np.sqrt(clip),
        "sd-repeat": np.sqrt(rep),
        "sd-run": np.sqrt(run),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--speakers", nargs="+", type=int, default=[10, 15, 30])
    p.add_argument("--effects", nargs="+", type=float, default=[0.0, 0.05, 0.1])
    p.add_argument("--datasets", type=int, default=2000)
    p.add_argument("--clips", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--sd-speaker", type=float, default=0.20)
    p.add_argument("--sd-clip", type=float, default=0.09)
    p.add_argument("--sd-repeat", type=float, default=0.24)
    p.add_argument("--sd-run", type=float, default=0.0)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--speaker-dist", choices=["normal", "skewed", "heavy"], default="normal")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--estimate", help="per_clip.csv of a run with repeats: print the standard deviations")
    p.add_argument("--factor", default="extractor")
    p.add_argument("--candidate", default="resattn")
    p.add_argument("--reference", default="resnet")
    p.add_argument("--fixed", nargs="*", default=["mstcn", "three"], help="the other model keys, in order")
    a = p.parse_args(argv)
    if a.estimate:
        print(estimate_components(a.estimate, a.factor, a.candidate, a.reference, a.fixed))
        return 0
    rng = np.random.default_rng(a.seed)
    rows = []
    for n in a.speakers:
        for effect in a.effects:
            start = time.perf_counter()
            rows.append(cell(rng, a, n, effect))
            print(f"{n} speakers, effect {effect}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    settings = {k: getattr(a, k) for k in ("datasets", "clips", "repeats", "sd_speaker", "sd_clip", "sd_repeat")}
    settings.update(sd_run=a.sd_run, folds=a.folds, speaker_dist=a.speaker_dist, seed=a.seed)
    print(" ".join(f"{k}={v}" for k, v in settings.items()))
    for what in ("coverage", "better"):
        columns = [f"{name} {what}" for name in CANDIDATES]
        part = table[["speakers", "effect", *columns]].rename(columns=dict(zip(columns, CANDIDATES)))
        if what == "better":
            part["permutation p <= 0.05"] = table["permutation p <= 0.05"]
        print(f"\n{what}\n" + markdown_table(part))
    coverage = table[[f"{name} coverage" for name in CANDIDATES]].set_axis(CANDIDATES, axis=1)
    ok = coverage.min() >= 0.94
    distance = (coverage - LEVEL).abs().mean()
    print("\nnever below 0.94:", ", ".join(c for c in CANDIDATES if ok[c]) or "none")
    print("mean |coverage - 0.95|:", ", ".join(f"{c} {distance[c]:.4f}" for c in CANDIDATES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
