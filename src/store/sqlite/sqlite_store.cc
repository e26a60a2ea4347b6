// The SQLite ObjectStore: a writer thread doing group commit, and a pool of
// read connections. Statements live in rows.cc, the schema in schema.cc.
#include "vmcrypt/store/sqlite_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "src/store/sqlite/connection.h"
#include "src/store/sqlite/read_cache.h"
#include "src/store/sqlite/rows.h"
#include "src/store/sqlite/schema.h"
#include "vmcrypt/base/thread_name.h"
#include "vmcrypt/base/thread_priority.h"
#include "vmcrypt/base/unique_fd.h"

namespace vmcrypt::store {
namespace {

using sqlite::Connection;

// A pool of read-only connections. WAL lets each see the last committed
// state without blocking the writer. Connections are opened on demand, so
// there are never more than there are concurrent readers; at most
// `max_idle` are kept open between uses in the shared list, plus one per
// thread: each thread keeps the connection it used last for the pool it
// used first (the server's workers read from one store all their life), so
// a read takes no lock at all in the common case.
//
// Thread-safety: all methods may be called concurrently.
class ReaderPool {
 public:
  // A connection borrowed from the pool, returned on destruction.
  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (conn_ != nullptr) pool_->Release(std::move(conn_));
    }
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    ReaderPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  ReaderPool(std::string path, const SqliteOptions& options)
      : path_(std::move(path)), options_(options), alive_(std::make_shared<int>(0)) {}

  // Closes this thread's kept connection now; other threads close theirs
  // when they exit or next keep one (servers join their workers first).
  ~ReaderPool() {
    ThreadSlot& slot = Slot();
    if (slot.owner.lock() == alive_) slot.conn.reset();
  }

