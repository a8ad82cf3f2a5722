// A progress bar for long admin work on a terminal (verify, copy):
// "\r[=========>          ]  4000/9000 commits", redrawn in place. Callers
// print it only when stderr is a terminal, so logs and pipes get the
// summary alone.
#ifndef CHRONOCONF_CLI_PROGRESS_BAR_H_
#define CHRONOCONF_CLI_PROGRESS_BAR_H_

#include <cstdint>
#include <string>

namespace chronoconf::cli {

std::string ProgressBar(int64_t done, int64_t total, const char* what = "commits");

}  // namespace chronoconf::cli

#endif  // CHRONOCONF_CLI_PROGRESS_BAR_H_
