// vkdream-bench's whole-model commands:
//   make-checkpoint PATH [--f32]   a full-size SD1.5-shaped checkpoint of generated weights (never committed)
//   unet --size N [--checkpoint PATH] [--precision f32|f16|f16a] [--profile: GPU time per shader]
//        one cfg UNet step (batch 2), the text encoder (2 prompts) and the VAE decode at N x N pixels, each timed
//        after a warm-up run, with GFLOP/s, the fraction of the device's FMA peak measured in the same run, and
//        the device memory the run peaked at.
#pragma once

namespace vkdream::bench {

int run_make_checkpoint(int argc, char** argv);
int run_model_bench(int argc, char** argv);

}  // namespace vkdream::bench
