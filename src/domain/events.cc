#include "domain/events.h"

namespace chronoconf {

const char* EventTypeName(EventType type) {
  return type == EventType::kConfigSet ? "ConfigSet" : "ConfigDeleted";
}

std::optional<EventType> ParseEventType(std::string_view name) {
  if (name == "ConfigSet") return EventType::kConfigSet;
  if (name == "ConfigDeleted") return EventType::kConfigDeleted;
  return std::nullopt;
}

}  // namespace chronoconf
