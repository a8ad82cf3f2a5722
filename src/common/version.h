// The version this build reports (--version, /v1/status, chronoconf_build_info).
// Keep equal to project(VERSION) in CMakeLists.txt; a test compares them.
#ifndef CHRONOCONF_COMMON_VERSION_H_
#define CHRONOCONF_COMMON_VERSION_H_

namespace chronoconf {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace chronoconf

#endif  // CHRONOCONF_COMMON_VERSION_H_
