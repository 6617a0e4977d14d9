// temp_dir.hpp — a private temp directory per test, removed afterwards (hermetic tests).
#pragma once

#include <filesystem>
#include <string>

namespace dovetail::testlib {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  // Writes `content` to path()/rel (creating parents) and returns the full path.
  std::filesystem::path write(const std::string& rel, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

// Reads a whole file; empty string when missing.
std::string read_file(const std::filesystem::path& p);

}  // namespace dovetail::testlib
