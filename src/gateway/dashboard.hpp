// The live dashboard the admin listener serves at `/`: one self-contained page that polls
// `/stats` every second and draws its own charts.
#pragma once

#include "gateway/admin.hpp"

namespace sluice::gateway {

AdminResponse dashboard_page();

}  // namespace sluice::gateway
