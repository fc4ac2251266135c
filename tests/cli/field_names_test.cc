#include "field_names.h"

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "gtest/gtest.h"

namespace urn::cli {
namespace {

TEST(RenameFieldTest, ANamedFieldBecomesWhatTheUserTypedWithCodeAndPayloadsKept) {
  absl::Status wire = absl::NotFoundError("weight_store: no weight store named 'x'");
  wire.SetPayload("type.googleapis.com/google.rpc.Status", absl::Cord("details"));
  const absl::Status s = RenameField(wire, "weight_store", "name");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "name: no weight store named 'x'");
  EXPECT_EQ(s.GetPayload("type.googleapis.com/google.rpc.Status"), absl::Cord("details"));
}

TEST(RenameFieldTest, OtherFieldsAndMessagesThatOnlyStartWithTheNameStayAsTheyAre) {
  const absl::Status other = absl::InvalidArgumentError("rank: must be in [0, world_size)");
  EXPECT_EQ(RenameField(other, "world_size", "--world"), other);
  // "n" is a prefix of "no ..." but not a field there.
  const absl::Status sentence = absl::NotFoundError("no dataset named 'n'");
  EXPECT_EQ(RenameField(sentence, "n", "--n"), sentence);
  const absl::Status longer = absl::InvalidArgumentError("name_x: bad");
  EXPECT_EQ(RenameField(longer, "name", "NAME"), longer);
  EXPECT_TRUE(RenameField(absl::OkStatus(), "name", "--name").ok());
}

}  // namespace
}  // namespace urn::cli
