/* vkdream node plugin ABI (C, stable, versioned).
 *
 * A plugin is a shared library exporting one symbol:
 *
 *   VkdStatus vkdream_plugin_entry(const VkdHost* host, VkdPluginDesc* out);
 *
 * Rules (modelled on OpenFX / the Vulkan loader):
 * - Every struct starts with `struct_size` (bytes) and only ever grows by appending fields. A reader looks at
 *   a field only when struct_size says it is there; a writer writes only the fields that fit in the struct_size
 *   the other side announced.
 * - The host checks VkdPluginDesc.abi_major / abi_minor before reading anything else: a plugin is refused when
 *   its major differs from VKD_ABI_MAJOR or its minor is newer than the host's VKD_ABI_MINOR.
 * - No C++ exception crosses this boundary: functions return a VkdStatus and put a message in the context.
 * - Host services are versioned function tables fetched by name (VkdHost.get_service); a GPU service
 *   ("vkd.device", "vkd.tensor", "vkd.pipeline") is added the same way without changing this header's structs.
 * - Node declarations mirror ComfyUI's node schema, so /object_info is generated from them and exported
 *   workflows run unchanged (class, input and type names are exactly ComfyUI's).
 * - Plugins are loaded at start-up with dlopen(RTLD_NOW | RTLD_LOCAL) and never unloaded, so function and
 *   string pointers handed to the host stay valid for the life of the process.
 */
#ifndef VKDREAM_PLUGIN_H
#define VKDREAM_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VKD_ABI_MAJOR 1
#define VKD_ABI_MINOR 0

#if defined(_WIN32)
#define VKD_PLUGIN_EXPORT __declspec(dllexport)
#else
#define VKD_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

#define VKD_PLUGIN_ENTRY_SYMBOL "vkdream_plugin_entry"

/* ---- status codes ------------------------------------------------------------------------------------- */
typedef int32_t VkdStatus;
#define VKD_OK 0
#define VKD_ERROR 1                  /* generic failure: the message says what */
#define VKD_ERROR_INVALID_ARGUMENT 2 /* a bad input value (ComfyUI: ValueError) */
#define VKD_ERROR_OUT_OF_MEMORY 3
#define VKD_ERROR_INTERRUPTED 4      /* the node saw the interrupt flag and stopped */
#define VKD_ERROR_NOT_FOUND 5        /* a file, model or service is missing */
#define VKD_ERROR_UNSUPPORTED 6
#define VKD_ERROR_ABI 7              /* version or struct-size mismatch */

/* ---- values ------------------------------------------------------------------------------------------- */
typedef uint32_t VkdValueKind;
#define VKD_VALUE_NONE 0    /* absent optional input, or a linked input while validating */
#define VKD_VALUE_INT 1     /* i (int64); inputs declared VKD_INPUT_FLAG_UNSIGNED carry uint64 bits in i */
#define VKD_VALUE_FLOAT 2   /* f */
#define VKD_VALUE_BOOLEAN 3 /* i: 0 or 1 */
#define VKD_VALUE_STRING 4  /* s, s_len (UTF-8, not necessarily NUL-free; always NUL-terminated) */
#define VKD_VALUE_OBJECT 5  /* obj */

/* An opaque refcounted object (MODEL, CLIP, VAE, CONDITIONING, LATENT, IMAGE, MASK, ...). Created by whoever
 * produces it (plugin.hpp: vkd::make_object), shared by reference: retain/release are carried by the object
 * itself so any holder (host cache, another plugin) can manage its lifetime. */
typedef struct VkdObject {
  uint32_t struct_size;
  const char* type_name;   /* ComfyUI type: "MODEL", "LATENT", ... */
  const char* payload_tag; /* identifies the payload layout, e.g. "vkdream.latent/1"; checked before a cast */
  void* payload;
  uint64_t size_bytes;     /* estimated memory held (host + device); drives the cache's LRU budget */
  void (*retain)(struct VkdObject* self);
  void (*release)(struct VkdObject* self); /* the last release destroys the object */
} VkdObject;

/* VkdValue is frozen for ABI major 1: arrays of it (VkdExecContext inputs/outputs) are indexed with plain C
 * pointer arithmetic. Other arrays (VkdNodeDecl, VkdInputDecl, VkdOutputDecl) are read with the stride given
 * by their first element's struct_size, so those structs can grow. */
