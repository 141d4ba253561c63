"""Logging for the daemon: a terminal gets timestamps, journald gets syslog priorities.

Log messages quote what arrives from outside (rejection reasons, radio names, exception texts), so
both formatters make every argument of a message inert (``relay.inert``: no control, bidi or line
break character of a received string reaches the terminal or the journal, and a received newline
cannot start a fake log line with a priority of its own).  The message format strings are the
program's own and keep their line structure; traceback lines are made inert one by one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any, ClassVar

from relay.inert import inert_line

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def configure_logging(verbose: bool = False) -> None:
    """Logs for a terminal, or for journald: no timestamps (journald adds its own) and each
    line prefixed with its syslog priority (``<3>`` error .. ``<7>`` debug), which journald reads
    as the entry's level."""
    level = logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler()
    if _stderr_is_journal():
        handler.setFormatter(_JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(_InertFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def _stderr_is_journal() -> bool:
    """True when stderr is the journal stream systemd announced in JOURNAL_STREAM (dev:inode)."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat(2)
    except OSError:
        return False
    return stream == f"{st.st_dev}:{st.st_ino}"


def _inert_arg(value: object) -> object:
    """A log argument as it may be shown: numbers stay numbers (for ``%d``), anything else
    becomes its inert text."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    return inert_line(str(value))


def inert_message(record: logging.LogRecord) -> str:
    """``record``'s message with every argument inert (the format string is the program's)."""
    args = record.args
    if not args:
        return str(record.msg)
    if isinstance(args, Mapping):
        safe: Any = {key: _inert_arg(value) for key, value in args.items()}
    else:
        safe = tuple(_inert_arg(value) for value in args)
    try:
        return str(str(record.msg) % safe)
    except (TypeError, ValueError):  # e.g. %x given a converted object: inert the whole message
        return inert_line(record.getMessage())


class _InertFormatter(logging.Formatter):
    """A formatter whose messages and tracebacks hold nothing a received string could steer."""

    def format(self, record: logging.LogRecord) -> str:
        original_msg, original_args = record.msg, record.args
        record.msg, record.args = inert_message(record), None
        try:
            return super().format(record)
        finally:
            record.msg, record.args = original_msg, original_args

    def formatException(self, ei: ExcInfo) -> str:
        return "\n".join(inert_line(line) for line in super().formatException(ei).split("\n"))


class _JournalFormatter(_InertFormatter):
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
