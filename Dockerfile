# PeerCheck as a container image: the API (uvicorn api.main:app, as `make run`), serving dependencies
# only (pyproject's dependencies and the postgres extra; never the test extras), as a non-root user,
# with a health check. Build: `make image`. Run with PostgreSQL as the decision log: compose.yaml.

# ---- build: a virtualenv with the serving dependencies (durable_rules compiles a C extension)
FROM python:3.12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY engine engine
COPY api api
COPY decisionlog decisionlog
COPY cli cli
COPY report report
COPY rules rules
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/venv/bin/pip install --no-cache-dir -e '.[postgres]'

# ---- runtime: the virtualenv and the code, nothing to build with
FROM python:3.12-slim
RUN groupadd --system --gid 10001 peercheck \
 && useradd --system --uid 10001 --gid peercheck --home-dir /app --shell /usr/sbin/nologin peercheck \
 && mkdir -m 0700 /data && chown peercheck:peercheck /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PEERCHECK_DATA_DIR=/data
USER peercheck
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# No proxy is believed unless named (uvicorn alone would believe 127.0.0.1); docs/deployment.md.
ENV FORWARDED_ALLOW_IPS=""
# WEB_CONCURRENCY sets the number of worker processes (uvicorn reads it); one per core.
# No uvicorn access log: it would write query strings (a signed report link's token) to the logs;
# PeerCheck logs each request itself, by method, path (never the query), status and duration.
CMD ["python", "-m", "uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--no-access-log"]
