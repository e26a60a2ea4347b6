#include "vmcrypt/center/auth.h"
#include "src/base/test_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace vmcrypt::center {
namespace {

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenSqliteCenterStore(dir_["center.db"]);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auth_ = std::make_unique<Authorizer>(store_.get());
    ASSERT_TRUE(auth_->EnsureBuiltinRoles().ok());
  }

  std::string MustCreateUser(const std::string& name, const std::string& role) {
    Result<std::string> token = auth_->CreateUser(name, role);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return token.ok() ? *token : std::string();
  }

  Principal MustAuthenticate(const std::string& token) {
    Result<Principal> who = auth_->Authenticate(token);
    EXPECT_TRUE(who.ok()) << who.status().ToString();
    return who.ok() ? *who : Principal{};
  }

  test::TestDir dir_{"center-auth"};
  std::unique_ptr<CenterStore> store_;
  std::unique_ptr<Authorizer> auth_;
};

void ExpectUnauthenticated(const Result<Principal>& who) {
  ASSERT_FALSE(who.ok());
  EXPECT_EQ(who.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(who.status().message(), "invalid or missing API token");
}

TEST_F(AuthTest, CreateUserReturnsAWorkingToken) {
  std::string token = MustCreateUser("alice@corp", std::string(kAdminRole));
  // "vmc_" + base64url without padding of 32 bytes = 4 + 43 characters.
  ASSERT_EQ(token.size(), 47u);
  EXPECT_TRUE(token.starts_with("vmc_"));
  EXPECT_EQ(token.substr(4).find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);

  Principal who = MustAuthenticate(token);
  EXPECT_EQ(who.user, "alice@corp");
  EXPECT_EQ(who.role, "Admin");
  EXPECT_TRUE(Authorizer::Check(who, priv::kCryptoManageKeys).ok());

  // Two users never get the same token.
  EXPECT_NE(MustCreateUser("bob", std::string(kReadOnlyRole)), token);
}

TEST_F(AuthTest, WrongTokensAreUnauthenticated) {
  std::string token = MustCreateUser("alice", std::string(kAdminRole));
  ExpectUnauthenticated(auth_->Authenticate(""));
  ExpectUnauthenticated(auth_->Authenticate("vmc_"));
  ExpectUnauthenticated(auth_->Authenticate(token.substr(4)));  // without the prefix
  std::string flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  ExpectUnauthenticated(auth_->Authenticate(flipped));
  ExpectUnauthenticated(auth_->Authenticate(token + "x"));
  ExpectUnauthenticated(auth_->Authenticate("vmc_" + std::string(10000, 'a')));
}

TEST_F(AuthTest, CheckNamesUserRoleAndPrivilege) {
  Principal who = MustAuthenticate(MustCreateUser("carol", std::string(kReadOnlyRole)));
  EXPECT_TRUE(Authorizer::Check(who, priv::kSystemView).ok());
  Status denied = Authorizer::Check(who, priv::kVmCreate);
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "user carol (role ReadOnly) lacks privilege VirtualMachine.Create");
}

