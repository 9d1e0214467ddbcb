// Prompt parsing limits, Python-compatible coercion and formatting, and validation error JSON with the
// test-only nodes (the ComfyUI schemas are covered by test_validation_goldens.cpp).
#include <cmath>

#include "graph/graph_test_util.h"
#include "graph/py_coerce.h"

namespace vkdream::graph::test {
namespace {

TEST(PromptParse, LinksLiteralsAndMeta) {
  Prompt p = parse_prompt(R"({"3": {"class_type": "KSampler", "inputs": {"seed": 18446744073709551616,
      "model": ["4", 0], "text": {"__value__": ["a", "b"]}}, "_meta": {"title": "K"}}})");
  ASSERT_EQ(p.nodes.size(), 1u);
  const PromptNode* n = p.find("3");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->class_type, "KSampler");
  EXPECT_EQ(n->inputs.find("seed")->py_str(), "18446744073709551616");
  EXPECT_TRUE(is_link(*n->inputs.find("model")));
  EXPECT_EQ(n->meta.find("title")->as_string(), "K");
}

TEST(PromptParse, Limits) {
  std::string deep = "{\"1\": {\"class_type\": \"X\", \"inputs\": {\"a\": ";
  for (int i = 0; i < 70; ++i) deep += "[";
  for (int i = 0; i < 70; ++i) deep += "]";
  deep += "}}}";
  try {
    parse_prompt(deep);
    FAIL() << "depth not enforced";
  } catch (const PromptError& e) {
    EXPECT_EQ(e.type(), "invalid_prompt");
    EXPECT_NE(std::string(e.what()).find("nesting depth exceeds the limit of 64"), std::string::npos) << e.what();
  }
  std::string many = "{";
  for (int i = 0; i < 1001; ++i) many += (i ? "," : "") + std::string("\"") + std::to_string(i) + "\": {}";
  many += "}";
  EXPECT_THROW(parse_prompt(many), PromptError);
  std::string big = "{\"1\": {\"class_type\": \"X\", \"inputs\": {\"t\": \"" + std::string((1 << 20) + 1, 'a') + "\"}}}";
  try {
    parse_prompt(big);
    FAIL() << "string limit not enforced";
  } catch (const PromptError& e) {
    EXPECT_NE(std::string(e.what()).find("1048576"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_prompt("[1, 2]"), PromptError);
  EXPECT_THROW(parse_prompt("{\"1\": "), PromptError);
  EXPECT_THROW(parse_prompt("{} x"), PromptError);
}

// Found by scripts/fuzz (fuzz_prompt_json): a literal that starts like null, true or false but is not one escaped
// the parser as simdjson's own exception (a 500 on the server) instead of an invalid_prompt error.
TEST(PromptParse, BadLiteralsAreInvalidPrompts) {
  for (const char* literal : {"nnnnnnn6", "nul", "nullx", "tru", "truex", "fals", "n", "t", "f"}) {
    const std::string text = std::string("{\"3\": {\"class_type\": \"KSampler\", \"inputs\": {\"steps\": ") + literal + "}}}";
    try {
      parse_prompt(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const PromptError& e) {
      EXPECT_EQ(e.type(), "invalid_prompt") << literal;
    }
  }
  EXPECT_EQ(parse_prompt("{\"3\": {\"inputs\": {\"a\": null, \"b\": true, \"c\": false}}}").nodes.size(), 1u);
}

TEST(PyFormat, FloatReprAndStrings) {
  EXPECT_EQ(py_float_repr(1000.0), "1000.0");
  EXPECT_EQ(py_float_repr(-0.1), "-0.1");
  EXPECT_EQ(py_float_repr(1.01), "1.01");
  EXPECT_EQ(py_float_repr(1e16), "1e+16");
  EXPECT_EQ(py_float_repr(1.5e-7), "1.5e-07");
  EXPECT_EQ(py_float_repr(0.0001), "0.0001");
  EXPECT_EQ(py_float_repr(123456789012345.6), "123456789012345.6");
  EXPECT_EQ(py_string_repr("it's"), "\"it's\"");
  EXPECT_EQ(py_string_repr("a\nb"), "'a\\nb'");
  EXPECT_EQ(parse_json(R"(["a", 1, true, null, {"k": 1.0}])").py_str(), "['a', 1, True, None, {'k': 1.0}]");
}

TEST(PyCoerce, IntFloatLikePython) {
  PyCoerceError err;
  EXPECT_EQ(py_int(JsonValue::string(" 8 "), err)->as_int(), 8);
  EXPECT_EQ(py_int(JsonValue::string("1_000"), err)->as_int(), 1000);
  EXPECT_EQ(py_int(JsonValue::number(6.9), err)->as_int(), 6);
  EXPECT_EQ(py_int(JsonValue::number(-6.9), err)->as_int(), -6);
  EXPECT_EQ(py_int(JsonValue::boolean(true), err)->as_int(), 1);
  EXPECT_FALSE(py_int(JsonValue::string("5.0"), err));
  EXPECT_EQ(err.message, "invalid literal for int() with base 10: '5.0'");
  EXPECT_FALSE(py_int(JsonValue::null(), err));
  EXPECT_EQ(err.message, "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'");
  EXPECT_EQ(py_float(JsonValue::string("1.5"), err)->as_float(), 1.5);
  EXPECT_EQ(py_float(JsonValue::string("1e3"), err)->as_float(), 1000.0);
  EXPECT_TRUE(std::isinf(py_float(JsonValue::string("-Infinity"), err)->as_float()));
  EXPECT_FALSE(py_float(JsonValue::string("abc"), err));
  EXPECT_EQ(err.message, "could not convert string to float: 'abc'");
  EXPECT_FALSE(py_float(JsonValue::string("1e"), err));
  EXPECT_EQ(py_str_value(JsonValue::number(2.0)).as_string(), "2.0");
  EXPECT_FALSE(py_bool_value(JsonValue::string("")).as_bool());
  EXPECT_TRUE(py_bool_value(JsonValue::string("false")).as_bool());
}

struct ValidateFixture : ::testing::Test {
  Runtime rt;
  JsonValue first_error(const ValidationResult& r, const std::string& node) {
    const JsonValue* ne = r.node_errors.find(node);
    if (!ne) return JsonValue::null();
    return ne->find("errors")->items()[0];
  }
};

TEST_F(ValidateFixture, RangeAndTypeErrorsHaveComfyJson) {
  auto r = rt.validate(R"({"1": {"class_type": "TestConstInt", "inputs": {"value": 2000000}},
                           "2": {"class_type": "TestOutput", "inputs": {"value": ["1", 0]}}})");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.http_status(), 400);
  EXPECT_EQ(r.error_response().dump(),
            R"({"error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation", )"
            R"("details": "", "extra_info": {}}, "node_errors": {"1": {"errors": [{"type": "value_bigger_than_max", )"
            R"("message": "Value 2000000 bigger than max of 1000000", "details": "value", "extra_info": )"
            R"({"input_name": "value", "input_config": ["INT", {"default": 0, "min": -1000000, "max": 1000000}], )"
            R"("received_value": 2000000}}], "dependent_outputs": ["2"], "class_type": "TestConstInt"}}})");

  auto f = rt.validate(R"({"1": {"class_type": "TestFloatEcho", "inputs": {"x": "nope", "flag": true, "mode": "z", "text": ""}},
                           "2": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": 1}},
                           "3": {"class_type": "TestOutput", "inputs": {"value": ["2", 0]}}})");
  // 2.a receives a FLOAT into an INT: the mismatch is reported on 2 and 1 is never visited.
  EXPECT_EQ(first_error(f, "2").find("type")->as_string(), "return_type_mismatch");
  EXPECT_EQ(first_error(f, "2").find("details")->as_string(), "a, received_type(FLOAT) mismatch input_type(INT)");
  EXPECT_EQ(f.node_errors.find("1"), nullptr);
}

TEST_F(ValidateFixture, CustomValidationAndCombos) {
  auto r = rt.validate(R"({"1": {"class_type": "TestValidated", "inputs": {"name": "bad", "n": 3}},
                           "2": {"class_type": "TestOutput", "inputs": {"value": ["1", 0]}}})");
  JsonValue e = first_error(r, "1");
  EXPECT_EQ(e.find("type")->as_string(), "custom_validation_failed");
  EXPECT_EQ(e.find("details")->as_string(), "name - Invalid name: bad");
  EXPECT_TRUE(rt.validate(R"({"1": {"class_type": "TestValidated", "inputs": {"name": "ok", "n": 3}},
                              "2": {"class_type": "TestOutput", "inputs": {"value": ["1", 0]}}})").ok);
}

