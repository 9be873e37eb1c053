#pragma once
/// \file array_formats.hpp
/// Numeric arrays from the files data sets ship in, read without any library but zlib:
///  - IDX (LeCun & Cortes, the MNIST format; Fashion-MNIST, Xiao et al. 2017, uses it too):
///    0, 0, a type byte (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64), the number of
///    dimensions, each dimension as a big-endian u32, then the values big-endian, row-major.
///  - NPY (NumPy's format, versions 1–3): "\x93NUMPY", version, a little-endian header length,
///    a Python dict literal {'descr': …, 'fortran_order': …, 'shape': (…)} and the raw values.
///  - NPZ: a zip archive of NPY members (stored, or deflated by savez_compressed); the central
///    directory is read here (PKWARE APPNOTE 6.3, §4.3.12–4.3.16, with the zip64 extra field).
/// Every error is a std::invalid_argument naming the file (`what`) and what is wrong with it.
#include "file_bytes.hpp"

#include <Eigen/Core>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kktflow {

/// Values with their shape: `values` is shape[0] × (the product of the rest), row-major, so a
/// data set's samples are its rows and move into a table without a copy.
struct NumericArray {
  std::vector<std::int64_t> shape;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> values;
};

/// Parses an IDX file's (already gunzipped) bytes.
NumericArray parse_idx(std::span<const unsigned char> bytes, const std::string& what);

/// Parses an NPY file's bytes: bool, (un)signed integers of 1–8 bytes and floats of 4 or 8
/// bytes, either byte order, C or Fortran order (returned in C order).
NumericArray parse_npy(std::span<const unsigned char> bytes, const std::string& what);

/// The names of an NPZ archive's members, in the order of its central directory.
std::vector<std::string> npz_member_names(std::span<const unsigned char> archive, const std::string& what);

/// The bytes of member `name` (e.g. "X.npy"), inflated when deflated. Throws when it is absent,
/// naming the members present, or when its stated size exceeds `max_bytes`.
Bytes npz_member(std::span<const unsigned char> archive, const std::string& name, double max_bytes,
                 const std::string& what);

}  // namespace kktflow
