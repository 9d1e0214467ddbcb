#!/usr/bin/env bash
# Takes a fresh Debian 12 machine (as root) to a Release build of vkdream:
# installs the Debian packages it needs, then configures and builds.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libvulkan-dev vulkan-tools mesa-vulkan-drivers vulkan-validationlayers  # Vulkan + lavapipe (CPU device)
  glslang-tools glslang-dev spirv-tools                                    # GLSL -> SPIR-V at build time
  libvkfft-dev libpistache-dev libsimdjson-dev libstb-dev libgtest-dev libicu-dev
  libcurl4-openssl-dev libssl-dev                                          # server: outbound fetch, webhooks, tests
  libjpeg62-turbo-dev libwebp-dev                                          # server: JPEG/WebP output, WebP input
  curl                                                                     # scripts/fetch-model
  chromium                                                                 # server test: /docs in headless Chromium
)
# Node.js + npm fetch the Swagger UI files for GET /docs; a machine that already has npm (e.g. NodeSource's
# nodejs, which conflicts with Debian's npm package) keeps its own.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"

# Swagger UI (npm's swagger-ui-dist, pinned by package-lock.json) into node_modules/, where the server finds it
# for GET /docs. Install scripts are not run (swagger-ui-dist's only dependency has an analytics postinstall).
npm ci --ignore-scripts --no-audit --no-fund

BUILD_DIR="${BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" --parallel "$(nproc)"
echo "vkdream built in $BUILD_DIR/"
