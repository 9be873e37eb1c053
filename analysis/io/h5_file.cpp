#include "analysis/io/h5_detail.hpp"

#include "analysis/io/path_checks.hpp"

#include <fcntl.h>
#include <stdio.h>

#include <algorithm>
#include <cerrno>

namespace kktflow::h5 {

using namespace detail;

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
  Handle group(Where{file_path(), path}.check(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), "open group"), H5Gclose);
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

std::vector<std::string> Group::member_names() const {
  std::vector<std::string> names;
  check(H5Literate(id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_link_name, &names), "list members");
  return names;
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
  Handle dataset(Where{file_path(), path}.check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), "open dataset"), H5Dclose);
  return Dataset(std::move(dataset), file_path(), path);
}

Dataset Group::create_dataset(const std::string& name, hid_t stored_type, const std::vector<hsize_t>& dims,
                              const std::vector<hsize_t>& max_dims, hid_t create_plist) {
  const std::string path = child_path(this->path(), name);
  const Where at{file_path(), path};
  const Handle space(
      at.check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()), "create dataspace"),
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
  const Handle creation = creator_properties(at);
  Handle file(at.check(H5Fcreate(path.c_str(), overwrite ? H5F_ACC_TRUNC : H5F_ACC_EXCL, creation.id(), access.id()),
                       "create file"),
              H5Fclose);
  return File(std::move(file), path);
}

File File::create_unpublished(const std::string& path) {
  silence_hdf5_errors();
  const Where at{path, "/"};
  const std::string temporary = path + ".tmp";
  const Handle access = creator_access(at);
  const Handle creation = creator_properties(at);
  Handle file(at.check(H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, creation.id(), access.id()), "create file"),
              H5Fclose);
  File created(std::move(file), path);
  created.m_unpublished = temporary;
  return created;
}

void File::publish(bool overwrite) {
  const Where at{m_path, "/"};
  if (m_unpublished.empty()) at.fail("cannot publish a file that is already at its path");
  flush();
  // renameat2's RENAME_NOREPLACE keeps a file that appeared at the path meanwhile; file systems
  // without it (EINVAL) get a check, then rename.
  int renamed =
      ::renameat2(AT_FDCWD, m_unpublished.c_str(), AT_FDCWD, m_path.c_str(), overwrite ? 0 : RENAME_NOREPLACE);
  if (renamed != 0 && errno == EINVAL && !overwrite) {
    std::error_code ignored;
    errno = std::filesystem::exists(m_path, ignored) ? EEXIST : 0;
    renamed = errno == 0 ? ::rename(m_unpublished.c_str(), m_path.c_str()) : -1;
  }
  if (renamed != 0) {
    const int error = errno;
    at.fail(error == EEXIST
                ? "cannot create file: it already exists and overwriting was not requested"
                : fmt::format("cannot move '{}' to the file's path ({})", m_unpublished, std::strerror(error)));
  }
  m_unpublished.clear();
}

void File::discard_unpublished(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove(path + ".tmp", ignored);
}

namespace {

/// Opens an existing HDF5 file with `flags`, after checks that name what is wrong with the path.
Handle open_existing(const std::string& path, unsigned flags, hid_t access, const char* what) {
  const Where at{path, "/"};
  if (const auto problem = not_a_regular_file(path)) at.fail("cannot open file: " + *problem);
  if (at.check(H5Fis_hdf5(path.c_str()), "open file") == 0) {
    at.fail("cannot open file: it is not an HDF5 file");
  }
  const hid_t file = H5Fopen(path.c_str(), flags, access);
  const std::string detail = file < 0 ? hdf5_detail() : "";
  if (detail.starts_with("truncated file")) {
    at.fail(
        fmt::format("cannot open file: it is shorter than its superblock says ({}): it was cut off, "
                    "e.g. by an interrupted copy or a full disk, and cannot be read",
                    detail));
  }
  if (detail.find("not already open for SWMR writing") != std::string::npos ||
      detail.find("already open for write") != std::string::npos) {
    throw WriterMarkError(
        fmt::format("HDF5 file '{}', object '/': cannot open file ({}): a writer holds it outside "
                    "SWMR mode, or was killed while it did (e.g. while a run wrote /final); if none "
                    "is alive, `kktflow run --resume` or `h5clear -s` clears the mark",
                    path, detail));
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
  Handle file = open_existing(path, H5F_ACC_RDWR, access.id(), "open file for writing");
  // A writer killed inside a flush can leave blocks past the end of allocation its superblock
  // records; new blocks would then be placed over them. As h5clear -i does, the end of
  // allocation moves past the file's end, to the next page (creator_properties).
  haddr_t end_of_allocation = 0;
  hsize_t file_size = 0;
  at.check(H5Fget_eoa(file.id(), &end_of_allocation), "get the end of allocation");
  at.check(H5Fget_filesize(file.id(), &file_size), "get the file size");
  const hsize_t end = std::max<hsize_t>(end_of_allocation, file_size);
  at.check(H5Fincrement_filesize(file.id(), (kFileSpacePage - end % kFileSpacePage) % kFileSpacePage),
           "move the end of allocation past the file's end");
  return File(std::move(file), path);
}

void File::clear_writer_marks(const std::string& path) { open_to_continue(path); }

Group File::root() const {
  Handle group(Where{m_path, "/"}.check(H5Gopen2(m_handle.id(), "/", H5P_DEFAULT), "open root group"), H5Gclose);
  return Group(std::move(group), m_path, "/");
}

void File::flush() { Where{m_path, "/"}.check(H5Fflush(m_handle.id(), H5F_SCOPE_LOCAL), "flush file"); }

void File::start_swmr_write() { Where{m_path, "/"}.check(H5Fstart_swmr_write(m_handle.id()), "start SWMR writing"); }

}  // namespace kktflow::h5
