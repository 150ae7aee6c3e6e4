#include "storage/compress.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <vector>

#include "common/error.h"

namespace shardsafe::storage {
namespace {

constexpr std::size_t kChunk = 256 * 1024;

class PassThroughSink : public Sink {
 public:
  explicit PassThroughSink(Sink& next) : next_(next) {}
  void write(std::span<const std::uint8_t> bytes) override { next_.write(bytes); }
  void finish() override { next_.finish(); }

 private:
  Sink& next_;
};

[[noreturn]] void corrupt(const std::string& object, const std::string& why) {
  throw Error(ErrorCode::kCorruptData, "object \"" + object + "\" is corrupt: " + why);
}

struct FreeCCtx {
  void operator()(ZSTD_CCtx* context) const noexcept { ZSTD_freeCCtx(context); }
};
struct FreeDCtx {
  void operator()(ZSTD_DCtx* context) const noexcept { ZSTD_freeDCtx(context); }
};

void check_zstd(std::size_t result, const char* what) {
  if (ZSTD_isError(result)) {
    throw Error(ErrorCode::kInternal, std::string("zstd ") + what + ": " + ZSTD_getErrorName(result));
  }
}

class ZstdCompressSink : public Sink {
 public:
  ZstdCompressSink(int level, int threads, Sink& next) : context_(ZSTD_createCCtx()), next_(next), out_(kChunk) {
    if (!context_) throw Error(ErrorCode::kInternal, "cannot create a zstd context");
    check_zstd(ZSTD_CCtx_setParameter(context_.get(), ZSTD_c_compressionLevel, level), "level");
    // The frame checksum lets decompression itself notice damage the part hashes would
    // only report later.
    check_zstd(ZSTD_CCtx_setParameter(context_.get(), ZSTD_c_checksumFlag, 1), "checksum flag");
    if (threads > 0) check_zstd(ZSTD_CCtx_setParameter(context_.get(), ZSTD_c_nbWorkers, threads), "workers");
  }

  void write(std::span<const std::uint8_t> bytes) override { compress(bytes, ZSTD_e_continue); }
  void finish() override {
    compress({}, ZSTD_e_end);
    next_.finish();
  }

 private:
  void compress(std::span<const std::uint8_t> bytes, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    for (;;) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      const auto remaining = ZSTD_compressStream2(context_.get(), &out, &in, mode);
      check_zstd(remaining, "compress");
      if (out.pos > 0) next_.write(std::span<const std::uint8_t>(out_.data(), out.pos));
      const bool done = mode == ZSTD_e_end ? remaining == 0 : in.pos == in.size;
      if (done) return;
    }
  }

  std::unique_ptr<ZSTD_CCtx, FreeCCtx> context_;
  Sink& next_;
  std::vector<std::uint8_t> out_;
};

class ZstdDecompressSource : public Source {
 public:
  ZstdDecompressSource(Source& inner, std::string object)
      : context_(ZSTD_createDCtx()), inner_(inner), object_(std::move(object)), in_buffer_(kChunk) {
    if (!context_) throw Error(ErrorCode::kInternal, "cannot create a zstd context");
  }

  std::size_t read(std::span<std::uint8_t> buffer) override {
    if (buffer.empty()) return 0;
    for (;;) {
      if (in_.pos == in_.size && !eof_) refill();
      // Asking zstd again after a complete frame would start the next frame's header.
      if (eof_ && in_.pos == in_.size && !frame_open_) return 0;
      ZSTD_outBuffer out{buffer.data(), buffer.size(), 0};
      const auto result = ZSTD_decompressStream(context_.get(), &out, &in_);
      if (ZSTD_isError(result)) corrupt(object_, std::string("zstd: ") + ZSTD_getErrorName(result));
      frame_open_ = result != 0;
      if (out.pos > 0) return out.pos;
      if (eof_ && in_.pos == in_.size) {
        if (frame_open_) corrupt(object_, "the compressed stream is truncated");
        return 0;
      }
    }
  }

 private:
  void refill() {
    const auto got = inner_.read(in_buffer_);
    eof_ = got == 0;
    in_ = ZSTD_inBuffer{in_buffer_.data(), got, 0};
  }

