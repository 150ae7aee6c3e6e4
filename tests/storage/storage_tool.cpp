// storage_tool: the storage layer from the command line, for tests written in other languages
// (tests/node/s3_interop.test.mjs). Bytes go in on stdin and out on stdout.
//
//   storage_tool put-object <url> <key>                 raw object from stdin
//   storage_tool get-object <url> <key>                 raw object to stdout
//   storage_tool list <url> <prefix>                    one "key size" line per object
//   storage_tool put-stream <url> <key> <compression> [key-file]   prints the StoredStream JSON
//   storage_tool get-stream <url> <stored-stream-json> [key-file]  decoded bytes to stdout
//
// Storage settings (credentials, ...) come from the URL or the environment. Exit status 1
// with the error on stderr on failure.
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "storage/open.h"
#include "storage/pipeline.h"

namespace {

using namespace shardsafe::storage;

class FdSource : public Source {
 public:
  explicit FdSource(int fd) : fd_(fd) {}
  std::size_t read(std::span<std::uint8_t> buffer) override {
    const auto got = ::read(fd_, buffer.data(), buffer.size());
    if (got < 0) throw shardsafe::Error(shardsafe::ErrorCode::kInternal, "read from stdin failed");
    return static_cast<std::size_t>(got);
  }

 private:
  int fd_;
};

class FdSink : public Sink {
 public:
  explicit FdSink(int fd) : fd_(fd) {}
  void write(std::span<const std::uint8_t> bytes) override {
    while (!bytes.empty()) {
      const auto written = ::write(fd_, bytes.data(), bytes.size());
      if (written <= 0) throw shardsafe::Error(shardsafe::ErrorCode::kInternal, "write to stdout failed");
      bytes = bytes.subspan(static_cast<std::size_t>(written));
    }
  }
  void finish() override {}

 private:
  int fd_;
};

nlohmann::json to_json(const StoredStream& stream) {
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& part : stream.parts) parts.push_back({{"key", part.key}, {"size", part.size}, {"sha256", part.sha256}});
  return {{"key", stream.key},
          {"parts", parts},
          {"raw_size", stream.raw_size},
          {"compression", compression_name(stream.compression)},
          {"encryption_key_id", stream.encryption_key_id}};
}

StoredStream from_json(const nlohmann::json& json) {
  StoredStream stream;
  stream.key = json.at("key");
  for (const auto& part : json.at("parts")) stream.parts.push_back({part.at("key"), part.at("size"), part.at("sha256")});
  stream.raw_size = json.at("raw_size");
  stream.compression = parse_compression(json.at("compression"));
  stream.encryption_key_id = json.at("encryption_key_id");
  return stream;
}

std::optional<EncryptionKey> key_from(int argc, char** argv, int index) {
  if (argc <= index) return std::nullopt;
  return load_key_from_file(argv[index]);
}

int run(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: storage_tool put-object|get-object|list|put-stream|get-stream <url> <arg> ...\n";
    return 2;
  }
  const std::string command = argv[1];
  auto storage = open_storage(argv[2]);
  FdSource in(STDIN_FILENO);
  FdSink out(STDOUT_FILENO);
  if (command == "put-object") {
    auto writer = storage->create(argv[3]);
    pump(in, *writer);
    writer->commit();
  } else if (command == "get-object") {
    pump(*storage->open(argv[3]), out);
  } else if (command == "list") {
    for (const auto& object : list_all(*storage, argv[3])) std::cout << object.key << " " << object.size << "\n";
  } else if (command == "put-stream" && argc >= 5) {
    StreamOptions options;
    options.compression = parse_compression(argv[4]);
    options.encryption = key_from(argc, argv, 5);
    auto writer = write_stream(*storage, argv[3], options);
    pump(in, *writer);
    std::cout << to_json(writer->commit()).dump() << "\n";
  } else if (command == "get-stream") {
    const auto stream = from_json(nlohmann::json::parse(std::string(argv[3])));
    pump(*read_stream(*storage, stream, key_from(argc, argv, 4)), out);
  } else {
    std::cerr << "storage_tool: unknown command \"" << command << "\"\n";
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const shardsafe::Error& error) {
    std::cerr << "storage_tool: " << error.info().name << ": " << error.what() << "\n";
    return 1;
  }
}
