"""Logging of the processes `tec` starts: text for people, JSON for log collectors.

Every line carries the request ID (``-`` outside a request), also for uvicorn's own
loggers, so a line can be matched with the ``X-Request-ID`` a partner reports.
"""

from __future__ import annotations

import logging.config
from typing import Any

from gateway.http import install_request_id_on_log_records
from services.settings import Settings

TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"


def log_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for these settings (also handed to uvicorn)."""
    if settings.observability.log_format == "json":
        formatter: dict[str, Any] = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    else:
        formatter = {"format": TEXT}
    level = settings.observability.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            },
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": ["default"], "level": level, "propagate": False},
            "tortoise": {"level": "WARNING"},
        },
    }


def configure_logging(settings: Settings) -> dict[str, Any]:
    """Apply the logging configuration now; returns it for uvicorn."""
    install_request_id_on_log_records()
    config = log_config(settings)
    logging.config.dictConfig(config)
    return config
