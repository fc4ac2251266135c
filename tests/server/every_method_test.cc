// Every method of every urn.v1 service (and reflection), enumerated from the service descriptors
// (so a new method is covered without touching this test), called raw through gRPC's generic stub:
//  - with no key, a malformed key, a wrong secret and a revoked key: UNAUTHENTICATED;
//  - a non-admin on an Admin method: PERMISSION_DENIED;
//  - user B naming user A's dataset or weight store: NOT_FOUND (never PERMISSION_DENIED).
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "call_auth.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "in_process.h"
#include "support/temp_dir.h"
#include "urn/client.h"
#include "urn_server.h"

namespace urn::server {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;

// The methods of every service declared in proto/urn/v1/*.proto. A file that is not in the
// generated pool is a service urnd does not link (so does not serve): that fails too.
std::vector<const MethodDescriptor*> AllMethods() {
  std::vector<const MethodDescriptor*> methods;
  const std::filesystem::path dir = std::filesystem::path(URN_SOURCE_DIR) / "proto/urn/v1";
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".proto") files.insert(entry.path().filename().string());
  }
  for (const std::string& name : files) {
    const auto* file = DescriptorPool::generated_pool()->FindFileByName("urn/v1/" + name);
    EXPECT_NE(file, nullptr) << "urn/v1/" << name << " is not linked into urnd";
    if (file == nullptr) continue;
    for (int s = 0; s < file->service_count(); ++s) {
      for (int m = 0; m < file->service(s)->method_count(); ++m) {
        methods.push_back(file->service(s)->method(m));
      }
    }
  }
  return methods;
}

std::string Path(const MethodDescriptor* m) {
  return absl::StrCat("/", m->service()->full_name(), "/", m->name());
}

void* Tag(intptr_t i) { return reinterpret_cast<void*>(i); }

// One call of any kind (unary or streaming) with the given request messages, as raw bytes,
// then the client's end of the stream. With `read_all` every response is read before the
// status; otherwise one is, and a success is cancelled there (a stream we need not read).
grpc::Status RawStream(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                       const std::vector<std::string>& requests, const std::string& authorization,
                       bool read_all) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, method, &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(Tag(1));
  cq.Next(&tag, &ok);
  for (const std::string& request : requests) {
    grpc::Slice slice(request);
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, Tag(2));
    if (!cq.Next(&tag, &ok) || !ok) break;
  }
  call->WritesDone(Tag(2));
  cq.Next(&tag, &ok);
  grpc::ByteBuffer response;
  do {
    call->Read(&response, Tag(3));
    cq.Next(&tag, &ok);
  } while (ok && read_all);
  if (ok) context.TryCancel();  // a success we do not need to read to the end
  grpc::Status status;
  call->Finish(&status, Tag(4));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

grpc::Status RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& request, const std::string& authorization) {
  return RawStream(channel, method, {request}, authorization, /*read_all=*/false);
}

// The method's request with its resource field (name, dataset or weight_store) set to
// `resource`; empty when the request has no such field.
std::string RequestNaming(const MethodDescriptor* m, const std::string& resource) {
  google::protobuf::DynamicMessageFactory factory;
  std::unique_ptr<google::protobuf::Message> message(factory.GetPrototype(m->input_type())->New());
  for (const char* field : {"weight_store", "dataset", "name"}) {
    const FieldDescriptor* f = m->input_type()->FindFieldByName(field);
    if (f != nullptr && f->type() == FieldDescriptor::TYPE_STRING && !f->is_repeated()) {
      message->GetReflection()->SetString(message.get(), f, resource);
      return message->SerializeAsString();
    }
  }
  return "";
}

