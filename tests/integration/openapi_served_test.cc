// GET /api/v1/openapi.json on the real binary: the document of src/api/openapi.json, to anyone,
// as JSON; and the endpoints outside /api/v1 answer every method as the document says (405 on
// /healthz and /metrics, /auth for any method). openapi_conformance_test then checks each of
// these responses against the document too.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "harness.h"

namespace keyward::testing {
namespace {

class OpenApiServedTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = ServerProcess::Start(); }
  void TearDown() override { server_->Stop(); }

  std::unique_ptr<ServerProcess> server_;
};

TEST_F(OpenApiServedTest, TheDocumentIsServedToAnyoneAsJson) {
  HttpResult r = Call(server_->port(), "GET", "/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  boost::system::error_code ec;
  boost::json::value served = boost::json::parse(r.body, ec);
  ASSERT_FALSE(ec) << "not JSON";
  boost::json::value source =
      boost::json::parse(ReadFile(std::string(KEYWARD_SOURCE_DIR) + "/src/api/openapi.json"));
  EXPECT_EQ(served, source) << "the binary serves another document than src/api/openapi.json";

  EXPECT_EQ(Call(server_->port(), "HEAD", "/api/v1/openapi.json").status, 200);
  // A key is not needed, and a bad one is not looked at.
  EXPECT_EQ(Call(server_->port(), "GET", "/api/v1/openapi.json", "",
                 {{"Authorization", "Bearer kw_nonsense"}})
                .status,
            200);
  EXPECT_EQ(Call(server_->port(), "POST", "/api/v1/openapi.json").status, 405);
}

TEST_F(OpenApiServedTest, HealthAndMetricsAnswerGetAndHeadOnly) {
  for (const char* path : {"/healthz", "/metrics"}) {
    EXPECT_EQ(Call(server_->port(), "GET", path).status, 200) << path;
    EXPECT_EQ(Call(server_->port(), "HEAD", path).status, 200) << path;
    EXPECT_EQ(Call(server_->port(), "GET", std::string(path) + "?probe=1").status, 200) << path;
    for (const char* method : {"POST", "PUT", "DELETE"}) {
      HttpResult r = Call(server_->port(), method, path);
      EXPECT_EQ(r.status, 405) << method << " " << path;
      EXPECT_EQ(r.Header("allow"), "GET, HEAD") << method << " " << path;
    }
  }
}

TEST_F(OpenApiServedTest, AuthAnswersEveryMethod) {
  const std::string session = server_->Login("admin", kAdminPassword);
  for (const char* method : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}) {
    for (const char* path : {"/auth", "/auth/some/path?x=1"}) {
      EXPECT_EQ(Call(server_->port(), method, path).status, 401) << method << " " << path;
      HttpResult r =
          Call(server_->port(), method, path, "", {{"Authorization", "Bearer " + session}});
      EXPECT_EQ(r.status, 200) << method << " " << path;
      EXPECT_EQ(r.Header("x-keyward-user"), "admin") << method << " " << path;
    }
  }
}

}  // namespace
}  // namespace keyward::testing
