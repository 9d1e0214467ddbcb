#!/usr/bin/env bash
# Installs this build into a scratch prefix, then builds examples/plugin as a third party would: its own CMake
# project finding the installed `vkdream` package. Used as a CTest fixture by the example plugin test.
set -euo pipefail
build_dir="$1"; source_dir="$2"
prefix="$build_dir/sdk-install"
rm -rf "$prefix" "$build_dir/example-plugin"
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
cmake -S "$source_dir/examples/plugin" -B "$build_dir/example-plugin" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$build_dir/example-plugin"
test -f "$build_dir/example-plugin/example_filters.so"