TEST(EveryMethodTest, KeysRolesAndTenantsAreCheckedOnEveryMethod) {
  testing::TempDir dir;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.Join("data");
  UrnServer server(options);
  ASSERT_TRUE(server.Start().ok());
  ClientOptions copts;
  copts.server = absl::StrCat("127.0.0.1:", server.port());
  copts.key =
      std::string(absl::StripAsciiWhitespace(testing::ReadFileOrEmpty(dir.Join("data/admin.key"))));
  Client admin = *Client::Connect(copts);
  // Users A and B (pro: every feature), A's dataset and weight store both named "shared", and a
  // revoked key of B's.
  const std::string a_key = admin.CreateUser("alice", "pro")->key();
  const std::string b_key = admin.CreateUser("bob", "pro")->key();
  const v1::CreateKeyResponse revoked = *admin.CreateKey("bob");
  ASSERT_TRUE(admin.RevokeKey(revoked.key_id()).ok());
  copts.key = a_key;
  Client alice = *Client::Connect(copts);
  testing::WriteFileOrDie(dir.Join("d.tsv"), "x\tw\n1\t2\n3\t4\n");
  v1::CreateDatasetHeader header;
  header.set_name("shared");
  header.set_has_header(true);
  header.set_format(v1::DATA_FORMAT_TSV);
  ASSERT_TRUE(alice.CreateDataset(header, dir.Join("d.tsv")).ok());
  v1::CreateWeightStoreRequest store;
  store.set_name("shared");
  store.set_capacity(10);
  ASSERT_TRUE(alice.CreateWeightStore(store).ok());

  const std::string wrong_secret =
      absl::StrCat("Bearer ", b_key.substr(0, b_key.size() - 4), "0000");
  const std::vector<std::string> bad_keys = {"", "Bearer nonsense", "Basic abc", wrong_secret,
                                             absl::StrCat("Bearer ", revoked.key())};
  auto channel = grpc::CreateChannel(copts.server, grpc::InsecureChannelCredentials());
  int methods = 0, admin_methods = 0, tenant_methods = 0;
  for (const MethodDescriptor* m : AllMethods()) {
    ++methods;
    const std::string path = Path(m);
    for (const std::string& auth : bad_keys) {
      EXPECT_EQ(RawCall(channel, path, "", auth).error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << path << " with '" << auth.substr(0, 12) << "...'";
    }
    const std::string as_bob = absl::StrCat("Bearer ", b_key);
    if (m->service()->name() == "Admin") {
      ++admin_methods;
      EXPECT_EQ(RawCall(channel, path, "", as_bob).error_code(),
                grpc::StatusCode::PERMISSION_DENIED)
          << path;
      continue;
    }
    const std::string request = RequestNaming(m, "shared");
    if (request.empty() || m->name().rfind("Create", 0) == 0) continue;
    ++tenant_methods;
    const grpc::Status s = RawCall(channel, path, request, as_bob);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << path << ": " << s.error_message();
  }
  // Reflection needs a key too; with one it lists every service and resolves their symbols.
  const std::string reflection = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
  for (const std::string& auth : bad_keys) {
    EXPECT_EQ(RawCall(channel, reflection, "", auth).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", b_key));
    auto stream = stub->ServerReflectionInfo(&context);
    grpc::reflection::v1alpha::ServerReflectionRequest request;
    grpc::reflection::v1alpha::ServerReflectionResponse response;
    request.set_list_services("");
    ASSERT_TRUE(stream->Write(request));
    ASSERT_TRUE(stream->Read(&response));
    std::set<std::string> listed;
    for (const auto& service : response.list_services_response().service()) {
      listed.insert(service.name());
    }
    for (const MethodDescriptor* m : AllMethods()) {
      EXPECT_TRUE(listed.count(m->service()->full_name())) << m->service()->full_name();
    }
    request.set_file_containing_symbol("urn.v1.WeightStores");
    ASSERT_TRUE(stream->Write(request));
    ASSERT_TRUE(stream->Read(&response));
    ASSERT_GE(response.file_descriptor_response().file_descriptor_proto_size(), 1);
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(response.file_descriptor_response().file_descriptor_proto(0)));
    EXPECT_EQ(file.name(), "urn/v1/weight_stores.proto");
    request.set_file_containing_symbol("no.such.Symbol");
    ASSERT_TRUE(stream->Write(request));
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_EQ(response.error_response().error_code(), grpc::StatusCode::NOT_FOUND);
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
  EXPECT_GE(methods, 20);
  std::printf("every-method test: %d methods, %d admin, %d with a tenant resource\n", methods,
              admin_methods, tenant_methods);
  // And the resources are still alice's.
  EXPECT_EQ(alice.GetDataset("shared")->num_rows(), 2);
  EXPECT_EQ(alice.GetWeightStore("shared")->capacity(), 10);
}

// An admin call naming a user that does not exist is NOT_FOUND naming the request's own field:
// CreateKey's is `user`, SetPlan's and DeleteUser's `name`.
TEST(EveryMethodTest, AMissingUserIsNotFoundNamingTheRequestField) {
  testing::TempDir dir;
  const std::unique_ptr<UrnServer> server = testing::StartInProcess(dir, "");
  ASSERT_NE(server, nullptr);
  const std::unique_ptr<Client> admin =
      testing::ConnectOnce(server->port(), testing::AdminKeyIn(dir.Join("data")));
  const absl::StatusOr<v1::CreateKeyResponse> key = admin->CreateKey("ghost");
  EXPECT_TRUE(absl::IsNotFound(key.status())) << key.status();
  EXPECT_EQ(key.status().message(), "user: no user named 'ghost'");
  const absl::Status plan = admin->SetPlan("ghost", "pro");
  EXPECT_TRUE(absl::IsNotFound(plan)) << plan;
  EXPECT_EQ(plan.message(), "name: no user named 'ghost'");
  const absl::StatusOr<v1::DeleteUserResponse> deleted = admin->DeleteUser("ghost");
  EXPECT_TRUE(absl::IsNotFound(deleted.status())) << deleted.status();
  EXPECT_EQ(deleted.status().message(), "name: no user named 'ghost'");
}

// A dataset or weight store that does not exist is NOT_FOUND naming the request's field: `name`
// for Get and Delete, `dataset` for Sample and Shuffle, `weight_store` for SampleWeights (before,
// the dataset errors named no field).
TEST(EveryMethodTest, AMissingDatasetOrStoreIsNotFoundNamingTheRequestField) {
  testing::TempDir dir;
  const std::unique_ptr<UrnServer> server = testing::StartInProcess(dir, "");
  ASSERT_NE(server, nullptr);
  const std::unique_ptr<Client> admin =
      testing::ConnectOnce(server->port(), testing::AdminKeyIn(dir.Join("data")));
  const auto expect = [](const absl::Status& s, const std::string& message) {
    EXPECT_TRUE(absl::IsNotFound(s)) << s;
    EXPECT_EQ(s.message(), message);
  };
  expect(admin->GetDataset("ghost").status(), "name: no dataset named 'ghost'");
  expect(admin->DeleteDataset("ghost"), "name: no dataset named 'ghost'");
  v1::SampleRequest sample;
  sample.set_dataset("ghost");
  sample.mutable_uniform();
  sample.set_n(3);
  expect(admin->Sample(sample, [](const v1::SampleBatch&) { return true; }),
         "dataset: no dataset named 'ghost'");
  v1::ShuffleRequest shuffle;
  shuffle.set_dataset("ghost");
  expect(admin->Shuffle(shuffle, [](const v1::ShuffleBatch&) { return true; }),
         "dataset: no dataset named 'ghost'");
  expect(admin->GetWeightStore("ghost").status(), "name: no weight store named 'ghost'");
  expect(admin->DeleteWeightStore("ghost"), "name: no weight store named 'ghost'");
  v1::SampleWeightsRequest weights;
  weights.set_weight_store("ghost");
  expect(admin->SampleWeights(weights).status(), "weight_store: no weight store named 'ghost'");
}

// A message of a client stream that does not parse fails the call INVALID_ARGUMENT naming it.
// gRPC reports such a message to a typed reactor exactly as the client's end of the stream, so
// an upload of header, 2 rows, a broken message and 2 more rows registered the 2 rows as the
// whole dataset and ended OK, and UpdatePriorities and Insert streams ended OK.
TEST(EveryMethodTest, AMessageThatDoesNotParseFailsItsStreamInsteadOfEndingIt) {
  testing::TempDir dir;
  const std::unique_ptr<UrnServer> server = testing::StartInProcess(dir, "");
  ASSERT_NE(server, nullptr);
  const std::string admin_key = testing::AdminKeyIn(dir.Join("data"));
  const std::unique_ptr<Client> admin = testing::ConnectOnce(server->port(), admin_key);
  v1::CreateWeightStoreRequest store;
  store.set_name("s");
  store.set_capacity(4);
  ASSERT_TRUE(admin->CreateWeightStore(store).ok());
  const auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port()),
                                           grpc::InsecureChannelCredentials());
  const std::string bearer = "Bearer " + admin_key;
  const std::string broken = "\xff\xff\xff";  // a field tag with no end: not a message

  v1::CreateDatasetRequest header, rows, more;
  header.mutable_header()->set_name("cut");
  header.mutable_header()->set_format(v1::DATA_FORMAT_TSV);
  header.mutable_header()->set_has_header(true);
  rows.set_data("x\n1\n2\n");
  more.set_data("3\n4\n");
  grpc::Status s = RawStream(
      channel, "/urn.v1.Datasets/CreateDataset",
      {header.SerializeAsString(), rows.SerializeAsString(), broken, more.SerializeAsString()},
      bearer, /*read_all=*/true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(s.error_message(),
            "message 3: not a valid urn.v1.CreateDatasetRequest; nothing was kept");
  EXPECT_TRUE(absl::IsNotFound(admin->GetDataset("cut").status()));
  // A broken first message is named as such, not as a missing header.
  s = RawStream(channel, "/urn.v1.Datasets/CreateDataset", {broken}, bearer, true);
  EXPECT_EQ(s.error_message(),
            "message 1: not a valid urn.v1.CreateDatasetRequest; nothing was kept");

  v1::UpdatePrioritiesRequest update;
  update.set_weight_store("s");
  update.add_slots(0);
  update.add_priorities(2);
  update.set_sequence(1);
  s = RawStream(channel, "/urn.v1.WeightStores/UpdatePriorities",
                {update.SerializeAsString(), broken}, bearer, true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(s.error_message(),
            "message 2: not a valid urn.v1.UpdatePrioritiesRequest; it was not applied");
  v1::InsertRequest insert;
  insert.set_weight_store("s");
  insert.add_keys("k");
  s = RawStream(channel, "/urn.v1.WeightStores/Insert", {broken, insert.SerializeAsString()},
                bearer, true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(s.error_message(), "message 1: not a valid urn.v1.InsertRequest; it was not applied");
  // Well-formed streams still end OK.
  s = RawStream(channel, "/urn.v1.WeightStores/Insert", {insert.SerializeAsString()}, bearer, true);
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = RawStream(channel, "/urn.v1.Datasets/CreateDataset",
                {header.SerializeAsString(), rows.SerializeAsString(), more.SerializeAsString()},
                bearer, true);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(admin->GetDataset("cut")->num_rows(), 4);
}

// A request that does not parse is INVALID_ARGUMENT naming its message type, for every method
// (reflection's too), but only for a caller the method would let in: no key is UNAUTHENTICATED,
// a non-admin on an Admin method and a plan without weights on a WeightStores method are
// PERMISSION_DENIED, as with a request that parses. gRPC's callback API answered such a request
// of a unary method itself, with UNIMPLEMENTED and an empty message, before urnd saw the call
// (parsed_unary.h).
TEST(EveryMethodTest, ARequestThatDoesNotParseIsNamedOnlyToACallerTheMethodLetsIn) {
  testing::TempDir dir;
  const std::unique_ptr<UrnServer> server = testing::StartInProcess(
      dir, "plans:\n  no_weights:\n    features: [sample, shuffle, query]\n");
  ASSERT_NE(server, nullptr);
  const std::string admin_key = testing::AdminKeyIn(dir.Join("data"));
  const std::unique_ptr<Client> admin = testing::ConnectOnce(server->port(), admin_key);
  const absl::StatusOr<v1::CreateUserResponse> carol = admin->CreateUser("carol", "no_weights");
  ASSERT_TRUE(carol.ok()) << carol.status();
  const auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port()),
                                           grpc::InsecureChannelCredentials());
  // Field 1 claims 5 bytes but only 2 follow: not a message of any type.
  const std::string broken = std::string("\x0a\x05") + "ab";
  int unary = 0;
  for (const MethodDescriptor* m : AllMethods()) {
    unary += !m->client_streaming() && !m->server_streaming();
    const std::string type = m->input_type()->full_name();
    const std::string expected = m->client_streaming() ? "message 1: not a valid " + type + "; "
                                                       : "request: not a valid " + type;
    const grpc::Status s = RawStream(channel, Path(m), {broken}, "Bearer " + admin_key, true);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << Path(m) << ": " << s.error_message();
    EXPECT_EQ(s.error_message().substr(0, expected.size()), expected) << Path(m);
    const grpc::Status anonymous = RawStream(channel, Path(m), {broken}, "", true);
    EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << Path(m) << ": " << anonymous.error_message();
    const grpc::Status as_carol =
        RawStream(channel, Path(m), {broken}, "Bearer " + carol->key(), true);
    const std::string& service = m->service()->name();
    EXPECT_EQ(as_carol.error_code(), service == "Admin" || service == "WeightStores"
                                         ? grpc::StatusCode::PERMISSION_DENIED
                                         : grpc::StatusCode::INVALID_ARGUMENT)
        << Path(m) << ": " << as_carol.error_message();
  }
  EXPECT_EQ(unary, 17);  // every unary method of urn.v1 was among them
  // Reflection too (it ended such a stream OK, as if the client had finished).
  const std::string reflection = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
  grpc::reflection::v1alpha::ServerReflectionRequest list;
  list.set_list_services("");
  const grpc::Status s = RawStream(channel, reflection, {list.SerializeAsString(), broken},
                                   "Bearer " + admin_key, true);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(s.error_message(),
            "message 2: not a valid grpc.reflection.v1alpha.ServerReflectionRequest");
  EXPECT_EQ(RawStream(channel, reflection, {broken}, "", true).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// An error message repeats what the client sent (a name here). One of 20,000 characters is still
// the real error, NOT_FOUND, with the message cut to 1 KiB; uncut, it outgrew the client's
// metadata limit and arrived as RESOURCE_EXHAUSTED, which tells the caller to retry.
TEST(EveryMethodTest, AnOverlongNameGetsTheRealErrorWithItsMessageCut) {
  testing::TempDir dir;
  const std::unique_ptr<UrnServer> server = testing::StartInProcess(dir, "");
  ASSERT_NE(server, nullptr);
  const std::unique_ptr<Client> admin =
      testing::ConnectOnce(server->port(), testing::AdminKeyIn(dir.Join("data")));
  const std::string name(20'000, 'x');
  const absl::Status dataset = admin->GetDataset(name).status();
  EXPECT_TRUE(absl::IsNotFound(dataset)) << dataset.code();
  const absl::Status user = admin->DeleteUser(name).status();
  EXPECT_TRUE(absl::IsNotFound(user)) << user.code();
  for (const absl::Status& s : {dataset, user}) {
    EXPECT_LE(s.message().size(), kMaxStatusMessageBytes);
    EXPECT_NE(s.message().find("'xxxxxxxx"), std::string::npos) << s.message().substr(0, 80);
    EXPECT_NE(s.message().find("... (message cut: "), std::string::npos);
  }
}

// The cut keeps whole UTF-8 characters and says how long the message was; short ones are kept.
TEST(EveryMethodTest, StatusMessagesAreCutOnCharacterBoundaries) {
  EXPECT_EQ(StatusMessageForWire("name: no dataset named 'a'"), "name: no dataset named 'a'");
  std::string two_byte;
  for (int i = 0; i < 1000; ++i) two_byte += "\xC3\xA9";  // U+00E9, 2 bytes each
  for (const std::string& m : {two_byte, "x" + two_byte}) {
    const std::string cut = StatusMessageForWire(m);
    EXPECT_LE(cut.size(), kMaxStatusMessageBytes);
    const size_t kept = cut.find("... (message cut: ");
    ASSERT_NE(kept, std::string::npos);
    EXPECT_EQ(cut.substr(kept), absl::StrCat("... (message cut: ", m.size(), " bytes)"));
    EXPECT_EQ(cut.substr(0, kept), m.substr(0, kept));
    EXPECT_NE(static_cast<unsigned char>(m[kept]) & 0xC0, 0x80u) << "cut inside a character";
  }
}

// A storage error names files in the data directory; a client sees "<data dir>" instead of
// the server's layout, given as urnd was started or as an absolute path.
TEST(EveryMethodTest, ErrorsSentToClientsHideTheDataDirectory) {
  testing::TempDir dir;
  const std::unique_ptr<UrnServer> server = testing::StartInProcess(dir, "");
  ASSERT_NE(server, nullptr);
  const std::string data = dir.Join("data");
  const grpc::Status sent = ToGrpc(absl::UnavailableError(
      absl::StrCat("write: IO error: No space left on device: While appending to file: ", data,
                   "/meta/000009.log")));
  EXPECT_EQ(sent.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(sent.error_message(),
            "write: IO error: No space left on device: While appending to file: "
            "<data dir>/meta/000009.log");
  // A relative path is hidden as the absolute path it names; only whole paths are replaced, so
  // ordinary text that contains a short --data-dir ("data" in "dataset") is left alone.
  HideOnWire("relative/data");
  const std::string absolute = (std::filesystem::current_path() / "relative/data").string();
  EXPECT_EQ(ToGrpc(absl::InternalError(absolute + "/x, '" + absolute + "' and relative/data/y"))
                .error_message(),
            "<data dir>/x, '<data dir>' and relative/data/y");
  EXPECT_EQ(ToGrpc(absl::InternalError(absolute + "base/x and /q" + absolute)).error_message(),
            absolute + "base/x and /q" + absolute);
  HideOnWire("data");
  HideOnWire("/");
  EXPECT_EQ(ToGrpc(absl::NotFoundError("dataset 'nosuch' not found")).error_message(),
            "dataset 'nosuch' not found");
  // A message that repeats a caller's text is not touched: whether a guessed path came back
  // hidden would tell the caller the data directory.
  EXPECT_EQ(ToGrpc(absl::NotFoundError("dataset '" + data + "' not found")).error_message(),
            "dataset '" + data + "' not found");
  EXPECT_EQ(ToGrpc(absl::InternalError("no path here")).error_message(), "no path here");
}

}  // namespace
}  // namespace urn::server
