// core/huge_pages.hpp: large buffers are mappings of their own, advised into
// huge pages (the kernel's "hg" flag on the mapping), hold what a vector
// holds through growth, copies and moves, and small ones are ordinary.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pmdi/core/block.hpp"
#include "pmdi/core/huge_pages.hpp"
#include "pmdi/core/secret.hpp"

using namespace pmdi;

namespace {

// The VmFlags line of the mapping of this process that holds p ("" if none).
std::string vm_flags_of(const void* p) {
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= at && at < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

}  // namespace

TEST_CASE("huge_page_allocator: a large vector is advised into huge pages", "[huge_pages]") {
  large_vector<block> v(huge_page_bytes / sizeof(block) + 1);
  for (const auto& b : v) REQUIRE(b == block{});  // value-initialised
  const std::string flags = vm_flags_of(v.data());
  INFO(flags);
  REQUIRE(flags.rfind("VmFlags:", 0) == 0);
  CHECK(flags.find(" hg") != std::string::npos);
}

TEST_CASE("huge_page_allocator: a small vector is not a mapping of its own", "[huge_pages]") {
  large_vector<std::uint32_t> v(1000);
  CHECK(vm_flags_of(v.data()).find(" hg") == std::string::npos);
}

TEST_CASE("huge_page_allocator: contents survive growth across the threshold, copies and moves", "[huge_pages]") {
  large_vector<std::uint64_t> v;
  const std::size_t n = 3 * huge_page_bytes / sizeof(std::uint64_t) + 5;  // not a whole number of huge pages
  for (std::size_t i = 0; i < n; ++i) v.push_back(i * 0x9e3779b97f4a7c15ULL);
  std::vector<std::uint64_t> want(n);
  for (std::size_t i = 0; i < n; ++i) want[i] = i * 0x9e3779b97f4a7c15ULL;
  CHECK(std::equal(v.begin(), v.end(), want.begin(), want.end()));
  large_vector<std::uint64_t> copy = v;
  CHECK(std::equal(copy.begin(), copy.end(), want.begin(), want.end()));
  large_vector<std::uint64_t> moved = std::move(copy);
  CHECK(std::equal(moved.begin(), moved.end(), want.begin(), want.end()));
  moved.resize(10);
  moved.shrink_to_fit();
  CHECK(std::equal(moved.begin(), moved.end(), want.begin(), want.begin() + 10));
}

TEST_CASE("secret_vector: large secrets live in huge pages and are wiped", "[huge_pages]") {
  secret_vector<block> s(huge_page_bytes / sizeof(block));
  for (auto& b : s) b = block::from_u64(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  CHECK(vm_flags_of(s.data()).find(" hg") != std::string::npos);
  s.wipe();
  CHECK(s.empty());
}
