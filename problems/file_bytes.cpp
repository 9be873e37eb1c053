#include "file_bytes.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <stdexcept>

namespace kktflow {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& why) {
  throw std::invalid_argument(what + ": " + why);
}

/// Why a decompressed file may hold at most `max_bytes`.
std::string budget_bound(double max_bytes) {
  char bound[32];
  std::snprintf(bound, sizeof bound, "%.0f", max_bytes);
  return std::string("decompresses to more than ") + bound +
         " bytes, the share of the memory budget a data file may take (1/8 of limits.memory, or of the machine's "
         "memory when it is not set: each stored byte can become an 8-byte double)";
}

/// Runs inflate over `in` into `out` (grown as needed, never past `max_bytes`) until the stream
/// ends; windowBits selects the wrapper: 15 + 32 detects zlib or gzip headers, −15 a raw deflate
/// stream. A stream that would pass `max_bytes` is refused as soon as it does, so a small file
/// that inflates to gigabytes (a "zip bomb") costs at most `max_bytes`; `why_bound` says why.
Bytes inflate_all(std::span<const unsigned char> in, int window_bits, std::size_t size_hint, double max_bytes,
                  const std::string& what, const std::string& why_bound) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) fail(what, "zlib could not start inflating");
  const auto cap = static_cast<std::size_t>(std::min(max_bytes, 0.5 * static_cast<double>(SIZE_MAX)));
  Bytes out(std::min(std::max<std::size_t>(size_hint, 1 << 16), cap + 1));
  std::size_t consumed = 0, produced = 0;
  int rc = Z_OK;
  while (true) {
    const std::size_t in_chunk = std::min<std::size_t>(in.size() - consumed, std::numeric_limits<uInt>::max());
    zs.next_in = const_cast<unsigned char*>(in.data() + consumed);
    zs.avail_in = static_cast<uInt>(in_chunk);
    if (produced == out.size()) out.resize(std::min(out.size() * 2, cap + 1));
    const std::size_t out_chunk = std::min<std::size_t>(out.size() - produced, std::numeric_limits<uInt>::max());
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(out_chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    consumed += in_chunk - zs.avail_in;
    produced += out_chunk - zs.avail_out;
    if (produced > cap) {
      inflateEnd(&zs);
      fail(what, why_bound);
    }
    if (rc == Z_STREAM_END) {
      // gzip allows several members back to back; carry on with the next one.
      if (window_bits < 0 || consumed >= in.size()) break;
      inflateReset(&zs);
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (rc == Z_BUF_ERROR && consumed >= in.size() && zs.avail_out != 0) break;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END)
    fail(what,
         "compressed data are corrupt or cut off (zlib: " + std::string(zs.msg ? zs.msg : "stream did not end") + ")");
  out.resize(produced);
  return out;
}

}  // namespace

Bytes read_file_bytes(const std::string& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::invalid_argument(key + " = \"" + path + "\": cannot open file");
  const auto size = static_cast<std::size_t>(in.tellg());
  Bytes bytes(size);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (!in) throw std::invalid_argument(key + " = \"" + path + "\": read error");
  return bytes;
}

bool is_gzip(std::span<const unsigned char> bytes) { return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b; }

Bytes gunzip(std::span<const unsigned char> bytes, double max_bytes, const std::string& what) {
  return inflate_all(bytes, 15 + 32, 4 * bytes.size(), max_bytes, what, budget_bound(max_bytes));
}

Bytes inflate_raw(std::span<const unsigned char> bytes, std::size_t size, double max_bytes, const std::string& what) {
  if (static_cast<double>(size) > max_bytes) fail(what, budget_bound(max_bytes));
  Bytes out = inflate_all(bytes, -15, size, static_cast<double>(size), what,
                          "inflates past the " + std::to_string(size) + " bytes the archive states");
  if (out.size() != size)
    fail(what, "inflated to " + std::to_string(out.size()) + " bytes where the archive states " + std::to_string(size));
  return out;
}

Bytes read_maybe_gzipped(const std::string& path, const std::string& key, double max_bytes) {
  Bytes bytes = read_file_bytes(path, key);
  if (!is_gzip(bytes)) return bytes;
  return gunzip(bytes, max_bytes, key + " = \"" + path + "\"");
}

}  // namespace kktflow
