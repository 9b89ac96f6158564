# syntax=docker/dockerfile:1
#
# One image for all six hotline services (registry, intake, routing, notify, ops, watchdog). The module to run is the command:
#
#   docker build -t hotline .
#   docker run --rm -p 8000:8000 -e INTAKE_HOST=0.0.0.0 ... hotline hotline_intake
#
# (docker-compose.yml sets `command: ["hotline_<name>"]` per service.)

ARG PYTHON_IMAGE=python:3.11-slim

# --- manifests: only what decides the third-party dependencies --------------------------------------
# Copies the root pyproject/uv.lock and every workspace member's pyproject.toml (libs/*, services/*,
# tools/*) into /manifests, so the dependency layer below is rebuilt only when one of them changes —
# without listing the members here by hand.
FROM ${PYTHON_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /manifests \
    && cp pyproject.toml uv.lock /manifests/ \
    && find libs services tools -mindepth 2 -maxdepth 2 -name pyproject.toml -exec cp --parents {} /manifests/ \;

# --- build: a self-contained virtualenv at /app/.venv -----------------------------------------------
FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app

# 1. Third-party dependencies, exactly as locked (cached until a manifest or uv.lock changes).
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace

# 2. The workspace members themselves, installed as regular (non-editable) packages so the runtime
#    stage needs nothing but the virtualenv.
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY services services
COPY tools tools
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# --- runtime ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 hotline \
    && useradd --system --uid 10001 --gid hotline --no-create-home --home-dir /app --shell /usr/sbin/nologin hotline
COPY --from=build --chown=root:root /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:${PATH}" \
    VIRTUAL_ENV=/app/.venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER hotline:hotline
EXPOSE 8000 8001 8002 8003 8004 8005
ENTRYPOINT ["python", "-m"]
CMD ["hotline_intake"]
