#include "common/redact.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace shardsafe {
namespace {

bool is_secret_parameter(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  constexpr std::array kMarkers = {"password", "secret", "token", "key", "signature", "credential"};
  return std::any_of(kMarkers.begin(), kMarkers.end(),
                     [&](const char* marker) { return lower.find(marker) != std::string::npos; });
}

std::string redact_userinfo(std::string_view uri) {
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return std::string(uri);
  const auto authority_start = scheme_end + 3;
  const auto authority_end = uri.find_first_of("/?#", authority_start);
  const auto authority = uri.substr(authority_start, authority_end - authority_start);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(uri);
  const auto colon = authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return std::string(uri);
  std::string out(uri.substr(0, authority_start + colon + 1));
  out += "***";
  out += uri.substr(authority_start + at);
  return out;
}

std::string redact_query(const std::string& uri) {
  const auto query_start = uri.find('?');
  if (query_start == std::string::npos) return uri;
  std::string out = uri.substr(0, query_start + 1);
  std::string_view query = std::string_view(uri).substr(query_start + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && is_secret_parameter(pair.substr(0, eq))) {
      out += pair.substr(0, eq + 1);
      out += "***";
    } else {
      out += pair;
    }
    if (amp == std::string_view::npos) break;
    out += '&';
    query.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace

std::string redact_uri(std::string_view uri) { return redact_query(redact_userinfo(uri)); }

}  // namespace shardsafe
