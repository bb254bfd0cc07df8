# nsmigrate: the admission webhook. Built elsewhere (no container engine here); linted by hadolint
# in `make lint`. Multi-stage: wheels are built with the full toolchain, the runtime image only
# installs them, pinned by constraints.txt.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml constraints.txt README.md ./
COPY webhook/ webhook/
RUN pip wheel --constraint constraints.txt --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    NSMIGRATE_CERT_FILE=/tmp/certs/tls.crt \
    NSMIGRATE_KEY_FILE=/tmp/certs/tls.key
COPY --from=build /wheels /wheels
COPY constraints.txt /tmp/constraints.txt
RUN pip install --constraint /tmp/constraints.txt --no-index --find-links /wheels nsmigrate \
    && rm -rf /wheels /tmp/constraints.txt
# A numeric, non-root user: the chart sets runAsNonRoot and a read-only root filesystem; the only
# writable path is /tmp (an emptyDir in the chart), where self-managed certificates are written.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["nsmigrate", "serve"]
