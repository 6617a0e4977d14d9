// remote_store.hpp — the network process's way to save mail through the privileged writer.
//
// Purpose: the same call shape as storage::MaildirWriter::save_batch, answered by the writer
// process: the body goes as a descriptor (the spool's temp file, or a memfd for a large
// in-memory body) or inline when small; users go by name; the writer decides uid/gid/path.
// Error contract: one SaveResult per target; a dead channel gives kTemp for every target.
// Threading: thread-safe (WriterClient is); begin_store_via_writer never blocks.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "deliver/engine.hpp"
#include "privsep/wire.hpp"
#include "privsep/writer_client.hpp"
#include "storage/body.hpp"
#include "storage/maildir_writer.hpp"

namespace dovetail::privsep {

std::vector<storage::SaveResult> store_via_writer(WriterClient& client, const storage::Body& body,
                                                  std::string_view headers,
                                                  std::span<const storage::SaveTarget> targets,
                                                  std::span<const std::string> lookup_keys,
                                                  FsyncMode fsync);

// store_via_writer without waiting, for an event thread (deliver::EngineDeps::store_begin):
// sends the request if a channel is free and returns the save in flight; nullptr = not now
// (no free channel, a dead writer, a body that would need copying): use store_via_writer.
std::unique_ptr<deliver::StoreInFlight> begin_store_via_writer(const std::shared_ptr<WriterClient>& client,
                                                               const storage::Body& body, std::string_view headers,
                                                               std::span<const storage::SaveTarget> targets,
                                                               std::span<const std::string> lookup_keys,
                                                               FsyncMode fsync);

FsyncMode to_wire(storage::FsyncMode mode);

}  // namespace dovetail::privsep
