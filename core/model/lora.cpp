#include "model/lora.h"

#include <map>
#include <set>
#include <stdexcept>

#include "model/lora_adapters.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "vulkan/context.h"

namespace vkdream::model {
namespace la = lora_adapters;
namespace {

// The up/down tensor names LoRAAdapter.load tries for module x, in its order.
struct NamePair {
  const char* up;
  const char* down;
  bool has_mid;
};
const NamePair kLoraNames[] = {
    {".lora_up.weight", ".lora_down.weight", true},                             // kohya
    {"_lora.up.weight", "_lora.down.weight", false},                            // diffusers
    {".lora_B.weight", ".lora_A.weight", false},                                // diffusers 2 / peft
    {".lora.up.weight", ".lora.down.weight", false},                            // diffusers 3
    {".lora_B", ".lora_A", false},                                              // mochi
    {".lora_linear_layer.up.weight", ".lora_linear_layer.down.weight", false},  // transformers
    {".lora_B.default.weight", ".lora_A.default.weight", false},                // peft default adapter
};

// load_lora's patch_dict: target -> patch, a later patch for a target replacing the earlier one in place.
class PatchDict {
 public:
  void set(const LoraModule& m) {
    auto it = index_.find(m.target);
    if (it != index_.end()) {
      items_[it->second] = m;
      return;
    }
    index_[m.target] = items_.size();
    items_.push_back(m);
  }
  const std::vector<LoraModule>& items() const { return items_; }

