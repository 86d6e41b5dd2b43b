#pragma once
// For tests: a private temporary directory (mkdtemp, 0700) under /tmp, removed with its contents.
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace llmtap::test_support {

struct TempDir {
  explicit TempDir(std::string_view prefix = "llmtap-test") {
    std::string tmpl = "/tmp/" + std::string(prefix) + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path;
};

}  // namespace llmtap::test_support
