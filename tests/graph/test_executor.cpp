// Execution: which nodes run, in which order, what the cache serves, events, errors and interrupts.
#include <cstdlib>

#include "graph/graph_test_util.h"

namespace vkdream::graph::test {
namespace {

// 1 -> 2 (add) -> 3 (output);  4 -> 5 (output);  6 unused.
const char* kChain = R"({
  "1": {"class_type": "TestConstInt", "inputs": {"value": 5}},
  "2": {"class_type": "TestAdd", "inputs": {"a": ["1", 0], "b": 10}},
  "3": {"class_type": "TestOutput", "inputs": {"value": ["2", 0]}},
  "4": {"class_type": "TestConstInt", "inputs": {"value": 7}},
  "5": {"class_type": "TestOutput", "inputs": {"value": ["4", 0], "label": "second"}},
  "6": {"class_type": "TestConstInt", "inputs": {"value": 99}}
})";

std::string with(const std::string& base, const std::string& from, const std::string& to) {
  std::string s = base;
  size_t p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

TEST(GraphExecutor, RunsOnlyAncestorsOfOutputsAndReportsUi) {
  Runtime rt;
  auto o = rt.run(kChain);
  ASSERT_TRUE(o.exec.success);
  EXPECT_EQ(sorted(o.exec.ran), sorted({"1", "2", "3", "4", "5"}));  // 6 feeds no output
  EXPECT_EQ(o.exec.ui_outputs.find("3")->dump(), R"({"value": [15], "label": ["out"]})");
  EXPECT_EQ(o.exec.ui_outputs.find("5")->dump(), R"({"value": [7], "label": ["second"]})");
  auto types = o.event_types();
  EXPECT_EQ(types.front(), "execution_start");
  EXPECT_EQ(types[1], "execution_cached");
  EXPECT_EQ(types[types.size() - 2], "execution_success");
  EXPECT_EQ(types.back(), "executing");  // {"node": null}
  EXPECT_TRUE(o.events.back().data.find("node")->is_null());
}

TEST(GraphExecutor, ComfyOrderRunsTheCheapestOutputChainDepthFirst) {
  Runtime rt;
  auto o = rt.run(kChain);
  // ExecutionList: outputs 3 then 5 are added; 1 and 4 are ready first, 1 blocks 2 which blocks output 3 ...
  // ComfyUI's pick prefers a ready output, then a node feeding an output, then one two steps away.
  std::vector<std::string> order;
  for (const auto& e : o.events)
    if (e.type == "executing" && e.data.find("node")->is_string()) order.push_back(e.data.find("node")->as_string());
  EXPECT_EQ(order, (std::vector<std::string>{"4", "5", "1", "2", "3"}));
}

TEST(GraphExecutor, SecondRunOfTheSamePromptRunsNothing) {
  Runtime rt;
  ASSERT_TRUE(rt.run(kChain).exec.success);
  auto o = rt.run(kChain);
  ASSERT_TRUE(o.exec.success);
  EXPECT_TRUE(o.exec.ran.empty());
  EXPECT_EQ(sorted(o.exec.cached), sorted({"1", "2", "3", "4", "5"}));  // 6 never ran
  // Cached output nodes still send their ui again.
  EXPECT_EQ(o.exec.ui_outputs.find("3")->dump(), R"({"value": [15], "label": ["out"]})");
  for (const auto& e : o.events) {
    if (e.type == "execution_cached") {
      EXPECT_EQ(e.data.find("nodes")->size(), 5u);
    }
  }
}

TEST(GraphExecutor, ChangingOneLiteralRerunsExactlyItsDescendants) {
  Runtime rt;
  ASSERT_TRUE(rt.run(kChain).exec.success);
  auto o = rt.run(with(kChain, "\"value\": 5", "\"value\": 6"));
  ASSERT_TRUE(o.exec.success);
  EXPECT_EQ(o.exec.ran, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(o.exec.ui_outputs.find("3")->dump(), R"({"value": [16], "label": ["out"]})");
  // Back to the first value: served from the cache again (entries are kept by signature, not by node id).
  auto back = rt.run(kChain);
  EXPECT_TRUE(back.exec.ran.empty());
}

TEST(GraphExecutor, ChangingAMiddleLiteralKeepsItsAncestorsCached) {
  Runtime rt;
  ASSERT_TRUE(rt.run(kChain).exec.success);
  auto o = rt.run(with(kChain, "\"b\": 10", "\"b\": 11"));
  EXPECT_EQ(o.exec.ran, (std::vector<std::string>{"2", "3"}));
}

TEST(GraphExecutor, RenumberedNodesWithTheSameInputsAreCacheHits) {
  Runtime rt;
  ASSERT_TRUE(rt.run(R"({"1": {"class_type": "TestConstInt", "inputs": {"value": 3}},
                         "2": {"class_type": "TestOutput", "inputs": {"value": ["1", 0]}}})").exec.success);
  auto o = rt.run(R"({"10": {"class_type": "TestConstInt", "inputs": {"value": 3}},
                      "20": {"class_type": "TestOutput", "inputs": {"value": ["10", 0]}}})");
  EXPECT_TRUE(o.exec.ran.empty());
}

TEST(GraphExecutor, FingerprintAndAlwaysChanged) {
  Runtime rt;
  const char* p = R"({"1": {"class_type": "TestFingerprint", "inputs": {"value": 3}},
                      "2": {"class_type": "TestOutput", "inputs": {"value": ["1", 0]}},
                      "3": {"class_type": "TestAlwaysChanged", "inputs": {"value": 4}},
                      "4": {"class_type": "TestOutput", "inputs": {"value": ["3", 0], "label": "b"}}})";
  setenv("VKDTEST_FINGERPRINT", "a", 1);
  EXPECT_EQ(sorted(rt.run(p).exec.ran), sorted({"1", "2", "3", "4"}));
  EXPECT_EQ(sorted(rt.run(p).exec.ran), sorted({"3", "4"}));  // always changed re-runs with its descendants
  setenv("VKDTEST_FINGERPRINT", "b", 1);
  EXPECT_EQ(sorted(rt.run(p).exec.ran), sorted({"1", "2", "3", "4"}));
  unsetenv("VKDTEST_FINGERPRINT");
}

