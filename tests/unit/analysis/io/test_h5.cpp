#define BOOST_TEST_MODULE h5
#include "analysis/io/h5.hpp"

#include <hdf5_hl.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "scratch_dir.hpp"

using kktflow::testing::ScratchDir;
namespace h5 = kktflow::h5;

namespace {

/// Whether `expr` throws h5::Error whose message contains every one of `parts`.
template <class F>
bool throws_error_with(F&& expr, const std::vector<std::string>& parts) {
  try {
    expr();
  } catch (const h5::Error& error) {
    const std::string message = error.what();
    BOOST_TEST_MESSAGE("h5::Error: " << message);
    for (const std::string& part : parts) {
      if (message.find(part) == std::string::npos) {
        BOOST_TEST_MESSAGE("missing '" << part << "'");
        return false;
      }
    }
    return true;
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(handle_is_move_only_and_closes_once) {
  h5::Handle a(H5Screate(H5S_SCALAR), H5Sclose);
  const hid_t id = a.id();
  BOOST_TEST(a.valid());
  h5::Handle b(std::move(a));
  BOOST_TEST(!a.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
  BOOST_TEST(b.id() == id);
  h5::Handle c;
  c = std::move(b);
  BOOST_TEST(c.id() == id);
  BOOST_TEST(H5Iis_valid(id) > 0);
  c.reset();
  BOOST_TEST(!c.valid());
  BOOST_TEST(H5Iis_valid(id) <= 0);
}

BOOST_AUTO_TEST_CASE(attributes_round_trip) {
  const ScratchDir dir;
  const std::string path = dir.file("attrs.h5");
  const std::vector<std::string> names{"W", "V", "γ-layer"};
  const std::vector<std::int64_t> shapes{3, 4, -1, std::numeric_limits<std::int64_t>::min()};
  const std::vector<double> numbers{0.1, -2.5e300};
  {
    h5::File file = h5::File::create(path, false);
    h5::Group root = file.root();
    root.write_attr("variable", "θ ∈ R^d");
    root.write_attr("fixed", "abc", h5::StringStorage::fixed);
    root.write_attr("empty", "");
    root.write_attr("empty_fixed", "", h5::StringStorage::fixed);
    root.write_attr("pi", 3.141592653589793);
    root.write_attr("big", std::numeric_limits<std::int64_t>::max());
    root.write_attr("seed", std::numeric_limits<std::uint64_t>::max());
    root.write_attr("names", names);
    root.write_attr("no_names", std::vector<std::string>{});
    root.write_attr("shapes", shapes);
    root.write_attr("numbers", numbers);
    root.write_attr("replaced", 1.5);
    root.write_attr("replaced", "now a string");
  }
  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  BOOST_TEST(root.read_attr<std::string>("variable") == "θ ∈ R^d");
  BOOST_TEST(root.read_attr<std::string>("fixed") == "abc");
  BOOST_TEST(root.read_attr<std::string>("empty") == "");
  BOOST_TEST(root.read_attr<std::string>("empty_fixed") == "");
  BOOST_TEST(root.read_attr<double>("pi") == 3.141592653589793);
  BOOST_TEST(root.read_attr<std::int64_t>("big") == std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(root.read_attr<std::uint64_t>("seed") == std::numeric_limits<std::uint64_t>::max());
  BOOST_TEST(root.read_attr<std::vector<std::string>>("names") == names, boost::test_tools::per_element());
  BOOST_TEST(root.read_attr<std::vector<std::string>>("no_names").empty());
  BOOST_TEST(root.read_attr<std::vector<std::int64_t>>("shapes") == shapes, boost::test_tools::per_element());
  BOOST_TEST(root.read_attr<std::vector<double>>("numbers") == numbers, boost::test_tools::per_element());
  BOOST_TEST(root.read_attr<std::string>("replaced") == "now a string");
  BOOST_TEST(root.read_attr<double>("big") == 9.223372036854775807e18);  // HDF5 converts

  BOOST_TEST(root.read_attr_text("pi") == "3.141592653589793");
  BOOST_TEST(root.read_attr_text("seed") == "18446744073709551615");
  BOOST_TEST(root.read_attr_text("fixed") == "abc");
  BOOST_TEST(root.read_attr_text("numbers") == "[0.1, -2.5e+300]");
  BOOST_TEST(root.has_attr("pi"));
  BOOST_TEST(!root.has_attr("tau"));
  BOOST_TEST(root.attr_names().size() == 12U);

  BOOST_TEST(throws_error_with([&] { (void)root.read_attr<double>("variable"); },
                               {path, "object '/'", "attribute 'variable'", "not numeric"}));
  BOOST_TEST(throws_error_with([&] { (void)root.read_attr<std::string>("pi"); }, {"not a string"}));
  BOOST_TEST(throws_error_with([&] { (void)root.read_attr<std::int64_t>("shapes"); }, {"4 values"}));
  BOOST_TEST(throws_error_with([&] { (void)root.read_attr<double>("absent"); }, {"attribute 'absent'"}));
}

BOOST_AUTO_TEST_CASE(fixed_datasets_are_row_major) {
  const ScratchDir dir;
  const std::string path = dir.file("datasets.h5");
  Eigen::MatrixXd X(3, 2);
  X << 1, 2, 3, 4, 5, 6;
  const Eigen::VectorXd v = Eigen::VectorXd::LinSpaced(5, -1.0, 1.0 / 3.0);
  const std::vector<std::int64_t> ints{7, -8, 9};
  {
    h5::File file = h5::File::create(path, false);
    h5::Group group = file.root().create_group("a/b");
    group.write_dataset("X", X);
    group.write_dataset("v", v);
    group.write_dataset("ints", ints);
    group.write_dataset("nothing", Eigen::VectorXd());
  }
  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  BOOST_TEST(root.contains("a/b/X"));
  BOOST_TEST(!root.contains("a/c/X"));
  BOOST_TEST(root.contains("/a/b"));
  const h5::Dataset stored = root.open_dataset("a/b/X");
  BOOST_TEST(stored.path() == "/a/b/X");
  BOOST_TEST(stored.shape() == (std::vector<hsize_t>{3, 2}), boost::test_tools::per_element());
  // On disk the first row is (1, 2): numpy sees the same 3 × 2 matrix.
  BOOST_TEST(stored.read_rows<double>(0, 1) == (std::vector<double>{1, 2}), boost::test_tools::per_element());
  BOOST_TEST((stored.read_matrix() == X));
  const h5::Group b = root.open_group("a").open_group("b");
  BOOST_TEST(b.path() == "/a/b");
  BOOST_TEST((b.open_dataset("v").read_vector() == v));
  BOOST_TEST(b.open_dataset("ints").read_int64s() == ints, boost::test_tools::per_element());
  BOOST_TEST(b.open_dataset("nothing").read_vector().size() == 0);

  BOOST_TEST(throws_error_with([&] { (void)b.open_dataset("v").read_matrix(); }, {"/a/b/v", "rank 1"}));
  BOOST_TEST(throws_error_with([&] { (void)stored.read_rows<double>(2, 2); }, {"rows [2, 4)", "3 rows"}));
  BOOST_TEST(throws_error_with([&] { (void)b.open_dataset("missing"); },
                               {path, "object '/a/b/missing'", "cannot open dataset"}));
}

BOOST_AUTO_TEST_CASE(appendable_grows_row_by_row) {
  const ScratchDir dir;
  const std::string path = dir.file("append.h5");
  {
    h5::File file = h5::File::create(path, false);
    h5::Group root = file.root();
    h5::Appendable scalar = root.create_appendable("scalar", {h5::Type::f64, 0, 4});
    h5::Appendable rows = root.create_appendable("rows", {h5::Type::i64, 3, 2});
    for (std::int64_t i = 0; i < 10; ++i) {
      scalar.append(0.5 * static_cast<double>(i));
      const std::vector<std::int64_t> row{i, -i, i * i};
      rows.append(std::span<const std::int64_t>(row));
    }
    BOOST_TEST(scalar.rows() == 10U);
    BOOST_TEST(rows.columns() == 3U);
    const std::vector<double> wrong{1.0, 2.0};
    BOOST_TEST(
        throws_error_with([&] { rows.append(std::span<const double>(wrong)); }, {"/rows", "2 values", "rows of 3"}));
    file.flush();
  }
  {
    h5::File file = h5::File::create(path, true);  // truncates
    BOOST_TEST(!file.root().contains("scalar"));
  }
  {
    h5::File file = h5::File::create(path, true);
    h5::Appendable rows = file.root().create_appendable("rows", {h5::Type::f64, 2, 8});
    rows.append(std::span<const double>(std::vector<double>{1.0, 2.0}));
  }
  const h5::File file = h5::File::open_read_only(path);
  const h5::Appendable reopened = file.root().open_appendable("rows");
  BOOST_TEST(reopened.rows() == 1U);
  BOOST_TEST(reopened.columns() == 2U);
  BOOST_TEST((reopened.read_matrix() == Eigen::RowVector2d(1.0, 2.0)));
}

BOOST_AUTO_TEST_CASE(appendable_reopens_and_continues) {
  const ScratchDir dir;
  const std::string path = dir.file("continue.h5");
  {
    h5::File file = h5::File::create(path, false);
    h5::Group root = file.root();
    h5::Appendable column = root.create_appendable("column", {h5::Type::i64, 0, 3});
    for (std::int64_t i = 0; i < 5; ++i) {
      column.append(i);
    }
    root.write_dataset("fixed", Eigen::VectorXd::Ones(2));
    BOOST_TEST(throws_error_with([&] { (void)root.open_appendable("fixed"); }, {"/fixed", "not unlimited"}));
    h5::Appendable again = root.open_appendable("column");
    BOOST_TEST(again.rows() == 5U);
    again.append(std::int64_t{5});
  }
  const h5::File file = h5::File::open_read_only(path);
  BOOST_TEST(file.root().open_dataset("column").read_int64s() == (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(appendable_takes_many_rows_in_one_write) {
  const ScratchDir dir;
  const std::string path = dir.file("batch.h5");
  {
    h5::File file = h5::File::create(path, false);
    h5::Group root = file.root();
    h5::Appendable column = root.create_appendable("column", {h5::Type::i64, 0, 4});
    h5::Appendable rows = root.create_appendable("rows", {h5::Type::f64, 2, 4});
    column.append(std::int64_t{7});
    column.append_rows(std::span<const std::int64_t>(std::vector<std::int64_t>{8, 9, 10, 11, 12}));  // across chunks
    column.append_rows(std::span<const std::int64_t>());                                             // nothing
    rows.append_rows(std::span<const double>(std::vector<double>{1, 2, 3, 4, 5, 6}));
    BOOST_TEST(column.rows() == 6U);
    BOOST_TEST(rows.rows() == 3U);
    const std::vector<double> ragged{1, 2, 3};
    BOOST_TEST(throws_error_with([&] { rows.append_rows(std::span<const double>(ragged)); },
                                 {"/rows", "3 values", "rows of 2"}));
    BOOST_TEST(rows.rows() == 3U);
  }
  const h5::File file = h5::File::open_read_only(path);
  BOOST_TEST(file.root().open_dataset("column").read_int64s() == (std::vector<std::int64_t>{7, 8, 9, 10, 11, 12}),
             boost::test_tools::per_element());
  const Eigen::MatrixXd expected = (Eigen::MatrixXd(3, 2) << 1, 2, 3, 4, 5, 6).finished();
  BOOST_TEST((file.root().open_appendable("rows").read_matrix() == expected));
}

BOOST_AUTO_TEST_CASE(dimension_scales_attach) {
  const ScratchDir dir;
  const std::string path = dir.file("scales.h5");
  {
    h5::File file = h5::File::create(path, false);
    h5::Group root = file.root();
    h5::Appendable point = root.create_appendable("point", {h5::Type::i64, 0, 16});
    point.make_scale("point");
    h5::Appendable sigma = root.create_appendable("sigma", {h5::Type::f64, 2, 16});
    sigma.attach_scale(point, 0);
    BOOST_TEST(throws_error_with([&] { sigma.attach_scale(point, 5); }, {"/sigma", "dimension 5"}));
  }
  const h5::File file = h5::File::open_read_only(path);
  const h5::Dataset point = file.root().open_dataset("point");
  const h5::Dataset sigma = file.root().open_dataset("sigma");
  BOOST_TEST(H5DSis_scale(point.id()) > 0);
  BOOST_TEST(H5DSis_attached(sigma.id(), point.id(), 0) > 0);
  BOOST_TEST(H5DSis_attached(sigma.id(), point.id(), 1) == 0);
  std::array<char, 16> name{};
  H5DSget_scale_name(point.id(), name.data(), name.size());
  BOOST_TEST(std::string(name.data()) == "point");
}

BOOST_AUTO_TEST_CASE(file_errors_name_the_file) {
  const ScratchDir dir;
  const std::string path = dir.file("exists.h5");
  { h5::File::create(path, false); }
  BOOST_TEST(throws_error_with([&] { h5::File::create(path, false); }, {path, "already exists"}));
  BOOST_TEST(throws_error_with([&] { h5::File::open_read_only(dir.file("absent.h5")); },
                               {dir.file("absent.h5"), "no such file"}));
  const std::string text = dir.file("text.h5");
  std::ofstream(text) << "not HDF5 at all\n";
  BOOST_TEST(throws_error_with([&] { h5::File::open_read_only(text); }, {text, "not an HDF5 file"}));
  BOOST_TEST(throws_error_with([&] { h5::File::create(dir.file("no/such/dir.h5"), false); },
                               {"no/such/dir.h5", "cannot create file"}));
}

BOOST_AUTO_TEST_CASE(string_datasets_round_trip) {
  ScratchDir dir;
  const std::vector<std::string> written{"frei2023.rank_le_2", "", "σ₃/σ₁ ≤ τ"};
  {
    h5::File file = h5::File::create(dir.file("s.h5"), false);
    file.root().write_dataset("names", written);
  }
  const h5::File file = h5::File::open_read_only(dir.file("s.h5"));
  BOOST_TEST(file.root().open_dataset("names").read_strings() == written, boost::test_tools::per_element());
  BOOST_TEST(throws_error_with([&] { (void)file.root().open_dataset("names").read_int64s(); }, {"names"}));
}

BOOST_AUTO_TEST_CASE(external_links_resolve_relative_to_the_linking_file) {
  ScratchDir dir;
  std::filesystem::create_directories(dir.file("sweep/runs"));
  {
    h5::File target = h5::File::create(dir.file("sweep/runs/target.h5"), false);
    target.root().write_attr("format", "kktflow-run");
  }
  {
    h5::File index = h5::File::create(dir.file("sweep/index.h5"), false);
    index.root().create_group("links").link_external("case_0", "runs/target.h5", "/");
  }
  // The directory moved as a whole, and opened from a working directory where runs/ is not.
  std::filesystem::rename(dir.file("sweep"), dir.file("moved"));
  const h5::File index = h5::File::open_read_only(dir.file("moved/index.h5"));
  BOOST_TEST(index.root().open_group("links/case_0").read_attr<std::string>("format") == "kktflow-run");
}
