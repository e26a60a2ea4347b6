#include "vmcrypt/kms/config.h"

#include <toml++/toml.h>

#include "src/common/toml_file.h"
#include "vmcrypt/base/file_util.h"

namespace vmcrypt::kms {

Result<KmsConfig> LoadKmsConfig(const std::string& path) {
  ASSIGN_OR_RETURN(toml::table t, vmcrypt::internal::ParseTomlFile(path));
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  KmsConfig c;
  auto str = [&](const char* section, const char* key, std::string def) {
    return t[section][key].value_or(std::move(def));
  };
  c.name = str("server", "name", c.name);
  c.server.listen = str("server", "listen", c.server.listen);
  c.server.cert_file = ResolvePath(dir, str("server", "certificate", "server.crt"));
  c.server.key_file = ResolvePath(dir, str("server", "private_key", "server.key"));
  c.server.min_tls = str("server", "min_tls", c.server.min_tls);
  const int64_t max_message = t["server"]["max_message_size"].value_or(int64_t{1} << 20);
  if (max_message < 1024 || max_message > (int64_t{64} << 20)) {
    return InvalidArgumentError(path + ": server.max_message_size must be 1 KiB - 64 MiB");
  }
  c.server.max_message_size = static_cast<size_t>(max_message);
  const int64_t idle = t["server"]["idle_timeout"].value_or(int64_t{120});
  const int64_t io = t["server"]["io_timeout"].value_or(int64_t{30});
  if (idle < 1 || io < 1) return InvalidArgumentError(path + ": timeouts must be >= 1 second");
  c.server.idle_timeout = std::chrono::seconds(idle);
  c.server.io_timeout = std::chrono::seconds(io);
  c.server.max_connections =
      static_cast<int>(t["server"]["max_connections"].value_or(int64_t{1024}));
  const int64_t threads = t["server"]["threads"].value_or(int64_t{0});
  if (threads < 0 || threads > 1024) {
    return InvalidArgumentError(path + ": server.threads must be 0 (automatic) - 1024");
  }
  c.server.threads = static_cast<int>(threads);
  const int64_t write_threads = t["server"]["write_threads"].value_or(int64_t{0});
  if (write_threads < 0 || write_threads > 1024) {
    return InvalidArgumentError(path + ": server.write_threads must be 0 (automatic) - 1024");
  }
  c.server.write_threads = static_cast<int>(write_threads);
  c.ca_cert_file = ResolvePath(dir, str("ca", "certificate", "ca.crt"));
  c.ca_key_file = ResolvePath(dir, str("ca", "private_key", "ca.key"));
  c.root_key_type = str("root_key", "type", c.root_key_type);
  if (c.root_key_type != "software") {
    return InvalidArgumentError(path + ": root_key.type \"" + c.root_key_type +
                                "\" is not supported (only \"software\" so far)");
  }
  c.root_key_file = ResolvePath(dir, str("root_key", "file", "root.key"));
  c.store_type = str("store", "type", c.store_type);
  if (c.store_type != "sqlite") {
    return InvalidArgumentError(path + ": store.type \"" + c.store_type +
                                "\" is not supported (only \"sqlite\" so far)");
  }
  c.store_path = ResolvePath(dir, str("store", "path", "kms.db"));
  c.audit_file = ResolvePath(dir, str("audit", "file", ""));
  return c;
}

}  // namespace vmcrypt::kms
