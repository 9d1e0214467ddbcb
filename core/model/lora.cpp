#include "model/lora.h"

#include <set>
#include <stdexcept>

#include "ops/activation.h"
#include "ops/layout.h"
#include "ops/matmul.h"
#include "vulkan/context.h"

namespace vkdream::model {
namespace {

// The up/down tensor names LoRAAdapter.load tries for module x, in its order.
struct NamePair {
  const char* up;
  const char* down;
  bool has_mid;
};
const NamePair kLoraNames[] = {
    {".lora_up.weight", ".lora_down.weight", true},           // kohya
    {"_lora.up.weight", "_lora.down.weight", false},          // diffusers
    {".lora_B.weight", ".lora_A.weight", false},              // diffusers 2 / peft
    {".lora.up.weight", ".lora.down.weight", false},          // diffusers 3
    {".lora_B", ".lora_A", false},                            // mochi
    {".lora_linear_layer.up.weight", ".lora_linear_layer.down.weight", false},  // transformers
    {".lora_B.default.weight", ".lora_A.default.weight", false},                // peft default adapter
};

int64_t flat_cols(const TensorInfo& t) {
  int64_t n = 1;
  for (size_t i = 1; i < t.shape.size(); ++i) n *= t.shape[i];
  return n;
}

// The weight as f32 [out, rest] on the device.
Tensor to_f32_matrix(vk::Stream& s, const Tensor& w) {
  Tensor f = w.dtype() == DType::F32 ? w : ops::cast(s, w, DType::F32);
  return f.reshape({w.dim(0), w.numel() / w.dim(0)});
}

Tensor upload_matrix(vk::Stream& s, const SafetensorsFile& f, const TensorInfo& t) {
  const int64_t rows = t.shape.empty() ? 1 : t.shape[0];
  return from_host(s, {rows, flat_cols(t)}, DType::F32, f.to_float(t));
}

// down [rank, in] folded with LoCon's mid [rank, rank, kh, kw] into [rank, in*kh*kw]:
// (down^T @ mid^T.flatten(1)).reshape(in, rank, kh, kw).transpose(0, 1), as LoRAAdapter does.
Tensor fold_mid(vk::Stream& s, const SafetensorsFile& f, const LoraModule& m) {
  const int64_t rank = m.down->shape[0], in = flat_cols(*m.down);
  const auto& ms = m.mid->shape;
  if (ms.size() != 4) throw std::invalid_argument("LoRA " + m.key + ": lora_mid must be 4-D");
  const int64_t kh = ms[2], kw = ms[3];
  Tensor down = upload_matrix(s, f, *m.down);                                  // [rank, in]
  Tensor mid = from_host(s, {ms[0], ms[1], kh * kw}, DType::F32, f.to_float(*m.mid));
  Tensor down_t = ops::permute(s, down, {1, 0});                               // [in, rank]
  Tensor mid_t = ops::permute(s, mid, {1, 0, 2}).reshape({ms[1], ms[0] * kh * kw});  // [rank_in, rank*kh*kw]
  Tensor prod = ops::matmul(s, down_t, mid_t);                                  // [in, rank*kh*kw]
  return ops::permute(s, prod.reshape({in, rank, kh * kw}), {1, 0, 2}).reshape({rank, in * kh * kw});
}

}  // namespace

double LoraModule::scale() const {
  return alpha ? *alpha / double(down->shape.empty() ? 1 : down->shape[0]) : 1.0;
}

std::shared_ptr<LoraFile> LoraFile::open(const std::string& path, const SD15Config& cfg) {
  return from_file(SafetensorsFile::open(path), cfg);
}

std::shared_ptr<LoraFile> LoraFile::from_file(std::unique_ptr<SafetensorsFile> file, const SD15Config& cfg) {
  std::shared_ptr<LoraFile> lf(new LoraFile());
  lf->file_ = std::move(file);
  const SafetensorsFile& f = *lf->file_;
  std::set<std::string> loaded;
  std::map<std::string, size_t> by_target;  // patch_dict: a later module for the same target replaces it
  std::map<std::string, int64_t> model_numel;
  for (const auto& t : sd15_tensor_layout(cfg)) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    model_numel[t.name] = n;
  }