TEST_F(ValidateFixture, CyclesFailWithoutNodeErrors) {
  auto r = rt.validate(R"({"1": {"class_type": "TestAdd", "inputs": {"a": ["2", 0], "b": 1}},
                           "2": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": 1}},
                           "3": {"class_type": "TestOutput", "inputs": {"value": ["2", 0]}}})");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.find("type")->as_string(), "prompt_outputs_failed_validation");
  EXPECT_EQ(r.error.find("details")->as_string(), "");
  EXPECT_EQ(r.node_errors.size(), 0u);
  // A node in the cycle with an error of its own still reports it.
  auto r2 = rt.validate(R"({"1": {"class_type": "TestAdd", "inputs": {"a": ["2", 0], "b": 1}},
                            "2": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": 9999999}},
                            "3": {"class_type": "TestOutput", "inputs": {"value": ["2", 0]}}})");
  EXPECT_EQ(first_error(r2, "2").find("type")->as_string(), "value_bigger_than_max");
}

TEST_F(ValidateFixture, DanglingAndOutOfRangeLinks) {
  auto r = rt.validate(R"({"1": {"class_type": "TestAdd", "inputs": {"a": ["9", 0], "b": 1}},
                           "2": {"class_type": "TestOutput", "inputs": {"value": ["1", 0]}}})");
  JsonValue e = first_error(r, "1");  // under the linked node, with the downstream input's name
  EXPECT_EQ(e.find("type")->as_string(), "exception_during_inner_validation");
  EXPECT_EQ(e.find("details")->as_string(), "'9'");
  EXPECT_EQ(e.find("extra_info")->find("input_name")->as_string(), "value");
  EXPECT_EQ(e.find("extra_info")->find("exception_type")->as_string(), "KeyError");
  EXPECT_EQ(e.find("extra_info")->find("linked_node")->dump(), R"(["1", 0])");

  auto s = rt.validate(R"({"1": {"class_type": "TestConstInt", "inputs": {"value": 1}},
                           "2": {"class_type": "TestOutput", "inputs": {"value": ["1", 5]}}})");
  JsonValue e2 = first_error(s, "2");
  EXPECT_EQ(e2.find("type")->as_string(), "exception_during_validation");
  EXPECT_EQ(e2.find("details")->as_string(), "tuple index out of range");
  EXPECT_EQ(s.error.find("details")->as_string(), "Exception when validating node: tuple index out of range");
}

