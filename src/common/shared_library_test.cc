#include "common/shared_library.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include "common/libcurl_loader.h"
#include "common/status_matchers.h"

namespace keyward {
namespace {

TEST(SharedLibraryTest, AMissingLibraryIsUnavailableAndNamesItsPackage) {
  void* address = nullptr;
  const Status status =
      OpenSharedLibrary("libkeyward-absent.so.1", "keyward-absent", {{"f", &address}});
  EXPECT_THAT(status, StatusIs(StatusCode::kUnavailable));
  EXPECT_NE(status.message().find("libkeyward-absent.so.1"), std::string::npos);
  EXPECT_NE(status.message().find("Debian package keyward-absent"), std::string::npos);
  EXPECT_EQ(address, nullptr);
}

TEST(SharedLibraryTest, AMissingFunctionIsUnavailableAndNamesIt) {
  void* address = nullptr;
  const Status status =
      OpenSharedLibrary("libcurl.so.4", "libcurl4", {{"curl_keyward_absent", &address}});
  EXPECT_THAT(status, StatusIs(StatusCode::kUnavailable));
  EXPECT_NE(status.message().find("curl_keyward_absent"), std::string::npos);
}

// The forwarders reach the real library: a variadic option of each argument type and an
// escape, through libcurl.so.4 opened on first use.
TEST(SharedLibraryTest, LibcurlForwardersReachTheLibrary) {
  ASSERT_THAT(LoadLibcurl(), IsOk());
  CURL* curl = curl_easy_init();
  ASSERT_NE(curl, nullptr);
  EXPECT_EQ(curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L), CURLE_OK);                 // long
  EXPECT_EQ(curl_easy_setopt(curl, CURLOPT_URL, "http://127.0.0.1:9/"), CURLE_OK);  // pointer
  EXPECT_EQ(curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t{1} << 40),
            CURLE_OK);  // off_t
  // A negative size is refused: the 64-bit value arrived whole.
  EXPECT_EQ(curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t{-1}),
            CURLE_BAD_FUNCTION_ARGUMENT);
  EXPECT_EQ(curl_easy_setopt(curl, CURLOPT_SSLVERSION, 999L), CURLE_BAD_FUNCTION_ARGUMENT);
  char* url = nullptr;
  EXPECT_EQ(curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &url), CURLE_OK);
  char* escaped = curl_easy_escape(curl, "a b/c", 5);
  ASSERT_NE(escaped, nullptr);
  EXPECT_STREQ(escaped, "a%20b%2Fc");
  curl_free(escaped);
  EXPECT_STREQ(curl_easy_strerror(CURLE_OK), "No error");
  curl_easy_cleanup(curl);
}

}  // namespace
}  // namespace keyward
