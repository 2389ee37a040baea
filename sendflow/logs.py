"""Logging for the scripts that Snakemake rules run: to the rule's log file and to stderr."""

import atexit
import logging
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def setup(log_path=None, level=logging.INFO) -> logging.Logger:
    """Send sendflow's log records to `log_path` (if given) and stderr; return the root logger.

    Snakemake deletes a job's log before running it again, so a job resumed after an
    interruption would lose the lines of its earlier attempts. Each attempt therefore also
    writes a journal beside the log (`.{log}.attempts`); a new attempt starts its log with the
    journal's lines, and only a job that ends without an exception removes the journal."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    journal = None
    if log_path:
        log_path, journal = Path(log_path), _journal(log_path)
        if journal.exists():
            log_path.write_text(journal.read_text())
        handlers += [logging.FileHandler(log_path, mode="a"), logging.FileHandler(journal, mode="a")]
    logging.basicConfig(
        level=level,
        handlers=handlers,
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logger = logging.getLogger("sendflow")
    failed = []

    def log_uncaught(kind, error, trace):
        # The rule's log file must say why a job failed, not only Snakemake's console.
        failed.append(kind)
        logger.critical("job failed: %s: %s", kind.__name__, error, exc_info=(kind, error, trace))

    sys.excepthook = log_uncaught
    atexit.unregister(_at_exit)  # once per process, however often setup is called
    atexit.register(_at_exit, logger, journal, failed)
    logger.info("--- job started ---")
    return logger


def _journal(log_path) -> Path:
    log_path = Path(log_path)
    return log_path.with_name(f".{log_path.name}.attempts")


def _at_exit(logger: logging.Logger, journal: Path | None, failed: list) -> None:
    _log_code_used(logger)
    if journal is not None and not failed:
        logging.shutdown()
        journal.unlink(missing_ok=True)


def _log_code_used(logger: logging.Logger) -> None:
    """Name every sendflow file the job ran, at its end, so a test can check that the rule
    declares each of them as a code input (see sendflow/code_inputs.py)."""
    logging.raiseExceptions = False  # at exit a closed stream (a test's capture) is no error worth a trace
    used = sorted(
        str(Path(m.__file__).resolve().relative_to(PROJECT))
        for name, m in list(sys.modules.items())
        if (name == "sendflow" or name.startswith("sendflow.")) and getattr(m, "__file__", None)
    )
    logger.info("sendflow code used: %s", " ".join(used))
