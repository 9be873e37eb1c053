#pragma once
/// \file h5_error.hpp
/// The one exception of the HDF5 layer, declared apart so that code which only reports file
/// errors (the CLI's exit code 3) does not see HDF5's headers.
#include <stdexcept>

namespace kktflow::h5 {

/// Any failure of reading or writing a kktflow file; the message names the file path and the
/// object path.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The file carries the mark of a writer that holds it outside SWMR mode, or was killed while it
/// did: no reader may open it until the mark is cleared (`run --resume` clears it).
class WriterMarkError : public Error {
 public:
  using Error::Error;
};

}  // namespace kktflow::h5
