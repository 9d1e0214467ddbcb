/* vkdream version, for the server, the benchmark and (later) the plugin ABI handshake. */
#ifndef VKDREAM_VERSION_H
#define VKDREAM_VERSION_H

#define VKD_VERSION_MAJOR 0
#define VKD_VERSION_MINOR 1
#define VKD_VERSION_PATCH 0
#define VKD_VERSION_STRING "0.1.0"

#endif /* VKDREAM_VERSION_H */