 private:
  std::map<std::string, size_t> index_;
  std::vector<LoraModule> items_;
};

// `"{}.bias".format(to_load[x][:-len(".weight")])`, literally.
std::string bias_of(const std::string& target) {
  return (target.size() > 7 ? target.substr(0, target.size() - 7) : std::string()) + ".bias";
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<int64_t> strip_leading_ones(std::vector<int64_t> s) {
  while (s.size() > 1 && s.front() == 1) s.erase(s.begin());
  return s;
}

// Why a patch cannot apply to a weight of `ws` (as ComfyUI would fail or refuse at patch time), or "".
std::string patch_error(const LoraModule& m, const std::vector<int64_t>& ws) {
  const std::string head = std::string("ERROR ") + lora_kind_name(m.kind) + " " + m.target + ": ";
  switch (m.kind) {
    case LoraKind::kDiff:
      if (m.full->shape != ws)
        return "WARNING SHAPE MISMATCH " + m.target + " WEIGHT NOT MERGED torch.Size(" + shape_text(m.full->shape) +
               ") != torch.Size(" + shape_text(ws) + ")";
      return "";
    case LoraKind::kSet:
      if (strip_leading_ones(m.full->shape) != strip_leading_ones(ws))
        return head + "shape " + shape_text(m.full->shape) + " cannot be copied into " + shape_text(ws) +
               ", not applied";
      return "";
    default: break;
  }
  la::DiffShape ds = m.kind == LoraKind::kLoRA   ? la::locon_diff_shape(m)
                     : m.kind == LoraKind::kLoHa ? la::loha_diff_shape(m)
                                                 : la::lokr_diff_shape(m);
  if (!ds.error.empty()) return head + ds.error + ", not applied";
  if (numel_of(ds.shape) != numel_of(ws))
    return head + "shape mismatch, " + shape_text(ds.shape) + " does not reshape to " + shape_text(ws) +
           ", not applied";
  if (m.dora_scale) {
    std::string e = la::dora_shape_error(*m.dora_scale, ws);
    if (!e.empty()) return head + e + ", not applied";
  }
  return "";
}

// The LoHa / LoKr tensors of module x (LoHaAdapter.load, LoKrAdapter.load); every one found counts as loaded.
bool find_loha(const SafetensorsFile& f, const std::string& x, LoHaTensors& h, std::set<std::string>& loaded) {
  h.w1_a = f.find(x + ".hada_w1_a");
  if (!h.w1_a) return false;
  auto need = [&](const char* suffix) {
    const TensorInfo* t = f.find(x + suffix);
    if (!t) throw SafetensorsError("LoRA '" + f.path() + "': " + x + ".hada_w1_a has no " + x + suffix);
    loaded.insert(t->name);
    return t;
  };
  loaded.insert(h.w1_a->name);
  h.w1_b = need(".hada_w1_b");
  h.w2_a = need(".hada_w2_a");
  h.w2_b = need(".hada_w2_b");
  if (f.find(x + ".hada_t1")) {
    h.t1 = need(".hada_t1");
    h.t2 = need(".hada_t2");
  }
  return true;
}

bool find_lokr(const SafetensorsFile& f, const std::string& x, LoKrTensors& k, std::set<std::string>& loaded) {
  auto get = [&](const char* suffix) {
    const TensorInfo* t = f.find(x + suffix);
    if (t) loaded.insert(t->name);
    return t;
  };
  k.w1 = get(".lokr_w1");
  k.w2 = get(".lokr_w2");
  k.w1_a = get(".lokr_w1_a");
  k.w1_b = get(".lokr_w1_b");
  k.w2_a = get(".lokr_w2_a");
  k.w2_b = get(".lokr_w2_b");
  k.t2 = get(".lokr_t2");
  return k.w1 || k.w2 || k.w1_a || k.w2_a;
}

// The weight as f32 [shape[0], rest] on the device.
Tensor to_f32_matrix(vk::Stream& s, const Tensor& w) {
  Tensor f = w.dtype() == DType::F32 ? w : ops::cast(s, w, DType::F32);
  const int64_t rows = w.rank() == 0 ? 1 : w.dim(0);
  return f.reshape({rows, rows ? w.numel() / rows : 0});
}

// One patch on the f32 weight `acc` [rows, rest] of a tensor shaped `ws` (comfy/lora.py calculate_weight).
Tensor apply_patch(vk::Stream& s, const Tensor& acc, const std::vector<int64_t>& ws, const LoraModule& m,
                   const SafetensorsFile& f, double strength) {
  const Shape mat = acc.shape();
  // The file was checked against the model layout; a weight stored in another size is a caller error.
  auto fits = [&](int64_t n) {
    if (n != acc.numel())
      throw std::invalid_argument("LoRA '" + f.path() + "' module " + m.key + " does not fit " + m.target + " " +
                                  shape_text(ws));
  };
  if (m.full) fits(m.full->numel());
  switch (m.kind) {
    case LoraKind::kSet:  // weight.copy_(set_weight): the strength plays no part
      return from_host(s, mat, DType::F32, f.to_float(*m.full));
    case LoraKind::kDiff: {  // weight += strength * diff
      Tensor diff = from_host(s, mat, DType::F32, f.to_float(*m.full));
      return ops::add(s, acc, ops::scale(s, diff, float(strength)));
    }
    default: break;
  }
  Tensor diff = m.kind == LoraKind::kLoRA   ? la::locon_diff(s, f, m)
                : m.kind == LoraKind::kLoHa ? la::loha_diff(s, f, m)
                                            : la::lokr_diff(s, f, m);
  fits(diff.numel());
  diff = diff.reshape(mat);
  if (m.dora_scale) return la::weight_decompose(s, acc, diff, m.scale(), strength, f, *m.dora_scale, ws);
  // weight += f32(strength * alpha) * lora_diff, all in f32.
  return ops::add(s, acc, ops::scale(s, diff, float(strength * m.scale())));
}

}  // namespace

const char* lora_kind_name(LoraKind k) {
  switch (k) {
    case LoraKind::kLoRA: return "lora";
    case LoraKind::kLoHa: return "loha";
    case LoraKind::kLoKr: return "lokr";
    case LoraKind::kDiff: return "diff";
    case LoraKind::kSet: return "set";
  }
  return "?";
}

double LoraModule::scale() const {
  if (!alpha) return 1.0;
  switch (kind) {
    case LoraKind::kLoRA: return *alpha / double(down->shape.empty() ? 1 : down->shape[0]);
    case LoraKind::kLoHa: return *alpha / double(hada.w1_b->shape[0]);
    case LoraKind::kLoKr: {
      // lokr.py: dim is w1_b's rows when w1 is low-rank, then w2_b's when w2 is (the last one wins).
      int64_t dim = 0;
      if (!lokr.w1 && lokr.w1_b) dim = lokr.w1_b->shape[0];
      if (!lokr.w2 && lokr.w2_b) dim = lokr.w2_b->shape[0];
      return dim ? *alpha / double(dim) : 1.0;
    }
    default: return 1.0;
  }
}

std::shared_ptr<LoraFile> LoraFile::open(const std::string& path, const SD15Config& cfg) {
  return from_file(SafetensorsFile::open(path), cfg);
}

std::shared_ptr<LoraFile> LoraFile::from_file(std::unique_ptr<SafetensorsFile> file, const SD15Config& cfg) {
  std::shared_ptr<LoraFile> lf(new LoraFile());
  lf->file_ = std::move(file);
  const SafetensorsFile& f = *lf->file_;
  std::set<std::string> loaded;
  PatchDict patches;
  std::map<std::string, std::vector<int64_t>> model_shape;
  for (const auto& t : sd15_tensor_layout(cfg)) model_shape[t.name] = t.shape;

  // comfy/lora.py load_lora: for each module every adapter is tried (the last one found wins), then the
  // full-weight patches, each replacing what came before for its target.
  for (const auto& entry : sd15_lora_key_map(cfg)) {
    const auto& x = entry.first;  // not a structured binding: lambdas below capture it (clang 14 cannot)
    const auto& target = entry.second;
    LoraModule base;
    base.key = x;
    base.target = target;
    if (const TensorInfo* a = f.find(x + ".alpha")) {
      base.alpha = double(f.to_float(*a).at(0));
      loaded.insert(a->name);
    }
    if ((base.dora_scale = f.find(x + ".dora_scale"))) loaded.insert(base.dora_scale->name);

    for (const auto& names : kLoraNames) {
      const TensorInfo* up = f.find(x + names.up);
      if (!up) continue;
      LoraModule m = base;
      m.up = up;
      m.down = f.find(x + names.down);
      if (!m.down) throw SafetensorsError("LoRA '" + f.path() + "': " + up->name + " has no matching down weight");
      if (names.has_mid) m.mid = f.find(x + ".lora_mid.weight");
      if (m.mid) loaded.insert(m.mid->name);
      loaded.insert(up->name);
      loaded.insert(m.down->name);
      patches.set(m);
      break;
    }
    LoraModule loha = base;
    loha.kind = LoraKind::kLoHa;
    if (find_loha(f, x, loha.hada, loaded)) patches.set(loha);
    LoraModule lokr = base;
    lokr.kind = LoraKind::kLoKr;
    if (find_lokr(f, x, lokr.lokr, loaded)) patches.set(lokr);

    auto full = [&](const char* suffix, LoraKind kind, const std::string& to) {
      const TensorInfo* t = f.find(x + suffix);
      if (!t) return false;
      loaded.insert(t->name);
      LoraModule m;
      m.key = x;
      m.target = to;
      m.kind = kind;
      m.full = t;
      patches.set(m);
      return true;
    };
    if (full(".w_norm", LoraKind::kDiff, target)) full(".b_norm", LoraKind::kDiff, bias_of(target));
    full(".diff", LoraKind::kDiff, target);
    full(".diff_b", LoraKind::kDiff, bias_of(target));
    full(".set_weight", LoraKind::kSet, target);
  }

  for (const auto& t : f.tensors())
    if (!loaded.count(t.name)) lf->not_loaded_.push_back("lora key not loaded: " + t.name);
  // load_lora_for_models: "NOT LOADED" for targets the model lacks; calculate_weight's errors for the rest.
  std::vector<std::string> errors;
  for (const auto& m : patches.items()) {
    auto known = model_shape.find(m.target);
    if (known == model_shape.end()) {
      lf->not_loaded_.push_back("NOT LOADED " + m.target);
      continue;
    }
    std::string e = patch_error(m, known->second);
    if (!e.empty()) {
      errors.push_back(e);
      continue;
    }
    lf->modules_.push_back(m);
  }
  lf->not_loaded_.insert(lf->not_loaded_.end(), errors.begin(), errors.end());
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
    if (!ref.file) continue;
    for (const auto& m : ref.file->modules()) {
      // Strength 0 leaves the weight as it is (w + 0 * diff), except set_weight, which ignores it.
      if (ref.strength == 0.0 && m.kind != LoraKind::kSet) continue;
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
      acc = apply_patch(s, acc, w.shape(), *m, ref->file->file(), ref->strength);
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
