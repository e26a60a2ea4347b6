// `vmcrypt disk ...`: the offline encrypted-disk tool (docs/disk-format.md).
// The KEK comes from a key file (32 raw bytes, mode 0600) or a KMIP server
// (src/cli/kek_source.h); it is never printed, and no command output contains
// key material.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/cli/commands.h"
#include "src/cli/kek_source.h"
#include "vmcrypt/disk/encrypted_disk.h"
#include "vmcrypt/disk/header.h"
#include "vmcrypt/disk/header_store.h"
#include "vmcrypt/disk/tools.h"

namespace vmcrypt::cli {
namespace {

struct DiskOptions {
  std::string file;
  std::string size;
  KekSource kek;  // also --key-id
  std::string provider;
  bool provider_set = false;
  std::string out;
  bool shallow = false;
  bool deep = false;
  std::string new_kek_file;
  std::string new_key_id;
  std::string new_provider;
  bool new_provider_set = false;
  uint64_t offset = 0;
  uint64_t length = 0;
  bool length_set = false;
};

int Fail(const char* command, const std::string& message) {
  std::fprintf(stderr, "vmcrypt disk %s: %s\n", command, message.c_str());
  return 1;
}

// The key safe entry of a new disk: --key-id, and --provider or else the
// KMIP server address (empty for a key file).
Result<disk::KekRef> NewKekRef(const DiskOptions& o) {
  if (o.kek.key_id.empty()) return InvalidArgumentError("--key-id is required");
  return disk::KekRef{o.provider_set ? o.provider : o.kek.DefaultProvider(), o.kek.key_id};
}

// Prints "chunk n/total" progress on stderr when it is a terminal.
disk::ProgressFn Progress() {
  if (!isatty(STDERR_FILENO)) return nullptr;
  return [](uint64_t done, uint64_t total) {
    std::fprintf(stderr, "\r%llu/%llu MiB", static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total));
    if (done == total) std::fprintf(stderr, "\n");
  };
}

int RunCreate(const DiskOptions& o) {
  auto size = disk::ParseSize(o.size);
  if (!size.ok()) return Fail("create", size.status().message());
  auto ref = NewKekRef(o);
  if (!ref.ok()) return Fail("create", ref.status().message());
  auto kek = o.kek.Load(KekUse::kWrap);
  if (!kek.ok()) return Fail("create", kek.status().message());
  Status s = disk::CreateDisk(o.file, *size, *kek, *ref);
  if (!s.ok()) return Fail("create", s.message());
  std::cout << "Created " << o.file << ": " << *size << " bytes, XTS-AES-256, key id "
            << ref->key_id << "\n";
  return 0;
}

const char* RoleName(disk::KeyRole r) { return r == disk::KeyRole::kNext ? "next" : "current"; }

int RunInspect(const DiskOptions& o) {
  auto paths = disk::LocateDisk(o.file);
  if (!paths.ok()) return Fail("inspect", paths.status().message());
  auto store = disk::HeaderStore::Open(paths->header_path, /*writable=*/false);
  if (!store.ok()) return Fail("inspect", store.status().message());
  std::array<disk::CopyState, 2> states;
  auto h = (*store)->LoadUnverified(&states);
  if (!h.ok()) return Fail("inspect", h.status().message());
  nlohmann::ordered_json j;
  j["path"] = o.file;
  j["variant"] = paths->detached ? "detached" : "attached";
  j["header_file"] = paths->header_path;
  j["format_version"] = 1;
  j["uuid"] = disk::UuidToString(h->uuid);
  j["size"] = h->size;
  j["sector_size"] = disk::kSectorSize;
  j["cipher"] = "XTS-AES-256";
  j["data_offset"] = h->data_offset;
  j["sequence"] = h->sequence;
  nlohmann::ordered_json copies = nlohmann::ordered_json::array();
  for (int i = 0; i < 2; ++i) {
    nlohmann::ordered_json c;
    c["copy"] = i == 0 ? "A" : "B";
    c["valid"] = states[i].valid;
    if (states[i].valid) {
      c["sequence"] = states[i].sequence;
    } else {
      c["error"] = states[i].error;
    }
    copies.push_back(c);
  }
  j["header_copies"] = copies;
  j["operation"] = disk::OperationName(h->operation);
  if (h->operation != disk::Operation::kNone) {
    j["checkpoint_chunks"] = h->checkpoint;
    j["journal_in_use"] = h->journal_valid;
  }
  j["chunks"] = h->chunk_count();
  nlohmann::ordered_json safe = nlohmann::ordered_json::array();
  for (const disk::KeySafeEntry& e : h->entries) {
    nlohmann::ordered_json k;
    k["role"] = RoleName(e.role);
    k["provider_id"] = e.provider_id;
    k["key_id"] = e.key_id;
    k["wrap_algorithm"] = "AES-256 key wrap with padding (RFC 5649)";
    k["wrapped_key_bytes"] = e.wrapped_dek.size();
    safe.push_back(k);
  }
  j["key_safe"] = safe;
  j["header_mac"] = "not verified (needs the KEK)";
  std::cout << j.dump(2) << "\n";
  return 0;
}

int RunEncrypt(const DiskOptions& o) {
  auto ref = NewKekRef(o);
  if (!ref.ok()) return Fail("encrypt", ref.status().message());
  auto kek = o.kek.Load(KekUse::kWrap);
  if (!kek.ok()) return Fail("encrypt", kek.status().message());
  Status s = o.out.empty() ? disk::EncryptInPlace(o.file, *kek, *ref, Progress())
                           : disk::EncryptToFile(o.file, o.out, *kek, *ref);
  if (!s.ok()) return Fail("encrypt", s.message());
  if (o.out.empty()) {
    std::cout << "Encrypted " << o.file << " in place; its header is " << o.file << ".hdr\n";
  } else {
    std::cout << "Encrypted " << o.file << " into " << o.out << "\n";
  }
  return 0;
}

int RunDecrypt(const DiskOptions& o) {
  auto kek = o.kek.Load(KekUse::kUnwrap);
  if (!kek.ok()) return Fail("decrypt", kek.status().message());
  Status s = o.out.empty() ? disk::DecryptInPlace(o.file, *kek, Progress())
                           : disk::DecryptToFile(o.file, o.out, *kek);
  if (!s.ok()) return Fail("decrypt", s.message());
  std::cout << "Decrypted " << o.file << (o.out.empty() ? " in place" : " into " + o.out) << "\n";
  return 0;
}

int RunRekey(const DiskOptions& o) {
  if (o.shallow == o.deep) return Fail("rekey", "give exactly one of --shallow and --deep");
  auto kek = o.kek.Load(o.deep ? KekUse::kWrap : KekUse::kUnwrap);
  if (!kek.ok()) return Fail("rekey", kek.status().message());
  if (o.deep) {
    if (!o.new_kek_file.empty() || !o.new_key_id.empty()) {
      return Fail("rekey", "--deep keeps the KEK; --new-kek-file/--new-key-id go with --shallow");
    }
    Status s = disk::DeepRekey(o.file, *kek, Progress());
    if (!s.ok()) return Fail("rekey", s.message());
    std::cout << "Deep rekey of " << o.file << " done: new disk key, every sector re-encrypted\n";
    return 0;
  }
  if (o.new_key_id.empty() || (o.new_kek_file.empty() && !o.kek.from_kmip())) {
    return Fail("rekey",
                "--shallow needs --new-key-id, and --new-kek-file unless the KEKs come from "
                "--kmip-server");
  }
  // The new KEK: from its file, or else from the same KMIP server.
  const bool new_from_kmip = o.new_kek_file.empty();
  KekSource new_source;
  new_source.file = o.new_kek_file;
  auto new_kek = new_from_kmip ? LoadKmipKey(o.kek, o.new_key_id, KekUse::kWrap, "new KEK")
                               : new_source.Load(KekUse::kWrap, "new KEK");
  if (!new_kek.ok()) return Fail("rekey", new_kek.status().message());
  std::string provider = o.new_provider;
  if (!o.new_provider_set && new_from_kmip) {
    provider = o.kek.DefaultProvider();
  } else if (!o.new_provider_set) {
    // Keep the provider of the current entry.
    auto paths = disk::LocateDisk(o.file);
    if (!paths.ok()) return Fail("rekey", paths.status().message());
    auto store = disk::HeaderStore::Open(paths->header_path, false);
    if (!store.ok()) return Fail("rekey", store.status().message());
    auto h = (*store)->LoadUnverified(nullptr);
    if (!h.ok()) return Fail("rekey", h.status().message());
    provider = h->entries[0].provider_id;
  }
  Status s = disk::ShallowRekey(o.file, *kek, *new_kek, {provider, o.new_key_id});
  if (!s.ok()) return Fail("rekey", s.message());
  std::cout << "Shallow rekey of " << o.file << " done: disk key now wrapped by key id "
            << o.new_key_id << "\n";
  return 0;
}

int RunCat(const DiskOptions& o) {
  auto kek = o.kek.Load(KekUse::kUnwrap);
  if (!kek.ok()) return Fail("cat", kek.status().message());
  disk::OpenOptions options;
  options.read_only = true;
  auto d = disk::EncryptedDisk::Open(o.file, disk::SingleKek(*kek), options);
  if (!d.ok() && d.status().code() == StatusCode::kFailedPrecondition) {
    d = disk::EncryptedDisk::Open(o.file, disk::SingleKek(*kek));  // recovers a rekey chunk
  }
  if (!d.ok()) return Fail("cat", d.status().message());
  const uint64_t size = (*d)->size();
  if (o.offset > size) return Fail("cat", "--offset is beyond the disk size");
  const uint64_t length = o.length_set ? o.length : size - o.offset;
  if (length > size - o.offset) return Fail("cat", "--offset + --length is beyond the disk size");
  std::vector<uint8_t> buf(1 << 20);
  for (uint64_t done = 0; done < length;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), length - done));
    Status s = (*d)->Read(o.offset + done, std::span(buf).first(n));
    if (!s.ok()) return Fail("cat", s.message());
    if (std::fwrite(buf.data(), 1, n, stdout) != n) return Fail("cat", "write to stdout failed");
    done += n;
  }
  return std::fflush(stdout) == 0 ? 0 : Fail("cat", "write to stdout failed");
}

