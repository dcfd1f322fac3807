# routedesk: a small image that runs as a non-root user.
# Build: docker build -t routedesk .   Run: see docker-compose.yml.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# How the bundled SQLite is built (.cargo/config.toml).
COPY .cargo .cargo
COPY src src
COPY templates templates
COPY migrations migrations
COPY policy policy
RUN cargo build --release --locked && strip target/release/routedesk

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/routedesk --create-home routedesk
COPY --from=build /src/target/release/routedesk /usr/local/bin/routedesk
USER routedesk
WORKDIR /var/lib/routedesk
ENV ROUTEDESK_WEB__BIND=0.0.0.0:8080 \
    ROUTEDESK_DATABASE_URL=sqlite:///var/lib/routedesk/data/routedesk.db
EXPOSE 8080
VOLUME ["/var/lib/routedesk"]
HEALTHCHECK --interval=30s --timeout=10s --retries=3 CMD ["routedesk", "healthcheck", "127.0.0.1:8080"]
ENTRYPOINT ["routedesk"]
CMD ["serve"]
