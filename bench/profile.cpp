#include "bench/profile.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vkdream::bench {

namespace {
using Rows = std::vector<std::pair<std::string, std::pair<double, int>>>;  // key, (ms, calls)

// The stream's dispatch times summed by key(timing), largest first; `total` gets the sum of all.
template <class Key>
Rows totals(const vk::Stream& s, Key key, double& total) {
  std::map<std::string, std::pair<double, int>> by_key;
  total = 0;
  for (const auto& t : s.timings()) {
    auto& e = by_key[key(t)];
    e.first += t.ms;
    e.second += 1;
    total += t.ms;
  }
  Rows rows(by_key.begin(), by_key.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  return rows;
}
}  // namespace

void print_profile(const vk::Stream& s, const char* stage, size_t max_rows, bool in_order) {
  double total = 0;
  const Rows rows = totals(s, [](const vk::OpTiming& t) { return t.label; }, total);
  std::printf("  %s: GPU time by shader (%.0f ms in %zu dispatches)\n", stage, total, s.timings().size());
  for (size_t i = 0; i < rows.size() && i < max_rows; ++i)
    std::printf("    %-40s %10.1f ms %5.1f%% %6d calls\n", rows[i].first.c_str(), rows[i].second.first,
                100 * rows[i].second.first / std::max(total, 1e-9), rows[i].second.second);
  if (!in_order) return;
  std::printf("  %s: dispatches in order\n", stage);
  for (const auto& t : s.timings()) std::printf("    %-40s %10.2f ms\n", t.label.c_str(), t.ms);
}

void print_profile_shapes(const vk::Stream& s, const char* stage, size_t max_rows) {
  double total = 0;
  const Rows rows = totals(s, [](const vk::OpTiming& t) {
    char key[192];
    std::snprintf(key, sizeof key, "%-34s %5ux%-5ux%-4u %8u %8u %8u %8u", t.label.c_str(), t.groups[0], t.groups[1],
                  t.groups[2], t.push[0], t.push[1], t.push[2], t.push[3]);
    return std::string(key);
  }, total);
  std::printf("  %s: GPU time by shader and shape (%.0f ms in %zu dispatches)\n", stage, total, s.timings().size());
  std::printf("    %-34s %-16s %8s %8s %8s %8s %10s %6s %6s\n", "shader", "groups", "push[0]", "push[1]", "push[2]",
              "push[3]", "ms", "%", "calls");
  for (size_t i = 0; i < rows.size() && i < max_rows; ++i)
    std::printf("    %s %10.1f %5.1f%% %6d\n", rows[i].first.c_str(), rows[i].second.first,
                100 * rows[i].second.first / std::max(total, 1e-9), rows[i].second.second);
}

}  // namespace vkdream::bench
