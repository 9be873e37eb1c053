#pragma once
/// \file h5.hpp
/// A thin RAII layer over the HDF5 C API (1.10): files, groups, attributes, fixed-size and
/// appendable datasets, dimension scales. Only what the kktflow run file needs.
///
/// Conventions: matrices are row-major on disk, so numpy and h5py see an n×d array for an n×d
/// Eigen matrix; f64 is IEEE little-endian, i64 is two's complement little-endian; strings are
/// UTF-8. Every failure throws h5::Error naming the file and the object, and HDF5's own error
/// stack is never printed (its innermost message is appended to ours instead).
#include "analysis/io/h5_error.hpp"

#include <hdf5.h>

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kktflow::h5 {

/// Owns one hid_t and closes it with the function matching its kind (H5Fclose, H5Dclose, …).
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);

  Handle() = default;
  /// Takes ownership of `id` (which may be invalid: check before use).
  Handle(hid_t id, Closer close) noexcept : m_id(id), m_close(close) {}
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  [[nodiscard]] hid_t id() const noexcept { return m_id; }
  [[nodiscard]] bool valid() const noexcept { return m_id >= 0; }
  /// Closes now. A failing close is ignored: destructors cannot report it, and the data path
  /// reports failures through the flush that precedes every close that matters.
  void reset() noexcept;

 private:
  hid_t m_id = H5I_INVALID_HID;
  Closer m_close = nullptr;
};

/// On-disk element type of a dataset.
enum class Type { f64, i64 };

/// How a string attribute is stored: variable-length (h5py returns `str`) or fixed-length
/// (h5py returns `bytes`; what netCDF-C and older tools write).
enum class StringStorage { variable, fixed };

/// A group or dataset that remembers its file and path, for attributes and error messages.
class Object {
 public:
  [[nodiscard]] hid_t id() const noexcept { return m_handle.id(); }
  [[nodiscard]] const std::string& file_path() const noexcept { return m_file; }
  /// Absolute path inside the file, e.g. "/trajectory/tau".
  [[nodiscard]] const std::string& path() const noexcept { return m_path; }

  [[nodiscard]] bool has_attr(const std::string& name) const;
  /// Names of all attributes, in HDF5's name order.
  [[nodiscard]] std::vector<std::string> attr_names() const;

  /// Writers replace an existing attribute of the same name, whatever its old type.
  void write_attr(const std::string& name, const std::string& value, StringStorage storage = StringStorage::variable);
  void write_attr(const std::string& name, double value);
  void write_attr(const std::string& name, std::int64_t value);
  void write_attr(const std::string& name, std::uint64_t value);
  void write_attr(const std::string& name, const std::vector<std::string>& value);
  void write_attr(const std::string& name, const std::vector<double>& value);
  void write_attr(const std::string& name, const std::vector<std::int64_t>& value);
  /// A rows × `columns` attribute from `value` in row-major order (value.size() a multiple of columns).
  void write_attr(const std::string& name, const std::vector<std::int64_t>& value, hsize_t columns);

  /// Reads an attribute as T: std::string (fixed or variable length), double, std::int64_t,
  /// std::uint64_t, or std::vector of std::string / double / std::int64_t. Numbers convert
  /// between integer and float as HDF5 does; a scalar read needs exactly one element.
  template <class T>
  [[nodiscard]] T read_attr(const std::string& name) const;

  /// Any string or numeric attribute rendered as text ("[a, b]" for more than one element),
  /// for listings such as `kktflow info` where the type is not known in advance.
  [[nodiscard]] std::string read_attr_text(const std::string& name) const;

 protected:
  Object(Handle handle, std::string file, std::string path)
      : m_handle(std::move(handle)), m_file(std::move(file)), m_path(std::move(path)) {}
  /// Returns `status`, or throws Error "cannot <action>" for this object if it is negative
  /// (an HDF5 failure).
  hid_t check(hid_t status, const std::string& action) const;
  /// Throws Error with `what` for this object.
  [[noreturn]] void fail(const std::string& what) const;

 private:
  Handle m_handle;
  std::string m_file;
  std::string m_path;
};

extern template std::string Object::read_attr<std::string>(const std::string&) const;
extern template double Object::read_attr<double>(const std::string&) const;
extern template std::int64_t Object::read_attr<std::int64_t>(const std::string&) const;
extern template std::uint64_t Object::read_attr<std::uint64_t>(const std::string&) const;
extern template std::vector<std::string> Object::read_attr<std::vector<std::string>>(const std::string&) const;
extern template std::vector<double> Object::read_attr<std::vector<double>>(const std::string&) const;
extern template std::vector<std::int64_t> Object::read_attr<std::vector<std::int64_t>>(const std::string&) const;

