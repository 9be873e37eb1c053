#include "analysis/io/h5_detail.hpp"

#include <limits>

namespace kktflow::h5 {

using namespace detail;

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
  note_context(file_path(), path());
  const std::vector<hsize_t> dims = shape();
  if (dims.empty() || dims.size() > 2) {
    fail(fmt::format("has rank {}, expected 1 or 2", dims.size()));
  }
  if (first > dims[0] || count > dims[0] - first) {
    fail(fmt::format("rows [{}, {}) requested, but it has {} rows", first, first + count, dims[0]));
  }
  const hsize_t width = dims.size() == 2 ? dims[1] : 1;
  if (width > 0 && count > std::numeric_limits<hsize_t>::max() / width) fail("has more values than can be counted");
  check_read_size(id(), where_of(*this), count * width, sizeof(T));
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
  check(H5Dread(id(), native_type<T>(), memory_space.id(), file_space.id(), H5P_DEFAULT, out.data()), "read dataset");
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
  note_context(file_path(), path());
  const std::vector<hsize_t> dims = shape();
  if (dims.size() != 1) {
    fail(fmt::format("has rank {}, expected a vector", dims.size()));
  }
  const Handle type(check(H5Dget_type(id()), "get type"), H5Tclose);
  if (check(H5Tis_variable_str(type.id()), "get type") <= 0) {
    fail("holds no variable-length strings");
  }
  const Handle space(check(H5Dget_space(id()), "get dataspace"), H5Sclose);
  check_read_size(id(), where_of(*this), dims[0], sizeof(char*));
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

void Appendable::append(std::span<const double> row) { append_raw(H5T_NATIVE_DOUBLE, row.data(), row.size(), 1); }

void Appendable::append(std::span<const std::int64_t> row) { append_raw(H5T_NATIVE_INT64, row.data(), row.size(), 1); }

void Appendable::append_rows(std::span<const double> values) {
  if (values.empty()) return;
  append_raw(H5T_NATIVE_DOUBLE, values.data(), values.size(), values.size() / std::max<hsize_t>(m_columns, 1));
}

void Appendable::append_rows(std::span<const std::int64_t> values) {
  if (values.empty()) return;
  append_raw(H5T_NATIVE_INT64, values.data(), values.size(), values.size() / std::max<hsize_t>(m_columns, 1));
}

void Appendable::append_raw(hid_t memory_type, const void* data, std::size_t count, hsize_t rows) {
  const hsize_t width = std::max<hsize_t>(m_columns, 1);
  if (count != rows * width) {
    fail(fmt::format("cannot append {} values as rows of {}", count, width));
  }
  // For a 1-D dataset HDF5 reads only the first entry of each array.
  const std::array<hsize_t, 2> extent{m_rows + rows, m_columns};
  check(H5Dset_extent(id(), extent.data()), "extend dataset");
  const Handle file_space(check(H5Dget_space(id()), "get dataspace"), H5Sclose);
  const std::array<hsize_t, 2> start{m_rows, 0};
  const std::array<hsize_t, 2> block{rows, width};
  check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, block.data(), nullptr),
        "select rows");
  const hsize_t values = count;
  const Handle memory_space(check(H5Screate_simple(1, &values, nullptr), "create dataspace"), H5Sclose);
  check(H5Dwrite(id(), memory_type, memory_space.id(), file_space.id(), H5P_DEFAULT, data),
        rows == 1 ? fmt::format("append row {}", m_rows)
                  : fmt::format("append rows {} to {}", m_rows, m_rows + rows - 1));
  m_rows += rows;
}

}  // namespace kktflow::h5