  for (const auto& [x, target] : sd15_lora_key_map(cfg)) {
    LoraModule m;
    m.key = x;
    m.target = target;
    if (const TensorInfo* a = f.find(x + ".alpha")) {
      m.alpha = double(f.to_float(*a).at(0));
      loaded.insert(a->name);
    }
    const TensorInfo* dora = f.find(x + ".dora_scale");
    if (dora) loaded.insert(dora->name);
    for (const auto& names : kLoraNames) {
      const TensorInfo* up = f.find(x + names.up);
      if (!up) continue;
      m.up = up;
      m.down = f.find(x + names.down);
      if (!m.down) throw SafetensorsError("LoRA '" + f.path() + "': " + up->name + " has no matching down weight");
      if (names.has_mid) m.mid = f.find(x + ".lora_mid.weight");
      if (m.mid) loaded.insert(m.mid->name);
      loaded.insert(up->name);
      loaded.insert(m.down->name);
      break;
    }
    if (!m.up) continue;
    if (dora) {
      lf->not_loaded_.push_back("DoRA is not supported, not applied: " + x);
      continue;
    }
    auto known = model_numel.find(target);
    if (known == model_numel.end()) {
      lf->not_loaded_.push_back("NOT LOADED " + target);
      continue;
    }
    if (m.up->shape.empty() || m.down->shape.empty() ||
        flat_cols(*m.up) != m.down->shape[0] || (m.mid && m.mid->shape.size() != 4) ||
        m.up->shape[0] * flat_cols(*m.down) * (m.mid ? m.mid->shape[2] * m.mid->shape[3] : 1) != known->second) {
      // LoRAAdapter.calculate_weight logs "ERROR lora <key> ..." and leaves the weight as it was.
      lf->not_loaded_.push_back("ERROR lora " + target + ": shape mismatch, not applied");
      continue;
    }
    auto it = by_target.find(target);
    if (it != by_target.end()) {
      lf->modules_[it->second] = m;
    } else {
      by_target[target] = lf->modules_.size();
      lf->modules_.push_back(m);
    }
  }
  for (const auto& t : f.tensors())
    if (!loaded.count(t.name)) lf->not_loaded_.push_back("lora key not loaded: " + t.name);
  return lf;
}

const LoraModule* LoraFile::find(const std::string& target) const {
  for (const auto& m : modules_)
    if (m.target == target) return &m;
  return nullptr;
}

Weights apply_lora(vk::Stream& s, const Weights& base, const std::string& prefix, const std::vector<LoraRef>& loras) {
  Weights out = base;  // shares every tensor
  // Targets in first-seen order, each with its patches in LoraLoader order.
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::pair<const LoraModule*, const LoraRef*>>> patches;
  for (const auto& ref : loras) {
    if (!ref.file || ref.strength == 0.0) continue;  // adds strength * 0 ... exactly nothing
    for (const auto& m : ref.file->modules()) {
      if (m.target.compare(0, prefix.size(), prefix) != 0) continue;
      std::string name = m.target.substr(prefix.size());
      if (!base.has(name)) continue;
      if (!patches.count(name)) order.push_back(name);
      patches[name].push_back({&m, &ref});
    }
  }
  for (const auto& name : order) {
    const Tensor& w = base.get(name);
    Tensor acc = to_f32_matrix(s, w);  // [out, rest] f32
    for (auto [m, ref] : patches[name]) {
      const SafetensorsFile& f = ref->file->file();
      const int64_t out_rows = m->up->shape.empty() ? 1 : m->up->shape[0];
      const int64_t cols = m->mid ? flat_cols(*m->down) * m->mid->shape[2] * m->mid->shape[3] : flat_cols(*m->down);
      if (out_rows * cols != w.numel() || out_rows != acc.dim(0))
        throw std::invalid_argument("LoRA '" + f.path() + "' module " + m->key + " does not fit " + name + " " +
                                    w.str());
      Tensor up = upload_matrix(s, f, *m->up);                                      // [out, rank]
      Tensor down = m->mid ? fold_mid(s, f, *m) : upload_matrix(s, f, *m->down);   // [rank, rest]
      // ComfyUI: weight += f32(strength * alpha / rank) * (up @ down), all in f32.
      const float k = float(ref->strength * m->scale());
      acc = ops::matmul(s, up, down, false, nullptr, &acc, k);
    }
    Tensor result = w.dtype() == DType::F32 ? acc : ops::cast(s, acc, w.dtype());
    // Patched weights live as long as the model: move them out of the activation arena.
    Tensor kept = Tensor::empty(s.ctx(), w.shape(), w.dtype(), &s.ctx().weights());
    s.copy(result.ref(), kept.ref(), kept.bytes());
    out.set(name, kept);
  }
  s.submit();
  return out;
}

std::shared_ptr<UNet> apply_lora(vk::Stream& s, const UNet& unet, const std::vector<LoraRef>& loras) {
  return std::make_shared<UNet>(unet.config(), apply_lora(s, unet.weights(), UNet::kPrefix, loras));
}

std::shared_ptr<CLIPTextModel> apply_lora(vk::Stream& s, const CLIPTextModel& clip, const std::vector<LoraRef>& loras) {
  return std::make_shared<CLIPTextModel>(clip.config(), apply_lora(s, clip.weights(), CLIPTextModel::kPrefix, loras));
}

}  // namespace vkdream::model
