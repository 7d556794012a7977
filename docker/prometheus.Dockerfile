# Prometheus from Debian 12's package, for docker-compose.yml's `monitoring` profile: the same
# prometheus (2.42) that scripts/setup.sh installs and tests/monitoring runs against a live twind.
# Built like twind's image on debian:bookworm-slim (which scripts/container-images.sh makes from
# Debian's archive where no registry is reachable); its layout follows the official
# prom/prometheus image: configuration at /etc/prometheus/prometheus.yml, data in /prometheus,
# port 9090, an unprivileged user.
#
#   docker compose --profile monitoring up --build
#   podman build --format docker -f docker/prometheus.Dockerfile -t twind-prometheus:local docker

FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
# policy-rc.d: the package's init script would otherwise start a prometheus during the build.
# Without recommends: prometheus-node-exporter is not wanted here. Then the downloaded packages,
# and moment-timezone's time-zone sources (212 MB of the 218 MB of JavaScript the package pulls
# in): the web UI loads only moment-timezone-with-data.min.js.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && apt-get update \
 && apt-get install -y --no-install-recommends prometheus \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d /usr/share/javascript/moment-timezone/data \
 && mkdir -p /prometheus && chown prometheus:prometheus /prometheus
USER prometheus
WORKDIR /prometheus
VOLUME ["/prometheus"]
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", \
     "--web.listen-address=:9090"]
