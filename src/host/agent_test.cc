// The host agent's VM operations, in-process, with QEMU's qemu-io (Debian
// qemu-utils) as the NBD client of open VMs.
#include "vmcrypt/host/agent.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "src/base/test_dir.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/crypto/key_wrap.h"
#include "vmcrypt/crypto/random.h"
#include "vmcrypt/disk/encrypted_disk.h"
#include "vmcrypt/disk/header_store.h"
#include "vmcrypt/host/native_kek.h"

namespace vmcrypt::host {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kMiB = 1 << 20;

// Runs a shell command; returns its exit status and, in *out, its output.
int Shell(const std::string& cmd, std::string* out = nullptr) {
  std::string full = cmd + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) return -1;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
  int rc = pclose(p);
  if (out != nullptr) *out = text;
  return WEXITSTATUS(rc);
}

std::string QemuIo(const std::string& uri, const std::string& command) {
  std::string out;
  const int rc = Shell("qemu-io -f raw '" + uri + "' -c '" + command + "'", &out);
  return rc == 0 ? out : "FAILED(" + std::to_string(rc) + "): " + out;
}

// Counts occurrences of `needle` in every file under `dir`.
int CountInFiles(const fs::path& dir, std::span<const uint8_t> needle) {
  int found = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    auto text = ReadFileToString(e.path().string());
    if (!text.ok()) continue;
    std::string_view hay(*text);
    std::string_view n(reinterpret_cast<const char*>(needle.data()), needle.size());
    for (size_t at = hay.find(n); at != std::string_view::npos; at = hay.find(n, at + 1)) ++found;
  }
  return found;
}

class HostAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Shell("command -v qemu-io"), 0) << "qemu-io is missing: apt-get install qemu-utils";
    HostConfig c;
    c.name = "host-a";
    c.data_dir = dir_["data"];
    c.run_dir = dir_["run"];
    c.key_cache_size = 16;
    auto agent = HostAgent::Create(c);
    ASSERT_TRUE(agent.ok()) << agent.status().ToString();
    agent_ = std::move(*agent);
    kek1_ = *crypto::RandomSecret(32);
    kek2_ = *crypto::RandomSecret(32);
    ASSERT_TRUE(agent_->keys().Put(k1_, kek1_.span()).ok());
    ASSERT_TRUE(agent_->keys().Put(k2_, kek2_.span()).ok());
  }

  VmSpec Spec(const std::string& name, bool encrypted) {
    VmSpec s;
    s.name = name;
    s.disk_sizes = {8 * kMiB, 4 * kMiB};
    s.encrypted = encrypted;
    if (encrypted) s.key = k1_;
    return s;
  }

  // The plaintext of a closed VM's disk, read with `kek`.
  std::string ReadDisk(const std::string& file, const SecretBytes& kek, uint64_t off, size_t len) {
    auto d = disk::EncryptedDisk::Open(file, disk::SingleKek(kek), {true});
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    if (!d.ok()) return "";
    std::string out(len, '\0');
    EXPECT_TRUE((*d)->Read(off, {reinterpret_cast<uint8_t*>(out.data()), len}).ok());
    return out;
  }

  test::TestDir dir_{"agent"};  // outlives agent_
  std::unique_ptr<HostAgent> agent_;
  const KeyRef k1_{"kms1", "kek-one"};
  const KeyRef k2_{"kms1", "kek-two"};
  SecretBytes kek1_, kek2_;
};

