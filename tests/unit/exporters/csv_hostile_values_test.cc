// Regression tests for hostile values found by fuzzing (tests/fuzz/fuzz_csv_roundtrip).
#include <cstdio>
#include <limits>
#include <optional>
#include <string>

#include "exporters/csv_format.h"
#include "gtest/gtest.h"

namespace nodeproc {
namespace {

// fuzz_csv_roundtrip found: "%.2f" of a huge CPU percentage is longer than the formatting
// buffer, and the writer appended snprintf's would-be length (a stack read overflow).
TEST(CsvHostileValuesTest, HugePercentIsWrittenWhole) {
  for (double v : {1e300, -1e300, std::numeric_limits<double>::max(), 123456789012345678.0}) {
    std::string out;
    AppendCsvPercent(v, &out);
    char expected[400];
    std::snprintf(expected, sizeof(expected), "%.2f", v);
    EXPECT_EQ(out, expected);
  }
  std::string out;
  AppendCsvPercent(std::numeric_limits<double>::quiet_NaN(), &out);
  AppendCsvPercent(std::numeric_limits<double>::infinity(), &out);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace nodeproc
