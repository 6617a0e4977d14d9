// write_all.hpp — one buffer written whole through the Fs seam, or a SaveError naming the file.
//
// Purpose: the Maildir writer and the O_DIRECT writer both need "write these bytes, short
// writes continue, a 0 is EIO" with the same error wording ("write(<what>)").
// Depends on: storage/fs, storage/save_error. Threading: stateless.
#pragma once

#include <cstddef>
#include <string>

#include "base/expected.hpp"
#include "storage/fs.hpp"
#include "storage/save_error.hpp"

namespace dovetail::storage {

base::Expected<void, SaveError> write_all(Fs& fs, int fd, const char* data, size_t len, const std::string& what);

}  // namespace dovetail::storage
