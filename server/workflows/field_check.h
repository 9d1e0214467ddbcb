// Checking one value against one InputField of a template (type, range, multiple, length, enum): shared by
// template loading (defaults) and request filling. Internal to vkdream_workflows.
#pragma once

#include <string>
#include <vector>

#include "workflows/workflow_template.h"

namespace vkdream::workflows {

// Returns the value as it goes into the prompt (an integral float for an integer field becomes an int).
// `dynamic_enum` (may be null) holds the run-time values of enum_from. Throws InputError at "input.<name>".
JsonValue check_field_value(const InputField& field, const JsonValue& value, const std::vector<std::string>* dynamic_enum);

// "string", "integer", "number", "boolean".
const char* field_type_name(FieldType type);

}  // namespace vkdream::workflows