TEST_F(AuthTest, BuiltinRoles) {
  Result<std::vector<Json>> roles = auth_->ListRoles();
  ASSERT_TRUE(roles.ok()) << roles.status().ToString();
  ASSERT_EQ(roles->size(), 3u);
  for (const Json& role : *roles) EXPECT_EQ(role["builtin"], true) << role.dump();

  Principal admin = MustAuthenticate(MustCreateUser("root", std::string(kAdminRole)));
  for (const std::string& p : AllPrivileges()) EXPECT_TRUE(admin.Has(p)) << p;
  EXPECT_EQ(admin.privileges.size(), AllPrivileges().size());

  Principal nocrypto = MustAuthenticate(MustCreateUser("ops", std::string(kNoCryptoAdminRole)));
  for (const std::string& p : nocrypto.privileges) {
    EXPECT_FALSE(p.starts_with("Cryptographer.")) << p;
  }
  for (std::string_view p : {priv::kCryptoAccess, priv::kCryptoEncrypt, priv::kCryptoDecrypt,
                             priv::kCryptoManageKeyServers, priv::kCryptoRegisterVm}) {
    EXPECT_FALSE(nocrypto.Has(p)) << p;
  }
  for (std::string_view p :
       {priv::kVmCreate, priv::kVmDelete, priv::kVmInteract, priv::kVmMigrate, priv::kSystemView,
        priv::kInventoryManage, priv::kAuthorizationManage}) {
    EXPECT_TRUE(nocrypto.Has(p)) << p;
  }
  Status denied = Authorizer::Check(nocrypto, priv::kCryptoEncrypt);
  EXPECT_EQ(denied.message(),
            "user ops (role NoCryptoAdmin) lacks privilege Cryptographer.Encrypt");

  Principal reader = MustAuthenticate(MustCreateUser("viewer", std::string(kReadOnlyRole)));
  EXPECT_EQ(reader.privileges, (std::set<std::string, std::less<>>{"System.View"}));

  // Running it again (every start) replaces, not duplicates.
  ASSERT_TRUE(auth_->EnsureBuiltinRoles().ok());
  EXPECT_EQ(auth_->ListRoles()->size(), 3u);
}

