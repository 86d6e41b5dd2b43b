#pragma once
// Files llmtap creates or trusts in its data directory: never through a symbolic link, never one
// another user owns, temporaries created fresh (O_EXCL) and renamed into place.
#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace llmtap {

// open(2) with O_NOFOLLOW | O_CLOEXEC added, then checks that it opened a regular file owned by this
// user (effective uid) with none of the FORBIDDEN_MODE bits (e.g. 077 for a private key). Returns the
// descriptor, or -1 with *error naming the problem (a link, another owner, a too-open mode).
int open_owned_file(const std::string& path, int flags, mode_t create_mode, mode_t forbidden_mode,
                    std::string* error);

// The whole file, opened as open_owned_file(path, O_RDONLY, 0, FORBIDDEN_MODE). At most MAX_BYTES.
bool read_owned_file(const std::string& path, mode_t forbidden_mode, std::size_t max_bytes, std::string* out,
                     std::string* error);

// Writes CONTENT to PATH atomically: a temporary "<dir>/.tmp-<pid>-<random>" created with
// O_CREAT | O_EXCL | O_NOFOLLOW (mode 0600), written, given MODE, fsynced, renamed over PATH; the
// directory is fsynced too. A pre-existing temporary name is never opened.
bool write_file_atomically(const std::string& path, std::string_view content, mode_t mode, std::string* error);

// Creates the new file PATH (O_CREAT | O_EXCL | O_NOFOLLOW, MODE), writes CONTENT and fsyncs it.
// "" on success; else the reason with the path and the OS error, and no file is left behind.
std::string write_new_file(const std::string& path, std::string_view content, mode_t mode);

// write(2) of all of DATA, retrying short writes and EINTR. false (errno set) on an error.
bool write_all(int fd, std::string_view data);

// The directory part of PATH ("." when there is none).
std::string parent_dir(const std::string& path);

}  // namespace llmtap
