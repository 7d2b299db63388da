# CrossingGuard image: the proxy (`crossingguard run`), the review app (`crossingguard review`) and
# the other commands. Used by deploy/compose/compose.yaml and deploy/kubernetes/. Build:
#   docker build -t crossingguard:0.1.0 .
FROM python:3.11-slim-bookworm

# A dedicated, unprivileged user; state (CA, SQLite, activity log, spool) in one volume.
RUN useradd --system --uid 10001 --home-dir /var/lib/crossingguard --shell /usr/sbin/nologin crossingguard \
 && install -d -o crossingguard -g crossingguard -m 0750 /var/lib/crossingguard

WORKDIR /opt/crossingguard
COPY pyproject.toml README.md ./
COPY agent ./agent
COPY proxy_addons ./proxy_addons
COPY classifiers ./classifiers
# psycopg for the PostgreSQL store (the `postgres` extra); no compiler needed (binary wheel).
RUN pip install --no-cache-dir ".[postgres]" && rm -rf /root/.cache

USER crossingguard
ENV CROSSINGGUARD_HOME=/var/lib/crossingguard \
    PYTHONUNBUFFERED=1
VOLUME ["/var/lib/crossingguard"]
# 8080 proxy, 9464+ metrics and /healthz (one port per worker), 8181 review app
EXPOSE 8080 9464 9465 8181
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]
ENTRYPOINT ["crossingguard"]
CMD ["run", "--listen-host", "0.0.0.0", "--listen-port", "8080", "--metrics-port", "9464", \
     "--", "--set", "crossingguard_metrics_host=0.0.0.0"]
