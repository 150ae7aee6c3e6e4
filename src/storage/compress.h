// Compression filters: zstd (optionally multi-threaded) and gzip (RFC 1952, the format
// `gunzip` and `mongorestore --gzip` read). Both stream in bounded memory.
#pragma once

#include <memory>
#include <string>

#include "storage/pipeline.h"
#include "storage/stream.h"

namespace shardsafe::storage {

// A Sink that compresses into `next` (not owned; must outlive the sink). kNone returns a
// pass-through. `threads` > 0 runs zstd's worker threads; gzip ignores it.
std::unique_ptr<Sink> make_compress_sink(Compression compression, int level, int threads, Sink& next);

// A Source that decompresses `inner` (not owned); null for kNone (read `inner` itself). A stream that ends inside a frame, or does
// not decode, is Error(kCorruptData) naming `object`.
std::unique_ptr<Source> make_decompress_source(Compression compression, Source& inner,
                                               const std::string& object);

}  // namespace shardsafe::storage
