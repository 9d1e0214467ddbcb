// The image pack: LoadImage, LoadImageMask, SaveImage, PreviewImage, ImageScale, ImageScaleBy, ImageInvert,
// ImageBatch and ComfyUI_essentials' ImageResize+.
#pragma once

#include "vkdream/plugin.hpp"

namespace vkdream::packs::image {

void load_image(vkd::Context& c);
void load_image_mask(vkd::Context& c);
void save_image(vkd::Context& c);
void preview_image(vkd::Context& c);
void image_scale(vkd::Context& c);
void image_scale_by(vkd::Context& c);
void image_invert(vkd::Context& c);
void image_batch(vkd::Context& c);
void image_resize_plus(vkd::Context& c);

// IS_CHANGED of LoadImage/LoadImageMask: the file's SHA-256, so a replaced file re-runs the node.
void image_file_fingerprint(vkd::Context& c);

}  // namespace vkdream::packs::image
