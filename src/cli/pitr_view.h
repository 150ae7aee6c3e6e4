// How `pitr status` and `status` show continuous slicing.
#pragma once

#include <nlohmann/json.hpp>

#include "coordinator/pitr.h"

namespace shardsafe::cli {

nlohmann::json pitr_status_json(const coordinator::PitrStatus& status);
// One line for people (and the last tick's error on a second one).
void print_pitr_status(const coordinator::PitrStatus& status);

}  // namespace shardsafe::cli
