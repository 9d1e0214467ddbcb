#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/engine_flags.h"

namespace vkdream::cli {

namespace {

graph::Engine* g_engine = nullptr;
void on_sigint(int) {
  if (g_engine) g_engine->interrupt();  // an atomic store: safe in a signal handler
}

std::string str_of(const graph::JsonValue* v) { return v && v->is_string() ? v->as_string() : ""; }

// One line per event on stderr, as ComfyUI's console shows them.
void print_event(const graph::ExecEvent& e, const graph::Prompt& prompt, bool quiet) {
  if (quiet) return;
  const graph::JsonValue& d = e.data;
  if (e.type == "execution_cached") {
    const graph::JsonValue* nodes = d.find("nodes");
    if (nodes && nodes->size()) std::fprintf(stderr, "cached: %s\n", nodes->dump().c_str());
  } else if (e.type == "executing") {
    const graph::JsonValue* node = d.find("node");
    if (node && node->is_string()) {
      const graph::PromptNode* n = prompt.find(node->as_string());
      std::fprintf(stderr, "executing %s (%s)\n", node->as_string().c_str(), n ? n->class_type.c_str() : "?");
    }
  } else if (e.type == "progress") {
    const graph::JsonValue* v = d.find("value");
    const graph::JsonValue* m = d.find("max");
    if (v && m) std::fprintf(stderr, "  step %s/%s\n", v->dump().c_str(), m->dump().c_str());
  } else if (e.type == "execution_success") {
    std::fprintf(stderr, "done\n");
  } else if (e.type == "execution_interrupted") {
    std::fprintf(stderr, "interrupted\n");
  } else if (e.type == "execution_error") {
    std::fprintf(stderr, "failed in node %s (%s): %s: %s\n", str_of(d.find("node_id")).c_str(),
                 str_of(d.find("node_type")).c_str(), str_of(d.find("exception_type")).c_str(),
                 str_of(d.find("exception_message")).c_str());
  }
}

}  // namespace

int run_command(int argc, char** argv) {
  EngineFlags f = parse_engine_flags(argc, argv, 2);
  if (f.help || !f.error.empty() || f.positional.size() != 1) {
    if (!f.error.empty()) std::fprintf(stderr, "vkdream run: %s\n", f.error.c_str());
    std::fprintf(stderr,
                 "usage: vkdream run PROMPT.json [--models DIR] [--input DIR] [--out DIR] [--plugins DIR]... [-q]\n"
                 "Runs an API-format prompt (ComfyUI \"Save (API format)\", or a /prompt body {\"prompt\": ...}).\n"
                 "--models holds checkpoints/, loras/, vae/, embeddings/ (default ./models); LoadImage reads\n"
                 "--input (default ./input); SaveImage writes --out (default ./output). Exit status: 0 done,\n"
                 "1 invalid prompt (ComfyUI's error JSON on stdout), 2 a node failed, 3 interrupted.\n");
    return f.help ? 0 : 2;
  }
  std::ifstream in(f.positional[0], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "vkdream run: cannot read %s\n", f.positional[0].c_str());
    return 2;
  }
  std::stringstream buf;
  buf << in.rdbuf();

  graph::JsonValue body;
  try {
    body = graph::parse_json(buf.str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vkdream run: %s is not JSON: %s\n", f.positional[0].c_str(), e.what());
    return 1;
  }
  const graph::JsonValue* graph_json = &body;
  if (const graph::JsonValue* p = body.find("prompt"); p && p->is_object()) graph_json = p;

  graph::Engine engine(std::move(f.options));
  for (const auto& e : engine.plugin_errors()) std::fprintf(stderr, "plugin: %s\n", e.c_str());

  graph::ValidationResult v;
  try {
    v = engine.validate(*graph_json);
  } catch (const graph::PromptError& e) {
    graph::JsonValue err = graph::JsonValue::object();
    err.set("error", graph::make_error(e.type(), e.what(), e.details()));
    err.set("node_errors", graph::JsonValue::object());
    std::printf("%s\n", err.dump().c_str());
    return 1;
  }
  if (!v.ok) {
    std::printf("%s\n", v.error_response().dump().c_str());
    return 1;
  }
  if (v.node_errors.size()) std::fprintf(stderr, "node errors (other outputs still run): %s\n", v.node_errors.dump().c_str());

  g_engine = &engine;
  std::signal(SIGINT, on_sigint);
  graph::ExecResult r = engine.execute(v, "cli", [&](const graph::ExecEvent& e) { print_event(e, v.prompt, f.quiet); });
  std::signal(SIGINT, SIG_DFL);
  g_engine = nullptr;

  graph::JsonValue out = graph::JsonValue::object();
  out.set("status", graph::JsonValue::string(r.success ? "success" : r.interrupted ? "interrupted" : "error"));
  out.set("outputs", r.ui_outputs);
  if (!r.success) out.set("error", r.error);
  std::printf("%s\n", out.dump().c_str());
  return r.success ? 0 : r.interrupted ? 3 : 2;
}

}  // namespace vkdream::cli
