"""The container's health check (deploy/Dockerfile's HEALTHCHECK): exit 0 when Streamlit's /_stcore/health
on PORT (default 8501) answers "ok" within 5 s, else 1 with one line saying why."""

import os
import sys
import urllib.request

url = f"http://127.0.0.1:{os.environ.get('PORT', '8501')}/_stcore/health"
try:
    with urllib.request.urlopen(url, timeout=5) as response:
        body = response.read().strip()
except OSError as e:
    sys.exit(f"unhealthy: {url}: {e}")
if body != b"ok":
    sys.exit(f"unhealthy: {url} answered {body[:80]!r}")
