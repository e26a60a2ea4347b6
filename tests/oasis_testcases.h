// Locating and reading the OASIS KMIP test cases (../shared/reference/kmip/
// testcases, or $VMCRYPT_SHARED_DIR/reference/kmip/testcases) for the
// conformance tests.
#ifndef VMCRYPT_TESTS_OASIS_TESTCASES_H_
#define VMCRYPT_TESTS_OASIS_TESTCASES_H_

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace vmcrypt::test_support {

inline std::filesystem::path TestCaseDir() {
  const char* env = std::getenv("VMCRYPT_SHARED_DIR");
  std::filesystem::path shared =
      env != nullptr ? std::filesystem::path(env) : std::filesystem::path(VMCRYPT_SHARED_DIR);
  return shared / "reference" / "kmip" / "testcases";
}

// Every *.xml under TestCaseDir(), sorted; empty if the folder is missing.
inline std::vector<std::filesystem::path> TestCaseFiles() {
  std::vector<std::filesystem::path> files;
  const std::filesystem::path dir = TestCaseDir();
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".xml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace vmcrypt::test_support

#endif  // VMCRYPT_TESTS_OASIS_TESTCASES_H_
