# One watchparty process (python wsgi.py or gunicorn: APP_SERVER), as compose.yaml runs it.
# The image installs and starts through the same scripts as the native tests:
# scripts/bootstrap.sh (pinned requirements.txt) and deploy/start-app.sh.
FROM python:3.11.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 \
    PORT=5000 \
    PYTHON=/app/.venv/bin/python

RUN useradd --system --create-home --uid 10001 watchparty
WORKDIR /app

COPY requirements.txt ./
COPY scripts/bootstrap.sh scripts/
RUN bash scripts/bootstrap.sh requirements.txt

COPY --chown=root:root . .
RUN mkdir -p instance && chown watchparty instance

USER watchparty
EXPOSE 5000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s \
  CMD ["/app/.venv/bin/python", "-c", "import urllib.request as r; r.urlopen('http://127.0.0.1:5000/healthz', timeout=2)"]
CMD ["bash", "deploy/start-app.sh"]
