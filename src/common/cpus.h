// How many CPUs this process may use: the CPUs of its affinity mask (taskset, a container's
// cpuset), further limited by a cgroup v2 `cpu.max` quota (a container's CPU limit), at least 1.
// std::thread::hardware_concurrency() counts every core of the machine instead.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace keyward {

struct UsableCpus {
  int count = 1;
  std::string reason;  // for the start-up line: "2 CPUs in the affinity mask, cpu.max 1.5"
};

UsableCpus CountUsableCpus();

// The CPUs a cgroup v2 `cpu.max` file ("<quota> <period>" or "max <period>") allows, as a
// fraction (CountUsableCpus rounds it up); nullopt when it sets no limit or cannot be read as one.
std::optional<double> CpuMaxLimit(std::string_view cpu_max);

}  // namespace keyward
