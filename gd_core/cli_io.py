"""The command line's process boundary, shared by `run` and `sweep`: inputs and output paths checked before any
work, each error as one short line, Ctrl-C as a clean stop that keeps what finished."""

from __future__ import annotations

import os
import signal
import stat

from .config import ConfigError

MAX_ERROR_CHARS = 1000  # an error line never repeats a huge value (a million seeds was a 7.9 MB line)
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def error_line(error) -> str:
    """`error: <message>` on exactly one line, cut to MAX_ERROR_CHARS."""
    text = " ".join(str(error).split())
    if len(text) > MAX_ERROR_CHARS:
        text = f"{text[:MAX_ERROR_CHARS - 30]}... ({len(text):,} characters)"
    return f"error: {text}\n"


def check_input_file(flag: str, path) -> None:
    """Raise ConfigError unless `path` is a regular file, if it exists at all (the loader reports a missing one):
    a device such as /dev/zero or /dev/urandom, a pipe or a directory has no size to check and may never end."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, TypeError, ValueError):
        return
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{flag} must be a regular CSV file; got {str(path)[:200]!r}, which is a "
                          f"{'directory' if stat.S_ISDIR(mode) else 'device, pipe or socket'}")


def check_outputs(paths: dict[str, str | None]) -> None:
    """Raise ConfigError if an output path ({flag: path}) cannot be written, before anything runs or is written."""
    seen: dict[str, str] = {}
    for flag, path in paths.items():
        if path is None:
            continue
        shown = repr(str(path)[:200])
        real = os.path.realpath(path)
        if real in seen:
            raise ConfigError(f"{flag} and {seen[real]} name the same file {shown}; give two files")
        seen[real] = flag
        if os.path.isdir(path):
            raise ConfigError(f"{flag} must be a file path; got {shown}, which is a directory")
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise ConfigError(f"{flag} must be in an existing directory; got {shown}")
        target = path if os.path.exists(path) else parent
        if not os.access(target, os.W_OK):
            raise ConfigError(f"{flag} must be a writable path; got {shown} (permission denied)")


class StopOnInterrupt:
    """While active, the first Ctrl-C only sets `stopped` (the work ends at its next check and keeps what
    finished); a second one raises KeyboardInterrupt at once."""

    def __init__(self):
        self.stopped = False

    def _handler(self, signum, frame):
        if self.stopped:
            raise KeyboardInterrupt
        self.stopped = True

    def __enter__(self) -> StopOnInterrupt:
        self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGINT, self._old)
