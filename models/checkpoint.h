#pragma once
// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors), so other tools
// can read the weights: 8-byte little-endian header length, a JSON header mapping each tensor name
// to {"dtype": "F32"|"F64"|"I64", "shape": [...], "data_offsets": [begin, end]} (relative to the
// data blob) plus "__metadata__" (string -> string; ours holds "config", a JSON string), then the
// blob. Written atomically: a temporary file in the same folder, fsync, rename.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/core/tensor.h"

namespace fewshot::models {

struct CheckpointError : Error {
  using Error::Error;
};

struct NamedTensors {
  std::vector<std::pair<std::string, Tensor>> items;  // in file order (sorted by data offset)
  nlohmann::json metadata = nlohmann::json::object();  // "__metadata__" values; "config" parsed as JSON
  const Tensor& at(const std::string& name) const;      // throws CheckpointError naming the file's tensors
  bool has(const std::string& name) const;
};

// Writes tensors (any device; copied to the host) and metadata. Each metadata value is stored as a
// string: strings as is, anything else as its JSON text.
void save_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const nlohmann::json& metadata = nlohmann::json::object());
// Reads and validates (header length, JSON, dtypes, shapes against offsets, offsets within the
// blob, no overlaps, file size). Metadata values that parse as JSON are returned parsed.
NamedTensors load_safetensors(const std::filesystem::path& path);

}  // namespace fewshot::models
