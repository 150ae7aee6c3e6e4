// Where S3 credentials come from, first found wins, as with the AWS CLI (what is named for this
// storage beats the environment): the `access_key` / `secret_key` / `session_token` settings
// (URL or config file); the `profile` setting's section of the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials), which must then exist; the
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN environment variables; the
// shared file's AWS_PROFILE section, else its "default".
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
