"""What `run` and `sweep` share: flags read into config values, inputs and output paths checked before any work,
each error as one short line, a progress bar, and Ctrl-C as a clean stop that keeps what finished."""

from __future__ import annotations

import os
import signal
import stat
import sys
import time

from ..config import FIELD_KINDS, ConfigError, ExperimentConfig, shown

# flag -> config field; values are parsed by the config's own field parser
FLAGS = {
    "--problem": "problem", "--dataset": "dataset", "--n-samples": "n_samples", "--n-features": "n_features",
    "--n-classes": "n_classes", "--noise": "noise", "--csv": "csv_path", "--target": "target",
    "--batch-sizes": "batch_sizes", "--optimizer": "optimizer", "--lr": "lrs", "--momentum": "momentum",
    "--schedule": "schedule", "--seeds": "seeds", "--dtype": "dtype", "--sampling": "sampling",
    "--target-loss": "target_loss", "--checkpoints": "n_checkpoints", "--time-limit": "time_limit_s",
}

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


def int_flag(flag, text, lo, hi) -> int:
    """An integer flag's value in [lo, hi] (ASCII digits, the config's rule); ConfigError saying so otherwise."""
    try:
        if not text.strip().isascii():
            raise ValueError
        v = int(text)
    except ValueError:
        raise ConfigError(f"{flag} must be an integer in [{lo}, {hi}]; got {shown(text)}") from None
    if not lo <= v <= hi:
        raise ConfigError(f"{flag} must be an integer in [{lo}, {hi}]; got {v}")
    return v


def add_cluster_flags(parser) -> None:
    """--scheduler and its TLS files (gd_core.cli.executor), for `run` and `sweep`."""
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the groups on a Dask cluster: tcp://HOST:PORT, tls://HOST:PORT or local:N "
                             "(needs pip install -r requirements-dask.txt; plain tcp:// is unauthenticated)")
    parser.add_argument("--tls-ca-file", metavar="PEM", help="with a tls:// scheduler: the CA certificate")
    parser.add_argument("--tls-cert", metavar="PEM", help="with a tls:// scheduler: this client's certificate")
    parser.add_argument("--tls-key", metavar="PEM", help="with a tls:// scheduler: this client's private key")


def tls_files(args) -> dict:
    """The TLS flags as executor.open_executor takes them; ConfigError for a file that cannot be read."""
    files = {"ca_file": args.tls_ca_file, "cert": args.tls_cert, "key": args.tls_key}
    for name, path in files.items():
        if path is not None and not os.path.isfile(path):
            flag = {"ca_file": "--tls-ca-file", "cert": "--tls-cert", "key": "--tls-key"}[name]
            raise ConfigError(f"{flag} must name a readable PEM file; got {str(path)[:200]!r}")
    return files


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


def values_from_args(args, skip_flags=()) -> dict:
    """Config values from --config, the field flags (bar `skip_flags`) and --set, as given (not validated)."""
    values = {}
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as fh:
                values = ExperimentConfig.from_json(fh.read()).to_dict()
        except OSError as e:
            raise ConfigError(f"cannot read --config {args.config}: {e.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"--config {args.config} is not UTF-8 text") from None
    for flag, name in FLAGS.items():
        if flag not in skip_flags and getattr(args, name, None) is not None:
            values[name] = getattr(args, name)
    if getattr(args, "csv_path", None) is not None and args.dataset is None:
        values["dataset"] = "csv"  # --csv implies the CSV dataset
    for item in args.set:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in FIELD_KINDS:
            raise ConfigError(f"--set takes FIELD=VALUE with FIELD one of {', '.join(FIELD_KINDS)}; "
                              f"got {shown(item)}")
        values[key] = value
    if values.get("csv_path"):
        check_input_file("csv_path", values["csv_path"])
    return values


class ProgressBar:
    """A one-line bar on stderr, redrawn at most ten times a second; only on a terminal (a log file or a pipe
    gets the result and error lines alone)."""

    def __init__(self, enabled: bool):
        self.enabled, self.last, self.drawn = enabled and sys.stderr.isatty(), 0.0, False

    def __call__(self, fraction: float, message: str):
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.1 and fraction < 1.0):
            return
        self.last = now
        filled = int(30 * fraction)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {100 * fraction:5.1f}%  {message[:50]:<50}")
        self.drawn = fraction < 1.0
        if fraction >= 1.0:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def clear(self) -> None:
        """Erase a bar left mid-line, so that the next line written is the only one on screen."""
        if self.drawn:
            sys.stderr.write("\r\033[K")
            self.drawn = False
