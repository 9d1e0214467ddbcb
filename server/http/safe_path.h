// The one place a client-supplied file name becomes a path (reliability.md): /view, uploads and image inputs
// resolve through it. Refuses empty names, NUL, absolute paths, ".." components and anything whose canonical
// location (symlinks followed) leaves the folder.
#pragma once

#include <optional>
#include <string>

namespace vkdream::server {

// `folder`/`subfolder`/`name` when it stays inside `folder`; nullopt otherwise. With must_exist the file must
// exist (and be a regular file); without, its parent folder must exist inside `folder`.
std::optional<std::string> resolve_in_folder(const std::string& folder, const std::string& subfolder,
                                             const std::string& name, bool must_exist);

// A name fit for a file written by the server: [A-Za-z0-9._-], 1..128 characters, not starting with '.'.
bool is_safe_file_component(const std::string& s);

}  // namespace vkdream::server
