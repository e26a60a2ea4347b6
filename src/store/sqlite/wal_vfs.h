// A VFS shim over SQLite's default VFS that writes each commit's WAL frames
// with one pwrite(2) instead of two per frame.
#ifndef VMCRYPT_SRC_STORE_SQLITE_WAL_VFS_H_
#define VMCRYPT_SRC_STORE_SQLITE_WAL_VFS_H_

namespace vmcrypt::store::sqlite {

// The name of the shim, registered (not as the default) on first call;
// nullptr if registration failed, in which case callers use SQLite's
// default VFS. Thread-safe.
//
// SQLite writes a transaction's WAL frames as a 24-byte frame header and a
// page, each with its own write call (https://sqlite.org/walformat.html,
// "The WAL File"): about 170 system calls for a commit of 85 pages. The shim
// keeps consecutive writes to a WAL file in memory and writes them out in
// one call when the transaction's commit frame is complete (the frame whose
// header has a non-zero "database size after commit"), before any read,
// sync, size query, truncation or close of that file, before a write that
// does not follow on, and whenever 4 MiB are waiting. A commit frame is
// therefore on its way to the file before COMMIT returns, and a failed
// write fails that COMMIT; frames still in memory belong to a transaction
// that has not committed, which a crash loses in any case. As a second line,
// the shim also writes them out at the memory barrier on the database file
// that precedes publishing a commit in the WAL index. Only the writing
// connection's own WAL handle buffers; other connections read frames only
// up to the last commit they see in the WAL index, all of it already
// written. Files other than WALs pass straight through.
const char* WalCoalescingVfsName();

}  // namespace vmcrypt::store::sqlite

#endif  // VMCRYPT_SRC_STORE_SQLITE_WAL_VFS_H_
