# The `baton` binary on Debian slim. Built from the repository root:
#   docker build -t baton .
# The image serves the shipped configuration (config/, including the demo site and the
# development agent); mount your own folder over /app/config, or set BATON_CONFIG, for
# anything public. Settings can be overridden with BATON__SECTION__KEY variables.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# The whole workspace: the server compiles in config/default.toml and the widget's sources.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p baton --bin baton \
    && cp target/release/baton /usr/local/bin/baton

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app baton
WORKDIR /app
COPY --from=build /usr/local/bin/baton /usr/local/bin/baton
# The binary reads ./config under its working directory.
COPY config/ /app/config/
USER baton
ENV BATON__SERVER__HOST=0.0.0.0 \
    BATON__SERVER__PORT=8080 \
    RUST_LOG=info
EXPOSE 8080
# Liveness. Readiness (Redis reachable) is /readyz; docker-compose.yml checks that one.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["baton"]
CMD ["serve"]
