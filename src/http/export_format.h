// The file formats of GET /v1/export (SPEC §2.4). Values are minified JSON.
#ifndef CHRONOCONF_HTTP_EXPORT_FORMAT_H_
#define CHRONOCONF_HTTP_EXPORT_FORMAT_H_

#include <string>
#include <utility>
#include <vector>

namespace chronoconf::http {

using KeyValues = std::vector<std::pair<std::string, std::string>>;  // sorted by key

// {"key":value,...}
std::string ExportJson(const KeyValues& values);

// NAME=VALUE lines: NAME is the key upper-cased with '/', '.', '-' as '_';
// VALUE is a string's text or the JSON text, single-quoted (POSIX shell)
// unless it holds only A-Za-z0-9_./:@+-.
std::string ExportEnv(const KeyValues& values);
std::string EnvName(const std::string& key);
std::string ShellQuote(const std::string& text);

// One "key": value line per key. JSON is YAML 1.2, so each minified value is
// a valid YAML flow node and no value is reinterpreted.
std::string ExportYaml(const KeyValues& values);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_EXPORT_FORMAT_H_
