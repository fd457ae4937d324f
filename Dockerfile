# syntax=docker/dockerfile:1
# The three Tarefa binaries (api-lite, worker, scheduler) in one image; pick one with the command:
#   docker build -t tarefa:local .
#   docker run --rm tarefa:local api-lite --help
# Migrations are compiled into api-lite (`api-lite migrate`); config/ is copied to /app/config.

FROM rust:1-bookworm AS builder
# The worker links libtesseract/leptonica (bindgen needs libclang).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libtesseract-dev libleptonica-dev libclang-dev clang pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p api-lite -p worker -p scheduler \
 && mkdir -p /out \
 && cp target/release/api-lite target/release/worker target/release/scheduler /out/

FROM debian:bookworm-slim
# ca-certificates: TLS to providers and webhooks; curl: the compose healthcheck.
# documents.extract: libtesseract 5 + leptonica, the por/eng models, pdftoppm (fallback renderer).
# Job kinds that need system packages add them here and to scripts/lib.sh.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
      libtesseract5 liblept5 tesseract-ocr-por tesseract-ocr-eng poppler-utils \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin tarefa
WORKDIR /app
COPY --from=builder /out/ /usr/local/bin/
COPY config/ /app/config/
ENV TAREFA_CONFIG_DIR=/app/config \
    TAREFA__API__LISTEN=0.0.0.0:8080
USER tarefa
EXPOSE 8080
CMD ["api-lite"]
