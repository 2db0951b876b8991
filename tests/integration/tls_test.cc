// TLS (issue 8): `keyward serve --tls-cert --tls-key` against the real CLI, curl and
// `openssl s_client`, with a test PKI made by the openssl command line: a root CA, an
// intermediate CA, a server certificate for 127.0.0.1 and localhost and one for other.example,
// both issued by the intermediate and served with it as a chain (the clients trust the root
// only, so the chain must be sent).
//
// The CLI over HTTPS with --ca-file, and refused without it or for another host's certificate;
// --ca-file adds to the system's CAs; TLS 1.1, non-ECDHE or CBC ciphers and renegotiation
// refused, TLS 1.2 and 1.3 served with the server's cipher order; plain HTTP to the TLS port
// answered by a close; the handshake under the header timeout; the session cookie Secure over
// TLS only; /auth over TLS on kept-alive connections; and the start-up errors.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <system_error>
#include <vector>

#include "harness.h"

namespace keyward::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// Runs openssl with `args` in `dir`; fails the test unless it succeeds.
void OpenSsl(const std::string& dir, const std::vector<std::string>& args) {
  std::string command = "cd '" + dir + "' && exec openssl";
  for (const auto& arg : args) command += " '" + arg + "'";
  ProcessResult r = RunProcess({"sh", "-c", command});
  ASSERT_EQ(r.exit_code, 0) << "openssl " << args[0] << " failed:\n" << r.err;
}