/// A dataset of rank 1 or 2.
class Dataset : public Object {
 public:
  [[nodiscard]] std::vector<hsize_t> shape() const;
  /// Bytes the dataset takes on disk (H5Dget_storage_size): allocated chunks, after filters.
  [[nodiscard]] std::uint64_t storage_bytes() const;
  /// Bytes of one element of the stored type.
  [[nodiscard]] std::size_t element_bytes() const;

  /// Rows [first, first + count) of a 1-D or 2-D dataset, flattened row-major; T is double or
  /// std::int64_t (HDF5 converts from the stored type).
  template <class T>
  [[nodiscard]] std::vector<T> read_rows(hsize_t first, hsize_t count) const;
  /// The whole of a 1-D dataset.
  [[nodiscard]] Eigen::VectorXd read_vector() const;
  /// The whole of a 2-D dataset (rows × columns as stored).
  [[nodiscard]] Eigen::MatrixXd read_matrix() const;
  /// The whole of a 1-D dataset.
  [[nodiscard]] std::vector<std::int64_t> read_int64s() const;
  /// The whole of a 1-D dataset of variable-length strings (what Group::write_dataset writes).
  [[nodiscard]] std::vector<std::string> read_strings() const;

  /// Writes `values` into rows [first, first + size) of a 1-D dataset, extending a chunked
  /// dataset whose rows end before that (never shrinking it: SWMR writers may only grow a
  /// dataset). T is double or std::int64_t (HDF5 converts to the stored type).
  template <class T>
  void write_rows(hsize_t first, std::span<const T> values);
  /// Sets the number of rows of a chunked dataset, dropping rows past `rows`; not under SWMR.
  void set_rows(hsize_t rows);

  /// Makes this 1-D dataset a dimension scale named `dimension` (H5DSset_scale); netCDF
  /// readers (h5netcdf, xarray) take the dataset's own name as the dimension name, so the two
  /// should agree.
  void make_scale(const std::string& dimension);
  /// Attaches `scale` to dimension `dim` of this dataset (H5DSattach_scale).
  void attach_scale(const Dataset& scale, unsigned dim);

 protected:
  friend class Group;
  Dataset(Handle handle, std::string file, std::string path)
      : Object(std::move(handle), std::move(file), std::move(path)) {}
};

/// Layout of an appendable dataset.
struct AppendableSpec {
  Type type = Type::f64;
  hsize_t columns = 0;  ///< 0: 1-D (unlimited rows); otherwise unlimited rows × `columns`
  hsize_t chunk_rows = 1024;
};

/// A chunked dataset with an unlimited first dimension that grows by the rows appended.
class Appendable : public Dataset {
 public:
  [[nodiscard]] hsize_t rows() const noexcept { return m_rows; }
  /// 0 for a 1-D dataset.
  [[nodiscard]] hsize_t columns() const noexcept { return m_columns; }

  /// Extends by one row and writes it; `row` holds max(1, columns()) values (HDF5 converts to
  /// the stored type).
  void append(std::span<const double> row);
  void append(std::span<const std::int64_t> row);
  void append(double value) { append(std::span<const double>(&value, 1)); }
  void append(std::int64_t value) { append(std::span<const std::int64_t>(&value, 1)); }
  /// Extends by `values.size()` / max(1, columns()) rows, row-major, in one write.
  void append_rows(std::span<const double> values);
  void append_rows(std::span<const std::int64_t> values);

 private:
  friend class Group;
  Appendable(Dataset dataset, hsize_t rows, hsize_t columns)
      : Dataset(std::move(dataset)), m_rows(rows), m_columns(columns) {}
  void append_raw(hid_t mem_type, const void* data, std::size_t count, hsize_t rows);

  hsize_t m_rows;
  hsize_t m_columns;
};

/// A group; names may be nested relative paths ("a/b") or absolute ("/a/b").
class Group : public Object {
 public:
  /// Creates the group and any missing intermediate groups.
  Group create_group(const std::string& name);
  [[nodiscard]] Group open_group(const std::string& name) const;
  /// Whether a link `name` exists (every component of a nested path is checked).
  [[nodiscard]] bool contains(const std::string& name) const;
  /// The names of its links, in name order.
  [[nodiscard]] std::vector<std::string> member_names() const;
  /// Unlinks `name`; its space is not reclaimed (HDF5 never shrinks a file).
  void remove(const std::string& name);
  /// Creates an external link `name` to the object `target_object` of the file `target_file`
  /// (H5Lcreate_external). A relative `target_file` is found relative to the directory of the
  /// file holding the link, so a directory of linked files can move as a whole.
  void link_external(const std::string& name, const std::string& target_file, const std::string& target_object);

