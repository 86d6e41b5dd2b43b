#pragma once
// The query layer's typed attribute reads: export/span_attrs.h (the store's write-time aggregates
// read spans with the same rules).
#include "export/span_attrs.h"

namespace llmtap::report {
using exporting::double_attr;
using exporting::int_attr;
using exporting::str_attr;
}  // namespace llmtap::report
