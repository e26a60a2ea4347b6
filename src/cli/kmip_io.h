// Reading and writing KMIP messages for the `vmcrypt kmip` commands:
// hex lines, raw binary, XML and JSON. Internal to the binary.
#ifndef VMCRYPT_SRC_CLI_KMIP_IO_H_
#define VMCRYPT_SRC_CLI_KMIP_IO_H_

#include <string>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::cli {

// Reads all of FILE, or standard input for "-".
Result<std::string> ReadInput(const std::string& path);

// Decodes hex text holding one TTLV message per line (whitespace inside a
// line is ignored; blank lines and lines starting with '#' are skipped).
// Errors name the line and the byte offset within that message.
Result<std::vector<ttlv::Item>> DecodeHexLines(const std::string& text);

// Decodes one or more TTLV messages laid end to end.
Result<std::vector<ttlv::Item>> DecodeBinary(const std::string& data);

// Parses XML or JSON ("xml", "json", or "auto" to guess from the first
// character).
Result<std::vector<ttlv::Item>> ParseText(const std::string& text, const std::string& format);

// Formats items as XML or JSON; several are wrapped in <KMIP> / an array.
std::string FormatText(const std::vector<ttlv::Item>& items, const std::string& format);

}  // namespace vmcrypt::cli

#endif  // VMCRYPT_SRC_CLI_KMIP_IO_H_
