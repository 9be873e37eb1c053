#include "analysis/io/file_check.hpp"

#include "analysis/io/file_check_detail.hpp"
#include "analysis/io/read_probe.hpp"

#include "analysis/io/h5_detail.hpp"
#include "analysis/io/run_store.hpp"
#include "analysis/io/sweep_index.hpp"

#include <array>
#include <filesystem>
#include <vector>

namespace kktflow {
namespace {

using h5::detail::Where;

/// An object found by H5Ovisit, by its path relative to the root.
struct Visited {
  std::string name;
  bool dataset = false;
};

herr_t collect_object(hid_t /*object*/, const char* name, const H5O_info_t* info, void* out) {
  static_cast<std::vector<Visited>*>(out)->push_back({name, info->type == H5O_TYPE_DATASET});
  return 0;
}

/// Every object reachable from the root by hard links; reading each header verifies its checksum.
std::vector<Visited> visit_objects(const h5::File& file) {
  const h5::Group root = file.root();
  std::vector<Visited> objects;
  Where{file.path(), "/"}.check(
      H5Ovisit2(root.id(), H5_INDEX_NAME, H5_ITER_INC, collect_object, &objects, H5O_INFO_BASIC), "visit every object");
  return objects;
}

/// Reads attribute `name` of `object` whatever its type: strings and numbers as text, others
/// (the dimension scales' lists of object references, which live in the global heap) as raw
/// native values, releasing what HDF5 allocated for variable-length parts.
void read_attribute(const h5::Object& object, const std::string& name) {
  const Where at{object.file_path(), object.path() + "' attribute '" + name};
  const h5::Handle attr(at.check(H5Aopen(object.id(), name.c_str(), H5P_DEFAULT), "open attribute"), H5Aclose);
  const h5::Handle stored(at.check(H5Aget_type(attr.id()), "get type"), H5Tclose);
  const H5T_class_t kind = H5Tget_class(stored.id());
  if (kind == H5T_STRING || kind == H5T_INTEGER || kind == H5T_FLOAT) {
    static_cast<void>(object.read_attr_text(name));
    return;
  }
  const h5::Handle space(at.check(H5Aget_space(attr.id()), "get dataspace"), H5Sclose);
  const h5::Handle native(at.check(H5Tget_native_type(stored.id(), H5T_DIR_DEFAULT), "get native type"), H5Tclose);
  const auto count = static_cast<hsize_t>(at.check(H5Sget_simple_extent_npoints(space.id()), "count values"));
  const std::size_t size = H5Tget_size(native.id());
  h5::detail::check_read_size(object.id(), at, count, size);
  std::vector<unsigned char> buffer(count * size);
  at.check(H5Aread(attr.id(), native.id(), buffer.data()), "read attribute");
  if (H5Tdetect_class(native.id(), H5T_VLEN) > 0) H5Dvlen_reclaim(native.id(), space.id(), H5P_DEFAULT, buffer.data());
}

void read_attributes(const h5::Object& object) {
  for (const std::string& name : object.attr_names()) read_attribute(object, name);
}

H5T_class_t type_class(const h5::Dataset& dataset) {
  const h5::Handle type(Where{dataset.file_path(), dataset.path()}.check(H5Dget_type(dataset.id()), "get type"),
                        H5Tclose);
  return H5Tget_class(type.id());
}

/// The first value of row `row` of a numeric dataset (rank 1 or 2): enough to load the chunk
/// index down to that row's chunk (a row of /snapshots/theta may be hundreds of megabytes).
void read_element(const h5::Dataset& dataset, hsize_t row) {
  const Where at{dataset.file_path(), dataset.path()};
  const h5::Handle file_space(at.check(H5Dget_space(dataset.id()), "get dataspace"), H5Sclose);
  const std::array<hsize_t, 2> start{row, 0};
  const std::array<hsize_t, 2> one{1, 1};
  at.check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, one.data(), nullptr),
           "select a value");
  const hsize_t count = 1;
  const h5::Handle memory_space(at.check(H5Screate_simple(1, &count, nullptr), "create dataspace"), H5Sclose);
  double value = 0;
  at.check(H5Dread(dataset.id(), H5T_NATIVE_DOUBLE, memory_space.id(), file_space.id(), H5P_DEFAULT, &value),
           fmt::format("read row {}", row));
}

/// The chunk index (through the storage size) and the first and last rows of a numeric dataset,
/// all of a string dataset (kktflow's are a row per claim or case).
void read_dataset_ends(const h5::Dataset& dataset) {
  static_cast<void>(dataset.storage_bytes());
  const std::vector<hsize_t> shape = dataset.shape();
  if (shape.empty() || shape.size() > 2 || shape[0] == 0) return;
  const H5T_class_t kind = type_class(dataset);
  if (kind == H5T_STRING && shape.size() == 1) {
    static_cast<void>(dataset.read_strings());
  } else if (kind == H5T_FLOAT || kind == H5T_INTEGER) {
    for (const hsize_t row : {hsize_t{0}, shape[0] - 1}) read_element(dataset, row);
  }
}

void check_objects(const h5::File& file) {
  const h5::Group root = file.root();
  read_attributes(root);
  for (const Visited& object : visit_objects(file)) {
    if (object.dataset) {
      const h5::Dataset dataset = root.open_dataset(object.name);
      read_attributes(dataset);
      read_dataset_ends(dataset);
    } else {
      read_attributes(root.open_group(object.name));
    }
  }
}

/// The run files of the cases a sweep index marks done, relative to its directory.
std::vector<std::string> done_case_files(const h5::File& index) {
  const h5::Group root = index.root();
  if (!root.contains("cases/file") || !root.contains("cases/state")) return {};
  const std::vector<std::string> files = root.open_dataset("cases/file").read_strings();
  const std::vector<std::string> states = root.open_dataset("cases/state").read_strings();
  const std::filesystem::path dir = std::filesystem::path(index.path()).parent_path();
  std::vector<std::string> done;
  for (std::size_t k = 0; k < files.size() && k < states.size(); ++k)
    if (states[k] == "done") done.push_back((dir / files[k]).string());
  return done;
}

}  // namespace

void check_whole_file(const std::string& path) {
  std::string format;
  std::vector<std::string> cases;
  {
    const h5::File file = h5::File::open_read_only(path);
    check_objects(file);
    const h5::Group root = file.root();
    if (root.has_attr("format")) format = root.read_attr_text("format");
    if (format == kSweepFormat) cases = done_case_files(file);
  }
  if (format == kRunFormat) static_cast<void>(read_run_summary(path));
  for (const std::string& run : cases) check_whole_file(run);
}

std::string check_file_readable(const std::string& path) {
  probe_file(path);
  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  return root.has_attr("format") ? root.read_attr_text("format") : "";
}

}  // namespace kktflow
