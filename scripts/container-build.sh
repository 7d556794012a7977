#!/usr/bin/env bash
# Builds the images the container tests run, ahead of them: localhost/twind:container-test (and
# its build stage, -build), localhost/twind-prometheus:container-test and
# localhost/twind-nats:container-test, as scripts/container-test.sh and
# scripts/container-cluster-test.sh build them; those then find every layer in podman's cache.
# scripts/test.sh runs it niced beside the plain tree's tests, which mostly wait on brokers and
# child processes. The images these tags named before are removed, as the tests do.
# Exit 77 where the container tests would be skipped (no root, podman or base images); 1 when a
# build fails, with the end of its log.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/podman.sh
podman_ready debian:bookworm debian:bookworm-slim
images_before "$image" "$image-build" "$prom_image" "$nats_image"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
started=$(date +%s)
build_images "$log" "$image" docker/prometheus.Dockerfile "$prom_image" \
  docker/nats.Dockerfile "$nats_image"
images_prune
echo "container-build: $image, $prom_image and $nats_image built in $(($(date +%s) - started)) s"
