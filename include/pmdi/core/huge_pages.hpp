#pragma once
// An allocator for the large buffers of prepared material (garbled tables,
// labels, shares): a buffer of 2 MiB or more is its own anonymous mapping in
// transparent huge pages where the kernel allows them (madvise MADV_HUGEPAGE;
// Linux's default THP mode is "madvise"), smaller ones come from operator new.
//
// Why: a ResNet-32 inference's evaluator frees about 1.5 GB of tables and
// labels online, stage by stage, after their one use. In 4 KiB pages the
// kernel unmaps and frees them page by page, which cost a fifth of the
// evaluator's online CPU (perf, 2026-12-07); in 2 MiB pages it is 512 times
// fewer pages, and the offline phase takes 512 times fewer page faults to
// write them. docs/architecture.md "Memory".
#include <cstddef>
#include <new>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace pmdi {

inline constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

template <class T>
struct huge_page_allocator {
  using value_type = T;

  huge_page_allocator() noexcept = default;
  template <class U>
  huge_page_allocator(const huge_page_allocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor): rebinding

  [[nodiscard]] T* allocate(std::size_t n) {
    if (n > max_size()) throw std::bad_array_new_length();
#if defined(__linux__)
    if (const std::size_t b = n * sizeof(T); b >= huge_page_bytes) {
      // A whole number of huge pages: the kernel aligns such a mapping to one.
      void* p = ::mmap(nullptr, mapped_bytes(b), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      (void)::madvise(p, mapped_bytes(b), MADV_HUGEPAGE);  // a hint: 4 KiB pages where THP is off
      return static_cast<T*>(p);
    }
#endif
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{alignof(T)}));
  }

  void deallocate(T* p, std::size_t n) noexcept {
#if defined(__linux__)
    if (const std::size_t b = n * sizeof(T); b >= huge_page_bytes) {
      (void)::munmap(p, mapped_bytes(b));
      return;
    }
#endif
    // Unsized: clang before 19 declares sized deallocation only with -fsized-deallocation.
    ::operator delete(p, std::align_val_t{alignof(T)});
  }

  [[nodiscard]] static constexpr std::size_t max_size() noexcept { return (std::size_t{1} << 48) / sizeof(T); }

  template <class U>
  friend constexpr bool operator==(const huge_page_allocator&, const huge_page_allocator<U>&) noexcept {
    return true;
  }

 private:
  [[nodiscard]] static constexpr std::size_t mapped_bytes(std::size_t b) noexcept {
    return (b + huge_page_bytes - 1) / huge_page_bytes * huge_page_bytes;
  }
};

// A vector whose storage, when it is large, is in huge pages.
template <class T>
using large_vector = std::vector<T, huge_page_allocator<T>>;

}  // namespace pmdi
