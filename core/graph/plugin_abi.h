// The plugin ABI header for core/graph (include/ is one of vkdream_core's public include directories).
#pragma once
#include "vkdream/plugin.h"
