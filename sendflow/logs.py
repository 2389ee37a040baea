"""Logging for the scripts that Snakemake rules run: to the rule's log file and to stderr."""

import logging
import sys


def setup(log_path=None, level=logging.INFO) -> logging.Logger:
    """Send sendflow's log records to `log_path` (if given) and stderr; return the root logger."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(
        level=level, handlers=handlers, force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logger = logging.getLogger("sendflow")

    def log_uncaught(kind, error, trace):
        # The rule's log file must say why a job failed, not only Snakemake's console.
        logger.critical("job failed: %s: %s", kind.__name__, error, exc_info=(kind, error, trace))

    sys.excepthook = log_uncaught
    return logger
