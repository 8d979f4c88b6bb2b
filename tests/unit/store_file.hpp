// The fixture of the tests that keep a store database: a fresh directory and the path of the
// database file in it, removed with the directory when the test ends (tests in several areas
// include it).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "temp_dir.hpp"

namespace hbtest {

class store_file_test : public ::testing::Test {
 protected:
  temp_dir d;
  std::string path = (d.path / "hbd.sqlite").string();
};

}  // namespace hbtest
