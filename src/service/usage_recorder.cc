#include "service/usage_recorder.h"

// Placeholder bodies (issue 16): the hot-path helper replaces them.
namespace keyward {

void UsageSlot::Count(UsageOutcome /*outcome*/, UnixSeconds /*now*/) noexcept {}
bool UsageSlot::WantsClient(UnixSeconds /*now*/) const noexcept { return false; }
void UsageSlot::SetClient(std::string_view /*address*/, std::string_view /*user_agent*/,
                          UnixSeconds /*now*/) {}
void UsageSlot::Record(UsageOutcome outcome, UnixSeconds now, std::string_view address,
                       std::string_view user_agent) {
  Count(outcome, now);
  if (WantsClient(now)) SetClient(address, user_agent, now);
}
bool UsageSlot::TakeInto(std::vector<UsageDelta>& /*out*/) { return false; }

std::shared_ptr<UsageSlot> UsageRecorder::SlotFor(std::string_view /*hash*/) { return nullptr; }
std::vector<UsageDelta> UsageRecorder::Take() { return {}; }
std::size_t UsageRecorder::size() const { return 0; }
UsageCounts UsageRecorder::totals() const { return {}; }

}  // namespace keyward
