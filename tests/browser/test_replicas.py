"""The hosting recipe (deploy/): the container's entry command serves the app and passes its health check, and
two replicas behind Debian's Caddy with deploy/Caddyfile (cookie-sticky sessions, one cookie secret) serve CSV
downloads to several browsers, each kept on its replica. Docker itself cannot run here: the Dockerfile's
CMD and HEALTHCHECK are read and run directly."""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_browser import download_run_log, open_app, wait_for_idle

from gd_core import LOG_COLUMNS, read_log_csv

_spec = importlib.util.spec_from_file_location("browser_conftest", Path(__file__).with_name("conftest.py"))
_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conftest)  # its helpers (a conftest is not importable by name: tests/ has one too)
_free_port, _healthy, require_chromium, stop_server = (_conftest._free_port, _conftest._healthy,
                                                       _conftest.require_chromium, _conftest.stop_server)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CADDY = "/usr/bin/caddy"


def dockerfile_instruction(name: str) -> list[str]:
    """The exec-form arguments of the Dockerfile's `name` instruction (CMD, or HEALTHCHECK's CMD)."""
    text = (DEPLOY / "Dockerfile").read_text()
    line = next(li for li in text.splitlines() if li.startswith(f"{name} "))
    return re.findall(r'"([^"]*)"', line.split("CMD", 1)[1])


def start_replica(port: int, secret: str, log: Path) -> subprocess.Popen:
    command = [str(ROOT / arg) if arg.startswith("deploy/") else arg for arg in dockerfile_instruction("CMD")]
    env = {**os.environ, "PORT": str(port), "ADDRESS": "127.0.0.1", "GDLAB_COOKIE_SECRET": secret,
           "PYTHON": sys.executable}
    with open(log, "wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_healthy(proc: subprocess.Popen, url: str, log: Path, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > end:
            pytest.fail(f"{url} did not come up (exit {proc.poll()}):\n{log.read_text()[-2000:]}", pytrace=False)
        time.sleep(0.5)


def test_the_entry_command_serves_and_passes_the_health_check(tmp_path):
    port, log = _free_port(), tmp_path / "replica.log"
    check = [sys.executable if a == "python" else str(ROOT / a) if a.startswith("deploy/") else a
             for a in dockerfile_instruction("HEALTHCHECK")]
    env = {**os.environ, "PORT": str(port)}
    assert subprocess.run(check, env=env, capture_output=True, text=True).returncode == 1  # nothing listens yet
    proc = start_replica(port, secrets.token_hex(16), log)
    try:
        wait_healthy(proc, f"http://127.0.0.1:{port}", log)
        done = subprocess.run(check, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def proxy_url(tmp_path_factory):
    require_chromium()
    if not Path(CADDY).exists():
        reason = "Debian caddy not installed: apt-get install -y caddy"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the hosting test must run)", pytrace=False)
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("replicas")
    secret = secrets.token_hex(32)
    ports = [_free_port(), _free_port()]
    procs = [start_replica(p, secret, folder / f"replica{i}.log") for i, p in enumerate(ports)]
    proxy_port = _free_port()
    env = {**os.environ, "GDLAB_SITE": f"http://127.0.0.1:{proxy_port}", "XDG_DATA_HOME": str(folder),
           "XDG_CONFIG_HOME": str(folder), "HOME": str(folder),
           "GDLAB_UPSTREAMS": " ".join(f"127.0.0.1:{p}" for p in ports)}
    with open(folder / "caddy.log", "wb") as out:
        procs.append(subprocess.Popen([CADDY, "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                                      env=env, stdout=out, stderr=subprocess.STDOUT, cwd=folder))
    try:
        for i, p in enumerate(ports):
            wait_healthy(procs[i], f"http://127.0.0.1:{p}", folder / f"replica{i}.log")
        wait_healthy(procs[2], f"http://127.0.0.1:{proxy_port}", folder / "caddy.log")
        yield f"http://127.0.0.1:{proxy_port}"
    finally:
        for proc in procs[::-1]:
            stop_server(proc)


def test_downloads_through_two_sticky_replicas(browser, browser_context_args, proxy_url, tmp_path):
    replicas = set()
    for k in range(4):  # four browsers, each a new session placed by the proxy
        context = browser.new_context(**browser_context_args)
        try:
            page = context.new_page()
            open_app(page, proxy_url)
            wait_for_idle(page)
            cookie = [c["value"] for c in context.cookies() if c["name"] == "gdlab_replica"]
            assert cookie, "the proxy set no sticky-session cookie"
            replicas.add(cookie[0])
            log = read_log_csv(download_run_log(page, tmp_path / f"log{k}.csv"))
            assert list(log.columns) == list(LOG_COLUMNS) and len(log) > 0
        finally:
            context.close()
    assert 1 <= len(replicas) <= 2