TEST_F(AuthTest, CustomRoles) {
  ASSERT_TRUE(auth_
                  ->CreateRole("KeyViewer",
                               {std::string(priv::kCryptoReadKeyServersInfo),
                                std::string(priv::kSystemView), std::string(priv::kSystemView)})
                  .ok());
  Principal who = MustAuthenticate(MustCreateUser("kv", "KeyViewer"));
  EXPECT_EQ(who.privileges.size(), 2u);
  EXPECT_TRUE(who.Has(priv::kCryptoReadKeyServersInfo));
  EXPECT_FALSE(who.Has(priv::kCryptoManageKeys));

  Status unknown = auth_->CreateRole("Bad", {"System.View", "Cryptographer.Everything"});
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("Cryptographer.Everything"), std::string::npos);
  EXPECT_EQ(store_->Get("roles", "Bad").status().code(), StatusCode::kNotFound);

  EXPECT_EQ(auth_->CreateRole("KeyViewer", {}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(auth_->CreateRole("Admin", {}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(auth_->CreateRole("ReadOnly", {std::string(priv::kVmCreate)}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(auth_->CreateRole("bad name", {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(auth_->ListRoles()->size(), 4u);
}

TEST_F(AuthTest, NamesAreChecked) {
  for (const std::string& bad :
       std::vector<std::string>{"", "has space", "slash/", "x;y", "é", std::string(65, 'a')}) {
    EXPECT_EQ(auth_->CreateUser(bad, std::string(kAdminRole)).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_TRUE(auth_->CreateUser(std::string(64, 'a'), std::string(kAdminRole)).ok());
  EXPECT_TRUE(auth_->CreateUser("A-z_0.9@x", std::string(kAdminRole)).ok());

  Result<std::string> no_role = auth_->CreateUser("dave", "NoSuchRole");
  EXPECT_EQ(no_role.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(no_role.status().message(), "no role NoSuchRole");

  MustCreateUser("erin", std::string(kAdminRole));
  Result<std::string> dup = auth_->CreateUser("erin", std::string(kReadOnlyRole));
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().message(), "user erin already exists");
}

TEST_F(AuthTest, IssueTokenAddsASecondValidToken) {
  std::string first = MustCreateUser("frank", std::string(kReadOnlyRole));
  Result<std::string> second = auth_->IssueToken("frank");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(*second, first);
  EXPECT_EQ(MustAuthenticate(first).user, "frank");
  EXPECT_EQ(MustAuthenticate(*second).user, "frank");

  Result<std::string> nobody = auth_->IssueToken("ghost");
  EXPECT_EQ(nobody.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(nobody.status().message(), "no user ghost");
}

TEST_F(AuthTest, SetRoleTakesEffectAtTheNextCall) {
  std::string token = MustCreateUser("gina", std::string(kReadOnlyRole));
  EXPECT_FALSE(MustAuthenticate(token).Has(priv::kVmCreate));
  ASSERT_TRUE(auth_->SetRole("gina", std::string(kNoCryptoAdminRole)).ok());
  Principal who = MustAuthenticate(token);
  EXPECT_EQ(who.role, "NoCryptoAdmin");
  EXPECT_TRUE(who.Has(priv::kVmCreate));

  EXPECT_EQ(auth_->SetRole("gina", "Nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(auth_->SetRole("ghost", std::string(kAdminRole)).message(), "no user ghost");
}

TEST_F(AuthTest, ListUsersShowsNoTokensOrHashes) {
  MustCreateUser("b", std::string(kAdminRole));
  MustCreateUser("a", std::string(kReadOnlyRole));
  Result<std::vector<Json>> users = auth_->ListUsers();
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0], (Json{{"name", "a"}, {"role", "ReadOnly"}}));
  EXPECT_EQ((*users)[1], (Json{{"name", "b"}, {"role", "Admin"}}));
}

TEST_F(AuthTest, DeleteUserRevokesEveryToken) {
  std::string first = MustCreateUser("henry", std::string(kAdminRole));
  std::string second = *auth_->IssueToken("henry");
  std::string other = MustCreateUser("iris", std::string(kAdminRole));
  ASSERT_TRUE(auth_->DeleteUser("henry").ok());
  ExpectUnauthenticated(auth_->Authenticate(first));
  ExpectUnauthenticated(auth_->Authenticate(second));
  EXPECT_EQ(MustAuthenticate(other).user, "iris");
  // Only iris's token is left in the index.
  EXPECT_EQ(store_->List("tokens")->size(), 1u);
  EXPECT_EQ(auth_->DeleteUser("henry").message(), "no user henry");

  // A new user of the same name does not inherit the old tokens.
  std::string fresh = MustCreateUser("henry", std::string(kReadOnlyRole));
  ExpectUnauthenticated(auth_->Authenticate(first));
  EXPECT_EQ(MustAuthenticate(fresh).role, "ReadOnly");
}

TEST_F(AuthTest, StaleIndexEntryDoesNotAuthenticate) {
  // As if DeleteUser had crashed after removing the user but before the
  // index entries: the index alone must not let the token in.
  std::string token = MustCreateUser("jack", std::string(kAdminRole));
  ASSERT_TRUE(store_
                  ->Put("users", "jack",
                        Json{{"name", "jack"}, {"role", "Admin"}, {"tokens", Json::array()}})
                  .ok());
  ExpectUnauthenticated(auth_->Authenticate(token));
}

TEST_F(AuthTest, DatabaseNeverHoldsTheTokenText) {
  std::vector<std::string> tokens = {MustCreateUser("kate", std::string(kAdminRole))};
  tokens.push_back(*auth_->IssueToken("kate"));
  tokens.push_back(MustCreateUser("leo", std::string(kReadOnlyRole)));
  for (const std::string& t : tokens) ASSERT_TRUE(auth_->Authenticate(t).ok());

  // What the store does keep: the hashes, which the scan must find (so that
  // it looks at the bytes the records are in).
  Result<Json> kate = store_->Get("users", "kate");
  ASSERT_TRUE(kate.ok()) << kate.status().ToString();
  ASSERT_EQ((*kate)["tokens"].size(), 2u);
  const std::string hash = (*kate)["tokens"][0]["sha256"];
  ASSERT_EQ(hash.size(), 64u);

  std::string all;
  for (const std::string& file : store_->Files()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) continue;  // the -wal may have been checkpointed away
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EXPECT_NE(all.find(hash), std::string::npos);
  for (const std::string& t : tokens) {
    EXPECT_EQ(all.find(t), std::string::npos);
    EXPECT_EQ(all.find(t.substr(4)), std::string::npos);  // nor its random part
  }
}

}  // namespace
}  // namespace vmcrypt::center
