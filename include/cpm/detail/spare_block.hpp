// cpm: an allocator that keeps one freed block per size for the next allocation, per thread.
//
// A lazy range allocates its cursor once per query, and an IN list its values; under this
// allocator a thread that runs queries one after another reuses the same blocks instead of
// calling malloc and free each time.
// Each thread keeps at most one block of each size; it frees it when the thread ends. A
// block freed on another thread than the one that allocated it is simply kept there (or freed).
#pragma once

#include <cstddef>
#include <memory>
#include <new>

namespace cpm::detail {

template <std::size_t Size, std::size_t Align>
class spare_block {
 public:
  // A block of Size bytes: the spare one if this thread has it, else a new one.
  static void* take() {
    if (void* p = spare_) {
      spare_ = nullptr;
      return p;
    }
    return allocate();
  }

  // Keeps `p` as this thread's spare block, or frees it when there is one already (or when
  // the thread is ending).
  static void give(void* p) noexcept {
    if (spare_ == nullptr && state_ != ended) [[likely]] {
      if (state_ == unused) register_cleanup();
      spare_ = p;
      return;
    }
    deallocate(p);
  }

 private:
  enum state { unused, kept, ended };

  // Frees the spare block when the thread ends; from then on give() frees.
  struct cleanup {
    ~cleanup() {
      if (spare_) deallocate(spare_);
      spare_ = nullptr;
      state_ = ended;
    }
  };
  [[gnu::noinline]] static void register_cleanup() noexcept {
    static thread_local cleanup at_exit;  // constructed here, once per thread
    (void)at_exit;
    state_ = kept;
  }

  static void* allocate() {
    if constexpr (Align > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      return ::operator new(Size, std::align_val_t(Align));
    } else {
      return ::operator new(Size);
    }
  }
  static void deallocate(void* p) noexcept {
    if constexpr (Align > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      ::operator delete(p, std::align_val_t(Align));
    } else {
      ::operator delete(p);  // unsized: clang before 19 declares the sized one only with -fsized-deallocation
    }
  }

  // Constant-initialised and trivially destructible: reached without a guard.
  static inline thread_local void* spare_ = nullptr;
  static inline thread_local state state_ = unused;
};

// An allocator over spare_block: single objects (std::allocate_shared), and arrays of up to
// 8 elements, in size classes of 1, 2, 4 and 8 (a short std::vector); longer arrays are
// allocated as std::allocator does.
template <class T>
struct spare_allocator {
  using value_type = T;

  spare_allocator() noexcept = default;
  template <class U>
  spare_allocator(const spare_allocator<U>&) noexcept {}  // NOLINT: rebinding converts implicitly

  T* allocate(std::size_t n) {
    switch (n) {
      case 1: return static_cast<T*>(spare_block<sizeof(T), alignof(T)>::take());
      case 2: return static_cast<T*>(spare_block<2 * sizeof(T), alignof(T)>::take());
      case 3: case 4: return static_cast<T*>(spare_block<4 * sizeof(T), alignof(T)>::take());
      case 5: case 6: case 7: case 8: return static_cast<T*>(spare_block<8 * sizeof(T), alignof(T)>::take());
      default: return std::allocator<T>().allocate(n);
    }
  }
  void deallocate(T* p, std::size_t n) noexcept {
    switch (n) {
      case 1: return spare_block<sizeof(T), alignof(T)>::give(p);
      case 2: return spare_block<2 * sizeof(T), alignof(T)>::give(p);
      case 3: case 4: return spare_block<4 * sizeof(T), alignof(T)>::give(p);
      case 5: case 6: case 7: case 8: return spare_block<8 * sizeof(T), alignof(T)>::give(p);
      default: return std::allocator<T>().deallocate(p, n);
    }
  }

  template <class U>
  friend bool operator==(const spare_allocator&, const spare_allocator<U>&) noexcept {
    return true;
  }
};

}  // namespace cpm::detail
