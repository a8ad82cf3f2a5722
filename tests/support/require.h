// For a test that needs something a developer's machine may lack (a
// PostgreSQL server, promtool): without it the test is skipped, saying why;
// under CI (the environment variable CI set) it fails instead, because the
// test command installs and starts all of it, and CI must run every test.
//
//   CHRONOCONF_REQUIRE(PgUnavailableReason());   // "" when available
#ifndef CHRONOCONF_TESTS_SUPPORT_REQUIRE_H_
#define CHRONOCONF_TESTS_SUPPORT_REQUIRE_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#define CHRONOCONF_REQUIRE(why_missing)                                       \
  do {                                                                        \
    if (const std::string chronoconf_why = (why_missing); !chronoconf_why.empty()) { \
      if (std::getenv("CI") != nullptr) GTEST_FAIL() << chronoconf_why;       \
      GTEST_SKIP() << chronoconf_why;                                         \
    }                                                                         \
  } while (false)

#endif  // CHRONOCONF_TESTS_SUPPORT_REQUIRE_H_
