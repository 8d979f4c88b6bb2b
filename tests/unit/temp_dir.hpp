// A fresh directory under /tmp for one unit test, removed with everything in it when
// the test ends (tests in several areas include it; each test owns its own).
#pragma once

#include <stdlib.h>

#include <filesystem>

namespace hbtest {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    char tmpl[] = "/tmp/hb-unit-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

}  // namespace hbtest
