// The browser dashboard's files, embedded in the binary (cmake/embed.cmake generates the table
// from src/app/web/). Internal to src/app.
#pragma once

#include <optional>
#include <string_view>

namespace twind::app {

struct WebAsset {
  std::string_view name;  ///< its file name: index.html, asset.html, twind.js, ...
  std::string_view content_type;
  std::string_view body;
};

/// The embedded file called `name`, if there is one.
[[nodiscard]] std::optional<WebAsset> web_asset(std::string_view name);

}  // namespace twind::app