TEST(GraphExecutor, ThrowingPluginBecomesExecutionErrorAndStopsThePrompt) {
  Runtime rt;
  auto o = rt.run(R"({"1": {"class_type": "TestThrow", "inputs": {"value": 0}},
                      "2": {"class_type": "TestOutput", "inputs": {"value": ["1", 0]}},
                      "3": {"class_type": "TestConstInt", "inputs": {"value": 1}},
                      "4": {"class_type": "TestOutput", "inputs": {"value": ["3", 0]}}})");
  EXPECT_FALSE(o.exec.success);
  EXPECT_FALSE(o.exec.interrupted);
  const JsonValue& e = o.exec.error;
  EXPECT_EQ(e.find("node_id")->as_string(), "1");
  EXPECT_EQ(e.find("node_type")->as_string(), "TestThrow");
  EXPECT_EQ(e.find("exception_message")->as_string(), "boom from TestThrow");
  EXPECT_EQ(e.find("exception_type")->as_string(), "RuntimeError");
  EXPECT_EQ(e.find("current_inputs")->dump(), R"({"value": [0]})");
  EXPECT_TRUE(e.find("traceback")->is_array());
  EXPECT_TRUE(e.find("current_outputs")->is_array());
  EXPECT_EQ(e.find("prompt_id")->as_string(), "p1");
  auto types = o.event_types();
  EXPECT_NE(std::find(types.begin(), types.end(), "execution_error"), types.end());
  EXPECT_EQ(std::find(types.begin(), types.end(), "execution_success"), types.end());
  // Node 2 (after the failure) never ran; the other output branch ran first (it was the cheaper one) or not.
  EXPECT_EQ(std::find(o.exec.ran.begin(), o.exec.ran.end(), "2"), o.exec.ran.end());

  auto v = rt.run(R"({"1": {"class_type": "TestThrow", "inputs": {"value": 1}},
                      "2": {"class_type": "TestOutput", "inputs": {"value": ["1", 0]}}})");
  EXPECT_EQ(v.exec.error.find("exception_type")->as_string(), "ValueError");
  EXPECT_EQ(v.exec.error.find("exception_message")->as_string(), "bad value 1");
}

