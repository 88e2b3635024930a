// A user of the installed pmdi: encodes, shares and reconstructs a fixed-point
// value; includes the IDX reader of the io component.
#include <pmdi/io/idx.hpp>
#include <pmdi/pmdi.hpp>

#include <cstdio>
#include <vector>

int main() {
  using R = pmdi::ring<64, 13>;
  auto prg = pmdi::prg::from_os();
  const std::vector<R::value_type> x{R::encode(-1.25), R::encode(3.5)};
  std::vector<std::vector<R::value_type>> shares(3);
  pmdi::share<R::value_type>(x, shares, prg);
  const auto y = pmdi::reconstruct<R::value_type>(shares);
  if (y != x || R::decode(y[0]) != -1.25) return 1;
  std::puts("consumer: pmdi found and working");
  return 0;
}
