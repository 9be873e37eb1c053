#include "array_formats.hpp"

#include <bit>
#include <cstring>
#include <regex>
#include <stdexcept>

namespace kktflow {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& why) {
  throw std::invalid_argument(what + ": " + why);
}

std::uint64_t read_unsigned(const unsigned char* p, int size, bool big_endian) {
  std::uint64_t v = 0;
  for (int k = 0; k < size; ++k) {
    const int shift = big_endian ? 8 * (size - 1 - k) : 8 * k;
    v |= std::uint64_t{p[k]} << shift;
  }
  return v;
}

/// One element of kind 'u', 'i', 'f' or 'b' and `size` bytes at p, as a double.
double read_element(const unsigned char* p, char kind, int size, bool big_endian) {
  const std::uint64_t bits = read_unsigned(p, size, big_endian);
  if (kind == 'u' || kind == 'b') return static_cast<double>(bits);
  if (kind == 'i') {
    const int unused = 64 - 8 * size;  // sign-extend from `size` bytes
    return static_cast<double>(static_cast<std::int64_t>(bits << unused) >> unused);
  }
  if (size == 4) return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
  return std::bit_cast<double>(bits);
}

std::int64_t element_count(const std::vector<std::int64_t>& shape) {
  std::int64_t count = 1;
  for (const std::int64_t s : shape) count *= s;
  return count;
}

/// Fills `out.values` with `count` elements starting at `data`, checking that the file holds them.
void read_values(std::span<const unsigned char> bytes, std::size_t offset, char kind, int size, bool big_endian,
                 NumericArray& out, const std::string& what) {
  const std::int64_t count = element_count(out.shape);
  const auto needed = static_cast<std::size_t>(count) * static_cast<std::size_t>(size);
  if (bytes.size() < offset || bytes.size() - offset != needed)
    fail(what, "holds " + std::to_string(bytes.size() - std::min(offset, bytes.size())) +
                   " bytes of values where its shape needs " + std::to_string(needed) +
                   " (a wrong shape, or a file cut off)");
  const std::int64_t rows = out.shape.empty() ? 1 : out.shape[0];
  out.values.resize(rows, rows == 0 ? 0 : count / rows);
  double* values = out.values.data();
  const unsigned char* data = bytes.data() + offset;
  if (size == 1 && (kind == 'u' || kind == 'b')) {  // images: a byte a value, no dispatch per value
    for (std::int64_t k = 0; k < count; ++k) values[k] = data[k];
    return;
  }
  for (std::int64_t k = 0; k < count; ++k)
    values[k] = read_element(data + static_cast<std::size_t>(k * size), kind, size, big_endian);
}

/// The IDX type byte as a (kind, size) pair.
std::pair<char, int> idx_type(unsigned char code, const std::string& what) {
  switch (code) {
    case 0x08:
      return {'u', 1};
    case 0x09:
      return {'i', 1};
    case 0x0B:
      return {'i', 2};
    case 0x0C:
      return {'i', 4};
    case 0x0D:
      return {'f', 4};
    case 0x0E:
      return {'f', 8};
    default:
      fail(what, "IDX type byte " + std::to_string(code) + " is not one of 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E");
  }
}

/// Reverses Fortran order into C order for an array of any rank.
void fortran_to_c(NumericArray& a) {
  const std::size_t rank = a.shape.size();
  if (rank < 2) return;
  const std::vector<double> f_order(a.values.data(), a.values.data() + a.values.size());
  std::vector<std::int64_t> index(rank, 0);
  for (std::size_t f = 0; f < f_order.size(); ++f) {
    std::int64_t linear = 0;
    for (std::size_t k = 0; k < rank; ++k) linear = linear * a.shape[k] + index[k];
    a.values.data()[linear] = f_order[f];
    for (std::size_t k = 0; k < rank && ++index[k] == a.shape[k]; ++k) index[k] = 0;  // first index fastest
  }
}

struct NpyHeader {
  char kind = 'f';
  int size = 8;
  bool big_endian = false;
  bool fortran = false;
  std::vector<std::int64_t> shape;
};

NpyHeader parse_npy_header(const std::string& header, const std::string& what) {
  NpyHeader h;
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([<>|=])([biuf])(\d+)')")))
    fail(what, "NPY dtype in header " + header + " is not numeric (allowed: bool, int, uint, float of 4 or 8 bytes)");
  h.big_endian = m[1] == ">";
  h.kind = m[2].str()[0];
  h.size = std::stoi(m[3]);
  const bool size_ok =
      h.kind == 'f' ? (h.size == 4 || h.size == 8) : (h.size == 1 || h.size == 2 || h.size == 4 || h.size == 8);
  if (!size_ok)
    fail(what, "NPY dtype " + m[2].str() + m[3].str() + " is not supported (floats of 4 or 8 bytes, integers of 1-8)");
  h.fortran = std::regex_search(header, std::regex(R"('fortran_order'\s*:\s*True)"));
  if (!std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")))
    fail(what, "NPY header has no shape: " + header);
  const std::string dims = m[1];
  const std::regex number(R"(\d+)");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it)
    h.shape.push_back(std::stoll(it->str()));
  return h;
}

constexpr std::uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kLocalHeader = 0x04034b50;

struct ZipMember {
  std::string name;
  int method = 0;
  std::uint64_t compressed = 0, size = 0, local_offset = 0;
};

std::uint64_t le(std::span<const unsigned char> b, std::size_t at, int size, const std::string& what) {
  if (at + static_cast<std::size_t>(size) > b.size()) fail(what, "zip structure points past the end of the file");
  return read_unsigned(b.data() + at, size, false);
}

