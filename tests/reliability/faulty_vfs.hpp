// A test VFS that wraps the default one (unix) and fails the Nth write or sync on demand.
//
//   cpm_test::faulty_vfs::install();                      // registers "cpm_faulty" (once)
//   auto store = cpm::store::open(path, {.connection = {.vfs = "cpm_faulty"}});
//   cpm_test::faulty_vfs::arm(fault::write_ioerr, 3);     // the 3rd write from now fails
//   ...
//   cpm_test::faulty_vfs::disarm();
//
// Every file SQLite opens through it (database, WAL, rollback journal, temporary files) is
// counted; shared memory (-shm) goes through xShmMap, not xWrite, and is never failed. A fault
// is transient (only the Nth call fails) or persistent (every call from the Nth on fails, until
// disarm). The injected codes are those the unix VFS returns for a failed write(2)
// (SQLITE_IOERR_WRITE), a full disk (SQLITE_FULL) and a failed fsync(2) (SQLITE_IOERR_FSYNC).
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <stdexcept>

namespace cpm_test {

enum class fault { write_ioerr, write_full, sync_ioerr };

class faulty_vfs {
 public:
  static constexpr const char* name = "cpm_faulty";

  static void install() {
    static const bool installed = [] {
      sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
      if (!base) throw std::runtime_error("faulty_vfs: no default VFS");
      state().base = base;
      sqlite3_vfs& vfs = state().vfs;
      vfs = *base;  // every method of the default VFS, but files are opened through ours
      vfs.zName = name;
      vfs.szOsFile = static_cast<int>(sizeof(wrapped_file)) + base->szOsFile;
      vfs.pNext = nullptr;
      vfs.xOpen = &x_open;
      if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) throw std::runtime_error("faulty_vfs: register failed");
      return true;
    }();
    (void)installed;
  }

  // The `nth` matching call from now (1-based) fails; with `persistent`, every later one too.
  static void arm(fault kind, int nth, bool persistent = false) {
    state().kind = kind;
    state().persistent = persistent;
    state().countdown.store(nth);
    state().fired.store(0);
    state().armed.store(true);
  }
  static void disarm() { state().armed.store(false); }
  // How many calls failed since the last arm.
  static int fired() { return state().fired.load(); }
  // Writes and syncs seen since install (armed or not).
  static long writes() { return state().writes.load(); }
  static long syncs() { return state().syncs.load(); }

 private:
  struct wrapped_file {
    sqlite3_file base;   // must come first: SQLite sees this
    sqlite3_file* real;  // the default VFS's file, stored right after this struct
  };

  struct shared_state {
    sqlite3_vfs vfs{};
    sqlite3_vfs* base = nullptr;
    sqlite3_io_methods methods{};
    std::atomic<bool> armed{false};
    std::atomic<int> countdown{0};
    std::atomic<int> fired{0};
    std::atomic<long> writes{0};
    std::atomic<long> syncs{0};
    fault kind = fault::write_ioerr;
    bool persistent = false;
  };
  static shared_state& state() {
    static shared_state s;
    return s;
  }

  static sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<wrapped_file*>(f)->real; }

  // True when this call must fail.
  static bool trip(bool is_sync) {
    auto& s = state();
    if (!s.armed.load()) return false;
    if (is_sync != (s.kind == fault::sync_ioerr)) return false;
    int left = s.countdown.fetch_sub(1) - 1;
    if (left == 0 || (left < 0 && s.persistent)) {
      s.fired.fetch_add(1);
      return true;
    }
    return false;
  }

  static int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
    auto* w = reinterpret_cast<wrapped_file*>(file);
    w->real = reinterpret_cast<sqlite3_file*>(w + 1);
    w->base.pMethods = nullptr;
    sqlite3_vfs* base = state().base;
    int rc = base->xOpen(base, name, w->real, flags, out_flags);
    if (rc != SQLITE_OK) return rc;
    if (w->real->pMethods) {
      static const bool methods_ready = [] {
        sqlite3_io_methods& m = state().methods;
        m.iVersion = 3;
        m.xClose = [](sqlite3_file* f) {
          sqlite3_file* r = real(f);
          int rc = r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
          f->pMethods = nullptr;
          return rc;
        };
        m.xRead = [](sqlite3_file* f, void* p, int n, sqlite3_int64 off) {
          return real(f)->pMethods->xRead(real(f), p, n, off);
        };
        m.xWrite = [](sqlite3_file* f, const void* p, int n, sqlite3_int64 off) {
          state().writes.fetch_add(1);
          if (trip(false)) return state().kind == fault::write_full ? SQLITE_FULL : SQLITE_IOERR_WRITE;
          return real(f)->pMethods->xWrite(real(f), p, n, off);
        };
        m.xTruncate = [](sqlite3_file* f, sqlite3_int64 size) { return real(f)->pMethods->xTruncate(real(f), size); };
        m.xSync = [](sqlite3_file* f, int flags) {
          state().syncs.fetch_add(1);
          if (trip(true)) return SQLITE_IOERR_FSYNC;
          return real(f)->pMethods->xSync(real(f), flags);
        };
        m.xFileSize = [](sqlite3_file* f, sqlite3_int64* size) { return real(f)->pMethods->xFileSize(real(f), size); };
        m.xLock = [](sqlite3_file* f, int level) { return real(f)->pMethods->xLock(real(f), level); };
        m.xUnlock = [](sqlite3_file* f, int level) { return real(f)->pMethods->xUnlock(real(f), level); };
        m.xCheckReservedLock = [](sqlite3_file* f, int* out) {
          return real(f)->pMethods->xCheckReservedLock(real(f), out);
        };
        m.xFileControl = [](sqlite3_file* f, int op, void* arg) {
          return real(f)->pMethods->xFileControl(real(f), op, arg);
        };
        m.xSectorSize = [](sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); };
        m.xDeviceCharacteristics = [](sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); };
        m.xShmMap = [](sqlite3_file* f, int region, int size, int extend, void volatile** out) {
          auto* r = real(f);
          if (r->pMethods->iVersion < 2 || !r->pMethods->xShmMap) return SQLITE_IOERR_SHMMAP;
          return r->pMethods->xShmMap(r, region, size, extend, out);
        };
        m.xShmLock = [](sqlite3_file* f, int offset, int n, int flags) {
          return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
        };
        m.xShmBarrier = [](sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); };
        m.xShmUnmap = [](sqlite3_file* f, int del) { return real(f)->pMethods->xShmUnmap(real(f), del); };
        m.xFetch = [](sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
          auto* r = real(f);
          if (r->pMethods->iVersion < 3 || !r->pMethods->xFetch) {
            *out = nullptr;
            return SQLITE_OK;
          }
          return r->pMethods->xFetch(r, off, n, out);
        };
        m.xUnfetch = [](sqlite3_file* f, sqlite3_int64 off, void* p) {
          auto* r = real(f);
          if (r->pMethods->iVersion < 3 || !r->pMethods->xUnfetch) return SQLITE_OK;
          return r->pMethods->xUnfetch(r, off, p);
        };
        return true;
      }();
      (void)methods_ready;
      w->base.pMethods = &state().methods;
    }
    return SQLITE_OK;
  }
};

}  // namespace cpm_test
