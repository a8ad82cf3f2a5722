#include "domain/events.h"

namespace chronoconf {

const char* EventTypeName(EventType type) {
  switch (type) {
    case EventType::kConfigSet: return "ConfigSet";
    case EventType::kConfigDeleted: return "ConfigDeleted";
    case EventType::kLeaseGranted: return "LeaseGranted";
    case EventType::kLeaseRevoked: return "LeaseRevoked";
    case EventType::kLeaseExpired: return "LeaseExpired";
    case EventType::kSchemaSet: return "SchemaSet";
    case EventType::kSchemaDeleted: return "SchemaDeleted";
    case EventType::kPolicySet: return "PolicySet";
    case EventType::kPolicyDeleted: return "PolicyDeleted";
    case EventType::kChangeProposed: return "ChangeProposed";
    case EventType::kChangeApproved: return "ChangeApproved";
    case EventType::kChangeRejected: return "ChangeRejected";
    case EventType::kChangeApplied: return "ChangeApplied";
  }
  return "ConfigSet";
}

std::optional<EventType> ParseEventType(std::string_view name) {
  for (int t = 0; t <= static_cast<int>(kLastEventType); ++t) {
    if (name == EventTypeName(static_cast<EventType>(t))) return static_cast<EventType>(t);
  }
  return std::nullopt;
}

}  // namespace chronoconf
