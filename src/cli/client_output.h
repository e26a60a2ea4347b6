// Output of the client commands: center's JSON documents as aligned tables
// and "key: value" lines for people, or as is (--json) for scripts.
// Internal to the binary.
//
// Every function writes to stdout and reads the documents without throwing:
// a member that is absent or of an unexpected type prints as "-".
#ifndef VMCRYPT_SRC_CLI_CLIENT_OUTPUT_H_
#define VMCRYPT_SRC_CLI_CLIENT_OUTPUT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "src/cli/client.h"

namespace vmcrypt::cli::client {

// Prints one reply document for a person.
using Printer = std::function<void(const Json&)>;

// A table column: its header and the member of each item it shows.
struct Column {
  std::string header;
  std::string key;
};

// Member `key` of `doc` when it is a string, else "".
std::string Str(const Json& doc, const char* key);
// Member `key` of `doc`, or null when `doc` is not an object or lacks it.
Json Member(const Json& doc, const char* key);

// The document as center sent it, indented by 2, and a newline.
void PrintJson(const Json& doc);

// "4 GiB" for a whole number of the largest unit, else bytes ("4097").
std::string HumanSize(uint64_t bytes);

// One value as a table cell: "-" for null or empty, yes/no, a key as
// "provider/key_id", an entity as "type name", lists joined with ",";
// `key` names the member, so that "size" reads as HumanSize and "progress"
// as a percentage.
std::string Cell(const Json& v, std::string_view key = {});

// `items` (objects) as an aligned table, each line prefixed by `indent`:
// the `preferred` columns some item has or, if none, every member found
// ("name" and "id" first). "(none)" for an empty list.
void PrintItems(const Json& items, const std::vector<Column>& preferred,
                const std::string& indent = "");

// "key: value" lines, aligned; lists of objects as indented tables and
// nested objects as indented fields. "name" and "id" come first. A value
// that is not an object prints as one cell.
void PrintObject(const Json& obj, const std::string& indent = "");

// The list in a reply: the reply itself, its member `key`, or its only
// array member; an empty array when there is none.
Json ItemsOf(const Json& doc, const char* key);

// Prints ItemsOf(doc, key) with PrintItems(..., cols).
Printer ListPrinter(const char* key, std::vector<Column> cols);

}  // namespace vmcrypt::cli::client

#endif  // VMCRYPT_SRC_CLI_CLIENT_OUTPUT_H_
