#include "analysis/h5.hpp"

#include <fmt/format.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <type_traits>

namespace kktflow::h5 {
namespace {

/// HDF5 prints its whole error stack to stderr on every failure; users should see one message
/// of ours instead. The setting is per thread in a thread-safe HDF5 build (Debian's is).
void silence_hdf5_errors() {
  thread_local const herr_t silenced = H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  static_cast<void>(silenced);
}

herr_t keep_innermost(unsigned depth, const H5E_error2_t* error, void* out) {
  if (depth == 0 && error->desc != nullptr) {
    *static_cast<std::string*>(out) = error->desc;
  }
  return 0;
}

/// The most specific message on HDF5's error stack (e.g. "truncated file: eof = …"), or "".
/// Must run before the next HDF5 call, which clears the stack.
std::string hdf5_detail() {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &detail);
  return detail;
}

/// Error context: which file and which object inside it.
struct Where {
  std::string_view file;
  std::string_view object;

  [[noreturn]] void fail(std::string_view what) const {
    throw Error(fmt::format("HDF5 file '{}', object '{}': {}", file, object, what));
  }
  hid_t check(hid_t status, std::string_view action) const {
    if (status < 0) {
      const std::string detail = hdf5_detail();
      fail(detail.empty() ? fmt::format("cannot {}", action) : fmt::format("cannot {} ({})", action, detail));
    }
    return status;
  }
};

Where where_of(const Object& object) { return {object.file_path(), object.path()}; }

std::string child_path(const std::string& parent, const std::string& name) {
  if (name.starts_with('/')) {
    return name;
  }
  return parent == "/" ? "/" + name : parent + "/" + name;
}

std::string attr_action(std::string_view verb, const std::string& name) {
  return fmt::format("{} attribute '{}'", verb, name);
}

hid_t file_type(Type type) { return type == Type::f64 ? H5T_IEEE_F64LE : H5T_STD_I64LE; }

template <class T>
hid_t native_type() {
  if constexpr (std::is_same_v<T, double>) {
    return H5T_NATIVE_DOUBLE;
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    return H5T_NATIVE_INT64;
  } else {
    static_assert(std::is_same_v<T, std::uint64_t>);
    return H5T_NATIVE_UINT64;
  }
}

/// UTF-8 string type; `fixed_size` 0 means variable length.
Handle string_type(const Where& at, std::size_t fixed_size) {
  Handle type(at.check(H5Tcopy(H5T_C_S1), "copy string type"), H5Tclose);
  at.check(H5Tset_size(type.id(), fixed_size == 0 ? H5T_VARIABLE : fixed_size), "size string type");
  at.check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "set string type to UTF-8");
  return type;
}

/// Link-creation properties that create missing intermediate groups ("a/b/c").
Handle intermediate_groups(const Where& at) {
  Handle plist(at.check(H5Pcreate(H5P_LINK_CREATE), "create link properties"), H5Pclose);
  at.check(H5Pset_create_intermediate_group(plist.id(), 1), "set link properties");
  return plist;
}

/// Metadata-cache evictions off: HDF5 then writes metadata only when we flush, so between two
/// flushes the metadata on disk stays as the last flush left it, and raw data written meanwhile
/// lands only in rows that metadata does not show yet. A run killed at any moment other than
/// inside a flush thus leaves a file whose flushed rows all read back, and a reader opening a
/// live run sees the state of the last flush.
Handle writer_access(const Where& at) {
  Handle plist(at.check(H5Pcreate(H5P_FILE_ACCESS), "create file-access properties"), H5Pclose);
  H5AC_cache_config_t config{};
  config.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  at.check(H5Pget_mdc_config(plist.id(), &config), "get metadata-cache configuration");
  config.evictions_enabled = false;
  config.incr_mode = H5C_incr__off;
  config.flash_incr_mode = H5C_flash_incr__off;
  config.decr_mode = H5C_decr__off;
  at.check(H5Pset_mdc_config(plist.id(), &config), "set metadata-cache configuration");
  // No lock: HDF5 1.10 would hold an exclusive flock for the whole run, and h5py, xarray or
  // `kktflow info` could not even open a live run. Exclusive creation already keeps a second
  // writer away.
  at.check(H5Pset_file_locking(plist.id(), false, true), "disable file locking");
  return plist;
}

