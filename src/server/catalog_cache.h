// Each cluster's backups and restorable windows, as listed from its storage, cached so that
// the API and the dashboard do not list the storage (one request per manifest) on every call.
//
// A listing is refreshed when older than the time to live, or after invalidate() (the server
// calls it when a job of the cluster ends or a backup is deleted). One refresh per cluster at a
// time; concurrent readers wait for it. Thread safety: every method, from any thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/timeline.h"
#include "server/config.h"

namespace shardsafe::server {

// Serialized once per listing, so that a page of it costs string copies, not JSON building.
struct ClusterListing {
  std::vector<catalog::BackupSummary> backups;  // newest first
  std::vector<std::string> backups_json;        // catalog::summary_json of each, same order, serialized
  catalog::Timeline timeline;
  std::string timeline_json;                    // catalog::timeline_json, serialized
  std::chrono::system_clock::time_point listed_at;
};

class CatalogCache {
 public:
  CatalogCache(const ServerConfig& config, std::chrono::seconds time_to_live);

  // The listing of `cluster`, refreshed first when stale. Error(kNotFound) for an unknown
  // cluster; the storage's errors when it cannot be listed.
  std::shared_ptr<const ClusterListing> get(const std::string& cluster);
  void invalidate(const std::string& cluster);

 private:
  struct Entry {
    std::mutex refreshing;                            // one refresh at a time
    std::shared_ptr<const ClusterListing> listing;    // GUARDED_BY(CatalogCache::mutex_)
    std::chrono::steady_clock::time_point fetched;    // GUARDED_BY(CatalogCache::mutex_)
    bool stale = true;                                // GUARDED_BY(CatalogCache::mutex_)
  };
  Entry& entry(const std::string& cluster);
  std::shared_ptr<const ClusterListing> fresh(Entry& entry);

  const ServerConfig& config_;
  std::chrono::seconds time_to_live_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // one per configured cluster, made up front
};

// Lists `cluster`'s storage now.
ClusterListing list_cluster(const ClusterConfig& cluster);

}  // namespace shardsafe::server
