/// \file gemm_backend.cpp
/// Eigen's own GEMM against OpenBLAS's dgemm on the products the flow's right-hand sides are
/// made of, both on every core, in one run, to choose the faster (CMakeLists.txt: KKTFLOW_BLAS).
///
/// Shapes, at the sizes (n, m, d) of bench/rhs:
///   forward  Z  = W Xᵀ   m×d (row-major, θ's layout) · (n×d)ᵀ   θ chart, 2mnd flops
///   backward dW = M X    m×n · n×d, into m×d row-major           θ chart, 2mnd flops
///   span     Z  = C Γ    m×n (row-major) · n×n                   span chart, 2mn² flops
///   lift     W  = C X    m×n (row-major) · n×d, into row-major   span chart records, 2mnd flops
///   ref A B, ref C D     the same two θ-chart shapes all column-major: bench/rhs's GEMM reference,
///                        so the cost of θ's row-major layout shows against forward and backward
/// Eigen runs its products on Eigen::nbThreads() OpenMP threads and, as the library ran them
/// before KKTFLOW_BLAS, on one; OpenBLAS on its own pthreads (openblas_get_num_threads()).
/// Trials of the three alternate, with a pause before each so the
/// other library's idle threads have stopped spinning (OpenBLAS's spin for ~0.1 s after a call)
/// and load from other processes hits both alike. Printed: best GFLOP/s of each and their ratio.
// Eigen's own GEMM is one side of the comparison, whatever KKTFLOW_BLAS chose for the library.
#undef EIGEN_USE_BLAS
#include <Eigen/Dense>

#include <cblas-openblas.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace {

using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Long enough to swamp timer resolution and thread start-up, short enough for `make bench`.
constexpr double kTargetSeconds = 0.4;
constexpr int kTrials = 3;
constexpr auto kSpinDown = std::chrono::milliseconds(200);

struct Size {
  Eigen::Index n, m, d;
};

/// One product by both libraries on the same operands, into the same output.
struct Product {
  std::string name;
  double flops;
  std::function<void()> eigen, openblas;
  Eigen::Map<const Eigen::VectorXd> out;
};

double seconds_per_call(const std::function<void()>& call, long reps) {
  std::this_thread::sleep_for(kSpinDown);
  const auto start = std::chrono::steady_clock::now();
  for (long r = 0; r < reps; ++r) call();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / static_cast<double>(reps);
}

/// The first call warms caches and thread pools and sizes the repetitions of a trial.
long calibrate(const std::function<void()>& call) {
  return std::max(1L, std::lround(kTargetSeconds / std::max(seconds_per_call(call, 1), 1e-9)));
}

struct Best {
  double eigen_threads, eigen_one, openblas;
};

/// Eigen's product on one thread, however many OpenMP offers.
std::function<void()> single_threaded(const std::function<void()>& call) {
  return [call] {
    const int threads = Eigen::nbThreads();
    Eigen::setNbThreads(1);
    call();
    Eigen::setNbThreads(threads);
  };
}

/// Best seconds per call of each, trials interleaved.
Best measure(const Product& p) {
  const std::array<std::function<void()>, 3> calls{p.eigen, single_threaded(p.eigen), p.openblas};
  std::array<long, 3> reps{};
  std::array<double, 3> best{};
  for (std::size_t k = 0; k < calls.size(); ++k) {
    reps[k] = calibrate(calls[k]);
    best[k] = std::numeric_limits<double>::infinity();
  }
  for (int t = 0; t < kTrials; ++t)
    for (std::size_t k = 0; k < calls.size(); ++k) best[k] = std::min(best[k], seconds_per_call(calls[k], reps[k]));
  return {best[0], best[1], best[2]};
}

/// Operands of every shape at one size; products write into their own outputs.
class Operands {
 public:
  explicit Operands(const Size& s)
      : m_s(s),
        m_W(RowMajorMatrix::Random(s.m, s.d)),
        m_X(Eigen::MatrixXd::Random(s.n, s.d)),
        m_M(Eigen::MatrixXd::Random(s.m, s.n)),
        m_C(RowMajorMatrix::Random(s.m, s.n)),
        m_Gram(m_X * m_X.transpose()),
        m_A(Eigen::MatrixXd::Random(s.m, s.d)),
        m_B(Eigen::MatrixXd::Random(s.d, s.n)),
        m_Z(s.m, s.n),
        m_dW(s.m, s.d),
        m_CD(s.m, s.d) {}

