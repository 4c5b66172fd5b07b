#pragma once
// absl_lite (Windows build only): civil times live with Time here.
#include "absl/time/time.h"