// A P-256 key `name`.key and a certificate `name`.pem signed by `issuer` (.pem and .key) with
// the extensions `ext` (lines of an openssl config section).
void Issue(const std::string& dir, const std::string& name, const std::string& subject,
           const std::string& issuer, const std::string& ext, int serial) {
  WriteFile(dir + "/" + name + ".ext", ext);
  OpenSsl(dir, {"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject});
  OpenSsl(dir, {"x509", "-req", "-in", name + ".csr", "-CA", issuer + ".pem", "-CAkey",
                issuer + ".key", "-set_serial", std::to_string(serial), "-days", "2", "-out",
                name + ".pem", "-extfile", name + ".ext"});
}

// How a raw connection ended.
struct RawEnd {
  std::string received;
  bool closed = false;  // end of stream or reset, before the timeout
};

// Connects to 127.0.0.1:`port`, sends `bytes`, and reads until the server closes the
// connection or `timeout` passes.
RawEnd SendRaw(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout) {
  RawEnd end;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bytes.size())) {
    ADD_FAILURE() << "cannot connect and send: " << std::generic_category().message(errno);
    ::close(fd);
    return end;
  }
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 1))) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      end.received.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    end.closed = n == 0 || errno == ECONNRESET;
    break;
  }
  ::close(fd);
  return end;
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = MakeTempDir();
    OpenSsl(pki_, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                   "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
                   "/CN=Keyward test root CA", "-addext", "basicConstraints=critical,CA:TRUE",
                   "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
    const std::string ca_ext =
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n";
    Issue(pki_, "intermediate", "/CN=Keyward test intermediate CA", "ca", ca_ext, 1);
    const std::string leaf_ext = "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
    Issue(pki_, "server", "/CN=127.0.0.1", "intermediate",
          leaf_ext + "subjectAltName=IP:127.0.0.1,DNS:localhost\n", 2);
    Issue(pki_, "other", "/CN=other.example", "intermediate",
          leaf_ext + "subjectAltName=DNS:other.example\n", 3);
    OpenSsl(pki_, {"pkey", "-in", "server.key", "-aes256", "-passout", "pass:passphrase", "-out",
                   "encrypted.key"});
    const std::string intermediate = ReadFile(pki_ + "/intermediate.pem");
    WriteFile(pki_ + "/server-chain.pem", ReadFile(pki_ + "/server.pem") + intermediate);
    WriteFile(pki_ + "/other-chain.pem", ReadFile(pki_ + "/other.pem") + intermediate);
  }
  static void TearDownTestSuite() { RemoveTree(pki_); }

  void SetUp() override { home_ = MakeTempDir(); }
  void TearDown() override {
    for (auto& server : servers_) {
      server->Stop();
      ExpectNoSecretsIn({server->log_path()});
    }
    RemoveTree(home_);
  }

  static std::string Pki(const std::string& file) { return pki_ + "/" + file; }

  // A server with the certificate `name`-chain.pem and its key, and `extra` flags.
  ServerProcess& StartTls(const std::string& name = "server", std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--tls-cert", Pki(name + "-chain.pem"), "--tls-key",
                                     Pki(name + ".key")};
    args.insert(args.end(), extra.begin(), extra.end());
    servers_.push_back(ServerProcess::Start(args));
    EXPECT_GT(servers_.back()->port(), 0);
    return *servers_.back();
  }
  ServerProcess& StartPlain() {
    servers_.push_back(ServerProcess::Start());
    EXPECT_GT(servers_.back()->port(), 0);
    return *servers_.back();
  }

  static std::string Https(const ServerProcess& server, const std::string& host = "127.0.0.1") {
    return "https://" + host + ":" + std::to_string(server.port());
  }

  // Runs `keyward args…` as a user whose config lives in home_.
  ProcessResult Cli(const std::vector<std::string>& args, const std::string& input = "",
                    std::map<std::string, std::string> env = {}) {
    env.try_emplace("HOME", home_);
    env.try_emplace("XDG_CONFIG_HOME", "");
    env.try_emplace("KEYWARD_APIKEY", "");
    env.try_emplace("KEYWARD_SERVER", "");
    env.try_emplace("KEYWARD_CA_FILE", "");
    ProcessResult r = RunKeyward(args, env, input);
    for (const auto& token : TokensIn(r.out)) RememberSecret(token);
    return r;
  }

  ProcessResult Login(const std::string& server_url, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"login", "--server", server_url,
                                     "-u",    "admin",    "--password-stdin"};
    args.insert(args.end(), extra.begin(), extra.end());
    RememberSecret(kAdminPassword);
    return Cli(args, std::string(kAdminPassword) + "\n");
  }

  static std::vector<std::string> TokensIn(const std::string& text) {
    std::vector<std::string> out;
    const std::regex key("kw_[0-9A-Za-z]{49}");
    for (std::sregex_iterator it(text.begin(), text.end(), key), end; it != end; ++it) {
      out.push_back(it->str());
    }
    return out;
  }

  // curl -sS `args…`, trusting the test root CA.
  static ProcessResult Curl(std::vector<std::string> args) {
    args.insert(args.begin(), {"curl", "-sS", "--max-time", "20", "--cacert", Pki("ca.pem")});
    return RunProcess(args);
  }

  // openssl s_client against `server` trusting the test root CA, with `args`, and `input`.
  static ProcessResult SClient(const ServerProcess& server, std::vector<std::string> args,
                               const std::string& input = "") {
    std::vector<std::string> argv = {"openssl",
                                     "s_client",
                                     "-connect",
                                     "127.0.0.1:" + std::to_string(server.port()),
                                     "-CAfile",
                                     Pki("ca.pem"),
                                     "-verify_return_error"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, {}, input);
  }

  // The Set-Cookie header of a sign-in over HTTPS, through curl.
  std::string HttpsSignInCookie(const ServerProcess& server) {
    const std::string body =
        json::serialize(json::value{{"username", "admin"}, {"password", kAdminPassword}});
    RememberSecret(kAdminPassword);
    ProcessResult r = Curl({"-D", "-", "-o", "/dev/null", "-H", "Content-Type: application/json",
                            "--data-binary", body, Https(server) + "/api/v1/login"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::smatch m;
    if (!std::regex_search(r.out, m,
                           std::regex("(?:^|\n)set-cookie: ([^\r\n]*)", std::regex::icase))) {
      ADD_FAILURE() << "no Set-Cookie in:\n" << r.out;
      return "";
    }
    for (const auto& token : TokensIn(m[1].str())) RememberSecret(token);
    return m[1].str();
  }

  inline static std::string pki_;
  std::string home_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
};

TEST_F(TlsTest, LogsAnHttpsUrl) {
  ServerProcess& server = StartTls();
  EXPECT_NE(server.Log().find("listening on " + Https(server)), std::string::npos) << server.Log();
}

// The whole CLI flow over HTTPS, the CA given by flag and then by environment.
TEST_F(TlsTest, CliWorksOverHttpsWithTheCaFile) {
  ServerProcess& server = StartTls();
  ProcessResult login = Login(Https(server), {"--ca-file", Pki("ca.pem")});
  ASSERT_EQ(login.exit_code, 0) << login.err;
  EXPECT_NE(login.err.find("signed in to " + Https(server)), std::string::npos) << login.err;

  ProcessResult created =
      Cli({"user", "apikey", "create", "-n", "over-tls", "--ca-file", Pki("ca.pem")});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  ASSERT_EQ(TokensIn(created.out).size(), 1u) << created.out;
  const std::string key = TokensIn(created.out)[0];

  ProcessResult listed =
      Cli({"user", "apikey", "get", "-o", "json"}, "", {{"KEYWARD_CA_FILE", Pki("ca.pem")}});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const json::value keys = json::parse(listed.out);
  ASSERT_EQ(keys.as_array().size(), 1u) << listed.out;
  EXPECT_EQ(keys.at(0).at("name").as_string(), "over-tls");
  EXPECT_EQ(keys.at(0).at("token").as_string(), key);

  // The DNS name of the certificate is checked as well as its IP address.
  ProcessResult by_name = Login(Https(server, "localhost"), {"--ca-file", Pki("ca.pem")});
  EXPECT_EQ(by_name.exit_code, 0) << by_name.err;
}

// Without the private CA the certificate is not trusted: exit code 7 (unavailable), with a
// hint, and nothing is saved.
TEST_F(TlsTest, CliRefusesAnUntrustedCertificate) {
  ServerProcess& server = StartTls();
  ProcessResult login = Login(Https(server));
  EXPECT_EQ(login.exit_code, 7) << login.err;
  EXPECT_NE(login.err.find("ERRO[0000] login: cannot reach " + Https(server) +
                           ": its TLS certificate is not trusted"),
            std::string::npos)
      << login.err;
  EXPECT_NE(login.err.find("--ca-file"), std::string::npos) << login.err;
  EXPECT_FALSE(std::filesystem::exists(home_ + "/.keyward/config"));

  // Signed in with the CA, a later command without it is refused the same way.
  ASSERT_EQ(Login(Https(server), {"--ca-file", Pki("ca.pem")}).exit_code, 0);
  ProcessResult listed = Cli({"user", "apikey", "get"});
  EXPECT_EQ(listed.exit_code, 7) << listed.err;
  EXPECT_NE(listed.err.find("its TLS certificate is not trusted"), std::string::npos) << listed.err;
}

// A certificate from the trusted CA, but for another host: refused, --ca-file or not.
TEST_F(TlsTest, CliRefusesAnotherHostsCertificate) {
  ServerProcess& server = StartTls("other");
  ProcessResult login = Login(Https(server), {"--ca-file", Pki("ca.pem")});
  EXPECT_EQ(login.exit_code, 7) << login.err;
  EXPECT_NE(login.err.find("its TLS certificate is not trusted"), std::string::npos) << login.err;
  EXPECT_NE(login.err.find("host name"), std::string::npos) << login.err;
  EXPECT_FALSE(std::filesystem::exists(home_ + "/.keyward/config"));
}

TEST_F(TlsTest, CliRefusesABadCaFile) {
  ServerProcess& server = StartTls();
  ProcessResult missing = Login(Https(server), {"--ca-file", Pki("no-such-file.pem")});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("cannot read --ca-file " + Pki("no-such-file.pem") +
                             ": No such file or directory"),
            std::string::npos)
      << missing.err;
  ProcessResult not_a_ca = Login(Https(server), {"--ca-file", Pki("server.csr")});
  EXPECT_EQ(not_a_ca.exit_code, 2) << not_a_ca.err;
  EXPECT_NE(not_a_ca.err.find("--ca-file " + Pki("server.csr") + " holds no PEM certificate"),
            std::string::npos)
      << not_a_ca.err;
}

