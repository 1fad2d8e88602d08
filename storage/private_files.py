"""Files and folders that hold readers' data, created readable by the bot's user alone.

SQLite would make a new database file 0644 (and its -wal and -shm files take the database
file's mode), so the file is made empty and 0600 first; folders made for it are 0700. Files and
folders that already exist keep the mode their owner gave them.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def make_private_folders(folder: Path) -> None:
    """Creates the folder and any missing parents, each FOLDER_MODE."""
    missing: list[Path] = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        # Another worker starting at the same moment may have made it first.
        each.mkdir(mode=FOLDER_MODE, exist_ok=True)


def create_private_file(path: Path) -> None:
    """Creates the file empty with FILE_MODE, unless it exists already."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
