// The plugin ABI header for core/graph. vkdream_core's include path is core/ only, so include/ is reached
// relatively here (one place to change once include/ joins vkdream_core's PUBLIC include directories).
#pragma once
#include "../../include/vkdream/plugin.h"