// --ca-file adds to the system's CAs rather than replacing them. The "system" CA bundle is
// swapped, in a mount namespace of the CLI's own, for one holding only a second test root
// that issued a second server's certificate; --ca-file names the first root. Needs
// `unshare -m` (root, or user namespaces): skipped without.
TEST_F(TlsTest, CaFileAddsToTheSystemCas) {
  const char* bundle = "/etc/ssl/certs/ca-certificates.crt";
  ProcessResult probe =
      RunProcess({"unshare", "-m", "sh", "-c", std::string("mount --bind /dev/null ") + bundle});
  if (probe.exit_code != 0 || !std::filesystem::exists(bundle)) {
    GTEST_SKIP() << "cannot bind-mount over " << bundle << " in a mount namespace: " << probe.err;
  }
  const std::string dir = MakeTempDir();
  OpenSsl(dir, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
                "/CN=Keyward test system CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  Issue(dir, "server", "/CN=127.0.0.1", "ca",
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n", 7);
  servers_.push_back(
      ServerProcess::Start({"--tls-cert", dir + "/server.pem", "--tls-key", dir + "/server.key"}));
  ServerProcess& system_signed = *servers_.back();
  ServerProcess& private_signed = StartTls();

  // `keyward login` with the swapped bundle and --ca-file, against `server`.
  auto login_with_swapped_bundle = [&](const ServerProcess& server) {
    RememberSecret(kAdminPassword);
    return RunProcess(
        {"unshare", "-m", "sh", "-c", "mount --bind \"$1\" \"$2\" && shift 2 && exec \"$@\"", "sh",
         dir + "/ca.pem", bundle, KeywardBinary(), "login", "--server", Https(server), "-u",
         "admin", "--password-stdin", "--ca-file", Pki("ca.pem")},
        {{"HOME", home_}, {"XDG_CONFIG_HOME", ""}, {"KEYWARD_CA_FILE", ""}},
        std::string(kAdminPassword) + "\n");
  };
  ProcessResult system_ok = login_with_swapped_bundle(system_signed);
  EXPECT_EQ(system_ok.exit_code, 0) << system_ok.err;
  ProcessResult private_ok = login_with_swapped_bundle(private_signed);
  EXPECT_EQ(private_ok.exit_code, 0) << private_ok.err;
  RemoveTree(dir);
}

// TLS 1.1 gets a protocol_version alert from the server (the client is allowed to offer it:
// security level 0); TLS 1.2 and 1.3 are served and verify against the root CA.
TEST_F(TlsTest, OnlyTls12And13) {
  ServerProcess& server = StartTls();
  ProcessResult tls11 = SClient(server, {"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"});
  EXPECT_NE(tls11.exit_code, 0);
  EXPECT_NE(tls11.err.find("alert protocol version"), std::string::npos) << tls11.err;

  ProcessResult tls12 = SClient(server, {"-tls1_2"});
  EXPECT_EQ(tls12.exit_code, 0) << tls12.err;
  EXPECT_NE(tls12.out.find("New, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256"),
            std::string::npos)
      << tls12.out;
  EXPECT_NE(tls12.out.find("Verify return code: 0 (ok)"), std::string::npos) << tls12.out;

  ProcessResult tls13 = SClient(server, {"-tls1_3"});
  EXPECT_EQ(tls13.exit_code, 0) << tls13.err;
  EXPECT_NE(tls13.out.find("New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256"), std::string::npos)
      << tls13.out;
  EXPECT_NE(tls13.out.find("Verify return code: 0 (ok)"), std::string::npos) << tls13.out;
}

// TLS 1.2: ECDHE with AES-GCM or ChaCha20-Poly1305 only, chosen in the server's order; no
// renegotiation.
TEST_F(TlsTest, Tls12CiphersAndRenegotiation) {
  ServerProcess& server = StartTls();
  for (const char* cipher : {"ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA"}) {
    ProcessResult cbc = SClient(server, {"-tls1_2", "-cipher", cipher});
    EXPECT_NE(cbc.exit_code, 0) << cipher;
    EXPECT_NE(cbc.err.find("alert handshake failure"), std::string::npos) << cbc.err;
  }
  ProcessResult chacha = SClient(server, {"-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"});
  EXPECT_EQ(chacha.exit_code, 0) << chacha.err;
  EXPECT_NE(chacha.out.find("Cipher is ECDHE-ECDSA-CHACHA20-POLY1305"), std::string::npos);

  // The client prefers ChaCha20; the server's first choice, AES-128-GCM, wins.
  ProcessResult order = SClient(
      server,
      {"-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256"});
  EXPECT_EQ(order.exit_code, 0) << order.err;
  EXPECT_NE(order.out.find("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256"), std::string::npos)
      << order.out;

  // "R" asks s_client to renegotiate (stdin stays open meanwhile); the server refuses. Were it
  // to renegotiate, s_client would go on until its input ends, and exit 0. (OpenSSL 3 refuses
  // a client's renegotiation by default too; SSL_OP_NO_RENEGOTIATION rules out any.)
  const std::string script =
      "(printf 'R\\n'; sleep 2) | exec openssl s_client -tls1_2 -connect \"$1\" "
      "-CAfile \"$2\" -verify_return_error";
  ProcessResult renegotiate = RunProcess(
      {"sh", "-c", script, "sh", "127.0.0.1:" + std::to_string(server.port()), Pki("ca.pem")});
  EXPECT_NE(renegotiate.exit_code, 0);
  EXPECT_NE(renegotiate.err.find("RENEGOTIATING"), std::string::npos) << renegotiate.err;
  EXPECT_NE(renegotiate.err.find("no renegotiation"), std::string::npos) << renegotiate.err;
}

// Plain HTTP to the TLS port: no HTTP answer, the connection is closed at once; the server
// goes on serving TLS.
TEST_F(TlsTest, PlainHttpToTheTlsPortIsClosed) {
  ServerProcess& server = StartTls();
  const auto started = Clock::now();
  RawEnd end = SendRaw(server.port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                       std::chrono::seconds(5));
  EXPECT_TRUE(end.closed) << "not closed within 5 s";
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(2));  // not the 10 s header timeout
  EXPECT_EQ(end.received.find("HTTP/"), std::string::npos) << end.received;

  ProcessResult health = Curl({Https(server) + "/healthz"});
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_EQ(health.out, "{\"status\":\"ok\"}\n");
}

