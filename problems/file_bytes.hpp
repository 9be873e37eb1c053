#pragma once
/// \file file_bytes.hpp
/// A data file's bytes, decompressed where they are compressed: gzip (RFC 1952, the `.gz` of
/// MNIST-format files) and the raw deflate streams (RFC 1951) inside `.npz` archives, both
/// through zlib's inflate. Errors are std::invalid_argument naming the file, so the CLI reports
/// them as configuration errors (exit 2).
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace kktflow {

using Bytes = std::vector<unsigned char>;

/// The whole file. Throws std::invalid_argument naming `key` and the path when it cannot be read.
Bytes read_file_bytes(const std::string& path, const std::string& key);

/// True when `bytes` start with gzip's magic number 1f 8b.
bool is_gzip(std::span<const unsigned char> bytes);

/// The decompressed content of a gzip stream (every member, concatenated). `what` names the
/// file in errors. Content longer than `max_bytes` is refused once that many bytes are out.
Bytes gunzip(std::span<const unsigned char> bytes, double max_bytes, const std::string& what);

/// A raw deflate stream inflated to exactly `size` bytes (a zip member's stated size); a stated
/// size above `max_bytes` is refused before inflating.
Bytes inflate_raw(std::span<const unsigned char> bytes, std::size_t size, double max_bytes, const std::string& what);

/// The file's bytes, gunzipped (to at most `max_bytes`) when they are a gzip stream.
Bytes read_maybe_gzipped(const std::string& path, const std::string& key, double max_bytes);

}  // namespace kktflow
