#!/usr/bin/env bash
# Installs every Debian package vmcrypt's build and tests need (apt only).
# Idempotent: packages already present are not touched and apt is not even
# called. Works as root or through sudo.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential g++ cmake ninja-build pkg-config ccache clang clang-format
  libclang-rt-14-dev python3 xxd
  # libraries
  libssl-dev openssl libpugixml-dev nlohmann-json3-dev libcli11-dev libsqlite3-dev sqlite3
  libtomlplusplus-dev libcpp-httplib-dev libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # third-party peers used by the tests
  python3-pykmip
  qemu-utils nbdkit curl python3-cryptography
  # used in the docs' examples
  jq
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
