#pragma once
/// \file h5_detail.hpp
/// What the HDF5 layer's implementation files (h5.cpp, h5_dataset.cpp, h5_file.cpp) share:
/// error context and messages, HDF5 types and property lists, attribute reading. Internal.
#include "analysis/io/h5.hpp"
#include "analysis/io/h5_context.hpp"

#include <fmt/format.h>
#include <hdf5_hl.h>
#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace kktflow::h5::detail {

/// HDF5 prints its whole error stack to stderr on every failure; users should see one message
/// of ours instead. The setting is per thread in a thread-safe HDF5 build (Debian's is).
inline void silence_hdf5_errors() {
  thread_local const herr_t silenced = H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  static_cast<void>(silenced);
}

inline herr_t keep_innermost(unsigned depth, const H5E_error2_t* error, void* out) {
  if (depth == 0 && error->desc != nullptr) {
    *static_cast<std::string*>(out) = error->desc;
  }
  return 0;
}

/// The most specific message on HDF5's error stack (e.g. "truncated file: eof = …"), or "".
/// A failed system call's report ("file write failed: time = …, errno = 28, error message =
/// 'No space left on device', buf = …") is cut to its error message. Must run before the next
/// HDF5 call, which clears the stack.
inline std::string hdf5_detail() {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &detail);
  const std::string marker = "error message = '";
  const auto start = detail.find(marker);
  if (start == std::string::npos) return detail;
  const auto end = detail.find('\'', start + marker.size());
  const auto verb_end = detail.find(':');
  return detail.substr(0, verb_end) + ": " + detail.substr(start + marker.size(), end - start - marker.size());
}

/// Error context: which file and which object inside it. It owns its strings: callers build the
/// object path on the fly (child_path), and a view of that temporary would dangle by the time an
/// error names it.
struct Where {
  std::string file;
  std::string object;

