"""The frame check: which clips' frames the later stages use. The frame jobs only measure (a
video that cannot be read leaves a marker with the reason; a readable one records how far its
ratings run past its last frame), and this one job decides by `frames.on_bad_video` and
`frames.max_rating_overhang_s`. So changing either setting reruns this check alone, and what
comes after it only where a clip's outcome changed."""

import logging

from ..errors import SendDataError

log = logging.getLogger(__name__)


def clip_problem(arrays: dict, max_overhang_s: float) -> str:
    """Why a clip's frames are not to be used ('' when they are): its video could not be read,
    or its ratings run further past its last frame than `max_overhang_s`."""
    if arrays["skipped"]:
        return str(arrays["reason"])
    if float(arrays["overhang_s"]) > max_overhang_s:
        return str(arrays["overhang_problem"])
    return ""


def decide(problems: dict[str, str], on_bad_video: str) -> None:
    """Act on each clip's problem ('' for none): with `on_bad_video: error` the first stops the
    run, naming its file (the others are logged); with `skip` each is logged, and the clip's
    row of the frame check's table says skipped, so no later stage reads its frames."""
    bad = {clip: problem for clip, problem in problems.items() if problem}
    action = "is bad" if on_bad_video == "error" else "skipped (frames.on_bad_video: skip)"
    for clip, problem in bad.items():
        log.warning("clip %s %s: %s", clip, action, problem)
    if bad and on_bad_video == "error":
        more = f" ({len(bad) - 1} more bad clips in the log)" if len(bad) > 1 else ""
        raise SendDataError(None, f"{next(iter(bad.values()))}{more}")
