#include "newton_lu.hpp"

#include <stdexcept>
#include <string>
#include <utility>

// LAPACK, Fortran calling convention; getrs passes the length of its `trans` string as a hidden
// trailing argument.
extern "C" {
void dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void zgetrf_(const int* m, const int* n, std::complex<double>* a, const int* lda, int* ipiv, int* info);
void dgetrs_(const char* trans, const int* n, const int* nrhs, const double* a, const int* lda, const int* ipiv,
             double* b, const int* ldb, int* info, std::size_t trans_len);
void zgetrs_(const char* trans, const int* n, const int* nrhs, const std::complex<double>* a, const int* lda,
             const int* ipiv, std::complex<double>* b, const int* ldb, int* info, std::size_t trans_len);
}

namespace kktflow {

namespace {

void getrf(int n, double* a, int* ipiv, int* info) { dgetrf_(&n, &n, a, &n, ipiv, info); }
void getrf(int n, std::complex<double>* a, int* ipiv, int* info) { zgetrf_(&n, &n, a, &n, ipiv, info); }
void getrs(const char* trans, int n, const double* a, const int* ipiv, double* b, int* info) {
  const int one = 1;
  dgetrs_(trans, &n, &one, a, &n, ipiv, b, &n, info, 1);
}
void getrs(const char* trans, int n, const std::complex<double>* a, const int* ipiv, std::complex<double>* b,
           int* info) {
  const int one = 1;
  zgetrs_(trans, &n, &one, a, &n, ipiv, b, &n, info, 1);
}

}  // namespace

template <class Scalar>
void NewtonLU<Scalar>::factor() {
  const int n = static_cast<int>(m_lu.rows());
  m_pivots.resize(static_cast<std::size_t>(n));
  int info = 0;
  getrf(n, m_lu.data(), m_pivots.data(), &info);
  if (info < 0) throw std::logic_error("LAPACK getrf: argument " + std::to_string(-info) + " is invalid");
}

template <class Scalar>
typename NewtonLU<Scalar>::Vector NewtonLU<Scalar>::solve(const Vector& b, bool transposed) const {
  Vector x = b;
  int info = 0;
  getrs(transposed ? "T" : "N", static_cast<int>(x.size()), m_lu.data(), m_pivots.data(), x.data(), &info);
  if (info < 0) throw std::logic_error("LAPACK getrs: argument " + std::to_string(-info) + " is invalid");
  return x;
}

template class NewtonLU<double>;
template class NewtonLU<std::complex<double>>;

}  // namespace kktflow