/// Sizes and offset saturated at 0xFFFFFFFF are in the zip64 extra field (id 0x0001), in this order.
void apply_zip64(std::span<const unsigned char> b, std::size_t extra, std::size_t extra_len, ZipMember& m,
                 const std::string& what) {
  for (std::size_t at = extra; at + 4 <= extra + extra_len;) {
    const auto id = le(b, at, 2, what), len = le(b, at + 2, 2, what);
    std::size_t field = at + 4;
    if (id == 1) {
      for (std::uint64_t* v : {&m.size, &m.compressed, &m.local_offset})
        if (*v == 0xFFFFFFFF) {
          *v = le(b, field, 8, what);
          field += 8;
        }
    }
    at += 4 + len;
  }
}

std::vector<ZipMember> zip_directory(std::span<const unsigned char> b, const std::string& what) {
  if (b.size() < 22) fail(what, "too short to be a zip (.npz) archive");
  std::size_t eocd = b.size() - 22;
  while (le(b, eocd, 4, what) != kEndOfCentralDirectory) {
    if (eocd == 0 || b.size() - eocd > 22 + 65535) fail(what, "not a zip (.npz) archive: no end of central directory");
    --eocd;
  }
  const auto entries = le(b, eocd + 10, 2, what);
  std::size_t at = le(b, eocd + 16, 4, what);
  std::vector<ZipMember> members;
  for (std::uint64_t k = 0; k < entries; ++k) {
    if (le(b, at, 4, what) != kCentralHeader) fail(what, "corrupt zip central directory");
    ZipMember m;
    m.method = static_cast<int>(le(b, at + 10, 2, what));
    m.compressed = le(b, at + 20, 4, what);
    m.size = le(b, at + 24, 4, what);
    const std::size_t name_len = le(b, at + 28, 2, what), extra_len = le(b, at + 30, 2, what),
                      comment_len = le(b, at + 32, 2, what);
    m.local_offset = le(b, at + 42, 4, what);
    if (at + 46 + name_len > b.size()) fail(what, "corrupt zip central directory");
    m.name.assign(reinterpret_cast<const char*>(b.data() + at + 46), name_len);
    apply_zip64(b, at + 46 + name_len, extra_len, m, what);
    members.push_back(m);
    at += 46 + name_len + extra_len + comment_len;
  }
  return members;
}

}  // namespace

NumericArray parse_idx(std::span<const unsigned char> bytes, const std::string& what) {
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0)
    fail(what, "not an IDX file (it must start with two zero bytes)");
  const auto [kind, size] = idx_type(bytes[2], what);
  const int rank = bytes[3];
  if (rank < 1) fail(what, "IDX file with no dimensions");
  if (bytes.size() < 4 + 4 * static_cast<std::size_t>(rank)) fail(what, "IDX header cut off");
  NumericArray out;
  for (int k = 0; k < rank; ++k)
    out.shape.push_back(static_cast<std::int64_t>(read_unsigned(bytes.data() + 4 + 4 * k, 4, true)));
  read_values(bytes, 4 + 4 * static_cast<std::size_t>(rank), kind, size, true, out, what);
  return out;
}

NumericArray parse_npy(std::span<const unsigned char> bytes, const std::string& what) {
  static const unsigned char magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || std::memcmp(bytes.data(), magic, 6) != 0)
    fail(what, "not an NPY file (no \\x93NUMPY magic)");
  const int major = bytes[6];
  if (major < 1 || major > 3) fail(what, "NPY format version " + std::to_string(major) + " (allowed: 1, 2, 3)");
  const int length_size = major == 1 ? 2 : 4;
  const std::size_t header_len = read_unsigned(bytes.data() + 8, length_size, false);
  const std::size_t offset = 8 + static_cast<std::size_t>(length_size) + header_len;
  if (offset > bytes.size()) fail(what, "NPY header cut off");
  const std::string header(reinterpret_cast<const char*>(bytes.data() + 8 + length_size), header_len);
  const NpyHeader h = parse_npy_header(header, what);
  NumericArray out;
  out.shape = h.shape;
  read_values(bytes, offset, h.kind, h.size, h.big_endian, out, what);
  if (h.fortran) fortran_to_c(out);
  return out;
}

std::vector<std::string> npz_member_names(std::span<const unsigned char> archive, const std::string& what) {
  std::vector<std::string> names;
  for (const ZipMember& m : zip_directory(archive, what)) names.push_back(m.name);
  return names;
}

Bytes npz_member(std::span<const unsigned char> archive, const std::string& name, double max_bytes,
                 const std::string& what) {
  std::string present;
  for (const ZipMember& m : zip_directory(archive, what)) {
    present += (present.empty() ? "" : ", ") + m.name;
    if (m.name != name) continue;
    if (le(archive, m.local_offset, 4, what) != kLocalHeader) fail(what, "corrupt zip local header of " + name);
    const std::size_t start =
        m.local_offset + 30 + le(archive, m.local_offset + 26, 2, what) + le(archive, m.local_offset + 28, 2, what);
    if (start + m.compressed > archive.size()) fail(what, "member " + name + " runs past the end of the archive");
    const auto data = archive.subspan(start, m.compressed);
    if (m.method == 0) return Bytes(data.begin(), data.end());
    if (m.method == 8) return inflate_raw(data, m.size, max_bytes, what + " member " + name);
    fail(what, "member " + name + " uses zip compression method " + std::to_string(m.method) +
                   " (allowed: 0 stored, 8 deflate)");
  }
  fail(what, "no member " + name + " (members: " + (present.empty() ? "none" : present) + ")");
}

}  // namespace kktflow
