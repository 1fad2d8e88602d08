"""A start-up check that the file holding the bot token is not readable by other users."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

log = logging.getLogger(__name__)


def warn_if_env_file_is_shared(path: Path = Path(".env")) -> bool:
    """Logs a warning (and returns True) when `path` can be read by its group or by others."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning(
            "%s holds the bot token but other users can read it: run `chmod 600 %s`", path, path
        )
        return True
    return False