/// writer_access() in the newest file format, which SWMR writing needs.
Handle creator_access(const Where& at) {
  Handle plist = writer_access(at);
  at.check(H5Pset_libver_bounds(plist.id(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), "set format version bounds");
  return plist;
}

/// Reads take a shared lock where the file system supports locks, and go ahead where it does not
/// (HDF5 1.10 otherwise fails on such file systems, e.g. some NFS mounts).
Handle reader_access(const Where& at) {
  Handle plist(at.check(H5Pcreate(H5P_FILE_ACCESS), "create file-access properties"), H5Pclose);
  at.check(H5Pset_file_locking(plist.id(), true, true), "set file locking");
  return plist;
}

/// Creates attribute `name` (replacing any old one) and writes it; `length` empty means scalar.
void put_attr(const Object& owner, const std::string& name, hid_t stored_type, hid_t memory_type,
              std::optional<hsize_t> length, const void* data) {
  const Where at = where_of(owner);
  const std::string action = attr_action("write", name);
  if (at.check(H5Aexists(owner.id(), name.c_str()), action) > 0) {
    at.check(H5Adelete(owner.id(), name.c_str()), action);
  }
  Handle space(at.check(length ? H5Screate_simple(1, &*length, nullptr) : H5Screate(H5S_SCALAR), action),
               H5Sclose);
  Handle attr(
      at.check(H5Acreate2(owner.id(), name.c_str(), stored_type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
               action),
      H5Aclose);
  if (!length || *length > 0) {
    at.check(H5Awrite(attr.id(), memory_type, data), action);
  }
}

/// An open attribute with its type, element count and class.
struct OpenAttr {
  Handle attr;
  Handle type;
  Handle space;
  std::size_t count;
  H5T_class_t type_class;
};

OpenAttr open_attr(const Object& owner, const std::string& name) {
  const Where at = where_of(owner);
  const std::string action = attr_action("open", name);
  Handle attr(at.check(H5Aopen(owner.id(), name.c_str(), H5P_DEFAULT), action), H5Aclose);
  Handle type(at.check(H5Aget_type(attr.id()), action), H5Tclose);
  Handle space(at.check(H5Aget_space(attr.id()), action), H5Sclose);
  const auto count = static_cast<std::size_t>(at.check(H5Sget_simple_extent_npoints(space.id()), action));
  const H5T_class_t type_class = H5Tget_class(type.id());
  return {std::move(attr), std::move(type), std::move(space), count, type_class};
}

std::vector<std::string> read_strings(const Where& at, const OpenAttr& a, const std::string& action) {
  if (a.type_class != H5T_STRING) {
    at.fail(action + ": it is not a string");
  }
  std::vector<std::string> out;
  out.reserve(a.count);
  if (a.count == 0) {
    return out;
  }
  // Reading with the stored type as memory type avoids HDF5's refusal to convert between the
  // ASCII and UTF-8 character sets.
  if (at.check(H5Tis_variable_str(a.type.id()), action) > 0) {
    std::vector<char*> texts(a.count, nullptr);
    at.check(H5Aread(a.attr.id(), a.type.id(), texts.data()), action);
    for (const char* text : texts) {
      out.emplace_back(text != nullptr ? text : "");
    }
    H5Dvlen_reclaim(a.type.id(), a.space.id(), H5P_DEFAULT, texts.data());
    return out;
  }
  const std::size_t size = H5Tget_size(a.type.id());
  std::vector<char> buffer(a.count * size);
  at.check(H5Aread(a.attr.id(), a.type.id(), buffer.data()), action);
  for (std::size_t i = 0; i < a.count; ++i) {
    const char* text = buffer.data() + i * size;
    out.emplace_back(text, strnlen(text, size));
  }
  return out;
}

template <class T>
std::vector<T> read_numbers(const Where& at, const OpenAttr& a, const std::string& action) {
  if (a.type_class != H5T_INTEGER && a.type_class != H5T_FLOAT) {
    at.fail(action + ": it is not numeric");
  }
  std::vector<T> out(a.count);
  if (!out.empty()) {
    at.check(H5Aread(a.attr.id(), native_type<T>(), out.data()), action);
  }
  return out;
}

template <class T>
std::vector<T> read_values(const Object& owner, const std::string& name) {
  const OpenAttr a = open_attr(owner, name);
  const std::string action = attr_action("read", name);
  if constexpr (std::is_same_v<T, std::string>) {
    return read_strings(where_of(owner), a, action);
  } else {
    return read_numbers<T>(where_of(owner), a, action);
  }
}

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

template <class T>
std::vector<std::string> format_all(const std::vector<T>& values) {
  std::vector<std::string> out;
  out.reserve(values.size());
  for (const T& value : values) {
    out.push_back(fmt::format("{}", value));
  }
  return out;
}

herr_t collect_attr_name(hid_t /*location*/, const char* name, const H5A_info_t* /*info*/, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

/// Writes all of `dataset` from `data` (which holds `count` elements in memory order).
void write_whole(const Dataset& dataset, hid_t memory_type, const void* data, hsize_t count) {
  if (count > 0) {
    where_of(dataset).check(H5Dwrite(dataset.id(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
                            "write dataset");
  }
}

}  // namespace

// ---- Handle ---------------------------------------------------------------------------------

Handle::Handle(Handle&& other) noexcept
    : m_id(std::exchange(other.m_id, H5I_INVALID_HID)), m_close(other.m_close) {}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    m_id = std::exchange(other.m_id, H5I_INVALID_HID);
    m_close = other.m_close;
  }
  return *this;
}

void Handle::reset() noexcept {
  if (m_id >= 0 && m_close != nullptr) {
    m_close(m_id);
  }
  m_id = H5I_INVALID_HID;
}

// ---- Object: attributes ---------------------------------------------------------------------

hid_t Object::check(hid_t status, const std::string& action) const {
  return where_of(*this).check(status, action);
}

void Object::fail(const std::string& what) const { where_of(*this).fail(what); }

bool Object::has_attr(const std::string& name) const {
  return check(H5Aexists(id(), name.c_str()), attr_action("look up", name)) > 0;
}

std::vector<std::string> Object::attr_names() const {
  std::vector<std::string> names;
  check(H5Aiterate2(id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attr_name, &names), "list attributes");
  return names;
}

void Object::write_attr(const std::string& name, const std::string& value, StringStorage storage) {
  const bool fixed = storage == StringStorage::fixed;
  // A fixed-length string keeps its terminating NUL so that C readers can print it directly.
  const Handle type = string_type(where_of(*this), fixed ? value.size() + 1 : 0);
  const char* text = value.c_str();
  const void* data = fixed ? static_cast<const void*>(text) : static_cast<const void*>(&text);
  put_attr(*this, name, type.id(), type.id(), std::nullopt, data);
}

void Object::write_attr(const std::string& name, double value) {
  put_attr(*this, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, std::nullopt, &value);
}

void Object::write_attr(const std::string& name, std::int64_t value) {
  put_attr(*this, name, H5T_STD_I64LE, H5T_NATIVE_INT64, std::nullopt, &value);
}

void Object::write_attr(const std::string& name, std::uint64_t value) {
  put_attr(*this, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, std::nullopt, &value);
}

void Object::write_attr(const std::string& name, const std::vector<std::string>& value) {
  const Handle type = string_type(where_of(*this), 0);
  std::vector<const char*> texts;
  texts.reserve(value.size());
  for (const std::string& text : value) {
    texts.push_back(text.c_str());
  }
  put_attr(*this, name, type.id(), type.id(), value.size(), texts.data());
}

void Object::write_attr(const std::string& name, const std::vector<double>& value) {
  put_attr(*this, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, value.size(), value.data());
}

void Object::write_attr(const std::string& name, const std::vector<std::int64_t>& value) {
  put_attr(*this, name, H5T_STD_I64LE, H5T_NATIVE_INT64, value.size(), value.data());
}

template <class T>
T Object::read_attr(const std::string& name) const {
  if constexpr (IsVector<T>::value) {
    return read_values<typename T::value_type>(*this, name);
  } else {
    std::vector<T> values = read_values<T>(*this, name);
    if (values.size() != 1) {
      fail(fmt::format("attribute '{}' holds {} values, expected one", name, values.size()));
    }
    return std::move(values.front());
  }
}

template std::string Object::read_attr<std::string>(const std::string&) const;
template double Object::read_attr<double>(const std::string&) const;
template std::int64_t Object::read_attr<std::int64_t>(const std::string&) const;
template std::uint64_t Object::read_attr<std::uint64_t>(const std::string&) const;
template std::vector<std::string> Object::read_attr<std::vector<std::string>>(const std::string&) const;
template std::vector<double> Object::read_attr<std::vector<double>>(const std::string&) const;
template std::vector<std::int64_t> Object::read_attr<std::vector<std::int64_t>>(const std::string&) const;

std::string Object::read_attr_text(const std::string& name) const {
  const OpenAttr a = open_attr(*this, name);
  const Where at = where_of(*this);
  const std::string action = attr_action("read", name);
  std::vector<std::string> parts;
  if (a.type_class == H5T_STRING) {
    parts = read_strings(at, a, action);
  } else if (a.type_class == H5T_FLOAT) {
    parts = format_all(read_numbers<double>(at, a, action));
  } else if (a.type_class == H5T_INTEGER && H5Tget_sign(a.type.id()) == H5T_SGN_NONE) {
    parts = format_all(read_numbers<std::uint64_t>(at, a, action));
  } else if (a.type_class == H5T_INTEGER) {
    parts = format_all(read_numbers<std::int64_t>(at, a, action));
  } else {
    at.fail(action + ": it is neither a string nor a number");
  }
  return parts.size() == 1 ? parts.front() : fmt::format("[{}]", fmt::join(parts, ", "));
}

// ---- Dataset --------------------------------------------------------------------------------

std::vector<hsize_t> Dataset::shape() const {
  const Handle space(check(H5Dget_space(id()), "get dataspace"), H5Sclose);
  const auto rank = static_cast<std::size_t>(check(H5Sget_simple_extent_ndims(space.id()), "get rank"));
  std::vector<hsize_t> dims(rank);
  check(H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr), "get shape");
  return dims;
}

std::uint64_t Dataset::storage_bytes() const {
  // 0 is both "nothing allocated yet" and HDF5's failure value; a dataset that opened is valid.
  return H5Dget_storage_size(id());
}

std::size_t Dataset::element_bytes() const {
  const Handle type(check(H5Dget_type(id()), "get type"), H5Tclose);
  const std::size_t size = H5Tget_size(type.id());
  if (size == 0) {
    fail("cannot get the size of its type");
  }
  return size;
}

template <class T>
std::vector<T> Dataset::read_rows(hsize_t first, hsize_t count) const {
  const std::vector<hsize_t> dims = shape();
  if (dims.empty() || dims.size() > 2) {
    fail(fmt::format("has rank {}, expected 1 or 2", dims.size()));
  }
  if (first > dims[0] || count > dims[0] - first) {
    fail(fmt::format("rows [{}, {}) requested, but it has {} rows", first, first + count, dims[0]));
  }
  const hsize_t width = dims.size() == 2 ? dims[1] : 1;
  std::vector<T> out(count * width);
  if (out.empty()) {
    return out;
  }
  const Handle file_space(check(H5Dget_space(id()), "get dataspace"), H5Sclose);
  const std::array<hsize_t, 2> start{first, 0};
  const std::array<hsize_t, 2> block{count, width};
  check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, block.data(), nullptr),
        "select rows");
  const hsize_t total = out.size();
  const Handle memory_space(check(H5Screate_simple(1, &total, nullptr), "create dataspace"), H5Sclose);
  check(H5Dread(id(), native_type<T>(), memory_space.id(), file_space.id(), H5P_DEFAULT, out.data()),
        "read dataset");
  return out;
}

