#include "workflows/workflow_template.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "workflows/field_check.h"

namespace vkdream::workflows {
namespace {

const std::set<std::string> kFieldKeys = {"type",    "description", "required",   "default", "default_from", "minimum",
                                          "maximum", "multipleOf",  "maxLength", "enum",    "enum_from"};

std::optional<double> number_of(const JsonValue& v, const std::string& where) {
  if (v.is_int() && !v.int_overflow()) return static_cast<double>(v.as_int());
  if (v.is_float()) return v.as_float();
  throw TemplateError(where + " must be a number");
}

InputField parse_field(const std::string& name, const JsonValue& spec) {
  const std::string where = "input." + name;
  if (!spec.is_object()) throw TemplateError(where + " must be an object");
  for (const auto& [key, _] : spec.members())
    if (!kFieldKeys.count(key)) throw TemplateError(where + ": unknown key '" + key + "'");
  InputField f;
  f.name = name;
  const JsonValue* type = spec.find("type");
  if (!type || !type->is_string()) throw TemplateError(where + ".type is required");
  const std::string& t = type->as_string();
  if (t == "string") f.type = FieldType::String;
  else if (t == "integer") f.type = FieldType::Integer;
  else if (t == "number") f.type = FieldType::Number;
  else if (t == "boolean") f.type = FieldType::Boolean;
  else throw TemplateError(where + ".type must be string, integer, number or boolean (got '" + t + "')");
  if (const JsonValue* d = spec.find("description")) {
    if (!d->is_string()) throw TemplateError(where + ".description must be a string");
    f.description = d->as_string();
  }
  if (const JsonValue* r = spec.find("required")) {
    if (!r->is_bool()) throw TemplateError(where + ".required must be true or false");
    f.required = r->as_bool();
  }
  if (const JsonValue* v = spec.find("minimum")) f.minimum = number_of(*v, where + ".minimum");
  if (const JsonValue* v = spec.find("maximum")) f.maximum = number_of(*v, where + ".maximum");
  if (const JsonValue* v = spec.find("multipleOf")) f.multiple_of = number_of(*v, where + ".multipleOf");
  if (const JsonValue* v = spec.find("maxLength")) {
    if (!v->is_int() || v->as_int() < 0) throw TemplateError(where + ".maxLength must be a non-negative integer");
    f.max_length = static_cast<size_t>(v->as_int());
  }
  if (const JsonValue* v = spec.find("enum")) {
    if (!v->is_array() || v->items().empty()) throw TemplateError(where + ".enum must be a non-empty array");
    f.enum_values = v->items();
  }
  if (const JsonValue* v = spec.find("enum_from")) {
    if (!v->is_string() || v->as_string().empty()) throw TemplateError(where + ".enum_from must be a source name");
    f.enum_from = v->as_string();
  }
  if (const JsonValue* v = spec.find("default_from")) {
    if (!v->is_string() || v->as_string().empty()) throw TemplateError(where + ".default_from must be a source name");
    f.default_from = v->as_string();
    if (f.default_from == "random" && f.type != FieldType::Integer)
      throw TemplateError(where + ": default_from \"random\" needs an integer field");
  }
  if (const JsonValue* v = spec.find("default")) {
    if (v->is_null()) throw TemplateError(where + ".default must not be null");
    // The default must satisfy the schema itself (run-time enums are checked per request).
    InputField check = f;
    if (!check.enum_from.empty()) check.enum_values.clear();
    try {
      f.default_value = check_field_value(check, *v, nullptr);
    } catch (const InputError& e) {
      throw TemplateError(std::string("default of ") + e.what());
    }
  }
  if (f.required && (f.default_value || !f.default_from.empty()))
    throw TemplateError(where + " is required and has a default");
  if (!f.required && !f.default_value && f.default_from.empty())
    throw TemplateError(where + " is optional but has no default or default_from");
  return f;
}

// "{{name}}" -> "name", else "".
std::string placeholder_name(const JsonValue& v) {
  if (!v.is_string()) return "";
  const std::string& s = v.as_string();
  if (s.size() < 5 || s.compare(0, 2, "{{") != 0 || s.compare(s.size() - 2, 2, "}}") != 0) return "";
  return s.substr(2, s.size() - 4);
}

void collect_placeholders(const JsonValue& v, std::set<std::string>& out) {
  if (auto name = placeholder_name(v); !name.empty()) out.insert(name);
  if (v.is_array())
    for (const JsonValue& item : v.items()) collect_placeholders(item, out);
  if (v.is_object())
    for (const auto& m : v.members()) collect_placeholders(m.second, out);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw TemplateError("cannot read the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

WorkflowTemplate parse_workflow_template(std::string_view json_text, const std::string& name, const std::string& file) {
  JsonValue root;
  try {
    root = graph::parse_json(json_text);
  } catch (const graph::JsonParseError& e) {
    throw TemplateError(std::string("invalid JSON: ") + e.what());
  }
  if (!root.is_object()) throw TemplateError("a template must be a JSON object");
  for (const auto& [key, _] : root.members())
    if (key != "summary" && key != "description" && key != "input" && key != "prompt")
      throw TemplateError("unknown top-level key '" + key + "'");
  WorkflowTemplate t;
  t.name = name;
  t.endpoint = "/workflow/" + name;
  t.file = file;
  if (const JsonValue* s = root.find("summary"); s && s->is_string()) t.summary = s->as_string();
  if (const JsonValue* d = root.find("description"); d && d->is_string()) t.description = d->as_string();
  const JsonValue* input = root.find("input");
  if (!input || !input->is_object()) throw TemplateError("\"input\" (the input schema) must be an object");
  for (const auto& [field_name, spec] : input->members()) {
    const std::string& name = field_name;  // lambdas cannot capture a structured binding in clang 14
    if (std::any_of(t.fields.begin(), t.fields.end(), [&](const InputField& f) { return f.name == name; }))
      throw TemplateError("input." + field_name + " is declared twice");
    t.fields.push_back(parse_field(field_name, spec));
  }
  const JsonValue* prompt = root.find("prompt");
  if (!prompt || !prompt->is_object() || prompt->size() == 0)
    throw TemplateError("\"prompt\" (the API-format prompt) must be a non-empty object");
  for (const auto& [id, node] : prompt->members())
    if (!node.is_object() || !node.find("class_type") || !node.find("inputs"))
      throw TemplateError("prompt." + id + " must be a node with \"class_type\" and \"inputs\"");
  t.prompt = *prompt;
  std::set<std::string> used;
  collect_placeholders(t.prompt, used);
  for (const std::string& p : used)
    if (std::none_of(t.fields.begin(), t.fields.end(), [&](const InputField& f) { return f.name == p; }))
      throw TemplateError("placeholder {{" + p + "}} has no input of that name");
  for (const InputField& f : t.fields)
    if (!used.count(f.name)) throw TemplateError("input." + f.name + " is not used in the prompt (no {{" + f.name + "}})");
  return t;
}

LoadedWorkflows load_workflow_dir(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  LoadedWorkflows out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    out.errors.push_back(dir.string() + ": not a directory");
    return out;
  }
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".json") files.push_back(it->path());
  }
  if (ec) out.errors.push_back(dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const fs::path& p : files) {
    fs::path rel = p.lexically_relative(dir);
    rel.replace_extension();
    const std::string name = rel.generic_string();
    try {
      out.templates.push_back(parse_workflow_template(read_file(p), name, p.string()));
    } catch (const TemplateError& e) {
      out.errors.push_back(p.string() + ": " + e.what());
    }
  }
  std::sort(out.templates.begin(), out.templates.end(),
            [](const WorkflowTemplate& a, const WorkflowTemplate& b) { return a.name < b.name; });
  return out;
}

const WorkflowTemplate* find_workflow(const LoadedWorkflows& loaded, std::string_view endpoint) {
  for (const WorkflowTemplate& t : loaded.templates)
    if (t.endpoint == endpoint) return &t;
  return nullptr;
}

}  // namespace vkdream::workflows
