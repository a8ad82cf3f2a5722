// valijson over RapidJSON: include this, not valijson's adapter, first in
// every file that uses valijson (before any RapidJSON header).
//
// valijson's adapter sets RAPIDJSON_ASSERT(x) to rapidjson_assert(x,
// __FILE__, __LINE__) with a `const std::string&` file, so every assertion
// builds a std::string from __FILE__, even when it holds; RapidJSON asserts
// in every accessor, and that malloc was about half of a validation's time.
// This overload takes the file as it is (an exact match, so the call picks
// it) and builds the message only when the assertion fails.
#ifndef CHRONOCONF_JSON_VALIJSON_RAPIDJSON_H_
#define CHRONOCONF_JSON_VALIJSON_RAPIDJSON_H_

#include <stdexcept>
#include <string>

template <typename T>
T rapidjson_assert(T t, const char* file, int line) {
  if (!t) {
    std::string message = "assertion failed; file: ";  // (no "literal" + std::string:
    message += file;                                    // GCC 12's false -Wrestrict)
    message += "; line: ";
    message += std::to_string(line);
    throw std::runtime_error(message);
  }
  return t;
}

#define VALIJSON_USE_EXCEPTIONS 1
#include <valijson/adapters/rapidjson_adapter.hpp>

// valijson reads an integer past int64's range (a uint64 such as
// 18446744073709551615) as the int64 of the same bits (-1), and its
// Adapter has no way to say otherwise. chronoconf's numeric keywords
// (schema_keywords.cc) need the number itself, so getDouble, which valijson
// calls only after isDouble() says yes, also answers for such an integer:
// with its nearest double, and meaning that getInteger's bits are unsigned.
// Everything valijson itself reads is unchanged.
template <>
inline bool valijson::adapters::GenericRapidJsonValue<rapidjson::Value>::getDouble(
    double& result) const {
  if (!m_value.IsDouble() && !(m_value.IsUint64() && !m_value.IsInt64())) return false;
  result = m_value.GetDouble();
  return true;
}

#endif  // CHRONOCONF_JSON_VALIJSON_RAPIDJSON_H_