typedef struct VkdValue {
  uint32_t struct_size;
  VkdValueKind kind;
  int64_t i;
  double f;
  const char* s;
  uint64_t s_len;
  VkdObject* obj; /* borrowed in inputs; in outputs the node hands over one reference */
} VkdValue;

/* ---- host services ------------------------------------------------------------------------------------ */
typedef struct VkdHost {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  /* Returns the service table `name` if the host has it at `min_version` or newer, else NULL. Every table
   * starts with {uint32_t struct_size; uint32_t version;}. */
  const void* (*get_service)(const struct VkdHost* host, const char* name, uint32_t min_version);
  void* host_data;
} VkdHost;

typedef struct VkdStringSink { /* collects strings (dynamic combo options, file lists) */
  uint32_t struct_size;
  void (*add)(struct VkdStringSink* self, const char* s);
  void* data;
} VkdStringSink;

#define VKD_LOG_DEBUG 0
#define VKD_LOG_INFO 1
#define VKD_LOG_WARNING 2
#define VKD_LOG_ERROR 3

#define VKD_SERVICE_LOG "vkd.log"
typedef struct VkdLogService {
  uint32_t struct_size;
  uint32_t version; /* 1 */
  void (*log)(const VkdHost* host, int32_t level, const char* source, const char* message);
} VkdLogService;

struct VkdExecContext;

#define VKD_SERVICE_EXECUTION "vkd.execution"
typedef struct VkdExecutionService {
  uint32_t struct_size;
  uint32_t version; /* 1 */
  /* ComfyUI's "progress" event for the running node: step n of total. */
  void (*progress)(const struct VkdExecContext* ctx, uint64_t step, uint64_t total);
  /* Non-zero once the prompt was interrupted; a node then returns VKD_ERROR_INTERRUPTED. */
  int32_t (*interrupted)(const struct VkdExecContext* ctx);
} VkdExecutionService;

#define VKD_SERVICE_PATHS "vkd.paths"
typedef struct VkdPathsService {
  uint32_t struct_size;
  uint32_t version; /* 1 */
  /* kind: "models", "checkpoints", "loras", "vae", "embeddings", "input", "output", "temp". NULL if unset. */
  const char* (*directory)(const VkdHost* host, const char* kind);
  /* Adds the file names (relative, sorted) of a model folder or "input" to sink; returns how many. */
  uint32_t (*list_files)(const VkdHost* host, const char* kind, VkdStringSink* sink);
} VkdPathsService;

/* ---- node execution context ---------------------------------------------------------------------------- */
typedef struct VkdExecContext {
  uint32_t struct_size;
  const VkdHost* host;
  const char* node_id;     /* the prompt's node id ("3") */
  const char* class_type;
  void* node_user_data;    /* VkdNodeDecl.user_data */
  uint32_t input_count;    /* = the declaration's input_count, declaration order */
  const VkdValue* inputs;  /* VKD_VALUE_NONE for absent optionals (and for links while validating) */
  uint32_t output_count;
  VkdValue* outputs;       /* filled by execute; pre-set to VKD_VALUE_NONE */
  /* Error message + exception type name for ComfyUI's execution_error / custom_validation_failed. */
  void (*set_error)(struct VkdExecContext* self, const char* exception_type, const char* message);
  /* execute: the "ui" dict of ComfyUI's "executed" event, as a JSON object text ({"images":[...]}). */
  void (*set_ui_json)(struct VkdExecContext* self, const char* json_object);
  /* fingerprint: ComfyUI's IS_CHANGED result; the node re-runs when it differs from the last run's. */
  void (*set_fingerprint)(struct VkdExecContext* self, const char* fingerprint);
  void* host_private;
} VkdExecContext;

typedef VkdStatus (*VkdNodeFn)(VkdExecContext* ctx);
/* Dynamic combo options (ckpt_name, lora_name, image): add every option to sink. */
typedef VkdStatus (*VkdComboFn)(const VkdHost* host, void* user_data, VkdStringSink* sink);

