#include "cli/client_session.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace chronoconf::cli {
namespace {

TEST(ClientSessionTest, ExitCodes) {
  EXPECT_EQ(ExitCodeForHttpStatus(404), kExitNotFound);
  EXPECT_EQ(ExitCodeForHttpStatus(409), kExitConflict);
  EXPECT_EQ(ExitCodeForHttpStatus(400), kExitError);
  EXPECT_EQ(ExitCodeForHttpStatus(401), kExitError);
  EXPECT_EQ(ExitCodeForHttpStatus(503), kExitError);
}

TEST(ClientSessionTest, ErrorFromSpecBody) {
  ErrorInfo e = ErrorFromResponse(404, R"({"error":{"code":"not_found","message":"no key a"}})");
  EXPECT_EQ(e.code, "not_found");
  EXPECT_EQ(e.message, "no key a");
}

TEST(ClientSessionTest, ErrorWithoutMessage) {
  ErrorInfo e = ErrorFromResponse(409, R"({"error":{"code":"version_conflict","key":"a"}})");
  EXPECT_EQ(e.code, "version_conflict");
  EXPECT_EQ(e.message, "HTTP status 409");
  e = ErrorFromResponse(400, R"({"error":"flat"})");
  EXPECT_EQ(e.code, "http_400");
}

TEST(ClientSessionTest, ErrorFromOtherBody) {
  ErrorInfo e = ErrorFromResponse(502, "Bad Gateway\nmore");
  EXPECT_EQ(e.code, "http_502");
  EXPECT_EQ(e.message, "Bad Gateway");
  e = ErrorFromResponse(500, "");
  EXPECT_EQ(e.code, "http_500");
  EXPECT_EQ(e.message, "HTTP status 500");
}

TEST(ClientSessionTest, ResolveServer) {
  unsetenv("CHRONOCONF_SERVER");
  EXPECT_EQ(ResolveServer(""), "http://127.0.0.1:7700");
  setenv("CHRONOCONF_SERVER", "http://10.0.0.1:1234", 1);
  EXPECT_EQ(ResolveServer(""), "http://10.0.0.1:1234");
  EXPECT_EQ(ResolveServer("http://h:1"), "http://h:1");
  setenv("CHRONOCONF_SERVER", "", 1);
  EXPECT_EQ(ResolveServer(""), "http://127.0.0.1:7700");
  unsetenv("CHRONOCONF_SERVER");
}

TEST(ClientSessionTest, CheckServerUrl) {
  EXPECT_EQ(CheckServerUrl("http://127.0.0.1:7700"), "");
  EXPECT_EQ(CheckServerUrl("http://127.0.0.1:7700/"), "");
  EXPECT_EQ(CheckServerUrl("localhost:7700"), "");
  EXPECT_NE(CheckServerUrl("https://example.com"), "");
  EXPECT_NE(CheckServerUrl("ftp://example.com"), "");
  EXPECT_NE(CheckServerUrl("http://"), "");
  EXPECT_NE(CheckServerUrl("http://h:1/api"), "");
}

TEST(ClientSessionTest, QueryAndKeyPath) {
  EXPECT_EQ(Query().str(), "");
  EXPECT_EQ(Query().Add("prefix", "a/b c").Add("at_revision", int64_t{7}).str(),
            "?prefix=a%2Fb%20c&at_revision=7");
  EXPECT_EQ(KeyPath("payments/timeout_ms"), "/v1/kv/payments/timeout_ms");
  EXPECT_EQ(KeyPath("a b"), "/v1/kv/a%20b");
}

}  // namespace
}  // namespace chronoconf::cli
