// "Did you mean …?" for a mistyped subcommand.
#ifndef CHRONOCONF_CLI_SUGGEST_H_
#define CHRONOCONF_CLI_SUGGEST_H_

#include <string>
#include <string_view>
#include <vector>

namespace chronoconf::cli {

// Levenshtein distance (insertions, deletions, substitutions; ASCII bytes).
size_t EditDistance(std::string_view a, std::string_view b);

// "unknown command 'frobnicate'; did you mean 'import'?" — the candidate
// nearest by edit distance (a prefix match wins), or none when `candidates`
// is empty.
std::string UnknownCommandMessage(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace chronoconf::cli

#endif  // CHRONOCONF_CLI_SUGGEST_H_
