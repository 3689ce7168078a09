"""Log formats: one JSON object per line in production (for a log collector), readable lines under `make run`.

Services log with ``extra={...}`` (who, what, which object); both formats print those fields.
"""

import json
import logging

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _extra(record):
    return {key: value for key, value in vars(record).items() if key not in _STANDARD and not key.startswith("_")}


class JsonFormatter(logging.Formatter):
    def format(self, record):
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
            **_extra(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class ReadableFormatter(logging.Formatter):
    def format(self, record):
        text = super().format(record)
        fields = " ".join(f"{key}={value}" for key, value in _extra(record).items())
        return f"{text} {fields}" if fields else text