  Result<Lease> Acquire() {
    ThreadSlot& slot = Slot();
    if (slot.conn != nullptr && slot.owner.lock() == alive_) {
      return Lease(this, std::move(slot.conn));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(conn));
      }
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                     Connection::Open(path_, SQLITE_OPEN_READWRITE, options_.busy_timeout_ms));
    RETURN_IF_ERROR(sqlite::PrepareReaderConnection(*conn));
    return Lease(this, std::move(conn));
  }

 private:
  // This thread's kept connection and the pool it belongs to (expired once
  // that pool is gone, when the slot is free for another pool).
  struct ThreadSlot {
    std::weak_ptr<int> owner;
    std::unique_ptr<Connection> conn;
  };
  static ThreadSlot& Slot() {
    thread_local ThreadSlot slot;
    return slot;
  }

  void Release(std::unique_ptr<Connection> conn) {
    // A connection still inside a transaction (a failed read) would pin an
    // old snapshot and keep the WAL from being checkpointed: drop it.
    if (sqlite3_get_autocommit(conn->db()) == 0) return;
    ThreadSlot& slot = Slot();
    const std::shared_ptr<int> owner = slot.owner.lock();
    if (owner == nullptr || (owner == alive_ && slot.conn == nullptr)) {
      slot.owner = alive_;
      slot.conn = std::move(conn);  // closes a dead pool's connection, if any
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (static_cast<int>(idle_.size()) < options_.max_idle_readers) {
      idle_.push_back(std::move(conn));
    }
  }

  const std::string path_;
  const SqliteOptions options_;
  const std::shared_ptr<int> alive_;  // expires with the pool: see ThreadSlot
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

// One write waiting for the writer thread. `apply` runs inside the batch
// transaction on the writer connection; the caller blocks on `done`, so
// references captured by `apply` stay valid. Shared by the caller and the
// writer so that neither frees it while the other may still touch it.
struct PendingWrite {
  std::function<Status(Connection&)> apply;
  std::promise<Status> done;
};

// The store. Owns the writer connection (used only by the writer thread) and
// the reader pool.
class SqliteStore final : public ObjectStore {
 public:
  SqliteStore(std::unique_ptr<Connection> writer, std::unique_ptr<Connection> checkpointer,
              UniqueFd wal, const std::string& path, const SqliteOptions& options)
      : options_(options),
        wal_path_(path + "-wal"),
        wal_(std::move(wal)),
        writer_conn_(std::move(writer)),
        checkpoint_conn_(std::move(checkpointer)),
        readers_(path, options),
        cache_(path, static_cast<size_t>(options.read_cache_rows)) {
    // SQLite's own auto-checkpoint is off (wal_autocheckpoint=0, set in
    // PrepareWriterConnection); once the WAL is longer than
    // kCheckpointFrames, OnCommit wakes the checkpointer every
    // kCheckpointStepFrames new frames, whose PASSIVE checkpoints copy pages
    // to the database file beside the writer instead of in its way
    // (https://sqlite.org/wal.html#ckpt). The writer checkpoints itself only
    // at SqliteOptions::max_wal_frames.
    sqlite3_wal_hook(writer_conn_->db(), &SqliteStore::OnCommit, this);
    checkpointer_ = std::thread([this] { CheckpointLoop(); });
    syncer_ = std::thread([this] { SyncLoop(); });
    writer_ = std::thread([this] { WriterLoop(); });
  }

  // Completes every pending write, then closes the connections.
  ~SqliteStore() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    writer_.join();
    {
      std::lock_guard<std::mutex> lock(sync_mu_);
      sync_stop_ = true;
    }
    sync_cv_.notify_one();
    syncer_.join();
    {
      std::lock_guard<std::mutex> lock(checkpoint_mu_);
      checkpoint_stop_ = true;
    }
    checkpoint_cv_.notify_one();
    checkpointer_.join();
  }

  Status Insert(const ObjectRecord& record) override {
    RETURN_IF_ERROR(sqlite::ValidateRecord(record));
    return Write([&](Connection& c) { return sqlite::InsertObject(c, record); });
  }

  // One write: its savepoint (RunBatch) undoes every insert of it when one
  // fails, and the batch commit makes them durable together.
  Status InsertAndUpdate(std::span<const ObjectRecord> inserts,
                         std::span<const ObjectRecord> updates) override {
    for (const ObjectRecord& record : inserts) RETURN_IF_ERROR(sqlite::ValidateRecord(record));
    for (const ObjectRecord& record : updates) RETURN_IF_ERROR(sqlite::ValidateRecord(record));
    // One savepoint in the writer's batch: a failure undoes all of it.
    return Write([&](Connection& c) {
      for (const ObjectRecord& record : inserts) RETURN_IF_ERROR(sqlite::InsertObject(c, record));
      for (const ObjectRecord& record : updates) RETURN_IF_ERROR(sqlite::UpdateObject(c, record));
      return OkStatus();
    });
  }

  Result<ObjectRecord> Get(std::string_view tenant, std::string_view uid) override {
    return ThroughCache(tenant, uid, /*with_index=*/true, [&]() -> Result<ObjectRecord> {
      ASSIGN_OR_RETURN(ReaderPool::Lease conn, readers_.Acquire());
      // One read transaction: the object row and its index entries come
      // from the same snapshot even if an Update commits in between.
      RETURN_IF_ERROR(conn->Exec("BEGIN", "begin read"));
      Result<ObjectRecord> record = sqlite::ReadObject(*conn, tenant, uid);
      RETURN_IF_ERROR(conn->Exec("COMMIT", "end read"));
      return record;
    });
  }

  Result<ObjectRecord> GetWithoutIndex(std::string_view tenant, std::string_view uid) override {
    return ThroughCache(tenant, uid, /*with_index=*/false, [&]() -> Result<ObjectRecord> {
      ASSIGN_OR_RETURN(ReaderPool::Lease conn, readers_.Acquire());
      // One statement: its own snapshot, no explicit transaction needed.
      return sqlite::ReadObject(*conn, tenant, uid, /*with_index=*/false);
    });
  }

  Status Update(const ObjectRecord& record) override {
    RETURN_IF_ERROR(sqlite::ValidateRecord(record));
    return Write([&](Connection& c) { return sqlite::UpdateObject(c, record); });
  }

  Result<std::vector<std::string>> Locate(const Query& query) override {
    ASSIGN_OR_RETURN(ReaderPool::Lease conn, readers_.Acquire());
    return sqlite::LocateObjects(*conn, query);
  }

  Result<int64_t> Count(std::string_view tenant) override {
    ASSIGN_OR_RETURN(ReaderPool::Lease conn, readers_.Acquire());
    return sqlite::CountObjects(*conn, tenant);
  }

  Status PutClient(const ClientRecord& client) override {
    RETURN_IF_ERROR(sqlite::ValidateClient(client));
    return Write([&](Connection& c) { return sqlite::InsertClient(c, client); });
  }

  Result<std::vector<ClientRecord>> ListClients() override {
    ASSIGN_OR_RETURN(ReaderPool::Lease conn, readers_.Acquire());
    return sqlite::ReadClients(*conn);
  }

  // A key server identifies its client by fingerprint in every full TLS
  // handshake, and vCenter makes one per session with the same certificate:
  // clients found are kept for the database state they were read in, as
  // the row cache keeps objects (read_cache.h). Any commit, by any process
  // (`kms client remove` included), makes the next lookup read SQLite again.
  Result<ClientRecord> FindClientByFingerprint(std::string_view fingerprint) override {
    const std::optional<sqlite::ReadCache::Header> before = cache_.CurrentHeader();
    if (before) {
      std::lock_guard<std::mutex> lock(clients_mu_);
      if (clients_header_ != *before) {
        clients_.clear();
        clients_header_ = *before;
      }
      if (auto it = clients_.find(std::string(fingerprint)); it != clients_.end()) {
        ++client_cache_hits_;
        return it->second;
      }
    }
    ASSIGN_OR_RETURN(ReaderPool::Lease conn, readers_.Acquire());
    Result<ClientRecord> client = sqlite::ReadClientByFingerprint(*conn, fingerprint);
    if (!client.ok() || !before || cache_.CurrentHeader() != before) return client;
    std::lock_guard<std::mutex> lock(clients_mu_);
    if (clients_header_ == *before && clients_.size() < kCachedClients) {
      clients_.emplace(std::string(fingerprint), *client);
    }
    return client;
  }

  Status RemoveClient(std::string_view name) override {
    return Write([&](Connection& c) { return sqlite::DeleteClient(c, name); });
  }

  StoreStats stats() const override {
    StoreStats s;
    s.writes = writes_.load();
    s.transactions = transactions_.load();
    s.largest_batch = largest_batch_.load();
    s.syncs = syncs_.load();
    s.checkpoints = checkpoints_.load();
    s.cache_hits = cache_.hits();
    s.cache_misses = cache_.misses();
    s.client_cache_hits = client_cache_hits_.load();
    return s;
  }

 private:
  // Answers from the cache when the database is unchanged since the row was
  // kept; otherwise runs `read` and keeps its row if no commit landed while
  // it ran (the header is read before the read transaction begins and
  // after it ends; see read_cache.h).
  template <typename Read>
  Result<ObjectRecord> ThroughCache(std::string_view tenant, std::string_view uid, bool with_index,
                                    const Read& read) {
    if (!cache_.enabled()) return read();
    if (std::optional<ObjectRecord> hit = cache_.Find(tenant, uid, with_index)) return *hit;
    const std::optional<sqlite::ReadCache::Header> before = cache_.CurrentHeader();
    Result<ObjectRecord> record = read();
    if (record.ok() && before) {
      if (const auto after = cache_.CurrentHeader())
        cache_.Put(*before, *after, with_index, *record);
    }
    return record;
  }

  // The nice value of the writer and syncer threads, which every durable
  // write waits for.
  static constexpr int kDurablePathNice = -10;

  static constexpr int kCheckpointFrames = 2000;     // about 8 MiB of WAL
  static constexpr int kCheckpointStepFrames = 500;  // about 2 MiB

  static int OnCommit(void* self, sqlite3* db, const char*, int frames) {
    auto* store = static_cast<SqliteStore*>(self);
    if (frames >= store->options_.max_wal_frames) {
      // The checkpointer could not catch up with a steady stream of commits
      // (the WAL only restarts after a checkpoint that copied every frame):
      // finish it here, as SQLite's own auto-checkpoint would. Most frames
      // are already copied, but the pass ends with an fsync of the database
      // while every write waits (about 25 ms under a Create load).
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (frames >= kCheckpointFrames) {
      // Wake the checkpointer once per kCheckpointStepFrames new frames,
      // not after every commit: each pass syncs the WAL and the database,
      // and a pass over more frames copies a page changed by many commits
      // once. Woken after every commit, it ran passes back to back (2,071
      // in a 10 s Create load). Bigger steps are faster but each pass then
      // leaves more for the database's fsync, which the WAL flushes queue
      // behind: Creates into a store of 200,000 keys, interleaved runs,
      // p99 19 ms after every commit, 22-39 ms every 500 frames, 67-75 ms
      // every 2,000 (throughput 3,450-3,720, 3,760-4,020, 3,830-4,200/s).
      if (frames < store->wal_frames_) store->next_checkpoint_at_ = 0;  // the WAL restarted
      store->wal_frames_ = frames;
      if (frames < store->next_checkpoint_at_) return SQLITE_OK;
      store->next_checkpoint_at_ = frames + kCheckpointStepFrames;
      {
        std::lock_guard<std::mutex> lock(store->checkpoint_mu_);
        store->checkpoint_wanted_ = true;
      }
      store->checkpoint_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  void CheckpointLoop() {
    SetCurrentThreadName("store-ckpt");
    // Background work: behind the writer and the readers.
    SetCurrentThreadNice(5);
    std::unique_lock<std::mutex> lock(checkpoint_mu_);
    while (true) {
      checkpoint_cv_.wait(lock, [this] { return checkpoint_stop_ || checkpoint_wanted_; });
      if (checkpoint_stop_) return;
      checkpoint_wanted_ = false;
      lock.unlock();
      // Errors (SQLITE_BUSY while another process checkpoints) only delay
      // the next attempt; the WAL stays correct either way.
      sqlite3_wal_checkpoint_v2(checkpoint_conn_->db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
      ++checkpoints_;
      lock.lock();
    }
  }

  // Queues a write for the writer thread and waits for its durable outcome.
  Status Write(std::function<Status(Connection&)> apply) {
    auto write = std::make_shared<PendingWrite>();
    write->apply = std::move(apply);
    std::future<Status> done = write->done.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return UnavailableError("store is closing");
      queue_.push_back(write);
    }
    cv_.notify_one();
    return done.get();
  }

  void WriterLoop() {
    SetCurrentThreadName("store-writer");
    // Every durable write in the process waits on this one thread: ahead of
    // the request workers when the process may raise priorities
    // (CAP_SYS_NICE), level with them otherwise.
    SetCurrentThreadNice(kDurablePathNice);
    std::vector<std::shared_ptr<PendingWrite>> arrived;
    for (;;) {
      bool stopping;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] {
          return stopping_ || !queue_.empty() || (!open_.writes.empty() && syncer_idle_);
        });
        if (queue_.empty() && open_.writes.empty()) return;  // stopping, every write done
        const size_t room = static_cast<size_t>(options_.max_batch) - open_.writes.size();
        const size_t n = std::min(queue_.size(), room);
        arrived.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
        stopping = stopping_;
      }
      for (std::shared_ptr<PendingWrite>& write : arrived) Apply(std::move(write));
      arrived.clear();
      // The group commit: the transaction stays open, taking every write
      // that arrives, while the syncer flushes the previous commit, so a
      // commit carries everything that queued up during one flush and each
      // page it changes goes to the WAL once per flush instead of once per
      // write (the Locate index's pages are shared by many objects).
      if (!open_.writes.empty() &&
          (syncer_idle_ || stopping ||
           open_.writes.size() >= static_cast<size_t>(options_.max_batch))) {
        Commit();
      }
    }
  }

  // Runs `write` in the open transaction (beginning one if needed), in its
  // own savepoint so that a failing write (duplicate uid, stale revision) is
  // undone alone and fails only its own caller.
  void Apply(std::shared_ptr<PendingWrite> write) {
    Connection& c = *writer_conn_;
    if (!open_.begun) {
      open_.begun = true;
      open_.failure = BeginTransaction(c);
    }
    Status st = open_.failure;
    if (st.ok()) {
      st = c.Exec("SAVEPOINT w", "savepoint");
      if (st.ok()) st = write->apply(c);
      if (st.ok()) {
        st = c.Exec("RELEASE w", "release savepoint");
      } else if (sqlite3_get_autocommit(c.db()) == 0) {
        Status undo = c.Exec("ROLLBACK TO w", "rollback savepoint");
        if (undo.ok()) undo = c.Exec("RELEASE w", "release savepoint");
        // Cannot undo just this write: abandon the transaction (below).
        if (!undo.ok()) c.Exec("ROLLBACK", "rollback").IgnoreError();
      }
    }
    open_.writes.push_back(std::move(write));
    open_.results.push_back(st);
    if (open_.failure.ok() && sqlite3_get_autocommit(c.db()) != 0) {
      // SQLite rolled the whole transaction back (I/O error, disk full): the
      // earlier writes in it are lost too. The next write begins a new one.
      FailCommitted(open_.results, open_.txn_start, open_.writes.size(), st);
      open_.txn_start = open_.writes.size();
      open_.begun = false;
    } else if (!open_.failure.ok()) {
      open_.txn_start = open_.writes.size();
      open_.begun = false;  // BEGIN failed: try again with the next write
    }
  }

  // Commits the open transaction and hands its writes to the syncer: every
  // caller learns its outcome once the commit is durable (SyncLoop).
  void Commit() {
    Connection& c = *writer_conn_;
    if (open_.begun && open_.txn_start < open_.writes.size()) {
      Status commit = c.Exec("COMMIT", "commit");
      if (!commit.ok()) {
        c.Exec("ROLLBACK", "rollback").IgnoreError();
        FailCommitted(open_.results, open_.txn_start, open_.writes.size(), commit);
      }
    }
    {
      std::lock_guard<std::mutex> lock(sync_mu_);
      committed_.push_back({std::move(open_.writes), std::move(open_.results)});
      syncer_idle_ = false;
    }
    sync_cv_.notify_one();
    open_ = OpenTransaction{};
  }

  // Makes committed batches durable and only then answers their callers.
  //
  // The writer connection runs with synchronous=NORMAL: COMMIT writes the
  // transaction's frames to the WAL without waiting for the disk. This
  // thread then fdatasyncs the WAL once for every batch committed so far, so
  // the writer builds the next transaction while the disk flushes the last
  // one, and one flush may cover several commits. A batch's callers learn
  // their outcome only after a flush that began after their COMMIT returned:
  // what a caller is told is durable is on disk, as with synchronous=FULL.
  // Frames are never overwritten before they are on disk: NORMAL syncs the
  // WAL before each checkpoint, the database after it, and the WAL header
  // when the WAL is reused (https://sqlite.org/pragma.html#pragma_synchronous,
  // https://sqlite.org/wal.html). Other connections may read a committed
  // write before its caller is answered.
  void SyncLoop() {
    SetCurrentThreadName("store-sync");
    // On the durable path too, with the writer. At the request threads'
    // level it waited behind them for a CPU each time the writer handed it
    // a commit: under a 16-connection Create load on 2 cores the flush
    // began 250 us after the commit, 100 us at nice -10, and Creates/s went
    // 4,925 -> 5,287 on average in 4 interleaved pairs of runs.
    SetCurrentThreadNice(kDurablePathNice);
    std::vector<CommittedBatch> ready;
    std::unique_lock<std::mutex> lock(sync_mu_);
    for (;;) {
      sync_cv_.wait(lock, [this] { return sync_stop_ || !committed_.empty(); });
      if (committed_.empty()) return;  // stopping, and every batch answered
      ready.swap(committed_);
      lock.unlock();
      const Status synced = SyncWal();
      // Nothing left to flush: the writer may commit its open transaction
      // now, while this thread wakes the callers of the flushed ones.
      lock.lock();
      const bool idle = committed_.empty();
      if (idle) {
        std::lock_guard<std::mutex> writer_lock(mu_);
        syncer_idle_ = true;
      }
      lock.unlock();
      if (idle) cv_.notify_one();
      for (CommittedBatch& b : ready) {
        if (!synced.ok()) {
          for (Status& st : b.results) {
            if (st.ok()) st = synced.WithContext("commit not durable");
          }
        }
        Finish(b.writes, std::move(b.results));
      }
      ready.clear();
      lock.lock();
    }
  }

  // fdatasync(2) of the WAL: every frame written to it before the call is on
  // disk when it returns. The descriptor is this store's own; the file is the
  // writer connection's WAL, which SQLite deletes only when the database's
  // last connection closes (never while the writer is open).
  Status SyncWal() {
    ++syncs_;
    if (::fdatasync(wal_.get()) != 0) {
      return UnavailableError("store: fdatasync of " + wal_path_ + ": " + std::strerror(errno));
    }
    return OkStatus();
  }

  // Records the batch in the counters and wakes every caller.
  void Finish(const std::vector<std::shared_ptr<PendingWrite>>& batch,
              std::vector<Status> results) {
    writes_ += static_cast<int64_t>(batch.size());
    int64_t largest = largest_batch_.load();
    while (largest < static_cast<int64_t>(batch.size()) &&
           !largest_batch_.compare_exchange_weak(largest, static_cast<int64_t>(batch.size()))) {
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i]->done.set_value(std::move(results[i]));
  }

  Status BeginTransaction(Connection& c) {
    ++transactions_;
    // IMMEDIATE takes the write lock now (waiting up to busy_timeout for
    // another process), so COMMIT cannot fail with SQLITE_BUSY later.
    return c.Exec("BEGIN IMMEDIATE", "begin");
  }

  // Turns the OK results in [from, to) into `why`: those writes were in a
  // transaction that did not commit.
  static void FailCommitted(std::vector<Status>& results, size_t from, size_t to,
                            const Status& why) {
    for (size_t j = from; j < to; ++j) {
      if (results[j].ok()) results[j] = why.WithContext("write batch not committed");
    }
  }

  // A batch whose transaction is over (committed or not), waiting for the
  // WAL flush before its callers learn `results`.
  struct CommittedBatch {
    std::vector<std::shared_ptr<PendingWrite>> writes;
    std::vector<Status> results;
  };

  const SqliteOptions options_;
  const std::string wal_path_;
  const UniqueFd wal_;                           // syncer thread only
  std::unique_ptr<Connection> writer_conn_;      // writer thread only
  std::unique_ptr<Connection> checkpoint_conn_;  // checkpointer thread only
  ReaderPool readers_;
  sqlite::ReadCache cache_;

  // OnCommit's view of the WAL (writer thread only): its length after the
  // last commit, and the length at which the checkpointer is woken next.
  int wal_frames_ = 0;
  int next_checkpoint_at_ = 0;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;  // guarded by checkpoint_mu_
  bool checkpoint_stop_ = false;    // guarded by checkpoint_mu_
  std::thread checkpointer_;

  // The writes of the writer's open transaction (writer thread only).
  struct OpenTransaction {
    bool begun = false;    // BEGIN ran and the transaction is still open
    Status failure;        // BEGIN's error, given to the writes after it
    size_t txn_start = 0;  // first write of the open SQLite transaction
    std::vector<std::shared_ptr<PendingWrite>> writes;
    std::vector<Status> results;
  };
  OpenTransaction open_;

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::vector<CommittedBatch> committed_;  // guarded by sync_mu_
  bool sync_stop_ = false;                 // guarded by sync_mu_
  std::thread syncer_;
  // No commit waits for a flush: set by the syncer (holding sync_mu_ and
  // mu_) once it has flushed every commit handed over, cleared by the
  // writer (holding sync_mu_) when it hands over a commit. Read by the
  // writer, which commits its open transaction only then (or when full).
  std::atomic<bool> syncer_idle_{true};

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<PendingWrite>> queue_;  // guarded by mu_
  bool stopping_ = false;                            // guarded by mu_

  // Clients found by fingerprint (FindClientByFingerprint), for the
  // database state clients_header_.
  static constexpr size_t kCachedClients = 256;
  std::mutex clients_mu_;
  sqlite::ReadCache::Header clients_header_{};             // guarded by clients_mu_
  std::unordered_map<std::string, ClientRecord> clients_;  // guarded by clients_mu_
  std::atomic<int64_t> client_cache_hits_{0};

  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> transactions_{0};
  std::atomic<int64_t> largest_batch_{0};
  std::atomic<int64_t> syncs_{0};
  std::atomic<int64_t> checkpoints_{0};
  std::thread writer_;  // last: started after every other member exists
};

