#include "common/cpus.h"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace keyward {
namespace {

std::optional<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The tightest cpu.max from the process's cgroup up to the root (a parent's limit applies too).
std::optional<double> CgroupCpuLimit() {
  const auto cgroup = ReadFile("/proc/self/cgroup");
  if (!cgroup) return std::nullopt;
  // cgroup v2: the one line "0::/path".
  const auto at = cgroup->find("0::");
  if (at == std::string::npos) return std::nullopt;
  std::string relative = cgroup->substr(at + 3);
  relative = relative.substr(0, relative.find('\n'));
  std::optional<double> limit;
  for (std::filesystem::path dir = std::filesystem::path("/sys/fs/cgroup") / relative.substr(1);;
       dir = dir.parent_path()) {
    if (const auto text = ReadFile(dir / "cpu.max")) {
      if (const auto here = CpuMaxLimit(*text)) limit = std::min(limit.value_or(*here), *here);
    }
    if (dir == "/sys/fs/cgroup" || !dir.has_relative_path() || dir == dir.parent_path()) break;
  }
  return limit;
}

}  // namespace

std::optional<double> CpuMaxLimit(std::string_view cpu_max) {
  const auto space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view quota_text = cpu_max.substr(0, space);
  std::string_view period_text = cpu_max.substr(space + 1);
  while (!period_text.empty() && (period_text.back() == '\n' || period_text.back() == ' ')) {
    period_text.remove_suffix(1);
  }
  if (quota_text == "max") return std::nullopt;
  long long quota = 0;
  long long period = 0;
  const auto q = std::from_chars(quota_text.data(), quota_text.data() + quota_text.size(), quota);
  const auto p =
      std::from_chars(period_text.data(), period_text.data() + period_text.size(), period);
  if (q.ec != std::errc() || q.ptr != quota_text.data() + quota_text.size() ||
      p.ec != std::errc() || p.ptr != period_text.data() + period_text.size() || quota <= 0 ||
      period <= 0) {
    return std::nullopt;
  }
  return static_cast<double>(quota) / static_cast<double>(period);
}

UsableCpus CountUsableCpus() {
  int count = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string reason = fmt::format("{} core{}", count, count == 1 ? "" : "s");
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    count = std::max(1, CPU_COUNT(&set));
    reason = fmt::format("{} CPU{} in the affinity mask", count, count == 1 ? "" : "s");
  }
  if (const auto limit = CgroupCpuLimit()) {
    const int allowed = std::max(1, static_cast<int>(std::ceil(*limit)));
    reason += fmt::format(", cgroup cpu.max {:g}", *limit);
    count = std::min(count, allowed);
  }
  return {count, reason};
}

}  // namespace keyward
