#include "models/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "engine/core/dtype.h"

namespace fewshot::models {

namespace fs = std::filesystem;
using nlohmann::json;

const Tensor& NamedTensors::at(const std::string& name) const {
  for (auto& [n, t] : items)
    if (n == name) return t;
  std::string have;
  for (auto& [n, t] : items) have += (have.empty() ? "" : ", ") + n;
  throw CheckpointError(fmt::format("checkpoint: no tensor '{}' (have: {})", name, have));
}

bool NamedTensors::has(const std::string& name) const {
  return std::any_of(items.begin(), items.end(), [&](auto& p) { return p.first == name; });
}

namespace {

const char* st_dtype(DType d) {
  switch (d) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
  }
  return "?";
}

void write_all(int fd, const void* data, size_t n, const fs::path& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw CheckpointError(fmt::format("checkpoint: writing {} failed: {}", path.string(), std::strerror(errno)));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

void save_safetensors(const fs::path& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const json& metadata) {
  json header = json::object();
  json meta = json::object();
  for (auto& [k, v] : metadata.items()) meta[k] = v.is_string() ? v.get<std::string>() : v.dump();
  header["__metadata__"] = meta;
  std::vector<std::vector<char>> blobs;
  uint64_t offset = 0;
  for (auto& [name, t] : tensors) {
    check<CheckpointError>(!header.contains(name), "checkpoint: duplicate tensor name '{}'", name);
    check<CheckpointError>(name != "__metadata__", "checkpoint: '__metadata__' is reserved");
    Tensor host = t.detach().to(Device::cpu());
    uint64_t bytes = static_cast<uint64_t>(host.numel() * dtype_size(host.dtype()));
    header[name] = {{"dtype", st_dtype(host.dtype())}, {"shape", host.shape().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    std::vector<char> b(bytes);
    if (bytes) std::memcpy(b.data(), host.raw_data(), bytes);
    blobs.push_back(std::move(b));
    offset += bytes;
  }
  std::string h = header.dump();
  while (h.size() % 8) h.push_back(' ');  // the format pads the header with spaces to 8-byte alignment
  uint64_t n = h.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);

  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  fs::path tmp = path;
  tmp += fmt::format(".tmp{}", ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    throw CheckpointError(fmt::format("checkpoint: cannot create {}: {}", tmp.string(), std::strerror(errno)));
  try {
    write_all(fd, len, 8, tmp);
    write_all(fd, h.data(), h.size(), tmp);
    for (auto& b : blobs) write_all(fd, b.data(), b.size(), tmp);
    if (::fsync(fd) != 0)
      throw CheckpointError(fmt::format("checkpoint: fsync {} failed: {}", tmp.string(), std::strerror(errno)));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw CheckpointError(fmt::format("checkpoint: rename {} -> {} failed: {}", tmp.string(), path.string(),
                                      std::strerror(e)));
  }
  // Make the rename itself durable.
  int dfd = ::open(path.has_parent_path() ? path.parent_path().c_str() : ".", O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

NamedTensors load_safetensors(const fs::path& path) {
  std::string p = path.string();
  std::ifstream in(path, std::ios::binary);
  check<CheckpointError>(static_cast<bool>(in), "checkpoint: cannot open {}", p);
  in.seekg(0, std::ios::end);
  uint64_t file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  check<CheckpointError>(file_size >= 8, "checkpoint {}: truncated: {} bytes, not even the 8-byte header length", p,
                         file_size);
  unsigned char len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(len[i]) << (8 * i);
  check<CheckpointError>(n <= file_size - 8, "checkpoint {}: truncated or corrupt: header length {} but only {} bytes follow",
                         p, n, file_size - 8);
  std::string h(n, '\0');
  in.read(h.data(), static_cast<std::streamsize>(n));
  json header;
  try {
    header = json::parse(h);
  } catch (const std::exception& e) {
    throw CheckpointError(fmt::format("checkpoint {}: corrupt JSON header: {}", p, e.what()));
  }
  check<CheckpointError>(header.is_object(), "checkpoint {}: header is not a JSON object", p);
  uint64_t blob = file_size - 8 - n;
  NamedTensors out;
  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      check<CheckpointError>(v.is_object(), "checkpoint {}: __metadata__ must be an object", p);
      for (auto& [k, s] : v.items()) {
        check<CheckpointError>(s.is_string(), "checkpoint {}: __metadata__['{}'] must be a string", p, k);
        json parsed = json::parse(s.get<std::string>(), nullptr, false);
        out.metadata[k] = parsed.is_discarded() ? s : parsed;
      }
      continue;
    }
    try {
      std::string dt = v.at("dtype").get<std::string>();
      DType d = dt == "F32" ? DType::Float32 : dt == "F64" ? DType::Float64 : dt == "I64" ? DType::Int64 : DType::Float32;
      check<CheckpointError>(dt == "F32" || dt == "F64" || dt == "I64",
                             "checkpoint {}: tensor '{}' has unsupported dtype {} (F32, F64, I64)", p, name, dt);
      auto dims = v.at("shape").get<std::vector<int64_t>>();
      check<CheckpointError>(dims.size() <= static_cast<size_t>(kMaxDims), "checkpoint {}: tensor '{}' has {} dims", p,
                             name, dims.size());
      for (auto dd : dims) check<CheckpointError>(dd >= 0, "checkpoint {}: tensor '{}' has a negative dim", p, name);
      auto off = v.at("data_offsets").get<std::vector<uint64_t>>();
      check<CheckpointError>(off.size() == 2 && off[0] <= off[1] && off[1] <= blob,
                             "checkpoint {}: tensor '{}' data_offsets outside the {}-byte data (truncated file?)", p,
                             name, blob);
      Shape s(dims);
      check<CheckpointError>(off[1] - off[0] == static_cast<uint64_t>(s.numel() * dtype_size(d)),
                             "checkpoint {}: tensor '{}' of shape {} needs {} bytes, offsets give {}", p, name, s.str(),
                             s.numel() * dtype_size(d), off[1] - off[0]);
      entries.push_back({name, d, s, off[0], off[1]});
    } catch (const CheckpointError&) {
      throw;
    } catch (const std::exception& e) {
      throw CheckpointError(fmt::format("checkpoint {}: bad entry for tensor '{}': {}", p, name, e.what()));
    }
  }
  std::sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < entries.size(); ++i)
    check<CheckpointError>(entries[i].begin >= entries[i - 1].end, "checkpoint {}: tensors '{}' and '{}' overlap", p,
                           entries[i - 1].name, entries[i].name);
  for (auto& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    in.seekg(static_cast<std::streamoff>(8 + n + e.begin));
    in.read(static_cast<char*>(t.raw_data()), static_cast<std::streamsize>(e.end - e.begin));
    check<CheckpointError>(static_cast<bool>(in), "checkpoint {}: truncated while reading '{}'", p, e.name);
    out.items.emplace_back(e.name, t);
  }
  return out;
}

}  // namespace fewshot::models