int RunWrite(const DiskOptions& o) {
  auto kek = o.kek.Load(KekUse::kUnwrap);
  if (!kek.ok()) return Fail("write", kek.status().message());
  auto d = disk::EncryptedDisk::Open(o.file, disk::SingleKek(*kek));
  if (!d.ok()) return Fail("write", d.status().message());
  std::vector<uint8_t> buf(1 << 20);
  uint64_t off = o.offset;
  for (;;) {
    size_t n = std::fread(buf.data(), 1, buf.size(), stdin);
    if (n == 0) break;
    Status s = (*d)->Write(off, std::span(buf).first(n), false);
    if (!s.ok()) return Fail("write", s.message());
    off += n;
  }
  if (std::ferror(stdin)) return Fail("write", "read from stdin failed");
  Status s = (*d)->Flush();
  if (!s.ok()) return Fail("write", s.message());
  std::cerr << "wrote " << (off - o.offset) << " bytes at offset " << o.offset << "\n";
  return 0;
}

constexpr const char* kKeyIdNew =
    "the KEK's id, recorded in the key safe (with --kmip-server: its Unique Identifier)";
constexpr const char* kKeyIdOpen = "with --kmip-server: the KEK's Unique Identifier";

void AddProviderOption(CLI::App* cmd, DiskOptions* o) {
  cmd->add_option("--provider", o->provider,
                  "the key provider's id (default: the --kmip-server address, or none)")
      ->each([o](const std::string&) { o->provider_set = true; });
}

}  // namespace