  /// Notes the context (h5_context.hpp) before the HDF5 call that follows: in
  /// `Where{…}.check(H5Dopen2(…))` the object is made before the call's arguments are evaluated.
  Where(std::string file_path, std::string object_path) : file(std::move(file_path)), object(std::move(object_path)) {
    note_context(file, object);
  }

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

inline Where where_of(const Object& object) { return {object.file_path(), object.path()}; }

inline std::string child_path(const std::string& parent, const std::string& name) {
  if (name.starts_with('/')) {
    return name;
  }
  return parent == "/" ? "/" + name : parent + "/" + name;
}

inline std::string attr_action(std::string_view verb, const std::string& name) {
  return fmt::format("{} attribute '{}'", verb, name);
}

inline hid_t file_type(Type type) { return type == Type::f64 ? H5T_IEEE_F64LE : H5T_STD_I64LE; }

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
inline Handle string_type(const Where& at, std::size_t fixed_size) {
  Handle type(at.check(H5Tcopy(H5T_C_S1), "copy string type"), H5Tclose);
  at.check(H5Tset_size(type.id(), fixed_size == 0 ? H5T_VARIABLE : fixed_size), "size string type");
  at.check(H5Tset_cset(type.id(), H5T_CSET_UTF8), "set string type to UTF-8");
  return type;
}

/// Link-creation properties that create missing intermediate groups ("a/b/c").
inline Handle intermediate_groups(const Where& at) {
  Handle plist(at.check(H5Pcreate(H5P_LINK_CREATE), "create link properties"), H5Pclose);
  at.check(H5Pset_create_intermediate_group(plist.id(), 1), "set link properties");
  return plist;
}

/// Metadata-cache evictions off: HDF5 then writes metadata only when we flush, so between two
/// flushes the metadata on disk stays as the last flush left it, and raw data written meanwhile
/// lands only in rows that metadata does not show yet. A run killed at any moment other than
/// inside a flush thus leaves a file whose flushed rows all read back, and a reader opening a
/// live run sees the state of the last flush.
inline Handle writer_access(const Where& at) {
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
inline Handle creator_access(const Where& at) {
  Handle plist = writer_access(at);
  at.check(H5Pset_libver_bounds(plist.id(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), "set format version bounds");
  return plist;
}

/// The kernel's page, and HDF5's file-space page in every file we create.
inline constexpr hsize_t kFileSpacePage = 4096;

/// Paged file space: HDF5 places every metadata block smaller than a page inside one page. A
/// process killed inside a write loses the pages it had not copied yet (Linux checks for a
/// fatal signal between the pages of a write), so a block that straddled two pages could be
/// left half new, half old, with a checksum that fails for good; within one page it is written
/// whole or not at all. The flush order of SWMR writing does the rest: a run killed inside a
/// flush leaves each block as one flush or the other left it.
inline Handle creator_properties(const Where& at) {
  Handle plist(at.check(H5Pcreate(H5P_FILE_CREATE), "create file-creation properties"), H5Pclose);
  at.check(H5Pset_file_space_strategy(plist.id(), H5F_FSPACE_STRATEGY_PAGE, false, 1), "set paged file space");
  at.check(H5Pset_file_space_page_size(plist.id(), kFileSpacePage), "set the file-space page size");
  return plist;
}

/// Attempts of a SWMR reader at a metadata block whose checksum fails. HDF5 1.10 sleeps 1 ns,
/// 2 ns, 4 ns, … between attempts, and its default of 100 attempts sleeps for 2^100 ns on a
/// damaged block: a reader never ends. 24 attempts sleep 17 ms in all, many times what a live
/// writer takes to rewrite a block (one pwrite), so a live run still reads and a damaged block
/// fails at once.
inline constexpr unsigned kSwmrReadAttempts = 24;

/// Reads take a shared lock where the file system supports locks, and go ahead where it does not
/// (HDF5 1.10 otherwise fails on such file systems, e.g. some NFS mounts), and give up on a
/// metadata block after kSwmrReadAttempts.
inline Handle reader_access(const Where& at) {
  Handle plist(at.check(H5Pcreate(H5P_FILE_ACCESS), "create file-access properties"), H5Pclose);
  at.check(H5Pset_file_locking(plist.id(), true, true), "set file locking");
  at.check(H5Pset_metadata_read_attempts(plist.id(), kSwmrReadAttempts), "bound the metadata read attempts");
  return plist;
}

/// Creates attribute `name` (replacing any old one) and writes it; `length` empty means scalar,
/// `columns` > 0 a matrix of length/columns rows.
inline void put_attr(const Object& owner, const std::string& name, hid_t stored_type, hid_t memory_type,
                     std::optional<hsize_t> length, const void* data, hsize_t columns = 0) {
  const Where at = where_of(owner);
  const std::string action = attr_action("write", name);
  if (at.check(H5Aexists(owner.id(), name.c_str()), action) > 0) {
    at.check(H5Adelete(owner.id(), name.c_str()), action);
  }
  const std::array<hsize_t, 2> matrix{columns > 0 && length ? *length / columns : 0, columns};
  const hid_t space_id = !length       ? H5Screate(H5S_SCALAR)
                         : columns > 0 ? H5Screate_simple(2, matrix.data(), nullptr)
                                       : H5Screate_simple(1, &*length, nullptr);
  Handle space(at.check(space_id, action), H5Sclose);
  Handle attr(at.check(H5Acreate2(owner.id(), name.c_str(), stored_type, space.id(), H5P_DEFAULT, H5P_DEFAULT), action),
              H5Aclose);
  if (!length || *length > 0) {
    at.check(H5Awrite(attr.id(), memory_type, data), action);
  }
}

/// Refuses to read `elements` values of `element_bytes` each from `object` when the file could
/// not hold them: kktflow writes no compressed or sparse data, so a dataspace that claims more
/// is damaged, and reading it would allocate (and zero) that much memory.
inline void check_read_size(hid_t object, const Where& at, hsize_t elements, std::size_t element_bytes) {
  const Handle file(H5Iget_file_id(object), H5Fclose);
  hsize_t file_bytes = 0;
  if (!file.valid() || H5Fget_filesize(file.id(), &file_bytes) < 0) return;
  constexpr hsize_t kSlack = hsize_t{1} << 20;  // attribute and header overhead of a tiny file
  const hsize_t bytes = std::max<std::size_t>(element_bytes, 1);
  if (elements > (file_bytes + kSlack) / bytes)
    at.fail(fmt::format("claims {} values of {} bytes, more than the file's {} bytes hold: the file is damaged",
                        elements, element_bytes, file_bytes));
}

/// An open attribute with its type, element count and class.
struct OpenAttr {
  Handle attr;
  Handle type;
  Handle space;
  std::size_t count;
  H5T_class_t type_class;
};

inline OpenAttr open_attr(const Object& owner, const std::string& name) {
  const Where at = where_of(owner);
  note_context(owner.file_path(), owner.path() + "' attribute '" + name);
  const std::string action = attr_action("open", name);
  Handle attr(at.check(H5Aopen(owner.id(), name.c_str(), H5P_DEFAULT), action), H5Aclose);
  Handle type(at.check(H5Aget_type(attr.id()), action), H5Tclose);
  Handle space(at.check(H5Aget_space(attr.id()), action), H5Sclose);
  const auto count = static_cast<std::size_t>(at.check(H5Sget_simple_extent_npoints(space.id()), action));
  const H5T_class_t type_class = H5Tget_class(type.id());
  check_read_size(owner.id(), Where{at.file, at.object + "' attribute '" + name}, count, H5Tget_size(type.id()));
  return {std::move(attr), std::move(type), std::move(space), count, type_class};
}

inline std::vector<std::string> read_strings(const Where& at, const OpenAttr& a, const std::string& action) {
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

inline herr_t collect_link_name(hid_t /*group*/, const char* name, const H5L_info_t* /*info*/, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

inline herr_t collect_attr_name(hid_t /*location*/, const char* name, const H5A_info_t* /*info*/, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

/// Writes all of `dataset` from `data` (which holds `count` elements in memory order).
inline void write_whole(const Dataset& dataset, hid_t memory_type, const void* data, hsize_t count) {
  if (count > 0) {
    where_of(dataset).check(H5Dwrite(dataset.id(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write dataset");
  }
}

}  // namespace kktflow::h5::detail