TEST_F(ValidateFixture, TopLevelErrors) {
  EXPECT_EQ(rt.validate(R"({"1": {"inputs": {}}})").error.find("message")->as_string(),
            "Cannot execute because a node is missing the class_type property.");
  EXPECT_EQ(rt.validate(R"({"1": {"class_type": "Nope", "inputs": {}}})").error.find("details")->as_string(),
            "Node ID '#1'");
  EXPECT_EQ(rt.validate(R"({"1": {"class_type": "TestConstInt", "inputs": {"value": 1}}})").error.find("type")->as_string(),
            "prompt_no_outputs");
}

TEST_F(ValidateFixture, CoercedValuesReachTheExecutor) {
  auto r = rt.validate(R"({"1": {"class_type": "TestConstInt", "inputs": {"value": "41"}},
                           "2": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": 1.9}},
                           "3": {"class_type": "TestOutput", "inputs": {"value": ["2", 0], "label": {"__value__": 5}}}})");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.prompt.find("1")->inputs.find("value")->dump(), "41");
  EXPECT_EQ(r.prompt.find("2")->inputs.find("b")->dump(), "1");
  EXPECT_EQ(r.prompt.find("3")->inputs.find("label")->dump(), "\"5\"");
  auto o = rt.executor->execute(r.prompt, r.good_outputs, "p");
  EXPECT_EQ(o.ui_outputs.find("3")->dump(), R"({"value": [42], "label": ["5"]})");
}

}  // namespace
}  // namespace vkdream::graph::test