void AddDiskCommands(CLI::App& app, Action* action) {
  CLI::App* d = app.add_subcommand("disk", "encrypted virtual disks (XTS-AES-256), offline");
  d->require_subcommand(1);
  auto o = std::make_shared<DiskOptions>();

  CLI::App* create = d->add_subcommand("create", "create an empty, sparse encrypted disk");
  create->add_option("FILE", o->file, "the disk file to create")->required();
  create->add_option("--size", o->size, "size, e.g. 10G (K/M/G/T suffixes)")->required();
  AddKekSourceOptions(create, &o->kek, kKeyIdNew);
  AddProviderOption(create, o.get());
  create->callback([action, o] { *action = [o] { return RunCreate(*o); }; });

  CLI::App* inspect = d->add_subcommand("inspect", "print the header as JSON (no secrets)");
  inspect->add_option("FILE", o->file, "the disk")->required();
  inspect->callback([action, o] { *action = [o] { return RunInspect(*o); }; });

  CLI::App* enc = d->add_subcommand("encrypt", "encrypt a raw image (in place without --out)");
  enc->add_option("RAW_IMAGE", o->file, "the raw image")->required();
  AddKekSourceOptions(enc, &o->kek, kKeyIdNew);
  AddProviderOption(enc, o.get());
  enc->add_option("--out", o->out, "write a new encrypted disk here instead");
  enc->callback([action, o] { *action = [o] { return RunEncrypt(*o); }; });

  CLI::App* dec = d->add_subcommand("decrypt", "decrypt a disk (in place without --out)");
  dec->add_option("FILE", o->file, "the disk")->required();
  AddKekSourceOptions(dec, &o->kek, kKeyIdOpen);
  dec->add_option("--out", o->out, "write a new raw image here instead");
  dec->callback([action, o] { *action = [o] { return RunDecrypt(*o); }; });

  CLI::App* rekey = d->add_subcommand("rekey", "rewrap (--shallow) or re-encrypt (--deep)");
  rekey->add_option("FILE", o->file, "the disk")->required();
  AddKekSourceOptions(rekey, &o->kek, kKeyIdOpen);
  rekey->add_flag("--shallow", o->shallow, "rewrap the disk key with a new KEK");
  rekey->add_flag("--deep", o->deep, "new disk key, every sector re-encrypted (resumable)");
  rekey->add_option("--new-kek-file", o->new_kek_file,
                    "the new KEK (with --shallow); without it, --new-key-id is fetched from "
                    "--kmip-server");
  rekey->add_option("--new-key-id", o->new_key_id, "the new KEK's id (with --shallow)");
  rekey
      ->add_option("--new-provider", o->new_provider,
                   "the new KEK's provider (default: the KMIP server for a KMIP key, else "
                   "the current one)")
      ->each([o](const std::string&) { o->new_provider_set = true; });
  rekey->callback([action, o] { *action = [o] { return RunRekey(*o); }; });

  CLI::App* cat = d->add_subcommand("cat", "write decrypted bytes to stdout");
  cat->add_option("FILE", o->file, "the disk")->required();
  AddKekSourceOptions(cat, &o->kek, kKeyIdOpen);
  cat->add_option("--offset", o->offset, "first byte (default 0)");
  cat->add_option("--length", o->length, "bytes (default: to the end)")
      ->each([o](const std::string&) { o->length_set = true; });
  cat->callback([action, o] { *action = [o] { return RunCat(*o); }; });

  CLI::App* write = d->add_subcommand("write", "write stdin into the disk at --offset");
  write->add_option("FILE", o->file, "the disk")->required();
  AddKekSourceOptions(write, &o->kek, kKeyIdOpen);
  write->add_option("--offset", o->offset, "first byte")->required();
  write->callback([action, o] { *action = [o] { return RunWrite(*o); }; });
}

}  // namespace vmcrypt::cli
