// direct_write.hpp — writing a large message file past the page cache (O_DIRECT).
//
// Purpose: on the machines we measure, a durable buffered write costs far more CPU per page
// than the disk's own work: 1 MiB written, fsynced and linked took 3.8 ms of CPU through the
// page cache and 0.14 ms with O_DIRECT (4 threads, ext4; 64 KiB: 1.0 vs 0.12 ms; 16 KiB:
// 0.155 vs 0.097; 4 KiB: 0.111 vs 0.162 — docs/PERFORMANCE.md). A message of kDirectMinSize
// octets or more is therefore copied through an aligned buffer, kDirectChunk at a time, and
// its whole blocks are written with O_DIRECT; the last partial block goes through the page
// cache (O_DIRECT is turned off for it), so no padding and no truncate are needed. The file
// is still fsynced before it is named (maildir_writer): O_DIRECT only moves the data write,
// the fsync still writes the inode and flushes the device cache. Mail delivered this way is
// not left in the page cache, which suits mail read later, if ever.
// Used only with mail_fsync != never (without fsync a buffered write returns sooner) and on
// ext4 and XFS, where direct I/O is mature; elsewhere, and on any EINVAL from the kernel
// (alignment, an encrypted or DAX file), the message is written buffered as before.
// Depends on: storage/fs, storage/body, storage/save_error. Error contract: SaveError.
// Threading: the aligned buffer is one per thread (kDirectChunk, allocated on first use), so
// memory stays bounded by the number of concurrent writers, never by message size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/expected.hpp"
#include "storage/body.hpp"
#include "storage/fs.hpp"
#include "storage/save_error.hpp"

namespace dovetail::storage {

inline constexpr uint64_t kDirectMinSize = 16 * 1024;
inline constexpr size_t kDirectAlign = 4096;        // memory, offsets and lengths of direct writes
inline constexpr size_t kDirectChunk = 256 * 1024;  // bytes per direct write()

// Whether a file of `size` octets on fd's filesystem is written with write_direct().
bool direct_write_suits(Fs& fs, int fd, uint64_t size);

// Writes headers + body at fd's offset 0 (a new, empty file). Turns O_DIRECT on for the
// aligned blocks and off for the tail; on EINVAL from a direct write the rest is buffered.
base::Expected<void, SaveError> write_direct(Fs& fs, int fd, std::string_view headers, const Body& body,
                                             const std::string& what);

}  // namespace dovetail::storage
