#include "analysis/io/data_file.hpp"

#include "analysis/io/h5.hpp"
#include "analysis/io/read_probe.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <stdexcept>

namespace kktflow {

bool is_hdf5_path(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::ranges::transform(ext, ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".h5" || ext == ".hdf5" || ext == ".he5";
}

Dataset read_hdf5_dataset(const std::string& path) {
  probe_file(path);
  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  const std::string prefix = root.contains("X") ? "" : "data/";
  for (const char* name : {"X", "y"})
    if (!root.contains(prefix + name))
      throw std::invalid_argument(fmt::format("data.path = \"{}\": no dataset {} (looked for /X, /y and /data/X, /data/y)",
                                              path, name));
  const h5::Dataset X = root.open_dataset(prefix + "X");
  if (X.shape().size() != 2)
    throw std::invalid_argument(fmt::format("data.path = \"{}\": /{}X must be 2-D (samples × features)", path, prefix));
  Dataset data;
  data.X = X.read_matrix();
  data.y = root.open_dataset(prefix + "y").read_vector();
  if (data.y.size() != data.X.rows())
    throw std::invalid_argument(fmt::format("data.path = \"{}\": /{}y holds {} labels for {} samples in /{}X", path,
                                            prefix, data.y.size(), data.X.rows(), prefix));
  if (!(data.y.array().abs() == 1.0).all())
    throw std::invalid_argument(fmt::format("data.path = \"{}\": /{}y must hold labels −1 and +1 only", path, prefix));
  data.source = path;
  data.params = {{"path", path}, {"format", "hdf5"}};
  return data;
}

}  // namespace kktflow
