#!/usr/bin/env bash
# scripts/fetch-model against file:// sources (no network): download + verify, idempotence without a download,
# replacing a corrupt file, refusing a wrong hash (nothing installed), falling back to the next URL, resuming a
# .part file.
set -uo pipefail
SCRIPT="$(cd "$(dirname "$0")/../.." && pwd)/scripts/fetch-model"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() {  # check "<what>" <command...>
  local what="$1"; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; fails=$((fails + 1)); fi
}

head -c 300000 /dev/urandom > "$T/source.bin"
export MODEL_DIR="$T/models" FETCH_MODEL_NAME="test.safetensors"
export FETCH_MODEL_SIZE=$(stat -c %s "$T/source.bin")
export FETCH_MODEL_SHA256=$(sha256sum "$T/source.bin" | cut -d' ' -f1)
export FETCH_MODEL_URL="file://$T/source.bin"
TARGET="$MODEL_DIR/checkpoints/test.safetensors"

bash "$SCRIPT" 2>"$T/log1"; rc=$?
check "first run downloads and verifies (exit $rc)" test $rc -eq 0
check "the file is the source" cmp -s "$TARGET" "$T/source.bin"
check "no .part left" test ! -e "$TARGET.part"

mv "$T/source.bin" "$T/source.moved"
bash "$SCRIPT" 2>"$T/log2"; rc=$?
check "second run keeps the verified file without a source (exit $rc)" test $rc -eq 0
check "second run says it is already there" grep -q "already there" "$T/log2"

mv "$T/source.moved" "$T/source.bin"
printf 'x' | dd of="$TARGET" bs=1 seek=1000 conv=notrunc status=none
bash "$SCRIPT" 2>"$T/log3"; rc=$?
check "a corrupt file is replaced (exit $rc)" test $rc -eq 0
check "the replaced file is the source" cmp -s "$TARGET" "$T/source.bin"

rm -f "$TARGET"
FETCH_MODEL_SHA256=0000000000000000000000000000000000000000000000000000000000000000 bash "$SCRIPT" 2>"$T/log4"; rc=$?
check "a wrong hash fails (exit $rc)" test $rc -eq 1
check "nothing is installed after a wrong hash" test ! -e "$TARGET" -a ! -e "$TARGET.part"
check "the failure names the hash" grep -q "wrong SHA-256" "$T/log4"

FETCH_MODEL_URL="file://$T/missing.bin file://$T/source.bin" bash "$SCRIPT" 2>"$T/log5"; rc=$?
check "falls back to the next URL (exit $rc)" test $rc -eq 0
check "the fallback file is the source" cmp -s "$TARGET" "$T/source.bin"

rm -f "$TARGET"
head -c 120000 "$T/source.bin" > "$TARGET.part"
bash "$SCRIPT" 2>"$T/log6"; rc=$?
check "a .part file is resumed (exit $rc)" test $rc -eq 0
check "the resumed file is the source" cmp -s "$TARGET" "$T/source.bin"

if [ $fails -ne 0 ]; then
  echo "--- logs"; cat "$T"/log*
  exit 1
fi
echo "fetch-model: all checks passed"