template std::vector<double> Dataset::read_rows<double>(hsize_t, hsize_t) const;
template std::vector<std::int64_t> Dataset::read_rows<std::int64_t>(hsize_t, hsize_t) const;

template <class T>
void Dataset::write_rows(hsize_t first, std::span<const T> values) {
  const std::vector<hsize_t> dims = shape();
  if (dims.size() != 1) {
    fail(fmt::format("has rank {}, expected 1 to write rows", dims.size()));
  }
  const hsize_t end = first + values.size();
  if (end > dims[0]) {
    check(H5Dset_extent(id(), &end), "extend dataset");
  }
  if (values.empty()) {
    return;
  }
  const Handle file_space(check(H5Dget_space(id()), "get dataspace"), H5Sclose);
  const hsize_t count = values.size();
  check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, &first, nullptr, &count, nullptr), "select rows");
  const Handle memory_space(check(H5Screate_simple(1, &count, nullptr), "create dataspace"), H5Sclose);
  check(H5Dwrite(id(), native_type<T>(), memory_space.id(), file_space.id(), H5P_DEFAULT, values.data()),
        fmt::format("write rows [{}, {})", first, end));
}

template void Dataset::write_rows<double>(hsize_t, std::span<const double>);
template void Dataset::write_rows<std::int64_t>(hsize_t, std::span<const std::int64_t>);