TEST_F(HostAgentTest, EncryptedVmServesItsDisksOverNbdAndKeepsNoClearData) {
  auto vm = agent_->CreateVm(Spec("web01", true));
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  EXPECT_TRUE(vm->encrypted);
  ASSERT_EQ(vm->disks.size(), 2u);
  for (const DiskInfo& d : vm->disks) {
    EXPECT_TRUE(d.encrypted);
    EXPECT_EQ(d.key, k1_);
  }
  // Sparse: an 8 MiB disk takes (almost) no space.
  struct stat st;
  ASSERT_EQ(stat(vm->disks[0].file.c_str(), &st), 0);
  EXPECT_LT(st.st_blocks * 512, 1 * static_cast<int64_t>(kMiB));

  auto open = agent_->OpenVm("web01");
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  ASSERT_TRUE(open->open);
  const std::string uri0 = open->disks[0].nbd_uri, uri1 = open->disks[1].nbd_uri;
  EXPECT_EQ(uri0.rfind("nbd+unix:///disk0?socket=", 0), 0u) << uri0;
  EXPECT_EQ(QemuIo(uri0, "write -P 0xab 1M 1M").find("FAILED"), std::string::npos);
  EXPECT_EQ(QemuIo(uri1, "write -P 0xcd 0 64k").find("FAILED"), std::string::npos);
  EXPECT_NE(QemuIo(uri0, "read -P 0xab 1M 1M").find("read 1048576/1048576"), std::string::npos);
  EXPECT_EQ(agent_->DecryptVm("web01").status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(agent_->CloseVm("web01").ok());
  EXPECT_FALSE(agent_->GetVm("web01")->open);

  // Ciphertext at rest: the pattern is nowhere in the VM's files.
  const std::vector<uint8_t> ab(4096, 0xab), cd(4096, 0xcd);
  EXPECT_EQ(CountInFiles(dir_.path() / "data", ab), 0);
  EXPECT_EQ(CountInFiles(dir_.path() / "data", cd), 0);
  EXPECT_EQ(ReadDisk(vm->disks[0].file, kek1_, kMiB + 4096, 3), "\xab\xab\xab");

  // Reopened, the data is there.
  open = agent_->OpenVm("web01");
  ASSERT_TRUE(open.ok());
  EXPECT_NE(QemuIo(open->disks[1].nbd_uri, "read -P 0xcd 0 64k").find("read 65536/65536"),
            std::string::npos);
  ASSERT_TRUE(agent_->CloseVm("web01").ok());
}

TEST_F(HostAgentTest, AMissingKeyIsNamedAndNothingOpens) {
  ASSERT_TRUE(agent_->CreateVm(Spec("db01", true)).ok());
  ASSERT_TRUE(agent_->keys().Remove(k1_).ok());
  auto open = agent_->OpenVm("db01");
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().code(), StatusCode::kNotFound);
  EXPECT_NE(open.status().message().find("key not found: provider kms1, key id kek-one"),
            std::string::npos)
      << open.status().message();
  EXPECT_FALSE(agent_->GetVm("db01")->open);
  EXPECT_FALSE(fs::exists(dir_.path() / "run" / "db01.sock"));
  // Creating with an unknown key fails the same way and leaves nothing.
  VmSpec s = Spec("db02", true);
  s.key = KeyRef{"kms9", "nope"};
  auto made = agent_->CreateVm(s);
  EXPECT_NE(made.status().message().find("key not found: provider kms9, key id nope"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir_.path() / "data" / "db02"));
  // With the key pushed again, the VM opens.
  ASSERT_TRUE(agent_->keys().Put(k1_, kek1_.span()).ok());
  EXPECT_TRUE(agent_->OpenVm("db01").ok());
}

TEST_F(HostAgentTest, EncryptThenDecryptAnExistingVmKeepsItsData) {
  ASSERT_TRUE(agent_->CreateVm(Spec("app01", false)).ok());
  auto open = agent_->OpenVm("app01");
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(QemuIo(open->disks[0].nbd_uri, "write -P 0x5e 0 2M").find("FAILED"), std::string::npos);
  ASSERT_TRUE(agent_->CloseVm("app01").ok());
  const std::vector<uint8_t> pattern(4096, 0x5e);
  EXPECT_GT(CountInFiles(dir_.path() / "data", pattern), 0);  // raw, in clear

  auto enc = agent_->EncryptVm("app01", k1_);
  ASSERT_TRUE(enc.ok()) << enc.status().ToString();
  EXPECT_TRUE(enc->encrypted);
  for (const DiskInfo& d : enc->disks) EXPECT_TRUE(d.encrypted) << d.name;
  EXPECT_EQ(CountInFiles(dir_.path() / "data", pattern), 0);
  // Encrypting again is a no-op; with another key it is refused.
  EXPECT_TRUE(agent_->EncryptVm("app01", k1_).ok());
  EXPECT_EQ(agent_->EncryptVm("app01", k2_).status().code(), StatusCode::kFailedPrecondition);
  open = agent_->OpenVm("app01");
  ASSERT_TRUE(open.ok());
  EXPECT_NE(QemuIo(open->disks[0].nbd_uri, "read -P 0x5e 0 2M").find("read 2097152/2097152"),
            std::string::npos);
  ASSERT_TRUE(agent_->CloseVm("app01").ok());

  auto dec = agent_->DecryptVm("app01");
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  EXPECT_FALSE(dec->encrypted);
  for (const DiskInfo& d : dec->disks) EXPECT_FALSE(d.encrypted);
  EXPECT_GT(CountInFiles(dir_.path() / "data", pattern), 0);
}

