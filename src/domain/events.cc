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
  }
  return "ConfigSet";
}

std::optional<EventType> ParseEventType(std::string_view name) {
  for (EventType t : {EventType::kConfigSet, EventType::kConfigDeleted, EventType::kLeaseGranted,
                      EventType::kLeaseRevoked, EventType::kLeaseExpired, EventType::kSchemaSet,
                      EventType::kSchemaDeleted}) {
    if (name == EventTypeName(t)) return t;
  }
  return std::nullopt;
}

}  // namespace chronoconf
