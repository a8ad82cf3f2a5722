#include "json/json_value.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace chronoconf::json {

std::string_view Value::source() const {
  if (!doc_) return "null";
  return std::string_view(*doc_).substr(begin_, end_ - begin_);
}

std::string Value::Minified() const { return Minify(source()); }

std::optional<int64_t> Value::AsInt64() const {
  if (type_ != Type::kNumber) return std::nullopt;
  std::string_view s = source();
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

const Value* Value::Find(std::string_view name) const {
  for (const Member& m : members_) {
    if (m.name == name) return &m.value;
  }
  return nullptr;
}

// The input stream. RapidJSON copies streams that declare copy optimization
// (StringStream does) and writes the position back only after the handler
// ran; this one declares none, so Tell() is exact inside every event.
// Reads never pass `end`: RapidJSON's UTF-8 validator takes the continuation
// bytes of a sequence without looking for the end (found by fuzzing).
struct TrackedStream {
  using Ch = char;
  const char* src;
  const char* head;
  const char* end;
  Ch Peek() const { return src < end ? *src : '\0'; }
  Ch Take() { return src < end ? *src++ : '\0'; }
  size_t Tell() const { return static_cast<size_t>(src - head); }
  Ch* PutBegin() { return nullptr; }  // never called: we do not parse in situ
  void Put(Ch) {}
  void Flush() {}
  size_t PutEnd(Ch*) { return 0; }
};

// A RapidJSON SAX handler that builds the Value tree. Each event arrives just
// after the reader consumed the token, so the stream offset is the token's
// end; a value starts at the first byte after the previous token that is not
// whitespace, ':' or ','.
class Builder {
 public:
  Builder(std::shared_ptr<const std::string> doc, const TrackedStream* is,
          size_t max_depth, size_t build_depth)
      : doc_(std::move(doc)), is_(is), max_depth_(max_depth), build_depth_(build_depth) {}

  Value TakeRoot() { return std::move(root_); }
  bool too_deep() const { return too_deep_; }

  bool Null() { return Scalar(Type::kNull); }
  bool Bool(bool b) { return Scalar(b ? Type::kTrue : Type::kFalse); }
  bool Int(int) { return Scalar(Type::kNumber); }
  bool Uint(unsigned) { return Scalar(Type::kNumber); }
  bool Int64(int64_t) { return Scalar(Type::kNumber); }
  bool Uint64(uint64_t) { return Scalar(Type::kNumber); }
  bool Double(double) { return Scalar(Type::kNumber); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return Scalar(Type::kNumber); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (!Scalar(Type::kString)) return false;
    if (last_) last_->str_.assign(s, n);
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (Building()) key_.assign(s, n);
    last_end_ = Pos();
    return true;
  }
  bool StartObject() { return Open(Type::kObject); }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool StartArray() { return Open(Type::kArray); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

 private:
  // An open container; `node` is null below the built levels.
  struct Frame {
    Value* node;
    bool builds_children;
    size_t depth;  // the deepest child's depth so far
  };

  size_t Pos() const { return is_->Tell(); }
  // Whether the next value gets a node.
  bool Building() const { return stack_.empty() || stack_.back().builds_children; }

  size_t ValueStart() const {
    const std::string& d = *doc_;
    size_t p = last_end_;
    while (p < d.size() && (d[p] == ' ' || d[p] == '\t' || d[p] == '\n' || d[p] == '\r' ||
                            d[p] == ':' || d[p] == ',')) {
      ++p;
    }
    return p;
  }

  // The node for the next value, or nullptr when its level is not built.
  Value* NewValue(Type t, size_t begin) {
    if (!Building()) return nullptr;
    Value* v;
    if (stack_.empty()) {
      v = &root_;
    } else if (stack_.back().node->type_ == Type::kObject) {
      stack_.back().node->members_.push_back(Member{std::move(key_), Value()});
      v = &stack_.back().node->members_.back().value;
    } else {
      stack_.back().node->items_.emplace_back();
      v = &stack_.back().node->items_.back();
    }
    v->type_ = t;
    v->doc_ = doc_;
    v->begin_ = begin;
    return v;
  }

  bool Scalar(Type t) {
    last_ = Building() ? NewValue(t, ValueStart()) : nullptr;
    last_end_ = Pos();
    if (last_) last_->end_ = last_end_;
    return true;
  }

  bool Open(Type t) {
    if (stack_.size() >= max_depth_) {
      too_deep_ = true;
      return false;
    }
    // The reader may or may not have consumed the bracket yet: find it.
    size_t begin = ValueStart();
    Value* v = NewValue(t, begin);
    // This container is at level stack_.size(); its children one deeper.
    stack_.push_back({v, v != nullptr && stack_.size() < build_depth_, 0});
    last_end_ = begin + 1;
    return true;
  }

  bool Close() {
    const std::string& d = *doc_;
    size_t p = last_end_;
    while (p < d.size() && d[p] != '}' && d[p] != ']') ++p;  // only whitespace between
    const Frame closed = stack_.back();
    stack_.pop_back();
    last_end_ = p + 1;
    if (closed.node) {
      closed.node->end_ = last_end_;
      closed.node->depth_ = closed.depth + 1;
    }
    if (!stack_.empty()) stack_.back().depth = std::max(stack_.back().depth, closed.depth + 1);
    return true;
  }

  std::shared_ptr<const std::string> doc_;
  const TrackedStream* is_;
  size_t max_depth_;
  size_t build_depth_;
  Value root_;
  Value* last_ = nullptr;
  std::vector<Frame> stack_;  // open containers; only the innermost grows
  std::string key_;
  size_t last_end_ = 0;
  bool too_deep_ = false;
};

Result<Value> Parse(std::string_view text, size_t max_depth, size_t build_depth) {
  auto doc = std::make_shared<const std::string>(text);
  TrackedStream is{doc->data(), doc->data(), doc->data() + doc->size()};
  Builder builder(doc, &is, max_depth, build_depth);
  rapidjson::Reader reader;
  // Iterative parsing: no recursion, so deep nesting cannot exhaust the stack.
  // Numbers as strings: any number text is accepted without range limits.
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag |
                              rapidjson::kParseNumbersAsStringsFlag |
                              rapidjson::kParseValidateEncodingFlag;
  rapidjson::ParseResult ok = reader.Parse<kFlags>(is, builder);
  if (!ok) {
    if (builder.too_deep()) {
      return Status::InvalidJson(fmt::format("JSON nested deeper than {} levels", max_depth));
    }
    return Status::InvalidJson(fmt::format("invalid JSON at offset {}: {}", ok.Offset(),
                                           rapidjson::GetParseError_En(ok.Code())));
  }
  // The reader stops at a NUL byte; anything after it is trailing garbage.
  if (is.Tell() != doc->size()) {
    return Status::InvalidJson(fmt::format("invalid JSON at offset {}: unexpected byte", is.Tell()));
  }
  return builder.TakeRoot();
}

std::string Minify(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) {
        out.push_back(text[++i]);
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace chronoconf::json