TEST_F(HostAgentTest, ShallowAndDeepRekey) {
  ASSERT_TRUE(agent_->CreateVm(Spec("k8s01", true)).ok());
  auto open = agent_->OpenVm("k8s01");
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(QemuIo(open->disks[0].nbd_uri, "write -P 0x77 0 1M").find("FAILED"), std::string::npos);
  // Shallow needs a closed VM.
  EXPECT_EQ(agent_->ShallowRekey("k8s01", k2_).status().code(), StatusCode::kFailedPrecondition);
  // Deep runs while the disks stay exported.
  const std::string disk0 = open->disks[0].file;
  auto before = ReadFileToString(disk0);
  auto deep = agent_->DeepRekey("k8s01");
  ASSERT_TRUE(deep.ok()) << deep.status().ToString();
  EXPECT_NE(QemuIo(open->disks[0].nbd_uri, "read -P 0x77 0 1M").find("read 1048576/1048576"),
            std::string::npos);
  ASSERT_TRUE(agent_->CloseVm("k8s01").ok());
  auto after = ReadFileToString(disk0);
  EXPECT_NE(*before, *after);  // every written sector re-encrypted under a new DEK

  auto shallow = agent_->ShallowRekey("k8s01", k2_);
  ASSERT_TRUE(shallow.ok()) << shallow.status().ToString();
  EXPECT_EQ(shallow->key, k2_);
  for (const DiskInfo& d : shallow->disks) EXPECT_EQ(d.key, k2_);
  // The old KEK is no longer needed.
  ASSERT_TRUE(agent_->keys().Remove(k1_).ok());
  open = agent_->OpenVm("k8s01");
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_NE(QemuIo(open->disks[0].nbd_uri, "read -P 0x77 0 1M").find("read 1048576/1048576"),
            std::string::npos);
}

TEST_F(HostAgentTest, AVmWithAVtpmIsAlwaysEncryptedAndItsSecretsSealed) {
  VmSpec s = Spec("tpm01", false);
  s.vtpm = true;
  s.key = k1_;
  auto vm = agent_->CreateVm(s);
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  EXPECT_TRUE(vm->encrypted);
  EXPECT_TRUE(vm->vtpm);
  EXPECT_EQ(agent_->DecryptVm("tpm01").status().code(), StatusCode::kFailedPrecondition);
  auto home = LoadVmHome((dir_.path() / "data" / "tpm01").string());
  ASSERT_TRUE(home.ok());
  auto dek = UnwrapHomeDek(*home, kek1_);
  ASSERT_TRUE(dek.ok());
  auto secrets = OpenSecrets(*home, &*dek);
  ASSERT_TRUE(secrets.ok());
  const std::string seed = (*secrets)["vtpm_seed"].get<std::string>();
  EXPECT_EQ(seed.size(), 64u);
  auto text = ReadFileToString((dir_.path() / "data" / "tpm01" / "vm.json").string());
  EXPECT_EQ(text->find(seed), std::string::npos);  // sealed, not in clear
  EXPECT_EQ(text->find("vtpm_seed"), std::string::npos);
}

