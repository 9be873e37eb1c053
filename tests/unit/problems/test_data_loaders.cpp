// Data loaders (problems/data_loaders.hpp, data_selection.hpp, sha256.hpp): each format read from
// a small file written by tests/cli/data/loaders/make_fixtures.py with Python's standard library
// alone, so these readers are checked against an independent writer; SHA-256 against FIPS 180-4's
// example vectors; the selection keys on a table built here.
#define BOOST_TEST_MODULE data_loaders
#include <boost/test/unit_test.hpp>

#include "problems/data_loaders.hpp"
#include "problems/data_selection.hpp"
#include "problems/sha256.hpp"

#include <string>

using namespace kktflow;
namespace tt = boost::test_tools;

namespace {

const std::string kDir = std::string(KKTFLOW_SOURCE_DIR) + "/tests/cli/data/loaders/";

/// The six samples and labels every small fixture holds.
Eigen::MatrixXd expected_X() {
  Eigen::MatrixXd X(6, 3);
  X << 1.0, 0.0, 0.5, 0.0, 2.0, -1.0, 3.0, 1.0, 0.0, -1.0, -1.0, 2.0, 0.25, 4.0, 1.0, 2.0, -3.0, 0.5;
  return X;
}
const std::vector<std::string> kLabels{"5", "7", "5", "7", "7", "5"};

DatasetSpec file_spec(const std::string& kind, const std::string& path, const std::string& labels = "") {
  DatasetSpec s;
  s.kind = kind;
  s.path = kDir + path;
  s.labels = labels.empty() ? "" : kDir + labels;
  return s;
}

std::string bytes_text(const std::string& s) {
  return sha256_hex(std::span(reinterpret_cast<const unsigned char*>(s.data()), s.size()));
}

/// The message of the std::invalid_argument `f` throws, or "" when it throws none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(sha256_matches_the_standards_examples) {
  // FIPS 180-4 examples (NIST CSRC "SHA256.pdf"), and the empty message.
  BOOST_TEST(bytes_text("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(bytes_text("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(bytes_text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // One million 'a', fed in uneven pieces so blocks straddle update() calls.
  Sha256 hash;
  const std::string piece(997, 'a');
  std::size_t fed = 0;
  while (fed < 1'000'000) {
    const std::size_t take = std::min(piece.size(), 1'000'000 - fed);
    hash.update(std::span(reinterpret_cast<const unsigned char*>(piece.data()), take));
    fed += take;
  }
  BOOST_TEST(hash.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

BOOST_AUTO_TEST_CASE(npy_reads_c_and_fortran_order_in_either_byte_order) {
  const LabelledTable t = read_labelled_table(file_spec("npy", "small_X.npy", "small_y.npy"));
  BOOST_TEST(t.format == "npy");
  BOOST_TEST(t.X.isApprox(expected_X(), 0.0));
  BOOST_TEST(t.labels == kLabels, tt::per_element());
  const LabelledTable f = read_labelled_table(file_spec("npy", "small_X_fortran.npy", "small_y.npy"));
  BOOST_TEST(f.X.isApprox(expected_X(), 0.0));  // every value is exact in float32
}

BOOST_AUTO_TEST_CASE(npz_reads_stored_and_deflated_archives) {
  for (const char* name : {"small.npz", "small_compressed.npz"}) {
    const LabelledTable t = read_labelled_table(file_spec("npy", name));
    BOOST_TEST(t.format == "npz");
    BOOST_TEST(t.X.isApprox(expected_X(), 0.0), name);
    BOOST_TEST(t.labels == kLabels, tt::per_element());
  }
  DatasetSpec missing = file_spec("npy", "small.npz");
  missing.x_key = "images";
  BOOST_TEST(error_of([&] { read_labelled_table(missing); }).find("no member images.npy (members: X.npy, y.npy)") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(idx_reads_plain_and_gzipped_files) {
  for (const char* name : {"small-images-idx3-ubyte", "small-images-idx3-ubyte.gz"}) {
    const LabelledTable t = read_labelled_table(file_spec("idx", name, "small-labels-idx1-ubyte"));
    BOOST_TEST(t.format == "idx");
    BOOST_TEST(t.X.rows() == 6);
    BOOST_TEST(t.X.cols() == 3);  // 6 × 3 × 1 flattened
    BOOST_TEST(t.X(1, 1) == 20.0);
    BOOST_TEST(t.X(3, 2) == 20.0);
    BOOST_TEST(t.labels == kLabels, tt::per_element());
  }
}

BOOST_AUTO_TEST_CASE(compressed_content_past_the_bound_is_refused) {
  // small-images-idx3-ubyte holds 34 bytes (make_fixtures.py: a 16-byte header, 6 × 3 pixels);
  // its gzip inflates to exactly that, so 34 passes and 33 is refused.
  DatasetSpec gz = file_spec("idx", "small-images-idx3-ubyte.gz", "small-labels-idx1-ubyte");
  gz.max_decoded_bytes = 34;
  BOOST_TEST(read_labelled_table(gz).X.rows() == 6);
  gz.max_decoded_bytes = 33;
  BOOST_TEST(error_of([&] { read_labelled_table(gz); }).find("decompresses to more than 33 bytes") !=
             std::string::npos);
  // A deflated npz member is refused on its stated size (X.npy: a 128-byte header and 6 × 3
  // float64, 272 bytes) before it is inflated.
  DatasetSpec npz = file_spec("npy", "small_compressed.npz");
  npz.max_decoded_bytes = 271;
  BOOST_TEST(error_of([&] { read_labelled_table(npz); }).find("member X.npy: decompresses to more than 271 bytes") !=
             std::string::npos);
  npz.max_decoded_bytes = 272;
  BOOST_TEST(read_labelled_table(npz).X.rows() == 6);
}

BOOST_AUTO_TEST_CASE(idx_reads_the_fashion_mnist_slice) {
  const LabelledTable t =
      read_labelled_table(file_spec("idx", "fashion_slice-images-idx3-ubyte.gz", "fashion_slice-labels-idx1-ubyte.gz"));
  BOOST_TEST(t.X.rows() == 60);
  BOOST_TEST(t.X.cols() == 784);
  BOOST_TEST(t.labels[0] == "9");  // the first training image is an ankle boot
  BOOST_TEST(t.X.minCoeff() == 0.0);
  BOOST_TEST(t.X.maxCoeff() == 255.0);
}

BOOST_AUTO_TEST_CASE(csv_takes_a_header_and_text_labels) {
  DatasetSpec s = file_spec("csv", "small_header.csv");
  s.label_column = "species";
  s.positive = "dog";
  const LabelledTable t = read_labelled_table(s);
  BOOST_TEST(t.X.cols() == 2);
  BOOST_TEST(t.labels[0] == "cat");
  const Dataset d = prepare_dataset(t, s);
  BOOST_TEST(d.y[0] == -1.0);
  BOOST_TEST(d.y[1] == 1.0);
  BOOST_TEST(d.params.at("positive") == "dog");
}

BOOST_AUTO_TEST_CASE(csv_with_zero_one_labels_needs_the_positive_named) {
  DatasetSpec s = file_spec("csv", "small_01.csv");
  const LabelledTable t = read_labelled_table(s);
  BOOST_TEST(error_of([&] { prepare_dataset(t, s); }).find("data.positive: the labels are 0 and 1") !=
             std::string::npos);
  s.positive = "0";
  const Dataset d = prepare_dataset(t, s);
  BOOST_TEST(d.y[0] == 1.0);  // label 0 is +1
  BOOST_TEST(d.y[1] == -1.0);
}

BOOST_AUTO_TEST_CASE(selection_takes_classes_per_class_and_records_it) {
  DatasetSpec s = file_spec("idx", "fashion_slice-images-idx3-ubyte.gz", "fashion_slice-labels-idx1-ubyte.gz");
  s.classes = {"5", "7"};
  s.per_class = 3;
  s.normalize = "unit_norm";
  const Dataset d = prepare_dataset(read_labelled_table(s), s);
  BOOST_TEST(d.n() == 6);
  // Labels 5 at file rows 8, 9, 12 (the first three), 7 at rows 6, 14, 41.
  BOOST_TEST(d.params.at("rows") == "6,8-9,12,14,41");
  BOOST_TEST(d.y.sum() == 0.0);
  BOOST_TEST(d.y[1] == 1.0);  // row 8 has label 5, the first class
  BOOST_TEST((d.X.rowwise().norm().array() - 1.0).abs().maxCoeff() < 1e-15);
  BOOST_TEST(d.params.at("sha256").size() == 64u);
  BOOST_TEST(d.params.at("labels_sha256") != d.params.at("sha256"));
  s.select = "seeded";
  s.seed = 3;
  const Dataset seeded = prepare_dataset(read_labelled_table(s), s);
  BOOST_TEST(seeded.params.at("rows") != d.params.at("rows"));
  BOOST_TEST(seeded.params.at("seed") == "3");
  s.per_class = 6;
  BOOST_TEST(error_of([&] {
               prepare_dataset(read_labelled_table(s), s);
             }).find("data.per_class = 6: class 7 has only 5 samples") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(standardize_centres_and_scales_each_feature) {
  DatasetSpec s = file_spec("npy", "small.npz");
  s.classes = {"5", "7"};
  s.normalize = "standardize";
  const Dataset d = prepare_dataset(read_labelled_table(s), s);
  BOOST_TEST(d.X.colwise().mean().cwiseAbs().maxCoeff() < 1e-15);
  BOOST_TEST(((d.X.colwise().squaredNorm() / 6.0).array() - 1.0).abs().maxCoeff() < 1e-14);
}

BOOST_AUTO_TEST_CASE(index_ranges_are_compact) {
  BOOST_TEST(index_ranges({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8");
  BOOST_TEST(index_ranges({}) == "");
}
