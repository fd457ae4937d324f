# syntax=docker/dockerfile:1
# The three Tarefa binaries (api-lite, worker, scheduler) in one image; pick one with the command:
#   docker build -t tarefa:local .
#   docker run --rm tarefa:local api-lite --help
# Migrations are compiled into api-lite (`api-lite migrate`); config/ is copied to /app/config.

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p api-lite -p worker -p scheduler \
 && mkdir -p /out \
 && cp target/release/api-lite target/release/worker target/release/scheduler /out/

FROM debian:bookworm-slim
# ca-certificates: TLS to providers and webhooks; curl: the compose healthcheck.
# Job kinds that shell out (e.g. OCR) add their packages here and to scripts/lib.sh.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
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
