#!/usr/bin/env bash
# Runs the whole test suite (op tests on the Vulkan device, lavapipe in CI, plus the same op
# suite under the Khronos validation layer).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
# Two CPU cores run lavapipe's threads; tests run one at a time so each gets the whole device.
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 900 "$@"
