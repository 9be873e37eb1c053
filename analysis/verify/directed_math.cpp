#include "analysis/verify/directed_math.hpp"

#include <mpfr.h>

#include <cfenv>
#include <limits>

namespace kktflow::directed {
namespace {

using interval::Fast;

/// Round-to-nearest for its lifetime: MPFR's conversions may use the hardware's arithmetic.
class NearestScope {
 public:
  NearestScope() : m_mode(std::fegetround()) { std::fesetround(FE_TONEAREST); }
  ~NearestScope() { std::fesetround(m_mode); }
  NearestScope(const NearestScope&) = delete;
  NearestScope& operator=(const NearestScope&) = delete;

 private:
  int m_mode;
};

/// One MPFR function at 53 bits, rounded in `rnd` and converted to double in the same direction.
double evaluate(int (*f)(mpfr_ptr, mpfr_srcptr, mpfr_rnd_t), double x, mpfr_rnd_t rnd) {
  const NearestScope nearest;
  mpfr_t in;
  mpfr_t out;
  mpfr_init2(in, 53);
  mpfr_init2(out, 53);
  mpfr_set_d(in, x, MPFR_RNDN);  // exact: 53 bits hold every double
  f(out, in, rnd);
  const double result = mpfr_get_d(out, rnd);
  mpfr_clear(in);
  mpfr_clear(out);
  return result;
}

}  // namespace

double log_down(double x) { return evaluate(mpfr_log, x, MPFR_RNDD); }
double log_up(double x) { return evaluate(mpfr_log, x, MPFR_RNDU); }
double exp_down(double x) { return evaluate(mpfr_exp, x, MPFR_RNDD); }
double exp_up(double x) { return evaluate(mpfr_exp, x, MPFR_RNDU); }
double log1p_down(double x) { return evaluate(mpfr_log1p, x, MPFR_RNDD); }
double log1p_up(double x) { return evaluate(mpfr_log1p, x, MPFR_RNDU); }

Fast log(const Fast& x) { return {log_down(x.lower()), log_up(x.upper())}; }
Fast exp(const Fast& x) { return {exp_down(x.lower()), exp_up(x.upper())}; }
Fast log1p(const Fast& x) { return {log1p_down(x.lower()), log1p_up(x.upper())}; }

}  // namespace kktflow::directed
