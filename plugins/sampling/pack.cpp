#include "comfy_schemas.h"
#include "vkdream/plugin.hpp"

namespace vkdream::packs::sampling_nodes {
void ksampler(vkd::Context& c);
void ksampler_advanced(vkd::Context& c);
}  // namespace vkdream::packs::sampling_nodes

namespace cs = vkdream::comfy_schemas;
namespace sn = vkdream::packs::sampling_nodes;

VKD_PLUGIN("sampling", "1.0", [](vkd::Plugin& p) {
  cs::ksampler(p).execute(sn::ksampler);
  cs::ksampler_advanced(p).execute(sn::ksampler_advanced);
})