void Dataset::set_rows(hsize_t rows) {
  std::vector<hsize_t> dims = shape();
  if (dims.empty()) {
    fail("is a scalar, expected rows");
  }
  dims[0] = rows;
  check(H5Dset_extent(id(), dims.data()), fmt::format("set its rows to {}", rows));
}

Eigen::VectorXd Dataset::read_vector() const {
  const std::vector<hsize_t> dims = shape();
  if (dims.size() != 1) {
    fail(fmt::format("has rank {}, expected a vector", dims.size()));
  }
  const std::vector<double> values = read_rows<double>(0, dims[0]);
  return Eigen::Map<const Eigen::VectorXd>(values.data(), static_cast<Eigen::Index>(values.size()));
}

Eigen::MatrixXd Dataset::read_matrix() const {
  const std::vector<hsize_t> dims = shape();
  if (dims.size() != 2) {
    fail(fmt::format("has rank {}, expected a matrix", dims.size()));
  }
  const std::vector<double> values = read_rows<double>(0, dims[0]);
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  return Eigen::Map<const RowMajor>(values.data(), static_cast<Eigen::Index>(dims[0]),
                                    static_cast<Eigen::Index>(dims[1]));
}

std::vector<std::int64_t> Dataset::read_int64s() const {
  const std::vector<hsize_t> dims = shape();
  if (dims.size() != 1) {
    fail(fmt::format("has rank {}, expected a vector", dims.size()));
  }
  return read_rows<std::int64_t>(0, dims[0]);
}