TEST(GraphExecutor, ProgressEventsAndInterruptInsideANode) {
  Runtime rt;
  const char* p = R"({"1": {"class_type": "TestProgress", "inputs": {"steps": 4}},
                      "2": {"class_type": "TestOutput", "inputs": {"value": ["1", 0]}}})";
  auto o = rt.run(p);
  ASSERT_TRUE(o.exec.success);
  int progress = 0;
  for (const auto& e : o.events)
    if (e.type == "progress") {
      ++progress;
      EXPECT_EQ(e.data.find("max")->as_int(), 4);
      EXPECT_EQ(e.data.find("node")->as_string(), "1");
      EXPECT_EQ(e.data.find("value")->as_int(), progress);
    }
  EXPECT_EQ(progress, 4);

  Runtime rt2;
  auto i = rt2.run(p, [&](const ExecEvent& e) {
    if (e.type == "progress" && e.data.find("value")->as_int() == 2) rt2.executor->interrupt();
  });
  EXPECT_FALSE(i.exec.success);
  EXPECT_TRUE(i.exec.interrupted);
  EXPECT_EQ(i.exec.error.find("node_id")->as_string(), "1");
  auto types = i.event_types();
  EXPECT_NE(std::find(types.begin(), types.end(), "execution_interrupted"), types.end());
  // An interrupted node leaves nothing in the cache: the next run starts over (and the flag was cleared).
  auto again = rt2.run(p);
  EXPECT_TRUE(again.exec.success);
  EXPECT_EQ(sorted(again.exec.ran), sorted({"1", "2"}));
}

TEST(GraphExecutor, InterruptBetweenNodes) {
  Runtime rt;
  auto o = rt.run(kChain, [&](const ExecEvent& e) {
    if (e.type == "executing" && e.data.find("node")->is_string() && e.data.find("node")->as_string() == "5")
      rt.executor->interrupt();
  });
  EXPECT_TRUE(o.exec.interrupted);
  EXPECT_EQ(o.exec.error.find("node_id")->as_string(), "1");  // the next node to run after 5
  EXPECT_EQ(o.exec.ran, (std::vector<std::string>{"4", "5"}));
}

TEST(GraphExecutor, ObjectsFlowBetweenNodesAndTheCacheBudgetEvicts) {
  Runtime rt;
  rt.executor->cache().set_budget(5000);
  auto prompt = [](int value, int bytes) {
    return R"({"1": {"class_type": "TestMakeLatent", "inputs": {"value": )" + std::to_string(value) +
           R"(, "bytes": )" + std::to_string(bytes) + R"(}},
               "2": {"class_type": "TestLatentValue", "inputs": {"samples": ["1", 0]}},
               "3": {"class_type": "TestOutput", "inputs": {"value": ["2", 0]}}})";
  };
  auto a = rt.run(prompt(11, 3000));
  ASSERT_TRUE(a.exec.success);
  EXPECT_EQ(a.exec.ui_outputs.find("3")->dump(), R"({"value": [11], "label": ["out"]})");
  EXPECT_EQ(rt.run(prompt(11, 3000)).exec.ran.size(), 0u);
  // A second latent of 3000 bytes pushes the budget over: the least recently used one is evicted.
  auto b = rt.run(prompt(12, 3000));
  EXPECT_EQ(b.exec.ran.size(), 3u);
  EXPECT_GE(rt.executor->cache().evictions(), 1u);
  EXPECT_LE(rt.executor->cache().bytes(), 5000u);
  auto sigs = rt.executor->signatures(parse_prompt(prompt(11, 3000)));
  EXPECT_FALSE(rt.executor->cache().contains(sigs["1"]));  // the first latent was evicted
  EXPECT_TRUE(rt.executor->cache().contains(sigs["2"]));   // the small INT after it was not
  // Needing the evicted latent again re-runs its producer only.
  auto c = rt.run(R"({"1": {"class_type": "TestMakeLatent", "inputs": {"value": 11, "bytes": 3000}},
                      "2": {"class_type": "TestLatentValue", "inputs": {"samples": ["1", 0]}},
                      "3": {"class_type": "TestOutput", "inputs": {"value": ["2", 0], "label": "new"}}})");
  EXPECT_EQ(c.exec.ran, (std::vector<std::string>{"3"}));
}

TEST(GraphExecutor, ValuesOfEveryKindCrossTheAbi) {
  Runtime rt;
  auto o = rt.run(R"({"1": {"class_type": "TestFloatEcho", "inputs": {"x": "0.25", "flag": 1, "mode": "b", "text": 12}},
                      "2": {"class_type": "TestSeed", "inputs": {"seed": 18446744073709551615}},
                      "3": {"class_type": "TestOutput", "inputs": {"value": ["2", 0]}}})");
  ASSERT_TRUE(o.exec.success);
  EXPECT_EQ(o.exec.ui_outputs.find("3")->find("value")->items()[0].as_int(), Int128(INT64_MAX));
}

}  // namespace
}  // namespace vkdream::graph::test
