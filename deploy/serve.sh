#!/bin/sh
# The container's entry command (deploy/Dockerfile's CMD), also runnable as is from the repository root:
#   PORT=8501 GDLAB_COOKIE_SECRET=... deploy/serve.sh
# PORT: where the app listens (default 8501). GDLAB_COOKIE_SECRET: Streamlit's server.cookieSecret; give every
# replica behind one proxy the same one. GDLAB_DASK_SCHEDULER (optional): the Dask cluster for sweeps.
set -eu
cd "$(dirname "$0")/.."
set -- --server.headless true --server.address "${ADDRESS:-0.0.0.0}" --server.port "${PORT:-8501}" \
    --server.fileWatcherType none --browser.gatherUsageStats false
if [ -n "${GDLAB_COOKIE_SECRET:-}" ]; then  # Streamlit takes it from its environment only, not as a flag
    export STREAMLIT_SERVER_COOKIE_SECRET="$GDLAB_COOKIE_SECRET"
fi
exec "${PYTHON:-python}" -m streamlit run app.py "$@"
