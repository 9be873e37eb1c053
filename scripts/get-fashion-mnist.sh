#!/usr/bin/env bash
# Installs Debian's dataset-fashion-mnist (Fashion-MNIST's IDX files, about 30 MB, under
# /usr/share/datasets/fashion-mnist), which data/configs/fashion_mnist.toml and bench/scale's
# real-data cells read. Opt-in: `make test` does not need it (the tests read a 60-image slice
# kept in tests/cli/data/loaders).
set -euo pipefail
if dpkg-query -W -f='${Status}' dataset-fashion-mnist 2>/dev/null | grep -q "install ok installed"; then
  echo "get-fashion-mnist: dataset-fashion-mnist present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends dataset-fashion-mnist
