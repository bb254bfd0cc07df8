"""Structured logs: one JSON object per line on stdout."""

from __future__ import annotations

import datetime
import json
import logging
import sys
from typing import Any, TextIO

LOGGER = "nsmigrate"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        event = getattr(record, "event", None)
        if event:
            line["event"] = event
            line.update(getattr(record, "fields", {}))
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is when a record is emitted, not when configured."""

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def configure(level: str = "INFO") -> None:
    """Send nsmigrate's log records to stdout as JSON lines."""
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER)
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False


def event(name: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one named event with its fields as a JSON line."""
    logging.getLogger(LOGGER).log(level, name, extra={"event": name, "fields": fields})
