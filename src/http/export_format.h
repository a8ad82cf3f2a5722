// The file formats of GET /v1/export (SPEC §2.4). Values are minified JSON.
#ifndef CHRONOCONF_HTTP_EXPORT_FORMAT_H_
#define CHRONOCONF_HTTP_EXPORT_FORMAT_H_

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace chronoconf::http {

using KeyValues = std::vector<std::pair<std::string, std::string>>;  // sorted by key

// {"key":value,...}
std::string ExportJson(const KeyValues& values);

// NAME=VALUE lines sorted by NAME (SPEC §2.4): NAME is the key upper-cased,
// every byte but A-Za-z0-9_ as '_', without the '_' run of a leading '/';
// VALUE is a string's text or the JSON text, single-quoted (POSIX shell)
// unless it holds only A-Za-z0-9_./:@+-. Errors: kInvalidRequest naming the
// keys when two give one NAME, or a NAME is empty or begins with a digit (a
// line a shell would drop or refuse).
Result<std::string> ExportEnv(const KeyValues& values);
std::string EnvName(const std::string& key);
std::string ShellQuote(const std::string& text);

// One "key": value line per key. JSON is YAML 1.2, so each minified value is
// a valid YAML flow node and no value is reinterpreted.
std::string ExportYaml(const KeyValues& values);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_EXPORT_FORMAT_H_
