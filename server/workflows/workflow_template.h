// Workflow templates (api.md "Convenience workflows"): a JSON file holding an API-format prompt with
// placeholders and the schema of its `input` object. One file = one endpoint, `/workflow/<relative path
// without .json>`. File format:
//   {"summary": "...", "description": "...",
//    "input": {"<name>": {"type": "string"|"integer"|"number"|"boolean", "description": "...",
//                         "required": true, "default": <value>, "default_from": "random"|"<source>",
//                         "minimum": n, "maximum": n, "multipleOf": n, "maxLength": n,
//                         "enum": [...], "enum_from": "<source>"}, ...},
//    "prompt": {"3": {"class_type": "KSampler", "inputs": {"seed": "{{seed}}", ...}}, ...}}
// A string that is exactly "{{name}}" anywhere in "prompt" is replaced by the input's value (any JSON type).
// "<source>" names a list the server knows at run time ("samplers", "schedulers", "checkpoints", ...):
// enum_from takes its values from DynamicValues::enum_values, default_from its default from
// DynamicValues::default_value; default_from "random" draws an integer in [minimum, maximum].
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "graph/json_value.h"

namespace vkdream::workflows {

using graph::JsonValue;

// A template file that cannot be used (bad JSON, unknown type, placeholder without an input, ...).
class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A request `input` that does not fit the schema: what() is the 400 message, location() "input" or
// "input.<name>".
class InputError : public std::runtime_error {
 public:
  InputError(const std::string& msg, std::string location)
      : std::runtime_error(msg), location_(std::move(location)) {}
  const std::string& location() const { return location_; }

 private:
  std::string location_;
};

enum class FieldType { String, Integer, Number, Boolean };

struct InputField {
  std::string name;
  FieldType type = FieldType::String;
  std::string description;
  bool required = false;
  std::optional<JsonValue> default_value;
  std::string default_from;          // "" | "random" | a source name
  std::optional<double> minimum, maximum, multiple_of;
  std::optional<size_t> max_length;  // strings, in bytes
  std::vector<JsonValue> enum_values;  // static enum (empty: none)
  std::string enum_from;             // dynamic enum source ("" none)
};

// Run-time values the server supplies: the enum lists and defaults that depend on installed models and
// the sampler registry. Either may be empty; a missing source is an empty enum / no default.
struct DynamicValues {
  std::function<std::vector<std::string>(std::string_view source)> enum_values;
  std::function<std::optional<JsonValue>(std::string_view source)> default_value;
  // Source of default_from "random" draws (tests pin it); empty: std::random_device.
  std::function<uint64_t()> random_u64;
};

struct WorkflowTemplate {
  std::string name;       // "sd1.5/txt2img" (relative path without .json, '/' separated)
  std::string endpoint;   // "/workflow/sd1.5/txt2img"
  std::string file;       // where it was loaded from
  std::string summary, description;
  std::vector<InputField> fields;  // in file order
  JsonValue prompt;                // with placeholders
};

// Parses one template from JSON text; `name` becomes the endpoint name. Throws TemplateError.
WorkflowTemplate parse_workflow_template(std::string_view json_text, const std::string& name,
                                         const std::string& file = "");

struct LoadedWorkflows {
  std::vector<WorkflowTemplate> templates;  // sorted by name
  std::vector<std::string> errors;          // "<file>: <why>", one per file that was skipped
};

// Loads every *.json file under `dir` (recursively, symlinked folders not followed). A missing `dir`
// gives no templates and one error.
LoadedWorkflows load_workflow_dir(const std::filesystem::path& dir);

// The template for `endpoint` ("/workflow/sd1.5/txt2img"), or nullptr.
const WorkflowTemplate* find_workflow(const LoadedWorkflows& loaded, std::string_view endpoint);

struct FilledWorkflow {
  JsonValue input;   // the request input with every default filled (seed included), in schema order
  JsonValue prompt;  // the API-format prompt, placeholders replaced
};

// Validates `input` (must be an object; unknown names are refused) against the schema, fills defaults
// and the prompt. Throws InputError with a clear message for the 400 answer.
FilledWorkflow fill_workflow(const WorkflowTemplate& tmpl, const JsonValue& input, const DynamicValues& dyn);

// The JSON Schema (OpenAPI 3.0 flavour) of the template's `input` object, dynamic enums and defaults
// resolved through `dyn`.
JsonValue input_json_schema(const WorkflowTemplate& tmpl, const DynamicValues& dyn);

// The OpenAPI path item for the endpoint: {"post": {summary, description, operationId, requestBody with
// {"input": <input_json_schema>, ...extra_request_properties}, responses}}. `extra_request_properties`
// (an object, may be null) holds the /prompt fields the server accepts besides input (id, webhook_v2,
// convert_output, ...); `responses` (an object, may be null) replaces the default {"200": ...}.
JsonValue openapi_path_item(const WorkflowTemplate& tmpl, const DynamicValues& dyn,
                            const JsonValue& extra_request_properties = JsonValue(),
                            const JsonValue& responses = JsonValue());

}  // namespace vkdream::workflows