std::vector<std::string> Dataset::read_strings() const {
  const std::vector<hsize_t> dims = shape();
  if (dims.size() != 1) {
    fail(fmt::format("has rank {}, expected a vector", dims.size()));
  }
  const Handle type(check(H5Dget_type(id()), "get type"), H5Tclose);
  if (check(H5Tis_variable_str(type.id()), "get type") <= 0) {
    fail("holds no variable-length strings");
  }
  const Handle space(check(H5Dget_space(id()), "get dataspace"), H5Sclose);
  std::vector<char*> texts(dims[0], nullptr);
  std::vector<std::string> out;
  if (texts.empty()) {
    return out;
  }
  // The stored type as memory type: HDF5 will not convert between ASCII and UTF-8.
  check(H5Dread(id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, texts.data()), "read strings");
  for (const char* text : texts) {
    out.emplace_back(text != nullptr ? text : "");
  }
  H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, texts.data());
  return out;
}

void Dataset::make_scale(const std::string& dimension) {
  check(H5DSset_scale(id(), dimension.c_str()), fmt::format("make dimension scale '{}'", dimension));
}

void Dataset::attach_scale(const Dataset& scale, unsigned dim) {
  check(H5DSattach_scale(id(), scale.id(), dim),
        fmt::format("attach dimension scale '{}' to dimension {}", scale.path(), dim));
}

