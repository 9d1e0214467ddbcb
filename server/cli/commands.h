// The `vkdream` subcommands that need no HTTP: `run` (execute one API-format prompt file), `nodes` (print the
// /object_info JSON of every loaded node), `tiny-checkpoint` (write the tiny test checkpoint).
#pragma once

namespace vkdream::cli {

int run_command(int argc, char** argv);
int nodes_command(int argc, char** argv);
int tiny_checkpoint_command(int argc, char** argv);

}  // namespace vkdream::cli
