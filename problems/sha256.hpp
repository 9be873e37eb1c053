#pragma once
/// \file sha256.hpp
/// SHA-256 (FIPS 180-4, §6.2): the digest a run file records for the data file it read, so a run
/// can be traced back to the exact bytes it trained on (`sha256sum FILE` prints the same hex).
/// Written here because no library kktflow already links provides it; tested against the
/// standard's example vectors (tests/unit/problems/test_data_loaders.cpp).
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace kktflow {

/// Incremental SHA-256: update() with any number of byte blocks, then hex_digest() once.
class Sha256 {
 public:
  Sha256();
  /// Absorbs `bytes` (any length; whole 64-byte blocks are compressed as they fill).
  void update(std::span<const unsigned char> bytes);
  /// Pads (a 1 bit, zeros, the 64-bit message length in bits) and returns the digest as 64
  /// lower-case hex digits. The object is spent afterwards.
  std::string hex_digest();

 private:
  void compress(const unsigned char* block);

  std::array<std::uint32_t, 8> m_h;
  std::array<unsigned char, 64> m_buffer{};
  std::size_t m_buffered = 0;
  std::uint64_t m_length_bytes = 0;
};

/// The SHA-256 of `bytes` as hex.
std::string sha256_hex(std::span<const unsigned char> bytes);

/// The SHA-256 of the file at `path`, read in blocks. Throws std::runtime_error naming the path
/// when it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace kktflow