/* ---- node declarations ---------------------------------------------------------------------------------- */
typedef uint32_t VkdInputCategory;
#define VKD_INPUT_REQUIRED 0
#define VKD_INPUT_OPTIONAL 1
#define VKD_INPUT_HIDDEN 2 /* type is "PROMPT", "UNIQUE_ID" or "EXTRA_PNGINFO" */

#define VKD_INPUT_FLAG_DEFAULT (1u << 0)
#define VKD_INPUT_FLAG_MIN (1u << 1)
#define VKD_INPUT_FLAG_MAX (1u << 2)
#define VKD_INPUT_FLAG_STEP (1u << 3)
#define VKD_INPUT_FLAG_ROUND (1u << 4)
#define VKD_INPUT_FLAG_UNSIGNED (1u << 5)    /* INT bounds, default and values are uint64 bit patterns */
#define VKD_INPUT_FLAG_FORCE_INPUT (1u << 6) /* "forceInput": true */
#define VKD_INPUT_FLAG_LAZY (1u << 7)        /* "lazy": true (declared; evaluated eagerly for now) */

typedef struct VkdInputDecl {
  uint32_t struct_size;
  const char* name;
  const char* type;               /* "INT", "FLOAT", "STRING", "BOOLEAN", "MODEL", ..., "COMBO" for combos, "*" */
  VkdInputCategory category;
  uint32_t flags;                 /* VKD_INPUT_FLAG_* */
  int64_t int_default, int_min, int_max, int_step; /* INT (and BOOLEAN default in int_default) */
  double float_default, float_min, float_max, float_step, float_round;
  const char* string_default;     /* STRING / COMBO default */
  const char* const* combo;       /* static combo options */
  uint32_t combo_count;
  VkdComboFn combo_fn;            /* dynamic combo options (used when non-NULL) */
  void* combo_user_data;
  const char* tooltip;
  /* Further ComfyUI options as JSON object members without braces, in ComfyUI's order, e.g.
   * "\"control_after_generate\": true" or "\"multiline\": true, \"dynamicPrompts\": true". */
  const char* extra_json;
} VkdInputDecl;

typedef struct VkdOutputDecl {
  uint32_t struct_size;
  const char* type;  /* "MODEL", "IMAGE", ... */
  const char* name;  /* output_name; NULL = the type */
  uint32_t is_list;  /* OUTPUT_IS_LIST */
  const char* tooltip;
} VkdOutputDecl;

#define VKD_NODE_FLAG_OUTPUT (1u << 0)         /* OUTPUT_NODE */
#define VKD_NODE_FLAG_ALWAYS_CHANGED (1u << 1) /* IS_CHANGED returns NaN: never served from the cache */
#define VKD_NODE_FLAG_DEPRECATED (1u << 2)
#define VKD_NODE_FLAG_EXPERIMENTAL (1u << 3)

typedef struct VkdNodeDecl {
  uint32_t struct_size;
  const char* class_type;   /* exactly ComfyUI's name */
  const char* display_name;
  const char* category;
  const char* description;
  const VkdInputDecl* inputs;
  uint32_t input_count;
  const VkdOutputDecl* outputs;
  uint32_t output_count;
  uint32_t flags;           /* VKD_NODE_FLAG_* */
  VkdNodeFn execute;
  /* Optional VALIDATE_INPUTS: gets the validate_inputs named below (literals coerced, links NONE); an error
   * status becomes custom_validation_failed ("<input> - <message>") for each of them. Inputs it receives are
   * not range/combo checked by the host, as in ComfyUI. */
  VkdNodeFn validate;
  const char* const* validate_inputs;
  uint32_t validate_input_count;
  /* Optional IS_CHANGED: gets literal inputs (links NONE) and calls set_fingerprint. */
  VkdNodeFn fingerprint;
  void* user_data;
} VkdNodeDecl;

typedef struct VkdPluginDesc {
  uint32_t struct_size; /* set by the host: how much the host can read */
  uint32_t abi_major;   /* set by the plugin: VKD_ABI_MAJOR it was built with (never moves in this struct) */
  uint32_t abi_minor;
  const char* name;     /* pack name, e.g. "loaders" */
  const char* version;
  const VkdNodeDecl* nodes;
  uint32_t node_count;
} VkdPluginDesc;

typedef VkdStatus (*VkdPluginEntryFn)(const VkdHost* host, VkdPluginDesc* out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* VKDREAM_PLUGIN_H */
