"""SEND's acoustic features: openSMILE's eGeMAPSv02 functionals over windows every 0.5 s (2 Hz),
`{root}/features/{split}/acoustic-egemaps/ID{n}_vid{m}_acousticFeatures.csv`. Columns `name`
(openSMILE's instance name, such as 'unknown': not read), `frameTime` (seconds) and the 88
functionals, comma separated, names and values possibly after a space (openSMILE's `;` is
read too).

DEFAULT_COLUMNS: all 88, in openSMILE's order, as openSMILE 3's library names them for
config/egemaps/v02/eGeMAPSv02.conf (functionals level; github.com/audeering/opensmile and the
opensmile Python package, which ships that library and config).
"""

import numpy as np

from .parse import check_increasing, read_numeric

MODALITY = "audio"  # in the terms of SEND's published results (report/published.py)
TIME_COLUMN = "frameTime"
DEFAULT_COLUMNS = (
    *("F0semitoneFrom27.5Hz_sma3nz_amean", "F0semitoneFrom27.5Hz_sma3nz_stddevNorm"),
    *("F0semitoneFrom27.5Hz_sma3nz_percentile20.0", "F0semitoneFrom27.5Hz_sma3nz_percentile50.0"),
    *("F0semitoneFrom27.5Hz_sma3nz_percentile80.0", "F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2"),
    *("F0semitoneFrom27.5Hz_sma3nz_meanRisingSlope", "F0semitoneFrom27.5Hz_sma3nz_stddevRisingSlope"),
    *("F0semitoneFrom27.5Hz_sma3nz_meanFallingSlope", "F0semitoneFrom27.5Hz_sma3nz_stddevFallingSlope"),
    *("loudness_sma3_amean", "loudness_sma3_stddevNorm", "loudness_sma3_percentile20.0"),
    *("loudness_sma3_percentile50.0", "loudness_sma3_percentile80.0", "loudness_sma3_pctlrange0-2"),
    *("loudness_sma3_meanRisingSlope", "loudness_sma3_stddevRisingSlope", "loudness_sma3_meanFallingSlope"),
    *("loudness_sma3_stddevFallingSlope", "spectralFlux_sma3_amean", "spectralFlux_sma3_stddevNorm"),
    *("mfcc1_sma3_amean", "mfcc1_sma3_stddevNorm", "mfcc2_sma3_amean", "mfcc2_sma3_stddevNorm"),
    *("mfcc3_sma3_amean", "mfcc3_sma3_stddevNorm", "mfcc4_sma3_amean", "mfcc4_sma3_stddevNorm"),
    *("jitterLocal_sma3nz_amean", "jitterLocal_sma3nz_stddevNorm"),
    *("shimmerLocaldB_sma3nz_amean", "shimmerLocaldB_sma3nz_stddevNorm"),
    *("HNRdBACF_sma3nz_amean", "HNRdBACF_sma3nz_stddevNorm"),
    *("logRelF0-H1-H2_sma3nz_amean", "logRelF0-H1-H2_sma3nz_stddevNorm"),
    *("logRelF0-H1-A3_sma3nz_amean", "logRelF0-H1-A3_sma3nz_stddevNorm"),
    *("F1frequency_sma3nz_amean", "F1frequency_sma3nz_stddevNorm"),
    *("F1bandwidth_sma3nz_amean", "F1bandwidth_sma3nz_stddevNorm"),
    *("F1amplitudeLogRelF0_sma3nz_amean", "F1amplitudeLogRelF0_sma3nz_stddevNorm"),
    *("F2frequency_sma3nz_amean", "F2frequency_sma3nz_stddevNorm"),
    *("F2bandwidth_sma3nz_amean", "F2bandwidth_sma3nz_stddevNorm"),
    *("F2amplitudeLogRelF0_sma3nz_amean", "F2amplitudeLogRelF0_sma3nz_stddevNorm"),
    *("F3frequency_sma3nz_amean", "F3frequency_sma3nz_stddevNorm"),
    *("F3bandwidth_sma3nz_amean", "F3bandwidth_sma3nz_stddevNorm"),
    *("F3amplitudeLogRelF0_sma3nz_amean", "F3amplitudeLogRelF0_sma3nz_stddevNorm"),
    *("alphaRatioV_sma3nz_amean", "alphaRatioV_sma3nz_stddevNorm"),
    *("hammarbergIndexV_sma3nz_amean", "hammarbergIndexV_sma3nz_stddevNorm"),
    *("slopeV0-500_sma3nz_amean", "slopeV0-500_sma3nz_stddevNorm"),
    *("slopeV500-1500_sma3nz_amean", "slopeV500-1500_sma3nz_stddevNorm"),
    *("spectralFluxV_sma3nz_amean", "spectralFluxV_sma3nz_stddevNorm"),
    *("mfcc1V_sma3nz_amean", "mfcc1V_sma3nz_stddevNorm", "mfcc2V_sma3nz_amean", "mfcc2V_sma3nz_stddevNorm"),
    *("mfcc3V_sma3nz_amean", "mfcc3V_sma3nz_stddevNorm", "mfcc4V_sma3nz_amean", "mfcc4V_sma3nz_stddevNorm"),
    *("alphaRatioUV_sma3nz_amean", "hammarbergIndexUV_sma3nz_amean", "slopeUV0-500_sma3nz_amean"),
    *("slopeUV500-1500_sma3nz_amean", "spectralFluxUV_sma3nz_amean", "loudnessPeaksPerSec"),
    *("VoicedSegmentsPerSec", "MeanVoicedSegmentLengthSec", "StddevVoicedSegmentLengthSec"),
    *("MeanUnvoicedSegmentLength", "StddevUnvoicedSegmentLength", "equivalentSoundLevel_dBp"),
)
HINT = "set the table's columns to eGeMAPS functional names (loudness_sma3_amean, ...)"


def _separator(path) -> str:
    """`;` where the header has semicolons and no comma (openSMILE's own CSV sink), else `,`."""
    try:
        with open(path, "rb") as f:
            first = f.readline()
    except OSError:
        return ","  # read_numeric names the problem
    return ";" if b";" in first and b"," not in first else ","


def read(path, columns, options=None) -> tuple[np.ndarray, np.ndarray]:
    columns = list(columns)
    table = read_numeric(path, "eGeMAPS", [TIME_COLUMN, *columns], HINT, sep=_separator(path))
    times = table[TIME_COLUMN].to_numpy()
    values = table[columns].to_numpy(np.float64)
    timed = ~np.isnan(times)
    times, values = times[timed], values[timed]
    check_increasing(times, path, TIME_COLUMN)
    return times, values
