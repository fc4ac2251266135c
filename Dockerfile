# urnd container image: multi-stage, Debian packages only.
#
#   podman build --format docker --network=host --pull=never -t urn:dev .   (docker format keeps HEALTHCHECK)
#   podman run --rm --network=host -v urn-data:/var/lib/urn urn:dev [urnd flags...]
#
# Runs as uid 10001 with /var/lib/urn as its data volume, listens on 0.0.0.0:50051, and exits
# 0 on SIGTERM. The first start writes the admin key to /var/lib/urn/admin.key.

FROM debian:bookworm-slim AS build
WORKDIR /src
COPY deploy/install-deps.sh deploy/install-deps.sh
RUN bash deploy/install-deps.sh --no-torch && rm -rf /var/lib/apt/lists/*
COPY . .
RUN rm -rf build build-* \
 && cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DURN_BUILD_BENCH=OFF \
 && cmake --build /build -j"$(nproc)" \
 && cd /build && ctest -L unit --output-on-failure -j"$(nproc)" \
 && strip /build/server/urnd /build/client/urn

FROM debian:bookworm-slim
COPY deploy/install-deps.sh /tmp/install-deps.sh
RUN bash /tmp/install-deps.sh --runtime && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh \
 && groupadd --system --gid 10001 urn \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/urn --shell /usr/sbin/nologin urn \
 && mkdir -p /var/lib/urn && chown 10001:10001 /var/lib/urn
COPY --from=build /build/server/urnd /build/client/urn /usr/local/bin/
USER 10001:10001
# Plaintext on the container's network, for a TLS-terminating proxy or mesh in front of it. To
# serve TLS itself, mount a certificate, set URN_TLS_CERT and URN_TLS_KEY, and unset URN_PLAINTEXT.
ENV URN_LISTEN=0.0.0.0:50051 URN_DATA_DIR=/var/lib/urn URN_PLAINTEXT=true
VOLUME ["/var/lib/urn"]
EXPOSE 50051
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["urn", "--server", "127.0.0.1:50051", "--timeout", "2", "health"]
ENTRYPOINT ["urnd"]
