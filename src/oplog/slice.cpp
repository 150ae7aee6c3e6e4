#include "oplog/slice.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <tuple>

#include "common/error.h"

namespace shardsafe::oplog {
namespace {

using mongo::Timestamp;

constexpr std::string_view kPrefix = "oplog/";
constexpr std::string_view kExtension = ".bson";
constexpr std::size_t kDigits = 10;
constexpr std::size_t kTimestampWidth = 2 * kDigits + 1;

std::optional<std::uint32_t> parse_digits(std::string_view text) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.size() != kDigits || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<Timestamp> parse_slice_timestamp(std::string_view text) {
  if (text.size() != kTimestampWidth || text[kDigits] != '.') return std::nullopt;
  const auto seconds = parse_digits(text.substr(0, kDigits));
  const auto increment = parse_digits(text.substr(kDigits + 1));
  if (!seconds || !increment) return std::nullopt;
  return Timestamp{*seconds, *increment};
}

std::string range_text(Timestamp after, Timestamp up_to) {
  return "entries after " + after.to_string() + " up to " + up_to.to_string();
}

[[noreturn]] void gap(const std::string& replset, Timestamp after, Timestamp up_to) {
  throw Error(ErrorCode::kChainGap, "oplog chain of replica set \"" + replset + "\" has a gap: " +
                                        range_text(after, up_to) + " are in no slice");
}

bool same_slice(const OplogSlice& a, const OplogSlice& b) {
  return a.start == b.start && a.end == b.end && a.entries == b.entries && a.sha256 == b.sha256;
}

// The slices that hold entries of (from, to], in chain order, exact duplicates removed.
std::vector<OplogSlice> relevant_slices(const std::vector<OplogSlice>& slices, Timestamp from, Timestamp to) {
  std::vector<OplogSlice> relevant;
  for (const OplogSlice& slice : slices) {
    if (slice.end > from && slice.start < to) relevant.push_back(slice);
  }
  std::sort(relevant.begin(), relevant.end(),
            [](const OplogSlice& a, const OplogSlice& b) { return std::tie(a.start, a.end) < std::tie(b.start, b.end); });
  relevant.erase(std::unique(relevant.begin(), relevant.end(), same_slice), relevant.end());
  return relevant;
}

void check_slices_are_one_set(const std::vector<OplogSlice>& slices) {
  for (const OplogSlice& slice : slices) {
    if (slice.start >= slice.end) {
      throw Error(ErrorCode::kCorruptData, "oplog slice \"" + slice.key + "\" has an empty range (" +
                                               slice.start.to_string() + ", " + slice.end.to_string() + "]");
    }
    if (slice.replset != slices.front().replset) {
      throw Error(ErrorCode::kInvalidArgument, "oplog slices of replica sets \"" + slices.front().replset +
                                                   "\" and \"" + slice.replset + "\" cannot form one chain");
    }
  }
}

}  // namespace

std::string slice_timestamp(Timestamp ts) { return fmt::format("{:010}.{:010}", ts.seconds, ts.increment); }

std::string slice_key(const std::string& replset, Timestamp start, Timestamp end) {
  if (replset.empty() || replset.find('/') != std::string::npos) {
    throw Error(ErrorCode::kInvalidArgument, "invalid replica set name \"" + replset + "\" for an oplog slice key");
  }
  if (start >= end) {
    throw Error(ErrorCode::kInvalidArgument, "an oplog slice needs start < end, got (" + start.to_string() + ", " +
                                                 end.to_string() + "]");
  }
  return std::string(kPrefix) + replset + "/" + slice_timestamp(start) + "-" + slice_timestamp(end) +
         std::string(kExtension);
}

std::optional<OplogSlice> parse_slice_key(std::string_view key) {
  if (!key.starts_with(kPrefix)) return std::nullopt;
  const std::string_view rest = key.substr(kPrefix.size());
  const auto slash = rest.find('/');
  if (slash == 0 || slash == std::string_view::npos) return std::nullopt;
  const std::string_view name = rest.substr(slash + 1);
  // <start>-<end>.bson[.<filter extensions>]
  if (name.size() < 2 * kTimestampWidth + 1 + kExtension.size() || name[kTimestampWidth] != '-') return std::nullopt;
  const std::string_view tail = name.substr(2 * kTimestampWidth + 1);
  if (!tail.starts_with(kExtension) || (tail.size() > kExtension.size() && tail[kExtension.size()] != '.')) {
    return std::nullopt;
  }
  const auto start = parse_slice_timestamp(name.substr(0, kTimestampWidth));
  const auto end = parse_slice_timestamp(name.substr(kTimestampWidth + 1, kTimestampWidth));
  if (!start || !end || *start >= *end) return std::nullopt;
  OplogSlice slice;
  slice.replset = std::string(rest.substr(0, slash));
  slice.start = *start;
  slice.end = *end;
  slice.key = std::string(key);
  return slice;
}

std::vector<OplogSlice> validate_chain(const std::vector<OplogSlice>& slices, Timestamp from, Timestamp to) {
  if (from > to) {
    throw Error(ErrorCode::kInvalidArgument, "invalid oplog range: " + from.to_string() + " is after " + to.to_string());
  }
  if (slices.empty()) {
    if (from == to) return {};
    throw Error(ErrorCode::kChainGap, "no oplog slices hold " + range_text(from, to));
  }
  check_slices_are_one_set(slices);
  const std::string& replset = slices.front().replset;
  std::vector<OplogSlice> chain = relevant_slices(slices, from, to);
  if (from == to) return {};
  if (chain.empty()) gap(replset, from, to);
  if (chain.front().start > from) gap(replset, from, chain.front().start);
  for (std::size_t i = 1; i < chain.size(); ++i) {
    const OplogSlice& previous = chain[i - 1];
    const OplogSlice& next = chain[i];
    if (next.start > previous.end) gap(replset, previous.end, next.start);
    if (next.start < previous.end) {
      throw Error(ErrorCode::kChainGap, "oplog slices \"" + previous.key + "\" and \"" + next.key + "\" of replica set \"" +
                                            replset + "\" overlap: the chain is inconsistent");
    }
  }
  if (chain.back().end < to) gap(replset, chain.back().end, to);
  return chain;
}

}  // namespace shardsafe::oplog