  [[nodiscard]] Dataset open_dataset(const std::string& name) const;
  /// Fixed-size f64 dataset from any Eigen expression: 1-D for a column vector type (VectorXd),
  /// otherwise 2-D rows × cols, stored row-major (numpy sees rows × cols).
  template <class Derived>
  Dataset write_dataset(const std::string& name, const Eigen::MatrixBase<Derived>& value) {
    if constexpr (Derived::ColsAtCompileTime == 1) {
      return write_vector(name, value.derived());
    } else {
      return write_matrix(name, value.derived());
    }
  }
  Dataset write_dataset(const std::string& name, const std::vector<std::int64_t>& value);
  /// 1-D dataset of variable-length UTF-8 strings (h5py returns `str` objects, xarray strings).
  Dataset write_dataset(const std::string& name, const std::vector<std::string>& value);

  Appendable create_appendable(const std::string& name, const AppendableSpec& spec);
  /// Reopens an appendable dataset (e.g. to resume a run) with its current rows.
  [[nodiscard]] Appendable open_appendable(const std::string& name) const;

 private:
  friend class File;
  Group(Handle handle, std::string file, std::string path)
      : Object(std::move(handle), std::move(file), std::move(path)) {}
  Dataset write_vector(const std::string& name, const Eigen::VectorXd& value);
  Dataset write_matrix(const std::string& name, const Eigen::MatrixXd& value);
  Dataset create_dataset(const std::string& name, hid_t file_type, const std::vector<hsize_t>& dims,
                         const std::vector<hsize_t>& max_dims, hid_t create_plist);
};

/// An open HDF5 file. Objects opened from it keep the file open until they close too.
class File {
 public:
  /// Creates `path`. Without `overwrite`, an existing file is an Error (and the create is
  /// exclusive, so a file appearing meanwhile is not clobbered either). The file takes no lock,
  /// so readers can open it while it is written, and its metadata reaches the disk only at
  /// flush() and close, so that a killed writer leaves the state of its last flush. It is
  /// written in the newest format of the library (HDF5 1.10: superblock v3), which SWMR needs.
  static File create(const std::string& path, bool overwrite);
  /// create() of a file that appears at `path` only when publish() renames it there: until then
  /// it is `path + ".tmp"` (a leftover of an earlier attempt is replaced), so a process killed
  /// while it lays the file out leaves nothing at `path`. Error messages name `path`.
  static File create_unpublished(const std::string& path);
  /// Flushes a file of create_unpublished() and renames it to its path, atomically. Without
  /// `overwrite` an existing file at the path is an Error (and stays as it was).
  void publish(bool overwrite);
  /// Removes what create_unpublished(`path`) left when it was not published.
  static void discard_unpublished(const std::string& path);
  /// Opens `path` for reading, with a shared lock where the file system supports locks, in
  /// SWMR-read mode: this reads a file that a SWMR writer has open (or left open when killed)
  /// as well as any closed file, whatever its format.
  static File open_read_only(const std::string& path);
  /// Opens an existing `path` for reading and writing (e.g. `kktflow verify` adding /verify to a
  /// finished run), with create()'s locking and metadata-cache settings; the file keeps the
  /// format it was written in.
  static File open_read_write(const std::string& path);
  /// open_read_write() for a run to continue in SWMR mode, in the newest format as create()'s,
  /// that also opens a file whose SWMR writer was killed (what `h5clear -s` does: HDF5 1.10 has
  /// no public call, but h5clear sets the file-access property "clear_status_flags", which is
  /// registered with every file-access list). It does not detect a writer that is still alive.
  static File open_to_continue(const std::string& path);
  /// Clears the marks a killed writer left in `path` (open_to_continue(), then close), so that
  /// readers, which cannot clear them, can open it. Like it, does not detect a live writer.
  static void clear_writer_marks(const std::string& path);

  [[nodiscard]] Group root() const;
  /// Writes every dirty object and chunk of this file to disk (H5Fflush, local scope).
  void flush();
  /// Switches a file from create() to single-writer/multiple-reader writing (H5Fstart_swmr_write):
  /// from now on processes that open it with open_read_only() see every flushed row. Under SWMR
  /// no group, dataset or attribute can be created or deleted; datasets can only grow and be
  /// written. To change the layout again, close the file and reopen it with open_read_write().
  void start_swmr_write();
  [[nodiscard]] const std::string& path() const noexcept { return m_path; }

 private:
  File(Handle handle, std::string path) : m_handle(std::move(handle)), m_path(std::move(path)) {}

  Handle m_handle;
  std::string m_path;
  std::string m_unpublished;  ///< where the file is until publish(); empty once it is at m_path
};

}  // namespace kktflow::h5
