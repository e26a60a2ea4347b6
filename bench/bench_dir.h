// BenchDir: a fresh temporary folder for a benchmark's files, removed when
// it goes. It is made under $VMCRYPT_BENCH_DIR (default: the current
// folder), so that fsync costs what it costs on the disk the caller chose.
#ifndef VMCRYPT_BENCH_BENCH_DIR_H_
#define VMCRYPT_BENCH_BENCH_DIR_H_

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace vmcrypt::bench {

class BenchDir {
 public:
  // PREFIX.XXXXXX under $VMCRYPT_BENCH_DIR; aborts if it cannot be made.
  explicit BenchDir(std::string_view prefix) {
    const char* base = std::getenv("VMCRYPT_BENCH_DIR");
    std::string tmpl =
        std::string(base != nullptr ? base : ".") + "/" + std::string(prefix) + ".XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~BenchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace vmcrypt::bench

#endif  // VMCRYPT_BENCH_BENCH_DIR_H_
