// ComfyUI's CONDITIONING list operations (nodes.py ConditioningCombine, ConditioningConcat,
// ConditioningAverage, ConditioningSetArea, ConditioningSetMask, ConditioningZeroOut;
// ConditioningSetTimestepRange). Every node makes new entries; its inputs stay as they were.
#include "conditioning.h"
#include "ops/elementwise.h"
#include "ops/layout.h"
#include "pack_util.h"

namespace vkdream::packs::conditioning {

namespace {

Tensor zeros_like(vk::Stream& s, const Tensor& t) {
  Tensor z = Tensor::empty(s.ctx(), t.shape(), t.dtype());
  s.fill_zero(z.ref());
  return z;
}

}  // namespace

void conditioning_combine(vkd::Context& c) {
  payload::Conditioning out = cond_in(c, "conditioning_1");
  for (const auto& e : cond_in(c, "conditioning_2").entries) out.entries.push_back(e);
  set_conditioning(c, 0, std::move(out));
}

void conditioning_concat(vkd::Context& c) {
  const payload::Conditioning& to = cond_in(c, "conditioning_to");
  const payload::Conditioning& from = cond_in(c, "conditioning_from");
  if (from.entries.empty()) value_error("conditioning_from is empty");
  if (from.entries.size() > 1)
    vkd::log(VKD_LOG_WARNING,
             "ConditioningConcat conditioning_from contains more than 1 cond, only the first one will actually be "
             "applied to conditioning_to.",
             "ConditioningConcat");
  const Tensor& cond_from = from.entries[0].cross_attn;
  NodeStream ns;
  payload::Conditioning out;
  for (const auto& e : to.entries) {
    sampling::CondEntry n = e;
    n.cross_attn = ops::concat(ns, {e.cross_attn, cond_from}, 1);
    out.entries.push_back(std::move(n));
  }
  ns.s.submit();
  set_conditioning(c, 0, std::move(out));
}

void conditioning_average(vkd::Context& c) {
  const payload::Conditioning& to = cond_in(c, "conditioning_to");
  const payload::Conditioning& from = cond_in(c, "conditioning_from");
  double w = c.get_float("conditioning_to_strength");
  if (from.entries.empty()) value_error("conditioning_from is empty");
  if (from.entries.size() > 1)
    vkd::log(VKD_LOG_WARNING,
             "ConditioningAverage conditioning_from contains more than 1 cond, only the first one will actually be "
             "applied to conditioning_to.",
             "ConditioningAverage");
  const Tensor& cond_from = from.entries[0].cross_attn;
  const std::optional<Tensor>& pooled_from = from.entries[0].pooled;
  NodeStream ns;
  payload::Conditioning out;
  for (const auto& e : to.entries) {
    const Tensor& t1 = e.cross_attn;
    // cond_from cut or zero-padded to t1's token count, then t1 * w + t0 * (1 - w).
    Tensor t0 = cond_from;
    if (t0.dim(1) > t1.dim(1)) t0 = ops::slice(ns, t0, 1, 0, t1.dim(1));
    if (t0.dim(1) < t1.dim(1)) {
      Tensor pad = Tensor::empty(ns.s.ctx(), {t0.dim(0), t1.dim(1) - t0.dim(1), t0.dim(2)}, t0.dtype());
      ns.s.fill_zero(pad.ref());
      t0 = ops::concat(ns, {t0, pad}, 1);
    }
    sampling::CondEntry n = e;
    n.cross_attn = ops::lincomb(ns, {{w, &t1}, {1.0 - w, &t0}});
    if (pooled_from && e.pooled) {
      const Tensor& pt = *e.pooled;
      const Tensor& pf = *pooled_from;
      n.pooled = ops::lincomb(ns, {{w, &pt}, {1.0 - w, &pf}});
    } else if (pooled_from) {
      n.pooled = *pooled_from;
    }
    out.entries.push_back(std::move(n));
  }
  ns.s.submit();
  set_conditioning(c, 0, std::move(out));
}

void conditioning_set_area(vkd::Context& c) {
  payload::Conditioning out = cond_in(c, "conditioning");
  int64_t w = c.get_int("width"), h = c.get_int("height"), x = c.get_int("x"), y = c.get_int("y");
  for (auto& e : out.entries) {
    e.area = std::array<int64_t, 4>{h / 8, w / 8, y / 8, x / 8};
    e.area_percentage.reset();
    e.strength = c.get_float("strength");
    e.set_area_to_bounds = false;
  }
  set_conditioning(c, 0, std::move(out));
}

void conditioning_set_mask(vkd::Context& c) {
  payload::Conditioning out = cond_in(c, "conditioning");
  Tensor mask = mask_in(c, "mask").mask;
  if (mask.rank() < 3) mask = mask.reshape({1, mask.dim(0), mask.dim(1)});
  bool bounds = c.get_string("set_cond_area") != "default";
  for (auto& e : out.entries) {
    e.mask = mask;
    e.set_area_to_bounds = bounds;
    e.mask_strength = c.get_float("strength");
  }
  set_conditioning(c, 0, std::move(out));
}

void conditioning_set_timestep_range(vkd::Context& c) {
  payload::Conditioning out = cond_in(c, "conditioning");
  for (auto& e : out.entries) {
    e.start_percent = c.get_float("start");
    e.end_percent = c.get_float("end");
  }
  set_conditioning(c, 0, std::move(out));
}

void conditioning_zero_out(vkd::Context& c) {
  payload::Conditioning out = cond_in(c, "conditioning");
  NodeStream ns;
  for (auto& e : out.entries) {
    if (e.pooled) e.pooled = zeros_like(ns, *e.pooled);
    e.cross_attn = zeros_like(ns, e.cross_attn);
  }
  ns.s.submit();
  set_conditioning(c, 0, std::move(out));
}

}  // namespace vkdream::packs::conditioning
