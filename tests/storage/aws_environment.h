// A test fixture that clears the AWS environment (credentials, profiles, the metadata and
// container endpoints) for one test and restores it after, with the instance metadata service
// disabled unless a test points it elsewhere.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "storage/temp_dir.h"

namespace shardsafe::storage::testing {

class AwsEnvironment : public ::testing::Test {
 protected:
  static constexpr const char* kNames[] = {"AWS_ACCESS_KEY_ID",
                                           "AWS_SECRET_ACCESS_KEY",
                                           "AWS_SESSION_TOKEN",
                                           "AWS_SHARED_CREDENTIALS_FILE",
                                           "AWS_PROFILE",
                                           "AWS_EC2_METADATA_DISABLED",
                                           "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                                           "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                           "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                           "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                           "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"};
  void SetUp() override {
    for (const auto* name : kNames) {
      if (const char* value = std::getenv(name)) saved_.emplace_back(name, value);
      ::unsetenv(name);
    }
    ::setenv("AWS_SHARED_CREDENTIALS_FILE", (dir_.path() / "credentials").c_str(), 1);
    // No probing of a real instance metadata service from the tests.
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  }
  void TearDown() override {
    for (const auto* name : kNames) ::unsetenv(name);
    for (const auto& [name, value] : saved_) ::setenv(name.c_str(), value.c_str(), 1);
  }

  TempDir dir_;
  std::vector<std::pair<std::string, std::string>> saved_;
};

}  // namespace shardsafe::storage::testing
