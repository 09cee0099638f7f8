#pragma once
// Safe zip extraction (libzip), used for Omniglot's official archives when only the zips are in the
// cache. Refuses, before writing anything, any entry that is absolute or whose path would leave the
// destination folder ("zip slip": ../x, a/../../x), and any symbolic-link entry.
#include <filesystem>
#include <string>

namespace fewshot::data {

// True when `entry` (a zip entry name) stays inside the folder it is extracted into.
bool zip_entry_is_safe(const std::string& entry);

// Extracts every entry of `zip` under `dest` (created if needed). Throws DataError naming the
// archive and the offending entry if any entry escapes `dest`, or if the archive cannot be read.
// Returns the number of files written.
int64_t extract_zip(const std::filesystem::path& zip, const std::filesystem::path& dest);

}  // namespace fewshot::data
