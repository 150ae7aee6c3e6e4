// RAII over SQLite: a connection and its prepared statements. Errors are Error(kStorage) naming
// the statement's purpose and SQLite's message.
//
// Thread safety: a Database is used from one thread at a time (the caller's mutex); SQLite is
// opened in serialized mode anyway.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace shardsafe::server {

class Statement;

class Database {
 public:
  // Opens (creating) the database file, in WAL mode with a 5 s busy timeout.
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs SQL text without results (schema, pragmas).
  void execute(const std::string& sql);
  Statement prepare(const std::string& sql);
  std::int64_t last_insert_id() const;
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(Database& db, const std::string& sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  // Parameters are 1-based, as in SQLite.
  Statement& bind(int index, const std::string& value);
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  // Advances to the next row: true while there is one.
  bool step();
  // Runs a statement without results.
  void run();

  std::string text(int column) const;
  std::int64_t integer(int column) const;  // 0 for NULL
  double real(int column) const;           // 0 for NULL

 private:
  void check(int rc, const char* what) const;

  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

}  // namespace shardsafe::server
