"""Logging for the daemon: a terminal gets timestamps, journald gets syslog priorities."""

from __future__ import annotations

import logging
import os
from typing import ClassVar


def configure_logging(verbose: bool = False) -> None:
    """Logs for a terminal, or for journald: no timestamps (journald adds its own) and each
    line prefixed with its syslog priority (``<3>`` error .. ``<7>`` debug), which journald reads
    as the entry's level."""
    level = logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler()
    if _stderr_is_journal():
        handler.setFormatter(_JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def _stderr_is_journal() -> bool:
    """True when stderr is the journal stream systemd announced in JOURNAL_STREAM (dev:inode)."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat(2)
    except OSError:
        return False
    return stream == f"{st.st_dev}:{st.st_ino}"


class _JournalFormatter(logging.Formatter):
    PRIORITY: ClassVar[dict[int, int]] = {
        logging.DEBUG: 7,
        logging.INFO: 6,
        logging.WARNING: 4,
        logging.ERROR: 3,
    }

    def format(self, record: logging.LogRecord) -> str:
        priority = self.PRIORITY.get(record.levelno, 2 if record.levelno > logging.ERROR else 6)
        text = super().format(record).replace("\n", f"\n<{priority}>")
        return f"<{priority}>{text}"
