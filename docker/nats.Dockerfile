# nats-server from Debian 12's package (2.9), for docker/compose.cluster.yml: a node of the NATS
# cluster whose MQTT listeners are the broker of several twind replicas. The same nats-server that
# scripts/setup.sh installs and tests/cluster runs (scripts/lib/nats.sh). Built like twind's image
# on debian:bookworm-slim (which scripts/container-images.sh makes from Debian's archive where no
# registry is reachable). Configuration: docker/nats-cluster.conf, mounted at
# /etc/nats/nats-cluster.conf, the node's name in NATS_SERVER_NAME; JetStream's store in /data;
# ports 4222 (NATS clients), 6222 (routes), 1883 (MQTT), 8222 (monitoring); user nats.
#
#   docker compose -f docker/compose.cluster.yml up --build
#   podman build --format docker -f docker/nats.Dockerfile -t twind-nats:local docker

FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
# mosquitto-clients for the HEALTHCHECK: a node is healthy once an MQTT client can connect, which
# needs its JetStream (the MQTT streams) to be up, not only its port open. policy-rc.d: nothing
# the packages bring is started during the build.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && apt-get update \
 && apt-get install -y --no-install-recommends nats-server mosquitto-clients \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d \
 && mkdir -p /data /etc/nats && chown nats:nats /data
USER nats
WORKDIR /data
VOLUME ["/data"]
EXPOSE 4222 6222 1883 8222
HEALTHCHECK --interval=10s --timeout=8s --start-period=30s --retries=3 \
  CMD ["mosquitto_sub", "-p", "1883", "-E", "-t", "healthcheck", "-W", "5"]
ENTRYPOINT ["/usr/sbin/nats-server"]
CMD ["-c", "/etc/nats/nats-cluster.conf"]
