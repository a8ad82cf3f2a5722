#include "domain/commands.h"

#include <type_traits>

#include <fmt/format.h>

#include "json/json_writer.h"

namespace chronoconf {

const std::string& OpKey(const Op& op) {
  return std::visit([](const auto& o) -> const std::string& { return o.key; }, op);
}

Status ValidateLogText(std::string_view text, size_t max_bytes, std::string_view what) {
  if (text.size() > max_bytes) {
    return Status::InvalidRequest(
        fmt::format("{} is {} bytes; the limit is {} bytes", what, text.size(), max_bytes));
  }
  if (!json::IsValidUtf8(text)) {
    return Status::InvalidRequest(fmt::format("{} is not valid UTF-8 text", what));
  }
  if (text.find('\0') != std::string_view::npos) {
    return Status::InvalidRequest(fmt::format("{} may not contain a NUL character", what));
  }
  return Status::OK();
}

Status ValidateCommitMeta(const CommitMeta& meta) {
  if (Status s = ValidateLogText(meta.actor, kMaxActorBytes, "the actor"); !s.ok()) return s;
  if (meta.reason) {
    if (Status s = ValidateLogText(*meta.reason, kMaxReasonBytes, "the reason"); !s.ok()) return s;
  }
  if (meta.request_id) {
    if (Status s = ValidateLogText(*meta.request_id, kMaxRequestIdBytes, "the request id");
        !s.ok()) {
      return s;
    }
  }
  return Status::OK();
}

const CommitMeta& MetaOf(const Command& command) {
  return std::visit(
      [](const auto& c) -> const CommitMeta& {
        if constexpr (std::is_same_v<std::decay_t<decltype(c)>, ProposeChange>) {
          return c.txn.meta;
        } else {
          return c.meta;
        }
      },
      command);
}

}  // namespace chronoconf
