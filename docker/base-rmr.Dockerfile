# syntax=docker/dockerfile:1
# dnt-ric xApp base image: docker/base.Dockerfile + the RMR library and the RMR environment. Only the xApps
# (xapps/*) build on it; the rApp and the E2 simulator do not talk RMR and build on dnt-ric/base.
#
# Build it after dnt-ric/base, from the repository root (docker/README.md has the build order and tags):
#   docker build -f docker/base-rmr.Dockerfile -t dnt-ric/base-rmr:0.1.0 .
# BASE names the dnt-ric/base image to build on (e.g. --build-arg BASE=registry.example.org/dnt-ric/base:0.1.0).
ARG PYTHON_IMAGE=python:3.11-slim
ARG BASE=dnt-ric/base:0.1.0
ARG RMR_VERSION=4.9.4

# --- RMR: librmr_si.so from the OSC release package ----------------------------------------------------------
# RMR 4.9.4 is the version OSC's Python projects pin (ric-plt-xapp-frame-py rmr-version.yaml; oran-conventions
# §2.4). OSC's bldr-alpine3-rmr images carry a musl build (under /usr/local/lib64) that python:3.11-slim
# (Debian, glibc) cannot load, so the Debian package OSC publishes on packagecloud (o-ran-sc/release) is
# installed here, as ricxappframe's own unit-test image does, and only the shared library is copied on.
# Result in the image: /usr/local/lib/librmr_si.so -> librmr_si.so.4 -> librmr_si.so.4.9.4.
FROM ${PYTHON_IMAGE} AS rmr
ARG RMR_VERSION
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && curl -fsSL -o /tmp/rmr.deb \
      "https://packagecloud.io/o-ran-sc/release/packages/debian/stretch/rmr_${RMR_VERSION}_amd64.deb/download.deb" \
 && dpkg -i /tmp/rmr.deb \
 && mkdir -p /rmr/lib \
 && cp -P /usr/local/lib/librmr_si.so* /rmr/lib/ \
 && test -e /rmr/lib/librmr_si.so \
 && rm -rf /var/lib/apt/lists/* /tmp/rmr.deb

# --- base-rmr: dnt-ric/base (user 10001 already) + librmr_si.so -----------------------------------------------
FROM ${BASE}
ARG RMR_VERSION
LABEL org.opencontainers.image.title="dnt-ric xApp base (RMR)" \
      io.o-ran-sc.rmr.version="${RMR_VERSION}"
# librmr_si.so is loaded by ricxappframe at import
COPY --from=rmr /rmr/lib/ /usr/local/lib/
# CONFIG_FILE: where every xApp image copies its descriptor and the xapp-std chart mounts its configmap
# (appconfig.path), the same for all xApps
ENV LD_LIBRARY_PATH=/usr/local/lib \
    DNT_RIC_RUNTIME=rmr \
    RMR_RTG_SVC=4561 \
    CONFIG_FILE=/opt/ric/config/config-file.json
# RMR data 4560 / route 4561 (descriptor messaging.ports), 8080 the xApp HTTP port (probes, config)
EXPOSE 4560 4561 8080
