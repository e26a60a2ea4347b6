// Conformance of the TTLV, XML and JSON codecs against every OASIS KMIP 1.4
// and 2.1 test case (../shared/reference/kmip/testcases).
//
// For each RequestMessage and ResponseMessage of every file:
//   XML -> TTLV -> XML: the written XML, read back with pugixml (not with our
//     reader), must equal the original element by element: the same names,
//     the same types, the same values. Values must be textually equal except
//     for three normalizations, which are counted: date-times written in UTC
//     ("+10:00" offsets), usage-mask names in another order, hex case.
//   TTLV -> JSON -> TTLV: byte-exact.
// The number of messages checked must equal the number in the files, counted
// independently from the raw text.
#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "src/ttlv/value_text.h"
#include "tests/oasis_testcases.h"
#include "vmcrypt/ttlv/codec.h"
#include "vmcrypt/ttlv/json.h"
#include "vmcrypt/ttlv/xml.h"

namespace vmcrypt::ttlv {
namespace {

namespace fs = std::filesystem;

using test_support::ReadFile;
using test_support::TestCaseDir;
using test_support::TestCaseFiles;

// Counts "<RequestMessage>" and "<ResponseMessage>" starts in raw text, outside
// XML comments (some files comment out whole messages).
size_t CountMessagesInText(std::string text) {
  for (size_t open = text.find("<!--"); open != std::string::npos; open = text.find("<!--")) {
    size_t close = text.find("-->", open);
    text.erase(open, close == std::string::npos ? std::string::npos : close + 3 - open);
  }
  size_t n = 0;
  for (const char* needle : {"<RequestMessage>", "<ResponseMessage>"}) {
    for (size_t pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + 1)) {
      ++n;
    }
  }
  return n;
}

struct Stats {
  size_t values = 0;
  size_t exact = 0;
  size_t datetime_normalized = 0;
  size_t mask_reordered = 0;
  size_t hex_case = 0;
};

std::vector<std::string> SortedWords(std::string_view s) {
  std::vector<std::string> words;
  std::istringstream in{std::string(s)};
  std::string w;
  while (in >> w) words.push_back(w);
  std::sort(words.begin(), words.end());
  return words;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Compares two elements; returns "" or a description of the first difference.
std::string CompareElements(const pugi::xml_node& a, const pugi::xml_node& b, Stats* stats,
                            const std::string& path) {
  const std::string here = path + "/" + a.name();
  if (std::string_view(a.name()) != b.name()) {
    return here + ": element " + b.name() + " instead of " + a.name();
  }
  if (std::string_view(a.attribute("tag").value()) != b.attribute("tag").value()) {
    return here + ": tag attribute differs";
  }
  const std::string_view type = a.attribute("type").value();
  if (type != b.attribute("type").value()) {
    return here + ": type " + b.attribute("type").value() + " instead of " + std::string(type);
  }
  if (type.empty() || type == "Structure") {
    auto next_element = [](pugi::xml_node n) {
      while (n && n.type() != pugi::node_element) n = n.next_sibling();
      return n;
    };
    pugi::xml_node ca = next_element(a.first_child());
    pugi::xml_node cb = next_element(b.first_child());
    while (ca && cb) {
      std::string diff = CompareElements(ca, cb, stats, here);
      if (!diff.empty()) return diff;
      ca = next_element(ca.next_sibling());
      cb = next_element(cb.next_sibling());
    }
    if (ca || cb) return here + ": a different number of children";
    return "";
  }
  ++stats->values;
  const std::string va = a.attribute("value").value();
  const std::string vb = b.attribute("value").value();
  if (va == vb) {
    ++stats->exact;
    return "";
  }
  if (type == "DateTime") {
    auto ta = text::ParseDateTime(va);
    auto tb = text::ParseDateTime(vb);
    if (ta.ok() && tb.ok() && *ta == *tb) {
      ++stats->datetime_normalized;
      return "";
    }
  } else if (type == "Integer") {
    if (SortedWords(va) == SortedWords(vb)) {
      ++stats->mask_reordered;
      return "";
    }
  } else if (type == "ByteString" || type == "BigInteger") {
    if (Lower(va) == Lower(vb)) {
      ++stats->hex_case;
      return "";
    }
  }
  return here + ": value '" + vb + "' instead of '" + va + "'";
}

std::vector<uint8_t> ToVec(const Bytes& b) { return {b.begin(), b.end()}; }

TEST(KmipTestCases, EveryMessageRoundTrips) {
  const std::vector<fs::path> files = TestCaseFiles();
  ASSERT_FALSE(files.empty()) << "no OASIS test cases under " << TestCaseDir()
                              << " (set VMCRYPT_SHARED_DIR to the shared/ folder)";
  size_t expected_messages = 0;
  size_t checked = 0;
  size_t json_checked = 0;
  Stats stats;
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    const std::string text = ReadFile(file);
    expected_messages += CountMessagesInText(text);

    // Our reader.
    Result<std::vector<Item>> items = ParseXml(text);
    ASSERT_TRUE(items.ok()) << items.status().ToString();

    // The reference DOM, read independently.
    pugi::xml_document original;
    ASSERT_TRUE(original.load_string(text.c_str()));
    std::vector<pugi::xml_node> messages;
    for (pugi::xml_node n : original.document_element().children()) {
      if (n.type() == pugi::node_element) messages.push_back(n);
    }
    ASSERT_EQ(messages.size(), items->size());

    PlaceholderMap placeholders;
    for (size_t i = 0; i < items->size(); ++i) {
      const Item& item = (*items)[i];
      // XML -> TTLV -> XML.
      Result<Bytes> wire = Encode(item, &placeholders);
      ASSERT_TRUE(wire.ok()) << "message " << i << ": " << wire.status().ToString();
      Result<Item> decoded = Decode(ToVec(*wire));
      ASSERT_TRUE(decoded.ok()) << "message " << i << ": " << decoded.status().ToString();
      placeholders.Restore(&*decoded);
      const std::string written = WriteXml(*decoded);
      pugi::xml_document reread;
      ASSERT_TRUE(reread.load_string(written.c_str())) << written;
      std::string diff = CompareElements(messages[i], reread.document_element(), &stats, "");
      ASSERT_EQ(diff, "") << "message " << i;
      ++checked;

      // TTLV -> JSON -> TTLV, byte-exact.
      const std::string json = WriteJson(*decoded);
      Result<std::vector<Item>> from_json = ParseJson(json);
      ASSERT_TRUE(from_json.ok()) << from_json.status().ToString() << "\n" << json;
      ASSERT_EQ(from_json->size(), 1u);
      Result<Bytes> wire2 = Encode((*from_json)[0], &placeholders);
      ASSERT_TRUE(wire2.ok()) << wire2.status().ToString();
      ASSERT_EQ(ToVec(*wire2), ToVec(*wire)) << "message " << i << " via JSON";
      ++json_checked;
    }
  }
  std::cout << "OASIS test cases: " << files.size() << " files, " << checked << " of "
            << expected_messages << " messages round-tripped XML->TTLV->XML, " << json_checked
            << " TTLV->JSON->TTLV\n"
            << "values: " << stats.values << " (" << stats.exact << " textually identical, "
            << stats.datetime_normalized << " date-times normalized to UTC, "
            << stats.mask_reordered << " masks reordered, " << stats.hex_case << " hex case)\n";
  EXPECT_EQ(checked, expected_messages);
  EXPECT_EQ(json_checked, expected_messages);
  // 75 KMIP 1.4 and 93 KMIP 2.1 files.
  EXPECT_EQ(files.size(), 168u);
}

}  // namespace
}  // namespace vmcrypt::ttlv
