#include "gateway/dashboard.hpp"

namespace sluice::gateway {

AdminResponse dashboard_page() {
  return AdminResponse{200, "text/html; charset=utf-8",
                       "<!doctype html><title>sluice</title><p>dashboard</p>\n"};
}

}  // namespace sluice::gateway
