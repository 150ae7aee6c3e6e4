#include "server/catalog_cache.h"

#include <algorithm>

#include "catalog/summary_json.h"
#include "common/error.h"
#include "storage/open.h"

namespace shardsafe::server {

ClusterListing list_cluster(const ClusterConfig& cluster) {
  auto storage = storage::open_storage(cluster.storage.url, cluster.storage.settings);
  catalog::Catalog catalog(*storage);
  ClusterListing listing;
  listing.backups = catalog.list();
  listing.timeline = catalog::build_timeline(listing.backups);
  listing.timeline_json = catalog::timeline_json(listing.timeline).dump();
  std::reverse(listing.backups.begin(), listing.backups.end());
  for (const auto& backup : listing.backups) listing.backups_json.push_back(catalog::summary_json(backup).dump());
  listing.listed_at = std::chrono::system_clock::now();
  return listing;
}

CatalogCache::CatalogCache(const ServerConfig& config, std::chrono::seconds time_to_live)
    : config_(config), time_to_live_(time_to_live) {
  for (const auto& [name, cluster] : config.clusters) entries_[name];
}

CatalogCache::Entry& CatalogCache::entry(const std::string& cluster) {
  const auto it = entries_.find(cluster);
  if (it == entries_.end()) throw Error(ErrorCode::kNotFound, "cluster \"" + cluster + "\" is not configured");
  return it->second;
}

std::shared_ptr<const ClusterListing> CatalogCache::fresh(Entry& entry) {
  std::lock_guard lock(mutex_);
  if (entry.stale || std::chrono::steady_clock::now() - entry.fetched > time_to_live_) return nullptr;
  return entry.listing;
}

std::shared_ptr<const ClusterListing> CatalogCache::get(const std::string& cluster) {
  Entry& found = entry(cluster);
  if (auto listing = fresh(found)) return listing;
  std::lock_guard refreshing(found.refreshing);
  if (auto listing = fresh(found)) return listing;  // another reader refreshed it meanwhile
  {
    std::lock_guard lock(mutex_);
    found.stale = false;  // an invalidate() from now on makes the next get() list again
  }
  std::shared_ptr<const ClusterListing> listing;
  try {
    listing = std::make_shared<const ClusterListing>(list_cluster(config_.clusters.at(cluster)));
  } catch (...) {
    invalidate(cluster);
    throw;
  }
  std::lock_guard lock(mutex_);
  found.listing = listing;
  found.fetched = std::chrono::steady_clock::now();
  return listing;
}

void CatalogCache::invalidate(const std::string& cluster) {
  Entry& found = entry(cluster);
  std::lock_guard lock(mutex_);
  found.stale = true;
}

}  // namespace shardsafe::server