// ---- Appendable -----------------------------------------------------------------------------

void Appendable::append(std::span<const double> row) {
  append_raw(H5T_NATIVE_DOUBLE, row.data(), row.size());
}

void Appendable::append(std::span<const std::int64_t> row) {
  append_raw(H5T_NATIVE_INT64, row.data(), row.size());
}

void Appendable::append_raw(hid_t memory_type, const void* data, std::size_t count) {
  const hsize_t width = std::max<hsize_t>(m_columns, 1);
  if (count != width) {
    fail(fmt::format("cannot append a row of {} values to rows of {}", count, width));
  }
  // For a 1-D dataset HDF5 reads only the first entry of each array.
  const std::array<hsize_t, 2> extent{m_rows + 1, m_columns};
  check(H5Dset_extent(id(), extent.data()), "extend dataset");
  const Handle file_space(check(H5Dget_space(id()), "get dataspace"), H5Sclose);
  const std::array<hsize_t, 2> start{m_rows, 0};
  const std::array<hsize_t, 2> block{1, width};
  check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, block.data(), nullptr),
        "select row");
  const Handle memory_space(check(H5Screate_simple(1, &width, nullptr), "create dataspace"), H5Sclose);
  check(H5Dwrite(id(), memory_type, memory_space.id(), file_space.id(), H5P_DEFAULT, data),
        fmt::format("append row {}", m_rows));
  ++m_rows;
}

// ---- Group ----------------------------------------------------------------------------------

Group Group::create_group(const std::string& name) {
  const std::string path = child_path(this->path(), name);
  const Where at{file_path(), path};
  const Handle links = intermediate_groups(at);
  Handle group(at.check(H5Gcreate2(id(), name.c_str(), links.id(), H5P_DEFAULT, H5P_DEFAULT), "create group"),
               H5Gclose);
  return Group(std::move(group), file_path(), path);
}

Group Group::open_group(const std::string& name) const {
  const std::string path = child_path(this->path(), name);
  Handle group(Where{file_path(), path}.check(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), "open group"),
               H5Gclose);
  return Group(std::move(group), file_path(), path);
}

bool Group::contains(const std::string& name) const {
  // H5Lexists fails rather than answering false when an intermediate group is missing, so
  // every prefix is checked in turn.
  for (std::size_t end = 0; end != std::string::npos;) {
    end = name.find('/', end + 1);
    const std::string prefix = name.substr(0, end);
    if (prefix.empty() || prefix == "/") {
      continue;
    }
    if (check(H5Lexists(id(), prefix.c_str(), H5P_DEFAULT), fmt::format("look up '{}'", prefix)) <= 0) {
      return false;
    }
  }
  return true;
}

void Group::remove(const std::string& name) {
  Where{file_path(), child_path(path(), name)}.check(H5Ldelete(id(), name.c_str(), H5P_DEFAULT), "unlink");
}

void Group::link_external(const std::string& name, const std::string& target_file, const std::string& target_object) {
  const std::string link_path = child_path(path(), name);
  const Where at{file_path(), link_path};
  const Handle links = intermediate_groups(at);
  at.check(H5Lcreate_external(target_file.c_str(), target_object.c_str(), id(), name.c_str(), links.id(), H5P_DEFAULT),
           "create external link to " + target_file);
}

