#include "server/job_store.h"

#include "common/clock.h"

namespace shardsafe::server {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cluster TEXT NOT NULL, kind TEXT NOT NULL, trigger TEXT NOT NULL, params TEXT NOT NULL,
  state TEXT NOT NULL, created_at TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
  duration_s REAL NOT NULL, error_code TEXT NOT NULL, error_message TEXT NOT NULL,
  result TEXT NOT NULL, progress TEXT NOT NULL, log TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_cluster ON jobs (cluster, kind, state);
CREATE TABLE IF NOT EXISTS schedule (
  cluster TEXT NOT NULL, kind TEXT NOT NULL, last_fire INTEGER NOT NULL, PRIMARY KEY (cluster, kind));
)sql";

constexpr const char* kColumns =
    "id, cluster, kind, trigger, params, state, created_at, started_at, finished_at, duration_s, error_code, error_message, "
    "result, progress, log";

JobRecord read_row(const Statement& row) {
  JobRecord record;
  record.id = row.integer(0);
  record.cluster = row.text(1);
  record.kind = row.text(2);
  record.trigger = row.text(3);
  record.params = nlohmann::json::parse(row.text(4));
  record.state = row.text(5);
  record.created_at = row.text(6);
  record.started_at = row.text(7);
  record.finished_at = row.text(8);
  record.duration_s = row.real(9);
  record.error_code = row.text(10);
  record.error_message = row.text(11);
  record.result = nlohmann::json::parse(row.text(12));
  record.progress = nlohmann::json::parse(row.text(13));
  record.log = nlohmann::json::parse(row.text(14)).get<std::vector<std::string>>();
  return record;
}

// Binds every column but id, from parameter 1 on.
void bind_fields(Statement& statement, const JobRecord& record) {
  statement.bind(1, record.cluster)
      .bind(2, record.kind)
      .bind(3, record.trigger)
      .bind(4, record.params.dump())
      .bind(5, record.state)
      .bind(6, record.created_at)
      .bind(7, record.started_at)
      .bind(8, record.finished_at)
      .bind(9, record.duration_s)
      .bind(10, record.error_code)
      .bind(11, record.error_message)
      .bind(12, record.result.dump())
      .bind(13, record.progress.dump())
      .bind(14, nlohmann::json(record.log).dump());
}

}  // namespace

JobStore::JobStore(const std::string& path) : db_(path) { db_.execute(kSchema); }

void JobStore::insert(JobRecord& record) {
  std::lock_guard lock(mutex_);
  auto statement = db_.prepare(
      "INSERT INTO jobs (cluster, kind, trigger, params, state, created_at, started_at, finished_at, duration_s, error_code, "
      "error_message, result, progress, log) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
  bind_fields(statement, record);
  statement.run();
  record.id = db_.last_insert_id();
}

void JobStore::update(const JobRecord& record) {
  std::lock_guard lock(mutex_);
  auto statement = db_.prepare(
      "UPDATE jobs SET cluster = ?1, kind = ?2, trigger = ?3, params = ?4, state = ?5, created_at = ?6, started_at = ?7, "
      "finished_at = ?8, duration_s = ?9, error_code = ?10, error_message = ?11, result = ?12, progress = ?13, log = ?14 "
      "WHERE id = ?15");
  bind_fields(statement, record);
  statement.bind(15, record.id).run();
}

std::optional<JobRecord> JobStore::get(std::int64_t id) {
  std::lock_guard lock(mutex_);
  auto statement = db_.prepare(std::string("SELECT ") + kColumns + " FROM jobs WHERE id = ?1");
  statement.bind(1, id);
  if (!statement.step()) return std::nullopt;
  return read_row(statement);
}

std::vector<JobRecord> JobStore::list(std::size_t limit, std::int64_t before) {
  std::lock_guard lock(mutex_);
  auto statement = db_.prepare(std::string("SELECT ") + kColumns + " FROM jobs WHERE ?1 = 0 OR id < ?1 ORDER BY id DESC LIMIT ?2");
  statement.bind(1, before).bind(2, static_cast<std::int64_t>(limit));
  std::vector<JobRecord> records;
  while (statement.step()) records.push_back(read_row(statement));
  return records;
}

int JobStore::mark_interrupted() {
  std::lock_guard lock(mutex_);
  auto statement = db_.prepare(
      "UPDATE jobs SET state = 'failed', error_code = 'cancelled', "
      "error_message = 'interrupted: the server stopped while the job was ' || state, finished_at = ?1 "
      "WHERE state IN ('queued', 'running')");
  statement.bind(1, iso8601_now()).run();
  return sqlite3_changes(db_.handle());
}

std::vector<KindStats> JobStore::stats() {
  std::lock_guard lock(mutex_);
  auto statement = db_.prepare(R"sql(
    SELECT cluster, kind,
      (SELECT CAST(strftime('%s', finished_at) AS INTEGER) FROM jobs s WHERE s.cluster = j.cluster AND s.kind = j.kind AND s.state = 'succeeded' ORDER BY id DESC LIMIT 1),
      (SELECT duration_s FROM jobs s WHERE s.cluster = j.cluster AND s.kind = j.kind AND s.state = 'succeeded' ORDER BY id DESC LIMIT 1),
      (SELECT json_extract(result, '$.stored_bytes') FROM jobs s WHERE s.cluster = j.cluster AND s.kind = j.kind AND s.state = 'succeeded'
         ORDER BY id DESC LIMIT 1),
      SUM(state = 'failed')
    FROM jobs j GROUP BY cluster, kind ORDER BY cluster, kind)sql");
  std::vector<KindStats> stats;
  while (statement.step()) {
    KindStats row{statement.text(0), statement.text(1)};
    row.last_success_unix = statement.integer(2);
    row.last_duration_s = statement.real(3);
    row.last_bytes = statement.integer(4);
    row.failures = statement.integer(5);
    stats.push_back(row);
  }
  return stats;
}

std::optional<std::int64_t> JobStore::last_fire(const std::string& cluster, const std::string& kind) {
  std::lock_guard lock(mutex_);
  auto statement = db_.prepare("SELECT last_fire FROM schedule WHERE cluster = ?1 AND kind = ?2");
  statement.bind(1, cluster).bind(2, kind);
  if (!statement.step()) return std::nullopt;
  return statement.integer(0);
}

void JobStore::set_last_fire(const std::string& cluster, const std::string& kind, std::int64_t unix_seconds) {
  std::lock_guard lock(mutex_);
  auto statement = db_.prepare(
      "INSERT INTO schedule (cluster, kind, last_fire) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (cluster, kind) DO UPDATE SET last_fire = excluded.last_fire");
  statement.bind(1, cluster).bind(2, kind).bind(3, unix_seconds).run();
}

nlohmann::json to_json(const JobRecord& record) {
  nlohmann::json out = {{"id", record.id},         {"cluster", record.cluster},       {"kind", record.kind},
                        {"trigger", record.trigger}, {"params", record.params},         {"state", record.state},
                        {"created_at", record.created_at}, {"started_at", record.started_at}, {"finished_at", record.finished_at},
                        {"duration_s", record.duration_s}, {"result", record.result},     {"progress", record.progress},
                        {"log", record.log}};
  if (!record.error_code.empty()) out["error"] = {{"error", record.error_code}, {"message", record.error_message}};
  return out;
}

}  // namespace shardsafe::server
