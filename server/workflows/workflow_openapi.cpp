#include "workflows/workflow_template.h"

#include <cctype>

namespace vkdream::workflows {
namespace {

JsonValue number_json(double d) {
  if (d == static_cast<double>(static_cast<long long>(d))) return JsonValue::integer(static_cast<long long>(d));
  return JsonValue::number(d);
}

const char* type_name(FieldType t) {
  switch (t) {
    case FieldType::String: return "string";
    case FieldType::Integer: return "integer";
    case FieldType::Number: return "number";
    case FieldType::Boolean: return "boolean";
  }
  return "string";
}

}  // namespace

JsonValue input_json_schema(const WorkflowTemplate& tmpl, const DynamicValues& dyn) {
  JsonValue properties = JsonValue::object();
  JsonValue required = JsonValue::array();
  for (const InputField& f : tmpl.fields) {
    JsonValue p = JsonValue::object();
    p.set("type", JsonValue::string(type_name(f.type)));
    if (!f.description.empty()) p.set("description", JsonValue::string(f.description));
    if (f.default_value) {
      p.set("default", *f.default_value);
    } else if (!f.default_from.empty() && f.default_from != "random" && dyn.default_value) {
      if (auto d = dyn.default_value(f.default_from)) p.set("default", *d);
    }
    if (f.minimum) p.set("minimum", number_json(*f.minimum));
    if (f.maximum) p.set("maximum", number_json(*f.maximum));
    if (f.multiple_of) p.set("multipleOf", number_json(*f.multiple_of));
    if (f.max_length) p.set("maxLength", JsonValue::integer(static_cast<long long>(*f.max_length)));
    if (!f.enum_values.empty() || !f.enum_from.empty()) {
      JsonValue e = JsonValue::array(f.enum_values);
      if (!f.enum_from.empty() && dyn.enum_values)
        for (const std::string& s : dyn.enum_values(f.enum_from)) e.push(JsonValue::string(s));
      p.set("enum", std::move(e));
    }
    if (f.required) required.push(JsonValue::string(f.name));
    properties.set(f.name, std::move(p));
  }
  JsonValue schema = JsonValue::object();
  schema.set("type", JsonValue::string("object"));
  schema.set("properties", std::move(properties));
  if (required.size()) schema.set("required", std::move(required));
  schema.set("additionalProperties", JsonValue::boolean(false));
  return schema;
}

JsonValue openapi_path_item(const WorkflowTemplate& tmpl, const DynamicValues& dyn,
                            const JsonValue& extra_request_properties, const JsonValue& responses) {
  JsonValue properties = JsonValue::object();
  properties.set("input", input_json_schema(tmpl, dyn));
  if (extra_request_properties.is_object())
    for (const auto& [k, v] : extra_request_properties.members()) properties.set(k, v);
  JsonValue body_schema = JsonValue::object();
  body_schema.set("type", JsonValue::string("object"));
  body_schema.set("properties", std::move(properties));
  body_schema.set("required", JsonValue::array({JsonValue::string("input")}));

  JsonValue json_content = JsonValue::object();
  json_content.set("schema", std::move(body_schema));
  JsonValue content = JsonValue::object();
  content.set("application/json", std::move(json_content));
  JsonValue request_body = JsonValue::object();
  request_body.set("required", JsonValue::boolean(true));
  request_body.set("content", std::move(content));

  JsonValue resp = responses;
  if (!resp.is_object()) {
    auto described = [](const char* text) {
      JsonValue r = JsonValue::object();
      r.set("description", JsonValue::string(text));
      return r;
    };
    resp = JsonValue::object();
    resp.set("200", described("The images (base64) with the filled input and the prompt that ran"));
    resp.set("202", described("Accepted: the result is delivered to the webhook"));
    resp.set("400", described("Invalid input: {\"error\", \"location\"}"));
  }

  std::string op_id = "workflow_";
  for (char c : tmpl.name) op_id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  JsonValue post = JsonValue::object();
  post.set("summary", JsonValue::string(tmpl.summary.empty() ? tmpl.name : tmpl.summary));
  if (!tmpl.description.empty()) post.set("description", JsonValue::string(tmpl.description));
  post.set("operationId", JsonValue::string(op_id));
  post.set("tags", JsonValue::array({JsonValue::string("workflows")}));
  post.set("requestBody", std::move(request_body));
  post.set("responses", std::move(resp));
  JsonValue item = JsonValue::object();
  item.set("post", std::move(post));
  return item;
}

}  // namespace vkdream::workflows