// Two agents on one machine sharing a datastore (the VM homes): a VM made
// on the first opens on the second once the second has the KEK, not before.
TEST_F(HostAgentTest, AVmMovesToAnotherAgentThatHasItsKey) {
  ASSERT_TRUE(agent_->CreateVm(Spec("mover", true)).ok());
  auto open = agent_->OpenVm("mover");
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(QemuIo(open->disks[0].nbd_uri, "write -P 0x42 0 1M").find("FAILED"), std::string::npos);
  ASSERT_TRUE(agent_->CloseVm("mover").ok());

  HostConfig c2;
  c2.name = "host-b";
  c2.data_dir = dir_["data"];  // the shared datastore
  c2.run_dir = dir_["run-b"];
  c2.key_cache_size = 16;
  auto second = HostAgent::Create(c2);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto locked = (*second)->OpenVm("mover");
  ASSERT_FALSE(locked.ok());
  EXPECT_NE(locked.status().message().find("key not found: provider kms1, key id kek-one"),
            std::string::npos)
      << locked.status().message();
  ASSERT_TRUE((*second)->keys().Put(k1_, kek1_.span()).ok());
  auto moved = (*second)->OpenVm("mover");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_NE(moved->disks[0].nbd_uri.find("run-b/mover.sock"), std::string::npos);
  EXPECT_NE(QemuIo(moved->disks[0].nbd_uri, "read -P 0x42 0 1M").find("read 1048576/1048576"),
            std::string::npos);
  ASSERT_TRUE((*second)->CloseVm("mover").ok());
}

// Every KEK and every DEK the agent used, searched for in every file it
// wrote (raw and hex): none is there.
TEST_F(HostAgentTest, NoKeyBytesInAnyFileWritten) {
  ASSERT_TRUE(agent_->CreateVm(Spec("scan01", true)).ok());
  ASSERT_TRUE(agent_->CreateVm(Spec("scan02", false)).ok());
  ASSERT_TRUE(agent_->EncryptVm("scan02", k2_).ok());
  ASSERT_TRUE(agent_->DeepRekey("scan01").ok());
  std::vector<SecretBytes> keys;
  keys.push_back(kek1_.Clone());
  keys.push_back(kek2_.Clone());
  for (const char* name : {"scan01", "scan02"}) {
    auto home = LoadVmHome((dir_.path() / "data" / name).string());
    ASSERT_TRUE(home.ok());
    const SecretBytes& kek = home->key_safe->kek == k1_ ? kek1_ : kek2_;
    auto dek = UnwrapHomeDek(*home, kek);
    ASSERT_TRUE(dek.ok());
    keys.push_back(std::move(*dek));
    for (const VmDisk& d : home->disks) {
      const std::string path = (dir_.path() / "data" / name / d.file).string();
      auto paths = disk::LocateDisk(path);
      ASSERT_TRUE(paths.ok()) << path;
      auto store = disk::HeaderStore::Open(paths->header_path, false);
      ASSERT_TRUE(store.ok());
      auto loaded = (*store)->Load(disk::SingleKek(kek));
      ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
      keys.push_back(std::move(loaded->dek));
    }
  }
  ASSERT_EQ(keys.size(), 2u + 2u * 3u);
  for (const SecretBytes& k : keys) {
    EXPECT_EQ(CountInFiles(dir_.path(), k.span()), 0);
    // Each half of an XTS key too, and the hex form.
    EXPECT_EQ(CountInFiles(dir_.path(), k.span().first(16)), 0);
    const std::string hex = HexEncode(k.span());
    EXPECT_EQ(CountInFiles(dir_.path(), AsBytes(hex)), 0);
  }
}