// Creates `path` with mode 0600 if it does not exist: SQLite gives the -wal
// and -shm files the main file's mode, and the store holds wrapped keys and
// client certificates that are nobody else's business.
Status CreatePrivateFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot create store " + path);
  ::close(fd);
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenSqliteStore(const std::string& path,
                                                     const SqliteOptions& options) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) {
    return InvalidArgumentError("store path must be a file name");
  }
  if (options.max_batch < 1 || options.busy_timeout_ms < 0 || options.max_idle_readers < 0 ||
      options.read_cache_rows < 0 || options.max_wal_frames < 1) {
    return InvalidArgumentError("invalid SQLite store options");
  }
  RETURN_IF_ERROR(CreatePrivateFile(path));
  ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> writer,
      Connection::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options.busy_timeout_ms));
  RETURN_IF_ERROR(sqlite::PrepareWriterConnection(*writer, path));
  // The writer connection has the WAL open (PrepareWriterConnection read the
  // database in WAL mode); the syncer flushes it through this descriptor.
  // O_CREAT only for safety: an empty WAL is a valid one.
  UniqueFd wal(::open((path + "-wal").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!wal.valid()) {
    return UnavailableError("cannot open the store's WAL " + path +
                            "-wal: " + std::strerror(errno));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> checkpointer,
                   Connection::Open(path, SQLITE_OPEN_READWRITE, options.busy_timeout_ms));
  // A connection learns that the database is in WAL mode when it first reads
  // it; until then a checkpoint through it does nothing.
  RETURN_IF_ERROR(checkpointer->QueryText("PRAGMA journal_mode", "read journal mode").status());
  return std::unique_ptr<ObjectStore>(
      new SqliteStore(std::move(writer), std::move(checkpointer), std::move(wal), path, options));
}

}  // namespace vmcrypt::store
