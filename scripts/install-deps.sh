#!/usr/bin/env bash
# Installs the Debian 12 packages kktflow builds, tests and plots with.
# Idempotent: asks apt-get only for what dpkg does not already have.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libboost-dev libboost-test-dev          # odeint, Multiprecision, Interval, Boost.Test
  libmpfr-dev libgmp-dev                  # flow.precision = "mpfr:BITS" (Boost.Multiprecision's mpfr backend)
  libeigen3-dev libopenblas-dev
  libhdf5-dev hdf5-tools
  libtomlplusplus-dev libcli11-dev libfmt-dev nlohmann-json3-dev
  python3 python3-numpy python3-h5py python3-matplotlib python3-xarray python3-h5netcdf python3-pandas
  python3-pytest python3-tqdm              # tests: the kktflow Python package's pytest suite (tests/python)
  pybind11-dev python3-pybind11 python3-dev # the in-process Python module (kktflow.run without a subprocess)
  clang-format                            # .ci/check-format: one layout for every C++ file
  python3-jsonschema                      # tests: kktflow verify --json against docs/verify-schema.json
  libsvm-tools                            # tests: svm-train cross-checks our hard-margin SVM
  libboost-mpi-dev libopenmpi-dev openmpi-bin   # mpirun -n N kktflow sweep (Boost.MPI over OpenMPI)
  zlib1g-dev                              # data loaders: gzipped IDX files, deflated .npz members
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