// Native key providers: an agent holding only a KDK makes an encrypted VM
// with a key id of its own; a second agent with the same KDK (and no KEK at
// all) opens it and reads the data; without the KDK the key is not found.
TEST_F(HostAgentTest, AKdkAloneCreatesAndOpensEncryptedVms) {
  const SecretBytes kdk = *crypto::RandomSecret(32);
  auto make_agent = [&](const std::string& name) {
    HostConfig c;
    c.name = name;
    c.data_dir = dir_["data"];  // a shared datastore
    c.run_dir = dir_["run-" + name];
    c.key_cache_size = 16;
    auto agent = HostAgent::Create(c);
    EXPECT_TRUE(agent.ok()) << agent.status().ToString();
    return agent.ok() ? std::move(*agent) : nullptr;
  };
  auto first = make_agent("host-n1");
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->PutKdk("native1", kdk.span(), false).ok());
  EXPECT_EQ(first->keys().size(), 0u);

  VmSpec s = Spec("nat01", true);
  s.key = KeyRef{"native1", ""};  // no key id: the agent makes one
  auto vm = first->CreateVm(s);
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  ASSERT_TRUE(vm->key.has_value());
  EXPECT_EQ(vm->key->provider, "native1");
  EXPECT_EQ(vm->key->key_id.size(), 36u) << vm->key->key_id;  // a UUID
  for (const DiskInfo& d : vm->disks) EXPECT_EQ(d.key, vm->key);
  EXPECT_TRUE(first->keys().Contains(*vm->key));  // derived, then cached
  auto open = first->OpenVm("nat01");
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_EQ(QemuIo(open->disks[0].nbd_uri, "write -P 0x3c 0 1M").find("FAILED"), std::string::npos);
  ASSERT_TRUE(first->CloseVm("nat01").ok());
  // The disk is encrypted with exactly the derived KEK.
  auto kek = DeriveNativeKek(kdk, "native1", vm->key->key_id);
  ASSERT_TRUE(kek.ok());
  EXPECT_EQ(ReadDisk(vm->disks[0].file, *kek, 4096, 2), "\x3c\x3c");
  // A second VM gets another key id.
  s.name = "nat02";
  auto vm2 = first->CreateVm(s);
  ASSERT_TRUE(vm2.ok()) << vm2.status().ToString();
  EXPECT_NE(vm2->key->key_id, vm->key->key_id);
  first.reset();

  auto second = make_agent("host-n2");
  ASSERT_NE(second, nullptr);
  auto locked = second->OpenVm("nat01");
  EXPECT_EQ(locked.status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(second->PutKdk("native1", kdk.span(), false).ok());
  open = second->OpenVm("nat01");
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_NE(QemuIo(open->disks[0].nbd_uri, "read -P 0x3c 0 1M").find("read 1048576/1048576"),
            std::string::npos);
  ASSERT_TRUE(second->CloseVm("nat01").ok());

  // Removing the KDK wipes it and every KEK of the provider.
  ASSERT_TRUE(second->keys().Put({"native1", "pushed"}, kek1_.span()).ok());
  ASSERT_TRUE(second->keys().Put(k1_, kek1_.span()).ok());
  ASSERT_TRUE(second->RemoveKdk("native1").ok());
  EXPECT_TRUE(second->ListKdks().empty());
  EXPECT_EQ(second->keys().size(), 1u);  // only the other provider's key is left
  EXPECT_TRUE(second->keys().Contains(k1_));
  auto gone = second->OpenVm("nat01");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_NE(
      gone.status().message().find("key not found: provider native1, key id " + vm->key->key_id),
      std::string::npos)
      << gone.status().message();
  EXPECT_EQ(second->RemoveKdk("native1").code(), StatusCode::kNotFound);
  // And no new native key can be made.
  s.name = "nat03";
  auto refused = second->CreateVm(s);
  EXPECT_EQ(refused.status().code(), StatusCode::kNotFound);
  EXPECT_NE(refused.status().message().find("no key derivation key for native key provider "
                                            "native1"),
            std::string::npos)
      << refused.status().message();
  EXPECT_FALSE(fs::exists(dir_.path() / "data" / "nat03"));
}