  std::vector<Product> products() {
    const double mnd = 2.0 * static_cast<double>(m_s.m) * static_cast<double>(m_s.n) * static_cast<double>(m_s.d);
    const double mnn = 2.0 * static_cast<double>(m_s.m) * static_cast<double>(m_s.n) * static_cast<double>(m_s.n);
    const Eigen::Map<const Eigen::VectorXd> Z(m_Z.data(), m_Z.size()), dW(m_dW.data(), m_dW.size()),
        CD(m_CD.data(), m_CD.size());
    return {{"forward W X^T", mnd, [this] { m_Z.noalias() = m_W * m_X.transpose(); }, [this] { blas_forward(); }, Z},
            {"backward M X", mnd, [this] { m_dW.noalias() = m_M * m_X; }, [this] { blas_backward(); }, dW},
            {"span C Gram", mnn, [this] { m_Z.noalias() = m_C * m_Gram; }, [this] { blas_span(); }, Z},
            {"lift C X", mnd, [this] { m_dW.noalias() = m_C * m_X; }, [this] { blas_lift(); }, dW},
            {"ref A B", mnd, [this] { m_Z.noalias() = m_A * m_B; }, [this] { blas_ref_ab(); }, Z},
            {"ref C D", mnd, [this] { m_CD.noalias() = m_M * m_X; }, [this] { blas_ref_cd(); }, CD}};
  }

 private:
  int n() const { return static_cast<int>(m_s.n); }
  int m() const { return static_cast<int>(m_s.m); }
  int d() const { return static_cast<int>(m_s.d); }
  // Z (m×n, column-major) = W (row-major: lda = d) · Xᵀ (X column-major: ldb = n).
  void blas_forward() {
    cblas_dgemm(CblasColMajor, CblasTrans, CblasTrans, m(), n(), d(), 1.0, m_W.data(), d(), m_X.data(), n(), 0.0,
                m_Z.data(), m());
  }
  // dW (m×d, row-major) = M (column-major) · X (column-major).
  void blas_backward() {
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasTrans, m(), d(), n(), 1.0, m_M.data(), m(), m_X.data(), n(), 0.0,
                m_dW.data(), d());
  }
  // Z (m×n, column-major) = C (row-major: lda = n) · Γ (symmetric, column-major).
  void blas_span() {
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, m(), n(), n(), 1.0, m_C.data(), n(), m_Gram.data(), n(), 0.0,
                m_Z.data(), m());
  }
  // W (m×d, row-major) = C (row-major) · X (column-major).
  void blas_lift() {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m(), d(), n(), 1.0, m_C.data(), n(), m_X.data(), n(), 0.0,
                m_dW.data(), d());
  }

  // Z (m×n) = A (m×d) · B (d×n), all column-major.
  void blas_ref_ab() {
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m(), n(), d(), 1.0, m_A.data(), m(), m_B.data(), d(), 0.0,
                m_Z.data(), m());
  }
  // CD (m×d) = M (m×n) · X (n×d), all column-major.
  void blas_ref_cd() {
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m(), d(), n(), 1.0, m_M.data(), m(), m_X.data(), n(), 0.0,
                m_CD.data(), m());
  }

  Size m_s;
  RowMajorMatrix m_W;
  Eigen::MatrixXd m_X, m_M;
  RowMajorMatrix m_C;
  Eigen::MatrixXd m_Gram, m_A, m_B, m_Z;
  RowMajorMatrix m_dW;
  Eigen::MatrixXd m_CD;
};

/// max |OpenBLAS − Eigen| / max |Eigen| over the output: both must compute the same product
/// (same layouts), or the comparison means nothing.
double relative_difference(const Product& p) {
  p.eigen();
  const Eigen::VectorXd eigen = p.out;
  p.openblas();
  return (p.out - eigen).cwiseAbs().maxCoeff() / eigen.cwiseAbs().maxCoeff();
}

}  // namespace

int main() {
  std::printf(
      "bench_gemm_backend: GFLOP/s of Eigen's GEMM (%d OpenMP threads) and OpenBLAS dgemm (%d threads)\n"
      "  and of Eigen's GEMM on 1 thread, on the right-hand sides' products; best of %d alternating trials of\n"
      "  ~%.1f s each; ratio = OpenBLAS / the faster Eigen; rel diff = max |OpenBLAS - Eigen| / max |Eigen|\n\n",
      Eigen::nbThreads(), openblas_get_num_threads(), kTrials, kTargetSeconds);
  std::printf("%6s %6s %6s  %-14s | %12s %12s %12s %8s | %9s\n", "n", "m", "d", "product", "Eigen OpenMP",
              "Eigen 1 thr", "OpenBLAS", "ratio", "rel diff");
  constexpr std::array<Size, 3> sizes{{{50, 100, 2000}, {200, 500, 5000}, {1000, 1000, 10000}}};
  for (const Size& s : sizes) {
    Operands ops(s);
    for (const Product& p : ops.products()) {
      const double diff = relative_difference(p);
      const Best b = measure(p);
      std::printf("%6ld %6ld %6ld  %-14s | %12.2f %12.2f %12.2f %8.2f | %9.1e\n", static_cast<long>(s.n),
                  static_cast<long>(s.m), static_cast<long>(s.d), p.name.c_str(), p.flops / b.eigen_threads * 1e-9,
                  p.flops / b.eigen_one * 1e-9, p.flops / b.openblas * 1e-9,
                  std::min(b.eigen_threads, b.eigen_one) / b.openblas, diff);
      std::fflush(stdout);
    }
  }
  return 0;
}
