// S3 answers (ListObjectsV2 pages, error documents, DeleteObjects results, multipart answers)
// read the way storage/s3/s3_client.cpp reads them. The reader never throws; it must not read
// out of bounds, and decoding what xml_escape wrote gives the text back.
#include <string>

#include "storage/s3/xml.h"

namespace {

using namespace shardsafe::storage::s3;

void read_elements(std::string_view xml, std::string_view tag, std::initializer_list<std::string_view> fields) {
  for (const std::string_view element : xml_elements(xml, tag)) {
    for (const std::string_view field : fields) (void)xml_text(element, field);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  (void)xml_root(xml);
  for (const char* tag : {"Code", "Message", "IsTruncated", "NextContinuationToken", "UploadId"}) (void)xml_text(xml, tag);
  read_elements(xml, "Contents", {"Key", "Size", "LastModified"});
  read_elements(xml, "Error", {"Key", "Code"});
  if (xml_decode(xml_escape(xml)) != xml) __builtin_trap();
  return 0;
}