// A connection the server ends after `Connection: close` ends with close_notify, which the
// client reads as a clean end (without it, OpenSSL reports an unexpected end of file).
TEST_F(TlsTest, ConnectionCloseSendsCloseNotify) {
  ServerProcess& server = StartTls();
  ProcessResult r =
      SClient(server, {"-quiet", "-ign_eof"},
              "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("HTTP/1.1 200 OK\r\n")) << r.out;
  EXPECT_TRUE(r.out.ends_with("{\"status\":\"ok\"}\n")) << r.out;
  EXPECT_EQ(r.err.find("error"), std::string::npos) << r.err;
}

// A client that starts a handshake and stalls is cut off at the header timeout.
TEST_F(TlsTest, StalledHandshakeEndsAtTheHeaderTimeout) {
  ServerProcess& server = StartTls("server", {"--header-timeout", "1s"});
  const auto started = Clock::now();
  RawEnd end =
      SendRaw(server.port(), std::string("\x16\x03\x01\x02\x00\x01", 6), std::chrono::seconds(8));
  const auto took = Clock::now() - started;
  EXPECT_TRUE(end.closed) << "not closed within 8 s";
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(4));
  EXPECT_TRUE(end.received.empty());
}

TEST_F(TlsTest, SessionCookieIsSecureOverTlsOnly) {
  ServerProcess& tls = StartTls();
  const std::string cookie = HttpsSignInCookie(tls);
  EXPECT_TRUE(cookie.starts_with("keyward_session=kw_")) << cookie;
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos) << cookie;

  ServerProcess& plain = StartPlain();
  HttpResult r =
      Call(plain.port(), "POST", "/api/v1/login",
           json::serialize(json::value{{"username", "admin"}, {"password", kAdminPassword}}));
  ASSERT_EQ(r.status, 200) << r.body;
  RememberSecret(std::string(r.Json().at("token").as_string()));
  const std::string plain_cookie = r.Header("set-cookie");
  EXPECT_NE(plain_cookie.find("; HttpOnly"), std::string::npos) << plain_cookie;
  EXPECT_EQ(plain_cookie.find("Secure"), std::string::npos) << plain_cookie;
}

