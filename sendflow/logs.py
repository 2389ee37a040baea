"""Logging for the scripts that Snakemake rules run: to the rule's log file and to stderr."""

import atexit
import logging
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def setup(log_path=None, level=logging.INFO) -> logging.Logger:
    """Send sendflow's log records to `log_path` (if given) and stderr; return the root logger.
    The log file is appended to, so a job resumed after an interruption keeps the lines of its
    earlier attempts (each attempt starts with a line saying so)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="a"))
    logging.basicConfig(
        level=level, handlers=handlers, force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logger = logging.getLogger("sendflow")

    def log_uncaught(kind, error, trace):
        # The rule's log file must say why a job failed, not only Snakemake's console.
        logger.critical("job failed: %s: %s", kind.__name__, error, exc_info=(kind, error, trace))

    sys.excepthook = log_uncaught
    atexit.unregister(_log_code_used)  # once per process, however often setup is called
    atexit.register(_log_code_used, logger)
    logger.info("--- job started ---")
    return logger


def _log_code_used(logger: logging.Logger) -> None:
    """Name every sendflow file the job ran, at its end, so a test can check that the rule
    declares each of them as a code input (see sendflow/code_inputs.py)."""
    logging.raiseExceptions = False  # at exit a closed stream (a test's capture) is no error worth a trace
    used = sorted(str(Path(m.__file__).resolve().relative_to(PROJECT))
                  for name, m in list(sys.modules.items())
                  if (name == "sendflow" or name.startswith("sendflow.")) and getattr(m, "__file__", None))
    logger.info("sendflow code used: %s", " ".join(used))
