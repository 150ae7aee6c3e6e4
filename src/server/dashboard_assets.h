// The dashboard's files (src/server/dashboard/), compiled into the binary by
// cmake/EmbedAssets.cmake: served at "/" (index.html), "/app.js" and "/style.css".
#pragma once

#include <span>
#include <string_view>

namespace shardsafe::server {

struct DashboardAsset {
  std::string_view path;          // the URL path
  std::string_view content_type;
  std::string_view body;
};

std::span<const DashboardAsset> dashboard_assets();
// The asset served at `path`, or null.
const DashboardAsset* dashboard_asset(std::string_view path);

}  // namespace shardsafe::server
