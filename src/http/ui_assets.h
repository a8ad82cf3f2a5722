// The web console's files (ui/), compiled into the binary: cmake/EmbedAssets.cmake
// turns every file of ui/ into ${CMAKE_BINARY_DIR}/generated/ui_assets.cc at
// build time, so `serve` finds them however it was started.
#ifndef CHRONOCONF_HTTP_UI_ASSETS_H_
#define CHRONOCONF_HTTP_UI_ASSETS_H_

#include <string_view>

namespace chronoconf::http {

struct UiAsset {
  std::string_view path;          // "app.js": the name under ui/
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
};

// The embedded file named `path` ("index.html"), or nullptr.
const UiAsset* FindUiAsset(std::string_view path);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_UI_ASSETS_H_
