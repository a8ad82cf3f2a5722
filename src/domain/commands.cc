#include "domain/commands.h"

namespace chronoconf {

const std::string& OpKey(const Op& op) {
  return std::visit([](const auto& o) -> const std::string& { return o.key; }, op);
}

}  // namespace chronoconf
