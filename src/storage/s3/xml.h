// The little XML S3 speaks: flat elements with text, no attributes we need, no mixed content.
// Enough to read ListObjectsV2, multipart, DeleteObjects and error responses correctly
// (entities decoded, self-closing elements, prologs and attributes skipped).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shardsafe::storage::s3 {

// The raw inner text of every <tag>...</tag> (or <tag/>) in document order, at any depth.
// REQUIRES: elements named `tag` do not nest inside each other (true of S3's responses).
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag);

// The decoded text of the first <tag> in `xml`, or nullopt when there is none.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag);

// The name of the document's root element ("Error", "ListBucketResult"), or "".
std::string xml_root(std::string_view xml);

// Decodes &amp; &lt; &gt; &quot; &apos; &#NN; &#xNN; (UTF-8 out) and CDATA sections.
std::string xml_decode(std::string_view text);
// Escapes text for element content.
std::string xml_escape(std::string_view text);

}  // namespace shardsafe::storage::s3
