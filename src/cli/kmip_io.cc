#include "src/cli/kmip_io.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/ttlv/codec.h"
#include "vmcrypt/ttlv/json.h"
#include "vmcrypt/ttlv/xml.h"

namespace vmcrypt::cli {

Result<std::string> ReadInput(const std::string& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open " + path + ": " + std::strerror(errno));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Result<std::vector<ttlv::Item>> DecodeHexLines(const std::string& text) {
  std::vector<ttlv::Item> items;
  std::istringstream lines(text);
  std::string line;
  size_t number = 0;
  while (std::getline(lines, line)) {
    ++number;
    std::string hex;
    for (char c : line) {
      if (c != ' ' && c != '\t' && c != '\r') hex.push_back(c);
    }
    if (hex.empty() || hex[0] == '#') continue;
    auto bytes = HexDecode(hex);
    if (!bytes.ok()) return bytes.status().WithContext("line " + std::to_string(number));
    auto item = ttlv::Decode(*bytes);
    if (!item.ok()) return item.status().WithContext("line " + std::to_string(number));
    items.push_back(std::move(*item));
  }
  if (items.empty()) return InvalidArgumentError("no message in the input");
  return items;
}

Result<std::vector<ttlv::Item>> DecodeBinary(const std::string& data) {
  std::vector<ttlv::Item> items;
  std::span<const uint8_t> rest = AsBytes(data);
  size_t offset = 0;
  while (!rest.empty()) {
    if (rest.size() < ttlv::kHeaderSize) {
      return InvalidArgumentError("truncated message header at offset " + std::to_string(offset));
    }
    auto size = ttlv::MessageSize(rest.first(ttlv::kHeaderSize));
    if (!size.ok()) return size.status().WithContext("message at offset " + std::to_string(offset));
    if (*size > rest.size()) {
      return InvalidArgumentError("message at offset " + std::to_string(offset) + " needs " +
                                  std::to_string(*size) + " bytes, " + std::to_string(rest.size()) +
                                  " left");
    }
    auto item = ttlv::Decode(rest.first(*size));
    if (!item.ok()) return item.status().WithContext("message at offset " + std::to_string(offset));
    items.push_back(std::move(*item));
    rest = rest.subspan(*size);
    offset += *size;
  }
  if (items.empty()) return InvalidArgumentError("no message in the input");
  return items;
}

Result<std::vector<ttlv::Item>> ParseText(const std::string& text, const std::string& format) {
  std::string f = format;
  if (f == "auto") {
    size_t i = text.find_first_not_of(" \t\r\n");
    f = (i != std::string::npos && text[i] == '<') ? "xml" : "json";
  }
  return f == "xml" ? ttlv::ParseXml(text) : ttlv::ParseJson(text);
}

std::string FormatText(const std::vector<ttlv::Item>& items, const std::string& format) {
  if (format == "json") {
    return items.size() == 1 ? ttlv::WriteJson(items[0]) : ttlv::WriteJsonDocument(items);
  }
  return items.size() == 1 ? ttlv::WriteXml(items[0]) : ttlv::WriteXmlDocument(items);
}

}  // namespace vmcrypt::cli
