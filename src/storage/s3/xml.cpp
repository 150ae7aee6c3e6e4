#include "storage/s3/xml.h"

#include <cstdlib>

namespace shardsafe::storage::s3 {
namespace {

bool name_ends_at(std::string_view xml, std::size_t position) {
  return position < xml.size() &&
         (xml[position] == '>' || xml[position] == '/' || xml[position] == ' ' || xml[position] == '\t' ||
          xml[position] == '\r' || xml[position] == '\n');
}

void append_utf8(std::string& out, unsigned long code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xc0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xe0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  }
}

}  // namespace

std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  std::size_t position = 0;
  while ((position = xml.find(open, position)) != std::string_view::npos) {
    const auto after_name = position + open.size();
    if (!name_ends_at(xml, after_name)) {  // <KeyCount> is not <Key>
      position = after_name;
      continue;
    }
    const auto tag_end = xml.find('>', after_name);
    if (tag_end == std::string_view::npos) break;
    if (xml[tag_end - 1] == '/') {
      out.emplace_back();
      position = tag_end + 1;
      continue;
    }
    const auto end = xml.find(close, tag_end + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(tag_end + 1, end - tag_end - 1));
    position = end + close.size();
  }
  return out;
}

std::optional<std::string> xml_text(std::string_view xml, std::string_view tag) {
  const auto elements = xml_elements(xml, tag);
  if (elements.empty()) return std::nullopt;
  return xml_decode(elements.front());
}

std::string xml_root(std::string_view xml) {
  std::size_t position = 0;
  while ((position = xml.find('<', position)) != std::string_view::npos) {
    if (position + 1 < xml.size() && (xml[position + 1] == '?' || xml[position + 1] == '!')) {
      position = xml.find('>', position);
      if (position == std::string_view::npos) return "";
      continue;
    }
    auto end = position + 1;
    while (end < xml.size() && !name_ends_at(xml, end)) ++end;
    return std::string(xml.substr(position + 1, end - position - 1));
  }
  return "";
}

std::string xml_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text.substr(i, 9) == "<![CDATA[") {
      const auto end = text.find("]]>", i + 9);
      out += text.substr(i + 9, end == std::string_view::npos ? std::string_view::npos : end - i - 9);
      i = end == std::string_view::npos ? text.size() : end + 3;
      continue;
    }
    const auto semicolon = text[i] == '&' ? text.find(';', i) : std::string_view::npos;
    if (semicolon == std::string_view::npos || semicolon - i > 10) {
      out += text[i++];
      continue;
    }
    const auto entity = text.substr(i + 1, semicolon - i - 1);
    if (entity == "amp") {
      out += '&';
    } else if (entity == "lt") {
      out += '<';
    } else if (entity == "gt") {
      out += '>';
    } else if (entity == "quot") {
      out += '"';
    } else if (entity == "apos") {
      out += '\'';
    } else if (entity.size() > 1 && entity[0] == '#') {
      const bool hex = entity[1] == 'x' || entity[1] == 'X';
      const std::string digits(entity.substr(hex ? 2 : 1));
      append_utf8(out, std::strtoul(digits.c_str(), nullptr, hex ? 16 : 10));
    } else {
      out += text.substr(i, semicolon - i + 1);  // unknown: keep as is
    }
    i = semicolon + 1;
  }
  return out;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace shardsafe::storage::s3
