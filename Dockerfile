# nsmigrate: the admission webhook. Built elsewhere (no container engine here); linted by hadolint
# in `make lint`. Multi-stage: the build stage makes wheels and installs them into a virtual
# environment, pinned by constraints.txt; the runtime image is the base image plus that environment:
# what `nsmigrate serve` needs, no pip, no wheels, no dev cluster (webhook/dev is left out by
# .dockerignore and removed here too: no demo, no build scripts), no dev dependencies.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml constraints.txt README.md ./
COPY webhook/ webhook/
RUN rm -rf webhook/dev \
    && pip wheel --constraint constraints.txt --wheel-dir /wheels . \
    && python -m venv /opt/nsmigrate \
    && /opt/nsmigrate/bin/pip install --constraint constraints.txt --no-index --find-links /wheels nsmigrate \
    && /opt/nsmigrate/bin/pip uninstall --yes pip setuptools

FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="nsmigrate" \
      org.opencontainers.image.description="Admission webhook that moves applications between Kubernetes namespaces with zero downtime" \
      org.opencontainers.image.source="https://github.com/nsmigrate/nsmigrate" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/nsmigrate/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    NSMIGRATE_CERT_FILE=/tmp/certs/tls.crt \
    NSMIGRATE_KEY_FILE=/tmp/certs/tls.key
COPY --from=build /opt/nsmigrate /opt/nsmigrate
# A numeric, non-root user: the chart sets runAsNonRoot and a read-only root filesystem; the only
# writable path is /tmp (an emptyDir in the chart), where self-managed certificates are written.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["nsmigrate", "serve"]
