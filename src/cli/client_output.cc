// Tables and "key: value" rendering of center's documents (see
// client_output.h).
#include "src/cli/client_output.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

namespace vmcrypt::cli::client {

std::string Str(const Json& doc, const char* key) {
  if (!doc.is_object() || !doc.contains(key) || !doc[key].is_string()) return "";
  return doc[key].get<std::string>();
}
Json Member(const Json& doc, const char* key) {
  return doc.is_object() && doc.contains(key) ? doc[key] : Json(nullptr);
}

void PrintJson(const Json& doc) { std::printf("%s\n", doc.dump(2).c_str()); }

std::string HumanSize(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int unit = 0;
  while (unit < 5 && bytes >= 1024 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  return std::to_string(bytes) + (unit == 0 ? "" : " ") + (unit == 0 ? "" : kUnits[unit]);
}

std::string Cell(const Json& v, std::string_view key) {
  if (v.is_null()) return "-";
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    return s.empty() ? "-" : s;
  }
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_unsigned() && key == "size") return HumanSize(v.get<uint64_t>());
  if (v.is_number() && key == "progress") return v.dump() + "%";
  if (v.is_number()) return v.dump();
  if (v.is_array()) {
    if (v.empty()) return "-";
    std::string out;
    for (const Json& item : v) out += (out.empty() ? "" : ",") + Cell(item);
    return out;
  }
  if (v.contains("enabled") && v["enabled"].is_boolean()) {  // a host's encryption_mode
    if (!v["enabled"].get<bool>()) return "no";
    return v.contains("key") ? "yes (" + Cell(v["key"]) + ")" : "yes";
  }
  if (v.contains("provider") && v.contains("key_id")) {
    return Cell(v["provider"]) + "/" + Cell(v["key_id"]);
  }
  if (v.size() == 2 && v.contains("type") && v.contains("name")) {
    return Cell(v["type"]) + " " + Cell(v["name"]);
  }
  if (v.contains("name")) return Cell(v["name"]);
  if (v.contains("address")) return Cell(v["address"]);
  return v.empty() ? "-" : v.dump();
}

namespace {

void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<size_t> width(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) width[i] = headers[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = indent;
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    std::printf("%s\n", out.c_str());
  };
  line(headers);
  for (const auto& row : rows) line(row);
}

// Columns for the items: the preferred ones some item has; if none, every
// key found, "name" and "id" first.
std::vector<Column> ColumnsFor(const Json& items, const std::vector<Column>& preferred) {
  std::vector<Column> cols;
  for (const Column& c : preferred) {
    for (const Json& item : items) {
      if (item.is_object() && item.contains(c.key)) {
        cols.push_back(c);
        break;
      }
    }
  }
  if (!cols.empty()) return cols;
  std::vector<std::string> keys;
  for (const Json& item : items) {
    if (!item.is_object()) continue;
    for (auto it = item.begin(); it != item.end(); ++it) {
      if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
    }
  }
  std::stable_partition(keys.begin(), keys.end(),
                        [](const std::string& k) { return k == "id" || k == "name"; });
  for (const std::string& k : keys) {
    std::string header = k;
    std::transform(header.begin(), header.end(), header.begin(), ::toupper);
    cols.push_back({header, k});
  }
  return cols;
}

}  // namespace

void PrintItems(const Json& items, const std::vector<Column>& preferred,
                const std::string& indent) {
  if (items.empty()) {
    std::printf("%s(none)\n", indent.c_str());
    return;
  }
  const std::vector<Column> cols = ColumnsFor(items, preferred);
  std::vector<std::string> headers;
  for (const Column& c : cols) headers.push_back(c.header);
  std::vector<std::vector<std::string>> rows;
  for (const Json& item : items) {
    std::vector<std::string> row;
    for (const Column& c : cols) {
      row.push_back(item.is_object() && item.contains(c.key) ? Cell(item[c.key], c.key) : "-");
    }
    rows.push_back(std::move(row));
  }
  PrintTable(headers, rows, indent);
}

namespace {

bool IsTableOfObjects(const Json& v) {
  return v.is_array() && !v.empty() &&
         std::all_of(v.begin(), v.end(), [](const Json& i) { return i.is_object(); });
}

// An object printed field by field: not a key reference or an entity,
// which read better on one line.
bool IsPlainObject(const Json& v) {
  if (!v.is_object() || v.empty()) return false;
  if (v.contains("provider") && v.contains("key_id")) return false;
  return !(v.size() == 2 && v.contains("type") && v.contains("name"));
}

}  // namespace

void PrintObject(const Json& obj, const std::string& indent) {
  if (!obj.is_object()) {
    std::printf("%s%s\n", indent.c_str(), Cell(obj).c_str());
    return;
  }
  std::vector<std::string> keys;
  size_t width = 0;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    keys.push_back(it.key());
    width = std::max(width, it.key().size());
  }
  std::stable_partition(keys.begin(), keys.end(),
                        [](const std::string& k) { return k == "id" || k == "name"; });
  for (const std::string& k : keys) {
    const Json& v = obj[k];
    const std::string label = indent + k + ":";
    if (IsTableOfObjects(v)) {
      static const std::vector<Column> kDiskCols = {{"NAME", "name"},
                                                    {"SIZE", "size"},
                                                    {"ENCRYPTED", "encrypted"},
                                                    {"KEY", "key"},
                                                    {"NBD URI", "nbd_uri"}};
      std::printf("%s\n", label.c_str());
      PrintItems(v, k == "disks" ? kDiskCols : std::vector<Column>{}, indent + "  ");
    } else if (IsPlainObject(v)) {
      std::printf("%s\n", label.c_str());
      PrintObject(v, indent + "  ");
    } else {
      std::printf("%-*s %s\n", static_cast<int>(width + indent.size() + 1), label.c_str(),
                  Cell(v, k).c_str());
    }
  }
}

Json ItemsOf(const Json& doc, const char* key) {
  if (doc.is_array()) return doc;
  if (!doc.is_object()) return Json::array();
  if (doc.contains(key) && doc[key].is_array()) return doc[key];
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.value().is_array()) return it.value();
  }
  return Json::array();
}

Printer ListPrinter(const char* key, std::vector<Column> cols) {
  return [key, cols](const Json& doc) { PrintItems(ItemsOf(doc, key), cols); };
}

}  // namespace vmcrypt::cli::client
