#include "analysis/io/data_file.hpp"

#include "analysis/io/h5.hpp"
#include "analysis/io/read_probe.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace kktflow {

LabelledTable read_hdf5_table(const std::string& path) {
  probe_file(path);
  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  const std::string prefix = root.contains("X") ? "" : "data/";
  for (const char* name : {"X", "y"})
    if (!root.contains(prefix + name))
      throw std::invalid_argument(
          fmt::format("data.path = \"{}\": no dataset {} (looked for /X, /y and /data/X, /data/y)", path, name));
  const h5::Dataset X = root.open_dataset(prefix + "X");
  if (X.shape().size() != 2)
    throw std::invalid_argument(fmt::format("data.path = \"{}\": /{}X must be 2-D (samples × features)", path, prefix));
  LabelledTable table;
  table.X = X.read_matrix();
  const Eigen::VectorXd y = root.open_dataset(prefix + "y").read_vector();
  if (y.size() != table.X.rows())
    throw std::invalid_argument(
        fmt::format("data.path = \"{}\": /{}y holds {} labels for {} samples in /{}X (a wrong shape)", path, prefix,
                    y.size(), table.X.rows(), prefix));
  for (const double v : y) table.labels.push_back(label_text(v));
  table.files = {path};
  table.format = "hdf5";
  return table;
}

}  // namespace kktflow
