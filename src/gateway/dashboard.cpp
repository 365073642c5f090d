#include "gateway/dashboard.hpp"

#include <string_view>

namespace sluice::gateway {
namespace {

// HTML, CSS and script of the page; it loads nothing else and polls `stats` next to itself.
constexpr std::string_view kPage =
#include "gateway/dashboard_page.inc"
    ;

}  // namespace

AdminResponse dashboard_page() {
  return AdminResponse{200, "text/html; charset=utf-8", std::string(kPage)};
}

}  // namespace sluice::gateway
