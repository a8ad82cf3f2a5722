// Access lines off the request's write(2) (issue 14 item 5).
//
// spdlog's stdout sinks fflush after every line: one write(2) per request,
// about 10 % of a GET's cost. InstallBufferedLog() puts one buffer in front
// of stdout that two loggers share:
//   - the default logger (startup, errors, reloads): its line is written at
//     once, together with every line buffered before it, so order is kept;
//   - the access logger (AccessLogger(): one line per HTTP request or etcd
//     call): its line waits in the buffer until the next flush — every
//     `interval`, when the buffer passes 64 KiB, when any other line is
//     logged, and at FlushLog() (shutdown). Nothing is lost at shutdown; a
//     SIGKILL loses at most `interval` of access lines.
// Without InstallBufferedLog (CLI commands, tests), AccessLogger() is the
// default logger.
//
// Thread safety: install before the server's threads start; the rest from
// any thread.
#ifndef CHRONOCONF_HTTP_BUFFERED_LOG_H_
#define CHRONOCONF_HTTP_BUFFERED_LOG_H_

#include <chrono>
#include <memory>

#include <spdlog/logger.h>

namespace chronoconf::http {

void InstallBufferedLog(std::chrono::seconds interval = std::chrono::seconds(1));

// Where access lines go. Callers check the level on the default logger
// (AccessLogOn); this logger takes every level.
spdlog::logger& AccessLogger();

// Writes out everything buffered (shutdown).
void FlushLog();

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_BUFFERED_LOG_H_
