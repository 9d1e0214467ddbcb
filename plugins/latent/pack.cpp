#include "comfy_schemas.h"
#include "latent.h"

namespace cs = vkdream::comfy_schemas;
namespace lt = vkdream::packs::latent;

VKD_PLUGIN("latent", "1.0", [](vkd::Plugin& p) {
  cs::empty_latent_image(p).execute(lt::empty_latent_image);
  cs::latent_upscale(p).execute(lt::latent_upscale);
  cs::latent_upscale_by(p).execute(lt::latent_upscale_by);
  cs::repeat_latent_batch(p).execute(lt::repeat_latent_batch);
  cs::latent_from_batch(p).execute(lt::latent_from_batch);
  cs::set_latent_noise_mask(p).execute(lt::set_latent_noise_mask);
})
