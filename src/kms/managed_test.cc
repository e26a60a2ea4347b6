// Managed's shared attributes: objects loaded from an unchanged record share
// one decoded list, a change gives the changed object its own copy, and a
// load after any stored change decodes the new attributes.
#include "src/kms/managed.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "src/base/test_dir.h"
#include "vmcrypt/kms/root_key.h"
#include "vmcrypt/store/sqlite_store.h"

namespace vmcrypt::kms::internal {
namespace {

class ManagedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(SoftwareRootKey::Generate(dir_["root.key"]).ok());
    auto root = SoftwareRootKey::Load(dir_["root.key"]);
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    root_ = std::move(root).value();
    auto store = store::OpenSqliteStore(dir_["kms.db"]);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  // Stores a Secret Data object with one x-Note attribute.
  std::string InsertWithNote(const std::string& note) {
    Managed m;
    m.record.uid = NewUid();
    m.record.tenant = "t";
    m.record.object_type = static_cast<uint32_t>(kmip::ObjectType::kSecretData);
    m.record.created = 1700000000;
    m.Set(kmip::Attribute::Text("x-Note", note));
    EXPECT_TRUE(Insert(*store_, *root_, m, nullptr).ok());
    return m.record.uid;
  }

  static std::string NoteOf(const Managed& m) {
    const kmip::Attribute* a = m.Find("x-Note");
    return a == nullptr ? "(none)" : std::string(a->value.text());
  }

  test::TestDir dir_{"managed"};
  std::unique_ptr<SoftwareRootKey> root_;
  std::unique_ptr<store::ObjectStore> store_;
};

TEST_F(ManagedTest, LoadsOfAnUnchangedObjectShareItsAttributes) {
  const std::string uid = InsertWithNote("first");
  auto a = Load(*store_, "t", uid);
  auto b = Load(*store_, "t", uid);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(&a->attributes(), &b->attributes()) << "the second load decoded again";
  EXPECT_EQ(NoteOf(*a), "first");
}

TEST_F(ManagedTest, AChangeCopiesAndLeavesOtherLoadsAlone) {
  const std::string uid = InsertWithNote("first");
  auto a = Load(*store_, "t", uid);
  auto b = Load(*store_, "t", uid);
  ASSERT_TRUE(a.ok() && b.ok());
  a->Set(kmip::Attribute::Text("x-Note", "changed in memory"));
  EXPECT_NE(&a->attributes(), &b->attributes());
  EXPECT_EQ(NoteOf(*a), "changed in memory");
  EXPECT_EQ(NoteOf(*b), "first");
  Managed copy = *b;
  copy.mutable_attributes().clear();
  EXPECT_EQ(NoteOf(*b), "first");
  // Nothing was stored: a new load still sees the stored attributes.
  auto c = Load(*store_, "t", uid);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(NoteOf(*c), "first");
}

TEST_F(ManagedTest, ALoadAfterAStoredChangeSeesTheChange) {
  const std::string uid = InsertWithNote("first");
  auto a = Load(*store_, "t", uid);
  ASSERT_TRUE(a.ok());
  a->Set(kmip::Attribute::Text("x-Note", "second"));
  ASSERT_TRUE(Update(*store_, *root_, *a).ok());
  auto b = Load(*store_, "t", uid);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(NoteOf(*b), "second");
  // Another tenant's load of the same identifier finds nothing.
  EXPECT_FALSE(Load(*store_, "other", uid).ok());
}

// The index marks as shared (IndexEntry::shared, stored once per profile by
// the store) the attributes that describe a kind of key: enumerations,
// flags, the key length and usage mask; not text or numbers of the
// object's own.
TEST_F(ManagedTest, KindOfKeyAttributesAreSharedInTheIndex) {
  Managed m;
  m.record.uid = NewUid();
  m.record.tenant = "t";
  m.record.object_type = static_cast<uint32_t>(kmip::ObjectType::kSymmetricKey);
  m.record.created = 1700000000;
  m.Set(kmip::Attribute::Enum("Cryptographic Algorithm", 3));
  m.Set(kmip::Attribute::Integer("Cryptographic Length", 256));
  m.Set(kmip::Attribute::Integer("Cryptographic Usage Mask", 12));
  m.Set(kmip::Attribute::Boolean("Sensitive", false));
  m.set_state(kmip::State::kPreActive);
  m.Set(kmip::Attribute::Enum("x-Tier", 2));  // custom, but an enumeration
  m.Set(kmip::Attribute::Text("x-Note", "mine"));
  m.Set(kmip::Attribute::Integer("x-Count", 7));  // an integer of its own
  ASSERT_TRUE(Insert(*store_, *root_, m, nullptr).ok());
  auto stored = store_->Get("t", m.record.uid);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  std::map<std::string, bool> shared;
  for (const store::IndexEntry& e : stored->index) shared[e.name] = e.shared;
  for (const char* name : {"Cryptographic Algorithm", "Cryptographic Length",
                           "Cryptographic Usage Mask", "Sensitive", "x-Tier", "State"}) {
    ASSERT_TRUE(shared.count(name)) << name;
    EXPECT_TRUE(shared[name]) << name;
  }
  for (const char* name : {"x-Note", "x-Count"}) {
    ASSERT_TRUE(shared.count(name)) << name;
    EXPECT_FALSE(shared[name]) << name;
  }
}

}  // namespace
}  // namespace vmcrypt::kms::internal
