// TLS and mutual TLS, with certificates this test makes with the openssl command line: a
// client must verify the server; with --tls-client-ca the server requires and verifies client
// certificates. A key is still needed on top (authentication is per call).
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "urn/client.h"
#include "urn_server.h"

namespace urn::server {
namespace {

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFileOrDie(dir_.Join("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    MakeCa("ca");
    MakeCa("other_ca");
    MakeCert("server", "ca", "localhost");
    MakeCert("client", "ca", "worker-1");
    MakeCert("stranger", "other_ca", "stranger");
  }
  void Openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    testing::RunResult r = testing::Run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void MakeCa(const std::string& name) {
    Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", dir_.Join(name + ".key"), "-out", dir_.Join(name + ".pem"), "-days", "2",
             "-subj", "/CN=" + name});
  }
  void MakeCert(const std::string& name, const std::string& ca, const std::string& cn) {
    Openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", dir_.Join(name + ".key"), "-out", dir_.Join(name + ".csr"), "-subj",
             "/CN=" + cn});
    Openssl({"x509", "-req", "-in", dir_.Join(name + ".csr"), "-CA", dir_.Join(ca + ".pem"),
             "-CAkey", dir_.Join(ca + ".key"), "-CAcreateserial", "-out", dir_.Join(name + ".pem"),
             "-days", "2", "-extfile", dir_.Join("san.ext")});
  }
  void Start(bool mutual) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Join("data");
    options.tls_cert = dir_.Join("server.pem");
    options.tls_key = dir_.Join("server.key");
    if (mutual) options.tls_client_ca = dir_.Join("ca.pem");
    server_ = std::make_unique<UrnServer>(options);
    ASSERT_TRUE(server_->Start().ok());
  }
  absl::StatusOr<ServerInfo> Info(const std::string& ca, const std::string& cert) {
    ClientOptions o;
    o.server = absl::StrCat("127.0.0.1:", server_->port());
    o.key = std::string(
        absl::StripAsciiWhitespace(testing::ReadFileOrEmpty(dir_.Join("data/admin.key"))));
    o.timeout = std::chrono::seconds(5);
    if (!ca.empty()) o.tls_ca = dir_.Join(ca + ".pem");
    if (!cert.empty()) {
      o.tls_cert = dir_.Join(cert + ".pem");
      o.tls_key = dir_.Join(cert + ".key");
    }
    absl::StatusOr<Client> client = Client::Connect(o);
    if (!client.ok()) return client.status();
    return client->GetServerInfo();
  }

  testing::TempDir dir_;
  std::unique_ptr<UrnServer> server_;
};

TEST_F(TlsTest, ClientsVerifyTheServer) {
  Start(/*mutual=*/false);
  absl::StatusOr<ServerInfo> info = Info("ca", "");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->tls);
  EXPECT_EQ(Info("", "").status().code(), absl::StatusCode::kUnavailable);  // plaintext
  EXPECT_EQ(Info("other_ca", "").status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificateFromTheCa) {
  Start(/*mutual=*/true);
  absl::StatusOr<ServerInfo> info = Info("ca", "client");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->tls);
  EXPECT_EQ(Info("ca", "").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Info("ca", "stranger").status().code(), absl::StatusCode::kUnavailable);
}

TEST(TlsOptionsTest, ClientCaNeedsACertificate) {
  std::vector<std::string> args = {"urnd", "--tls-client-ca", "/tmp/ca.pem"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  absl::StatusOr<ServerOptions> o = ParseServerOptions(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(o.status().message(), "--tls-client-ca needs --tls-cert and --tls-key");
}

}  // namespace
}  // namespace urn::server