TEST_F(HostAgentTest, EncryptAndRekeyWithNewNativeKeys) {
  const SecretBytes kdk = *crypto::RandomSecret(32);
  ASSERT_TRUE(agent_->PutKdk("native1", kdk.span(), false).ok());
  ASSERT_TRUE(agent_->CreateVm(Spec("plain01", false)).ok());
  auto enc = agent_->EncryptVm("plain01", {"native1", ""});
  ASSERT_TRUE(enc.ok()) << enc.status().ToString();
  ASSERT_TRUE(enc->key.has_value());
  EXPECT_EQ(enc->key->provider, "native1");
  EXPECT_FALSE(enc->key->key_id.empty());
  // Run again without a key id, it resumes with the VM's key.
  auto again = agent_->EncryptVm("plain01", {"native1", ""});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->key, enc->key);
  // A shallow rekey to a new native key.
  auto rekeyed = agent_->ShallowRekey("plain01", {"native1", ""});
  ASSERT_TRUE(rekeyed.ok()) << rekeyed.status().ToString();
  EXPECT_EQ(rekeyed->key->provider, "native1");
  EXPECT_NE(rekeyed->key, enc->key);
  for (const DiskInfo& d : rekeyed->disks) EXPECT_EQ(d.key, rekeyed->key);
  // Without a KDK for the provider, an empty key id is refused.
  ASSERT_TRUE(agent_->CreateVm(Spec("plain02", false)).ok());
  EXPECT_EQ(agent_->EncryptVm("plain02", {"kms1", ""}).status().code(), StatusCode::kNotFound);
}

TEST_F(HostAgentTest, AReplacedKdkDropsTheKeksDerivedFromTheOldOne) {
  const SecretBytes kdk_a = *crypto::RandomSecret(32), kdk_b = *crypto::RandomSecret(32);
  ASSERT_TRUE(agent_->PutKdk("native1", kdk_a.span(), false).ok());
  VmSpec s = Spec("rot01", true);
  s.key = KeyRef{"native1", "fixed-id"};
  ASSERT_TRUE(agent_->CreateVm(s).ok());
  ASSERT_TRUE(agent_->keys().Contains(*s.key));
  // The same KDK again keeps the cache; another KDK empties it for native1.
  ASSERT_TRUE(agent_->PutKdk("native1", kdk_a.span(), false).ok());
  EXPECT_TRUE(agent_->keys().Contains(*s.key));
  ASSERT_TRUE(agent_->PutKdk("native1", kdk_b.span(), false).ok());
  EXPECT_FALSE(agent_->keys().Contains(*s.key));
  EXPECT_TRUE(agent_->keys().Contains(k1_));
  // The KEK derived from the new KDK does not open the VM.
  auto open = agent_->OpenVm("rot01");
  EXPECT_EQ(open.status().code(), StatusCode::kDataLoss) << open.status().ToString();
}

TEST_F(HostAgentTest, AKdkThatRequiresATpmNeedsOne) {
  const SecretBytes kdk = *crypto::RandomSecret(32);
  EXPECT_FALSE(agent_->has_tpm());
  Status s = agent_->PutKdk("sealed1", kdk.span(), true);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "host host-a has no TPM; native key provider sealed1 requires one");
  EXPECT_TRUE(agent_->ListKdks().empty());
  EXPECT_EQ(agent_->PutKdk("bad|name", kdk.span(), false).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(agent_->PutKdk("short", kdk.span().first(16), false).code(),
            StatusCode::kInvalidArgument);

  // A host whose config names a TPM device (a file standing in for
  // /dev/tpmrm0: the path must exist, it is not opened yet).
  HostConfig c = agent_->config();
  c.name = "host-t";
  c.run_dir = dir_["run-t"];
  c.tpm_device = dir_["missing-tpm"];
  auto missing = HostAgent::Create(c);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing-tpm"), std::string::npos);
  c.tpm_device = dir_["tpmrm0"];
  ASSERT_TRUE(WriteFileAtomic(c.tpm_device, AsBytes(""), 0600).ok());
  auto with_tpm = HostAgent::Create(c);
  ASSERT_TRUE(with_tpm.ok()) << with_tpm.status().ToString();
  EXPECT_TRUE((*with_tpm)->has_tpm());
  ASSERT_TRUE((*with_tpm)->PutKdk("sealed1", kdk.span(), true).ok());
  ASSERT_TRUE((*with_tpm)->PutKdk("open1", kdk.span(), false).ok());
  auto kdks = (*with_tpm)->ListKdks();
  ASSERT_EQ(kdks.size(), 2u);
  EXPECT_EQ(kdks[0].provider, "open1");
  EXPECT_FALSE(kdks[0].tpm_required);
  EXPECT_EQ(kdks[1].provider, "sealed1");
  EXPECT_TRUE(kdks[1].tpm_required);
}

}  // namespace
}  // namespace vmcrypt::host
