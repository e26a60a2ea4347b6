// TestDir: a fresh folder for the running GoogleTest test, removed with it.
// For tests only (includes gtest).
#ifndef VMCRYPT_SRC_BASE_TEST_DIR_H_
#define VMCRYPT_SRC_BASE_TEST_DIR_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>

namespace vmcrypt::test {

class TestDir {
 public:
  // Creates (empty) temp_directory_path()/vmcrypt-PREFIX-PID-TEST; PREFIX
  // tells the test binaries apart, PID their concurrent runs. A
  // parameterised test's name ("Name/v14") gives "Name.v14": one folder.
  explicit TestDir(std::string_view prefix)
      : path_(std::filesystem::temp_directory_path() /
              ("vmcrypt-" + std::string(prefix) + "-" + std::to_string(getpid()) + "-" +
               FolderName(::testing::UnitTest::GetInstance()->current_test_info()->name()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TestDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path()/name, as a string.
  std::string operator[](std::string_view name) const { return (path_ / name).string(); }

 private:
  static std::string FolderName(std::string test_name) {
    std::replace(test_name.begin(), test_name.end(), '/', '.');
    return test_name;
  }

  std::filesystem::path path_;
};

}  // namespace vmcrypt::test

#endif  // VMCRYPT_SRC_BASE_TEST_DIR_H_
