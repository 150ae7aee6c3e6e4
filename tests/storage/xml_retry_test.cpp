// The minimal XML reader the S3 driver uses, and the backoff schedule of its retry policy.
#include <gtest/gtest.h>

#include "storage/s3/retry.h"
#include "storage/s3/xml.h"

namespace shardsafe::storage::s3 {
namespace {

constexpr std::string_view kListing = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix/><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>a &amp; b/&lt;c&gt; &#233;&#x4e2d;</Key><Size>10</Size></Contents>
  <Contents><Key><![CDATA[raw <key>]]></Key><Size>0</Size></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>)";

TEST(Xml, ReadsListingsWithEntitiesAndCdata) {
  EXPECT_EQ(xml_root(kListing), "ListBucketResult");
  const auto contents = xml_elements(kListing, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(xml_text(contents[0], "Key"), "a & b/<c> \xc3\xa9\xe4\xb8\xad");
  EXPECT_EQ(xml_text(contents[1], "Key"), "raw <key>");
  EXPECT_EQ(xml_text(kListing, "Key"), "a & b/<c> \xc3\xa9\xe4\xb8\xad") << "<KeyCount> is not <Key>";
  EXPECT_EQ(xml_text(kListing, "Prefix"), "");
  EXPECT_EQ(xml_text(kListing, "NextContinuationToken"), "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  EXPECT_FALSE(xml_text(kListing, "Missing").has_value());
}

TEST(Xml, ErrorDocumentsAndEscaping) {
  const std::string error = "<?xml version=\"1.0\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce</Message></Error>";
  EXPECT_EQ(xml_root(error), "Error");
  EXPECT_EQ(xml_text(error, "Code"), "SlowDown");
  EXPECT_EQ(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
  EXPECT_EQ(xml_decode(xml_escape("x & <y> 'z'")), "x & <y> 'z'");
}

TEST(RetryPolicy, FullJitterStaysUnderTheExponentialCap) {
  RetryPolicy policy;
  policy.base_delay = std::chrono::milliseconds(100);
  policy.max_delay = std::chrono::milliseconds(1000);
  std::chrono::milliseconds longest{0};
  for (int i = 0; i < 200; ++i) {
    EXPECT_LE(policy.delay_before(0).count(), 100);
    EXPECT_LE(policy.delay_before(2).count(), 400);
    longest = std::max(longest, policy.delay_before(10));
  }
  EXPECT_LE(longest.count(), 1000);
  EXPECT_GT(longest.count(), 500) << "200 uniform draws in [0, 1000] should reach past half";
}

TEST(RetryPolicy, RetriesOnlyTransientFailures) {
  RetryPolicy policy;
  policy.base_delay = std::chrono::milliseconds(1);
  int calls = 0;
  policy.run("flaky", [&] {
    if (++calls < 3) throw TransientError(ErrorCode::kConnection, "reset");
  });
  EXPECT_EQ(calls, 3);
  calls = 0;
  EXPECT_THROW(policy.run("broken", [&] {
    ++calls;
    throw Error(ErrorCode::kStorage, "AccessDenied");
  }), Error);
  EXPECT_EQ(calls, 1);
  policy.max_attempts = 2;
  try {
    policy.run("s3 GET \"k\"", [] { throw TransientError(ErrorCode::kTimeout, "timed out"); });
    FAIL();
  } catch (const TransientError&) {
    FAIL() << "exhausted retries must not look transient to an outer retry loop";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kTimeout);
    EXPECT_NE(std::string(error.what()).find("s3 GET \"k\" failed after 2 attempts"), std::string::npos);
  }
}

}  // namespace
}  // namespace shardsafe::storage::s3