Dataset Group::open_dataset(const std::string& name) const {
  const std::string path = child_path(this->path(), name);
  Handle dataset(Where{file_path(), path}.check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), "open dataset"),
                 H5Dclose);
  return Dataset(std::move(dataset), file_path(), path);
}

Dataset Group::create_dataset(const std::string& name, hid_t stored_type, const std::vector<hsize_t>& dims,
                              const std::vector<hsize_t>& max_dims, hid_t create_plist) {
  const std::string path = child_path(this->path(), name);
  const Where at{file_path(), path};
  const Handle space(at.check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()),
                              "create dataspace"),
                     H5Sclose);
  const Handle links = intermediate_groups(at);
  Handle dataset(
      at.check(H5Dcreate2(id(), name.c_str(), stored_type, space.id(), links.id(), create_plist, H5P_DEFAULT),
               "create dataset"),
      H5Dclose);
  return Dataset(std::move(dataset), file_path(), path);
}

Dataset Group::write_vector(const std::string& name, const Eigen::VectorXd& value) {
  const std::vector<hsize_t> dims{static_cast<hsize_t>(value.size())};
  Dataset dataset = create_dataset(name, H5T_IEEE_F64LE, dims, dims, H5P_DEFAULT);
  write_whole(dataset, H5T_NATIVE_DOUBLE, value.data(), dims[0]);
  return dataset;
}

Dataset Group::write_matrix(const std::string& name, const Eigen::MatrixXd& value) {
  const std::vector<hsize_t> dims{static_cast<hsize_t>(value.rows()), static_cast<hsize_t>(value.cols())};
  Dataset dataset = create_dataset(name, H5T_IEEE_F64LE, dims, dims, H5P_DEFAULT);
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major = value;
  write_whole(dataset, H5T_NATIVE_DOUBLE, row_major.data(), dims[0] * dims[1]);
  return dataset;
}

Dataset Group::write_dataset(const std::string& name, const std::vector<std::int64_t>& value) {
  const std::vector<hsize_t> dims{value.size()};
  Dataset dataset = create_dataset(name, H5T_STD_I64LE, dims, dims, H5P_DEFAULT);
  write_whole(dataset, H5T_NATIVE_INT64, value.data(), dims[0]);
  return dataset;
}

Dataset Group::write_dataset(const std::string& name, const std::vector<std::string>& value) {
  const std::vector<hsize_t> dims{value.size()};
  const Handle type = string_type(Where{file_path(), child_path(path(), name)}, 0);
  Dataset dataset = create_dataset(name, type.id(), dims, dims, H5P_DEFAULT);
  std::vector<const char*> texts;
  texts.reserve(value.size());
  for (const std::string& text : value) {
    texts.push_back(text.c_str());
  }
  write_whole(dataset, type.id(), texts.data(), dims[0]);
  return dataset;
}

Appendable Group::create_appendable(const std::string& name, const AppendableSpec& spec) {
  const Where at{file_path(), child_path(path(), name)};
  const bool matrix = spec.columns > 0;
  const std::vector<hsize_t> dims = matrix ? std::vector<hsize_t>{0, spec.columns} : std::vector<hsize_t>{0};
  std::vector<hsize_t> max_dims = dims;
  max_dims[0] = H5S_UNLIMITED;
  std::vector<hsize_t> chunk = dims;
  chunk[0] = spec.chunk_rows;
  const Handle create(at.check(H5Pcreate(H5P_DATASET_CREATE), "create dataset properties"), H5Pclose);
  at.check(H5Pset_chunk(create.id(), static_cast<int>(chunk.size()), chunk.data()), "set chunk shape");
  return Appendable(create_dataset(name, file_type(spec.type), dims, max_dims, create.id()), 0, spec.columns);
}

