// Where S3 credentials come from, in order: the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN environment variables; the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials) for the profile AWS_PROFILE, else the
// `profile` setting, else "default"; the `access_key` / `secret_key` / `session_token` settings.
#pragma once

#include <map>
#include <string>

#include "storage/s3/sigv4.h"

namespace shardsafe::storage::s3 {

// Throws Error(kInvalidArgument) when no source has both an access key and a secret key;
// the message names the sources tried, never a value.
Credentials resolve_credentials(const std::map<std::string, std::string>& settings);

// The [profile] section of an AWS shared credentials file, or empty credentials when the file
// or the section does not exist.
Credentials read_shared_credentials(const std::string& path, const std::string& profile);

}  // namespace shardsafe::storage::s3
