# Hebdo in a container: slim Python, a non-root user, everything it writes on the /data volume.
#   docker build -t hebdo .
#   docker run -d --name hebdo --env-file .env -v hebdo-data:/data -p 127.0.0.1:8080:8080 hebdo
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    DATABASE_PATH=/data/hebdo.db \
    INBOX_DIR=/data/inbox \
    VARIANTS_FILE=/data/variants.txt \
    CONSOLE_DATABASE_PATH=/data/console.db \
    HTTP_LISTEN=0.0.0.0 \
    HTTP_PORT=8080

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin hebdo \
    && mkdir -p /data/inbox && chown -R hebdo:hebdo /data

WORKDIR /app
# the pinned runtime dependencies first: this layer is rebuilt only when they change
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN pip install --no-deps . && rm -rf build *.egg-info

USER hebdo
VOLUME ["/data"]
EXPOSE 8080
# /healthz: the database answers and the bot runs (polling or webhook)
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-m", "bot", "health"]
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot", "run"]