Appendable Group::open_appendable(const std::string& name) const {
  Dataset dataset = open_dataset(name);
  const Where at = where_of(dataset);
  const Handle space(at.check(H5Dget_space(dataset.id()), "get dataspace"), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 1 || rank > 2) {
    at.fail(fmt::format("has rank {}, expected 1 or 2 to append to", rank));
  }
  std::array<hsize_t, 2> dims{};
  std::array<hsize_t, 2> max_dims{};
  at.check(H5Sget_simple_extent_dims(space.id(), dims.data(), max_dims.data()), "get shape");
  if (max_dims[0] != H5S_UNLIMITED) {
    at.fail("cannot append: its first dimension is not unlimited");
  }
  return Appendable(std::move(dataset), dims[0], rank == 2 ? dims[1] : 0);
}

// ---- File -----------------------------------------------------------------------------------

File File::create(const std::string& path, bool overwrite) {
  silence_hdf5_errors();
  const Where at{path, "/"};
  std::error_code ignored;
  if (!overwrite && std::filesystem::exists(path, ignored)) {
    at.fail("cannot create file: it already exists and overwriting was not requested");
  }
  const Handle access = creator_access(at);
  Handle file(
      at.check(H5Fcreate(path.c_str(), overwrite ? H5F_ACC_TRUNC : H5F_ACC_EXCL, H5P_DEFAULT, access.id()),
               "create file"),
      H5Fclose);
  return File(std::move(file), path);
}

namespace {

/// Opens an existing HDF5 file with `flags`, after checks that name what is wrong with the path.
Handle open_existing(const std::string& path, unsigned flags, hid_t access, const char* what) {
  const Where at{path, "/"};
  std::error_code ignored;
  if (!std::filesystem::is_regular_file(path, ignored)) {
    at.fail("cannot open file: no such file");
  }
  if (at.check(H5Fis_hdf5(path.c_str()), "open file") == 0) {
    at.fail("cannot open file: it is not an HDF5 file");
  }
  const hid_t file = H5Fopen(path.c_str(), flags, access);
  const std::string detail = file < 0 ? hdf5_detail() : "";
  if (detail.starts_with("truncated file")) {
    at.fail(fmt::format("cannot open file: it is shorter than its superblock says ({}): it was cut off, "
                        "e.g. by an interrupted copy or a full disk, and cannot be read",
                        detail));
  }
  if (detail.find("not already open for SWMR writing") != std::string::npos ||
      detail.find("already open for write") != std::string::npos) {
    at.fail(fmt::format("cannot open file ({}): a writer holds it outside SWMR mode, or was killed while it "
                        "did (e.g. while a run wrote /final); if none is alive, `kktflow run --resume` or "
                        "`h5clear -s` clears the mark",
                        detail));
  }
  return Handle(at.check(file, what), H5Fclose);
}

}  // namespace

File File::open_read_only(const std::string& path) {
  silence_hdf5_errors();
  const Handle access = reader_access(Where{path, "/"});
  return File(open_existing(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, access.id(), "open file"), path);
}

File File::open_read_write(const std::string& path) {
  silence_hdf5_errors();
  const Handle access = writer_access(Where{path, "/"});
  return File(open_existing(path, H5F_ACC_RDWR, access.id(), "open file for writing"), path);
}

File File::open_to_continue(const std::string& path) {
  silence_hdf5_errors();
  const Where at{path, "/"};
  const Handle access = creator_access(at);
  hbool_t clear_status_flags = true;
  at.check(H5Pset(access.id(), "clear_status_flags", &clear_status_flags), "ask to clear the file's status flags");
  return File(open_existing(path, H5F_ACC_RDWR, access.id(), "open file for writing"), path);
}

void File::clear_writer_marks(const std::string& path) { open_to_continue(path); }

Group File::root() const {
  Handle group(Where{m_path, "/"}.check(H5Gopen2(m_handle.id(), "/", H5P_DEFAULT), "open root group"),
               H5Gclose);
  return Group(std::move(group), m_path, "/");
}

void File::flush() { Where{m_path, "/"}.check(H5Fflush(m_handle.id(), H5F_SCOPE_LOCAL), "flush file"); }

void File::start_swmr_write() {
  Where{m_path, "/"}.check(H5Fstart_swmr_write(m_handle.id()), "start SWMR writing");
}

}  // namespace kktflow::h5