  std::unique_ptr<ZSTD_DCtx, FreeDCtx> context_;
  Source& inner_;
  std::string object_;
  std::vector<std::uint8_t> in_buffer_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  bool eof_ = false;
  bool frame_open_ = true;  // an empty input is not a valid stream
};

// zlib's z_stream for deflate or inflate, ended by the destructor.
class ZStream {
 public:
  enum class Mode { kDeflate, kInflate };
  ZStream(Mode mode, int level) : mode_(mode) {
    constexpr int kGzipWindow = 15 + 16;  // 32 KiB window, gzip wrapper
    const int result = mode == Mode::kDeflate
                           ? deflateInit2(&stream_, level, Z_DEFLATED, kGzipWindow, 8, Z_DEFAULT_STRATEGY)
                           : inflateInit2(&stream_, kGzipWindow);
    if (result != Z_OK) throw Error(ErrorCode::kInternal, "cannot initialise zlib");
  }
  ~ZStream() {
    if (mode_ == Mode::kDeflate) {
      deflateEnd(&stream_);
    } else {
      inflateEnd(&stream_);
    }
  }
  ZStream(const ZStream&) = delete;
  ZStream& operator=(const ZStream&) = delete;
  z_stream* get() { return &stream_; }

 private:
  Mode mode_;
  z_stream stream_{};
};

class GzipCompressSink : public Sink {
 public:
  GzipCompressSink(int level, Sink& next)
      : stream_(ZStream::Mode::kDeflate, std::clamp(level, 1, 9)), next_(next), out_(kChunk) {}

  void write(std::span<const std::uint8_t> bytes) override { deflate_all(bytes, Z_NO_FLUSH); }
  void finish() override {
    deflate_all({}, Z_FINISH);
    next_.finish();
  }

 private:
  void deflate_all(std::span<const std::uint8_t> bytes, int flush) {
    auto* z = stream_.get();
    z->next_in = const_cast<Bytef*>(bytes.data());  // zlib's API is not const-correct
    z->avail_in = static_cast<uInt>(bytes.size());
    for (;;) {
      z->next_out = out_.data();
      z->avail_out = static_cast<uInt>(out_.size());
      const int result = deflate(z, flush);
      if (result == Z_STREAM_ERROR) throw Error(ErrorCode::kInternal, "gzip compression failed");
      const auto produced = out_.size() - z->avail_out;
      if (produced > 0) next_.write(std::span<const std::uint8_t>(out_.data(), produced));
      const bool done = flush == Z_FINISH ? result == Z_STREAM_END : (z->avail_in == 0 && z->avail_out != 0);
      if (done) return;
    }
  }

  ZStream stream_;
  Sink& next_;
  std::vector<std::uint8_t> out_;
};

// Reads one or more concatenated gzip members (gzip -c a b > c is a valid file).
class GzipDecompressSource : public Source {
 public:
  GzipDecompressSource(Source& inner, std::string object)
      : stream_(ZStream::Mode::kInflate, 0), inner_(inner), object_(std::move(object)), in_buffer_(kChunk) {}

  std::size_t read(std::span<std::uint8_t> buffer) override {
    if (buffer.empty()) return 0;
    auto* z = stream_.get();
    for (;;) {
      if (z->avail_in == 0 && !eof_) refill();
      if (z->avail_in == 0 && eof_) {
        if (member_open_) corrupt(object_, "the gzip stream is truncated");
        return 0;
      }
      if (!member_open_) {
        inflateReset(z);
        member_open_ = true;
      }
      z->next_out = buffer.data();
      z->avail_out = static_cast<uInt>(std::min<std::size_t>(buffer.size(), 1u << 30));
      const int result = inflate(z, Z_NO_FLUSH);
      if (result == Z_STREAM_END) {
        member_open_ = false;
      } else if (result != Z_OK && result != Z_BUF_ERROR) {
        corrupt(object_, std::string("gzip: ") + (z->msg ? z->msg : "invalid data"));
      }
      const auto produced = buffer.size() - z->avail_out;
      if (produced > 0) return produced;
    }
  }

 private:
  void refill() {
    const auto got = inner_.read(in_buffer_);
    eof_ = got == 0;
    stream_.get()->next_in = in_buffer_.data();
    stream_.get()->avail_in = static_cast<uInt>(got);
  }

  ZStream stream_;
  Source& inner_;
  std::string object_;
  std::vector<std::uint8_t> in_buffer_;
  bool eof_ = false;
  bool member_open_ = true;
};

}  // namespace

std::unique_ptr<Sink> make_compress_sink(Compression compression, int level, int threads, Sink& next) {
  switch (compression) {
    case Compression::kZstd:
      return std::make_unique<ZstdCompressSink>(level, threads, next);
    case Compression::kGzip:
      return std::make_unique<GzipCompressSink>(level, next);
    case Compression::kNone:
      break;
  }
  return std::make_unique<PassThroughSink>(next);
}

std::unique_ptr<Source> make_decompress_source(Compression compression, Source& inner, const std::string& object) {
  switch (compression) {
    case Compression::kZstd:
      return std::make_unique<ZstdDecompressSource>(inner, object);
    case Compression::kGzip:
      return std::make_unique<GzipDecompressSource>(inner, object);
    case Compression::kNone:
      break;
  }
  return nullptr;
}

}  // namespace shardsafe::storage