// /auth over TLS, several requests on one kept-alive connection.
TEST_F(TlsTest, ForwardAuthOverTls) {
  ServerProcess& server = StartTls();
  ASSERT_EQ(Login(Https(server), {"--ca-file", Pki("ca.pem")}).exit_code, 0);
  ProcessResult created =
      Cli({"user", "apikey", "create", "-n", "gateway", "--ca-file", Pki("ca.pem")});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  ASSERT_EQ(TokensIn(created.out).size(), 1u);
  const std::string key = TokensIn(created.out)[0];

  // Three requests in one curl run: the connection is reused (one connect, then none).
  ProcessResult r = Curl({"-H", "Authorization: Bearer " + key, "-o", "/dev/null", "-w",
                          "%{http_code} %{num_connects}\\n", Https(server) + "/auth/a",
                          Https(server) + "/auth/b", Https(server) + "/auth/c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200 1\n200 0\n200 0\n");

  ProcessResult headers =
      Curl({"-D", "-", "-o", "/dev/null", "-H", "apikey: " + key, Https(server) + "/auth"});
  EXPECT_NE(headers.out.find("X-Keyward-User: admin"), std::string::npos) << headers.out;

  ProcessResult wrong = Curl({"-o", "/dev/null", "-w", "%{http_code}", "-H",
                              "Authorization: Bearer " + WithTypo(key), Https(server) + "/auth"});
  EXPECT_EQ(wrong.out, "401");
}

// Start-up errors: one line naming what is wrong, a non-zero exit, and no first user created
// whose generated password nobody was shown.
TEST_F(TlsTest, StartupErrors) {
  struct StartupCase {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string error;
  };
  const std::string together =
      "--tls-cert and --tls-key go together: give both (HTTPS) or neither (plain HTTP)";
  const std::vector<StartupCase> cases = {
      {{"--tls-cert", Pki("server-chain.pem")}, {}, together},
      {{"--tls-key", Pki("server.key")}, {}, together},
      {{}, {{"KEYWARD_TLS_CERT", Pki("server-chain.pem")}}, together},
      {{"--tls-cert", Pki("missing.pem"), "--tls-key", Pki("server.key")},
       {},
       "cannot read the TLS certificate file " + Pki("missing.pem") +
           ": No such file or directory"},
      {{"--tls-cert", Pki("server-chain.pem"), "--tls-key", Pki("missing.key")},
       {},
       "cannot read the TLS key file " + Pki("missing.key") + ": No such file or directory"},
      {{"--tls-cert", Pki("server.key"), "--tls-key", Pki("server.key")},
       {},
       "cannot load the TLS certificate chain from " + Pki("server.key")},
      {{"--tls-cert", Pki("server-chain.pem"), "--tls-key", Pki("server-chain.pem")},
       {},
       "cannot load the TLS key from " + Pki("server-chain.pem")},
      {{"--tls-cert", Pki("server-chain.pem"), "--tls-key", Pki("encrypted.key")},
       {},
       "cannot load the TLS key from " + Pki("encrypted.key") +
           " (it must be a PEM private key, not encrypted)"},
      {{"--tls-cert", Pki("server-chain.pem"), "--tls-key", Pki("other.key")},
       {},
       "the TLS key in " + Pki("other.key") + " does not belong to the certificate in " +
           Pki("server-chain.pem")},
  };
  for (const StartupCase& c : cases) {
    const std::string data = MakeTempDir();
    std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--data-dir", data};
    args.insert(args.end(), c.args.begin(), c.args.end());
    std::map<std::string, std::string> env = c.env;
    env.try_emplace("KEYWARD_TLS_CERT", "");
    env.try_emplace("KEYWARD_TLS_KEY", "");
    env.try_emplace("KEYWARD_ADMIN_PASSWORD", "");
    ProcessResult r = RunKeyward(args, env);
    EXPECT_NE(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << "want: " << c.error << "\ngot:\n" << r.err;
    EXPECT_EQ(r.err.find("listening on"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(data + "/initial-admin-password"));
    EXPECT_EQ(r.out.find("password"), std::string::npos) << r.out;
    RemoveTree(data);
  }
}

}  // namespace
}  // namespace keyward::testing
