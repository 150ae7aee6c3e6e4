// The points in time a point-in-time restore takes (`restore --to-time T`).
#pragma once

#include <string>
#include <string_view>

#include "mongo/bson.h"

namespace shardsafe::oplog {

// Parses T in one of three forms:
//   "2026-12-04T18:30:00Z" (ISO-8601 UTC, also "+00:00"): the state at that instant, i.e. every
//                          write before it: Timestamp(seconds, 0), below any entry of that
//                          second (oplog increments start at 1);
//   "1733337000.5"         <seconds>.<increment>, an exact oplog timestamp (inclusive);
//   "Timestamp(1733337000, 5)"  the same, as the mongo shell prints it.
// Throws Error(kInvalidArgument) quoting the text and the accepted forms for anything else
// (another time zone, fractional seconds, out-of-range fields, trailing characters).
mongo::Timestamp parse_time_point(std::string_view text);

// "2026-12-04T18:30:00Z (1733337000.5)": how errors and listings show a timestamp to people.
std::string describe_time_point(mongo::Timestamp ts);

}  // namespace shardsafe::oplog
