// Storage named by URL:
//   file:///var/backups
//   s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1&path_style=true
//   oss://bucket/prefix?endpoint=https://s3.oss-cn-hangzhou.aliyuncs.com
// Every URL parameter can also come from the config file (`settings`); the URL wins.
//
// S3/OSS parameters: endpoint, region, path_style (true/false), profile, access_key,
// secret_key, session_token (credentials: see s3/credentials.h for the order), upload_part_size
// and download_chunk_size (bytes), upload_concurrency, download_concurrency, list_page_size, max_attempts,
// retry_base_ms, connect_timeout_ms, stall_timeout_s, sign_payload (true/false; default false
// over https, as the AWS SDKs, but always true for oss://, which requires it), ca_file (PEM
// bundle of a private CA), storage_class (e.g. STANDARD_IA), sse (AES256 or aws:kms) and
// sse_kms_key_id.
// s3:// defaults: region us-east-1, endpoint https://s3.<region>.amazonaws.com, virtual-hosted
// (path style for a bucket with dots over https, which a wildcard certificate cannot cover).
// oss:// needs an endpoint (or a region: https://s3.oss-<region>.aliyuncs.com), takes the
// region from the endpoint's host, and is always virtual-hosted (OSS refuses path style).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "storage/s3/s3_client.h"
#include "storage/storage.h"

namespace shardsafe::storage {

using StorageSettings = std::map<std::string, std::string>;

// Throws Error(kBadUri) with the URL redacted when it does not parse or names an unknown
// parameter, Error(kInvalidArgument) when S3 credentials cannot be found.
std::unique_ptr<Storage> open_storage(const std::string& url, const StorageSettings& settings = {});

// The S3 configuration open_storage would use (credentials resolved). For tests and tools.
s3::S3Config s3_config_from_url(const std::string& url, const StorageSettings& settings = {});

}  // namespace shardsafe::storage
