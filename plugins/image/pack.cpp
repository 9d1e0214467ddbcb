#include "comfy_schemas.h"
#include "image.h"

namespace cs = vkdream::comfy_schemas;
namespace im = vkdream::packs::image;

VKD_PLUGIN("image", "1.0", [](vkd::Plugin& p) {
  cs::load_image(p).execute(im::load_image).fingerprint(im::image_file_fingerprint);
  cs::load_image_mask(p).execute(im::load_image_mask).fingerprint(im::image_file_fingerprint);
  cs::save_image(p).execute(im::save_image);
  cs::preview_image(p).execute(im::preview_image);
  cs::image_scale(p).execute(im::image_scale);
  cs::image_scale_by(p).execute(im::image_scale_by);
  cs::image_invert(p).execute(im::image_invert);
  cs::image_batch(p).execute(im::image_batch);
  cs::image_resize_plus(p).execute(im::image_resize_plus);
})
