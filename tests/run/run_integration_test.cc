// `llmtap run` end to end, with real clients and no change to them: a Node 20 program using the
// `openai` SDK, an OpenAI Agents SDK program (the demo's support workflow), a Python httpx program
// and curl, each against the simulated provider over TLS (a test CA passed with --upstream-ca, or
// trusted by the client in preload mode). Every test checks the spans (JSONL export), the exit code
// and the tree printed to stderr. No test disables TLS verification.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/test_source_dir.h"

extern char** environ;

namespace {

using json = nlohmann::json;
using Env = std::map<std::string, std::string>;

const std::string kSource = llmtap::test_support::source_dir();
const std::string kLlmtap = LLMTAP_BINARY;
// Debian's python3, which scripts/setup gives httpx (python3-httpx); a pyenv shim on PATH would not have it.
const std::string kDebianPython = "/usr/bin/python3";
const std::string kSecretKey = "sk-test-run-integration-SECRET-0123456789";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string which(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    std::string p = dir + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

Env base_environment() {
  Env env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  // A clean slate: nothing inherited may steer the client or weaken TLS.
  for (const char* k : {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                        "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
                        "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED",
                        "NODE_OPTIONS", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GEMINI_BASE_URL",
                        "GOOGLE_GEMINI_BASE_URL", "LD_PRELOAD", "LLMTAP_ENDPOINT", "LLMTAP_HOSTS",
                        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"})
    env.erase(k);
  env["OPENAI_API_KEY"] = kSecretKey;
  env["OPENAI_AGENTS_DISABLE_TRACING"] = "1";  // the SDK's own exporter would call the internet
  return env;
}

struct Result {
  int exit_code = -1;
  std::string out, err;
};

// Runs ARGV with ENV; stdout/stderr captured through files. Killed after TIMEOUT (then exit -1).
Result run(const std::vector<std::string>& argv, const Env& env, const std::string& scratch,
           std::chrono::seconds timeout = std::chrono::seconds(180), const std::string& ready_file = "",
           int signal_after_ready = 0) {
  static int counter = 0;
  std::string out_path = scratch + "/out." + std::to_string(++counter);
  std::string err_path = scratch + "/err." + std::to_string(counter);
  std::vector<std::string> envs;
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int n = ::open("/dev/null", O_RDONLY);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::dup2(n, 0);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  Result r;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool signalled = false;
  int status = 0;
  for (;;) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (!signalled && signal_after_ready && ::access(ready_file.c_str(), F_OK) == 0) {
      ::kill(pid, signal_after_ready);
      signalled = true;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.out = read_file(out_path);
      r.err = read_file(err_path) + "\n[test: killed after timeout]";
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

std::vector<json> read_spans(const std::string& path) {
  std::vector<json> spans;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) spans.push_back(json::parse(line, nullptr, false));
  return spans;
}

std::string kind_of(const json& s) {
  if (s.contains("kind") && s["kind"].is_string()) return s["kind"];
  return s.value("/attributes/llmtap.span.kind"_json_pointer, std::string());
}

std::string attr(const json& s, const std::string& key) {
  if (!s.contains("attributes") || !s["attributes"].contains(key)) return "";
  const auto& v = s["attributes"][key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::int64_t int_attr(const json& s, const std::string& key) {
  if (!s.contains("attributes") || !s["attributes"].contains(key)) return -1;
  const auto& v = s["attributes"][key];
  return v.is_number() ? v.get<std::int64_t>() : -1;
}

struct SpanCounts {
  std::set<std::string> traces;
  std::map<std::string, int> kinds;
  std::multiset<std::string> tools;  // gen_ai.tool.name of tool spans
  int priced_generations = 0;
  int cached_generations = 0;
};

SpanCounts count(const std::vector<json>& spans) {
  SpanCounts c;
  for (const auto& s : spans) {
    if (s.is_discarded()) continue;
    c.traces.insert(s.value("trace_id", ""));
    std::string k = kind_of(s);
    ++c.kinds[k];
    if (k == "tool") c.tools.insert(attr(s, "gen_ai.tool.name"));
    if (k == "generation") {
      if (s["attributes"].contains("llm.cost.total")) ++c.priced_generations;
      if (int_attr(s, "gen_ai.usage.cache_read.input_tokens") > 0) ++c.cached_generations;
    }
  }
  return c;
}

// Starts ARGV with ENV in the background; returns its pid and the first line it prints on stdout
// (a server's `listening ADDR:PORT`). Its stderr goes to ERR_PATH.
std::pair<pid_t, std::string> start_server(const std::vector<std::string>& argv, const Env& env,
                                           const std::string& err_path) {
  int fds[2];
  if (::pipe(fds) != 0) return {-1, ""};
  std::vector<std::string> envs;
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(e, 2);
    ::close(fds[0]);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string line;
  char c;
  while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(fds[0]);
  return {pid, line};
}

class RunIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char dir[] = "/tmp/llmtap-run-it-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    scratch_ = dir;
    std::string ca_dir = scratch_ + "/sim-ca";
    ASSERT_EQ(std::system(("'" + kSource + "/examples/sim-provider/make_test_ca.sh' '" + ca_dir + "'").c_str()), 0);
    sim_ca_ = ca_dir + "/ca.pem";
    // The simulated provider over HTTPS on an ephemeral port; its first stdout line names the port.
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    sim_pid_ = ::fork();
    if (sim_pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      std::string script = kSource + "/examples/sim-provider/sim_provider.py";
      std::string cert = ca_dir + "/server.pem", key = ca_dir + "/server.key";
      std::string log = scratch_ + "/sim-requests.jsonl";
      ::execlp("python3", "python3", script.c_str(), "--cert", cert.c_str(), "--key", key.c_str(), "--port", "0",
               "--log", log.c_str(), (char*)nullptr);
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string line;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(fds[0]);
    ASSERT_EQ(line.rfind("listening 127.0.0.1:", 0), 0u) << "sim provider said: " << line;
    sim_port_ = line.substr(std::string("listening 127.0.0.1:").size());
  }

  static void TearDownTestSuite() {
    if (sim_pid_ > 0) {
      ::kill(sim_pid_, SIGTERM);
      ::waitpid(sim_pid_, nullptr, 0);
    }
    if (!scratch_.empty() && !std::getenv("LLMTAP_KEEP_TEST_FILES")) std::system(("rm -rf " + scratch_).c_str());
  }

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = scratch_ + "/" + info->name();
    ::mkdir(dir_.c_str(), 0700);
    env_ = base_environment();
    env_["LLMTAP_DATA_DIR"] = dir_ + "/data";
    spans_path_ = dir_ + "/spans.jsonl";
  }

  std::string sim_url() const { return "https://127.0.0.1:" + sim_port_; }

  // `llmtap run` with the sim as every provider's upstream, exporting spans to spans_path_.
  std::vector<std::string> llmtap_run(const std::vector<std::string>& extra, const std::vector<std::string>& cmd) {
    std::vector<std::string> argv = {kLlmtap, "run", "--upstream", "openai=" + sim_url(), "--upstream",
                                     "anthropic=" + sim_url(), "--upstream", "gemini=" + sim_url(),
                                     "--upstream-ca", sim_ca_,
                                     "--export", "jsonl=" + spans_path_, "--export", "sqlite",
                                     "--trace-idle-ms", "60000"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("--");
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    return argv;
  }

  void expect_no_secret(const Result& r) {
    EXPECT_EQ(r.out.find(kSecretKey), std::string::npos);
    EXPECT_EQ(r.err.find(kSecretKey), std::string::npos);
    EXPECT_EQ(read_file(spans_path_).find(kSecretKey), std::string::npos);
  }

  // The tool-calling chat loop of openai_chat_tools.mjs / httpx_chat_tools.py: one trace, two
  // generations (the second with cached input tokens), one lookup_order tool span.
  void expect_chat_loop_spans(const Result& r) {
    SCOPED_TRACE("stderr:\n" + r.err);
    auto c = count(read_spans(spans_path_));
    EXPECT_EQ(c.traces.size(), 1u);
    EXPECT_EQ(c.kinds["workflow"], 1);
    EXPECT_EQ(c.kinds["generation"], 2);
    EXPECT_EQ(c.tools.count("lookup_order"), 1u);
    EXPECT_EQ(c.priced_generations, 2);  // gpt-4o-mini is in the price table
    EXPECT_GE(c.cached_generations, 1);
    EXPECT_NE(r.err.find("Tool: lookup_order"), std::string::npos);
    EXPECT_NE(r.err.find("LLM: "), std::string::npos);
    EXPECT_NE(r.err.find("cost: $"), std::string::npos);
    EXPECT_NE(r.err.find("traces.db"), std::string::npos);  // the store path
    expect_no_secret(r);
  }

  static std::string scratch_, sim_ca_, sim_port_;
  static pid_t sim_pid_;
  std::string dir_, spans_path_;
  Env env_;
};

std::string RunIntegration::scratch_, RunIntegration::sim_ca_, RunIntegration::sim_port_;
pid_t RunIntegration::sim_pid_ = -1;

std::string node_or_fail() {
  std::string node = which("node");
  EXPECT_FALSE(node.empty()) << "node is required (scripts/setup installs it)";
  EXPECT_EQ(::access((kSource + "/tests/node/node_modules/openai").c_str(), F_OK), 0)
      << "run scripts/setup (npm ci in tests/node)";
  return node;
}

TEST_F(RunIntegration, NodeOpenAiSdkAutoModeAndExitCode) {
  std::string node = node_or_fail();
  if (node.empty()) return;
  env_["EXIT_CODE"] = "3";
  auto r = run(llmtap_run({}, {"node", kSource + "/tests/node/run_clients/openai_chat_tools.mjs"}), env_, dir_);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("llmtap run: proxy + gateway variables: Node v"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("Here is what I found"), std::string::npos) << r.out;
  expect_chat_loop_spans(r);
}

TEST_F(RunIntegration, UserBaseUrlBecomesTheUpstream) {
  // The app already points the SDK at its own endpoint (here the sim, trusted through
  // NODE_EXTRA_CA_CERTS as an app would): the gateway takes its place and forwards there.
  std::string node = node_or_fail();
  if (node.empty()) return;
  env_["OPENAI_BASE_URL"] = sim_url() + "/v1";
  env_["NODE_EXTRA_CA_CERTS"] = sim_ca_;
  auto r = run({kLlmtap, "run", "--mode", "gateway", "--upstream-ca", sim_ca_, "--export", "jsonl=" + spans_path_,
                "--export", "sqlite", "--", "node", kSource + "/tests/node/run_clients/openai_chat_tools.mjs"},
               env_, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expect_chat_loop_spans(r);
}

TEST_F(RunIntegration, AgentsSdkSupportWorkflow) {
  std::string node = node_or_fail();
  if (node.empty()) return;
  ASSERT_EQ(::access((kSource + "/examples/support-agents/node_modules/@openai/agents").c_str(), F_OK), 0)
      << "run scripts/setup (npm ci in examples/support-agents)";
  // Responses API without and with streaming, Chat Completions streamed.
  for (auto [api, stream] : {std::pair{"responses", "0"}, {"responses", "1"}, {"chat", "1"}}) {
    SCOPED_TRACE(std::string(api) + " stream=" + stream);
    std::remove(spans_path_.c_str());
    env_["SUPPORT_API"] = api;
    env_["SUPPORT_STREAM"] = stream;
    auto r = run(llmtap_run({}, {"node", kSource + "/examples/support-agents/main.mjs"}), env_, dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Two of the three customers are handed to billing and refunded.
    std::size_t billing = 0;
    for (auto p = r.out.find("Billing agent:"); p != std::string::npos; p = r.out.find("Billing agent:", p + 1))
      ++billing;
    EXPECT_EQ(billing, 2u) << r.out;
    SCOPED_TRACE("stderr:\n" + r.err);
    auto c = count(read_spans(spans_path_));
    EXPECT_EQ(c.traces.size(), 3u);  // one trace per conversation
    EXPECT_EQ(c.kinds["workflow"], 3);
    EXPECT_EQ(c.tools.count("lookup_order"), 3u);
    EXPECT_EQ(c.tools.count("issue_refund"), 2u);
    EXPECT_EQ(c.kinds["handoff"], 2);
    EXPECT_GE(c.kinds["agent"], 5);  // triage x3 + billing x2
    EXPECT_EQ(c.kinds["generation"], 3 * 2 + 2 * 2);  // triage: tool, transfer|answer; billing: tool, answer
    EXPECT_NE(r.err.find("Tool: issue_refund"), std::string::npos);
    EXPECT_NE(r.err.find("Handoff: "), std::string::npos);
    expect_no_secret(r);
  }
}

TEST_F(RunIntegration, PythonHttpxThroughProxy) {
  auto r = run(llmtap_run({"--mode", "proxy"}, {kDebianPython, kSource + "/tests/run/clients/httpx_chat_tools.py"}),
               env_, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expect_chat_loop_spans(r);
}

TEST_F(RunIntegration, PythonHttpxAutoPreload) {
  // Preload captures the program's own TLS: it talks to the sim directly and trusts the test CA as
  // any app would; LLMTAP_HOSTS adds the sim's address to the captured hosts.
  env_["OPENAI_BASE_URL"] = sim_url() + "/v1";
  env_["SSL_CERT_FILE"] = sim_ca_;
  env_["LLMTAP_HOSTS"] = "127.0.0.1";
  env_["EXIT_CODE"] = "5";
  auto r = run(llmtap_run({}, {kDebianPython, kSource + "/tests/run/clients/httpx_chat_tools.py"}), env_, dir_);
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("llmtap run: preload: python"), std::string::npos) << r.err;
  expect_chat_loop_spans(r);
}

const char* kCurlBody =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Where is my order 1002?"}],)"
    R"("tools":[{"type":"function","function":{"name":"lookup_order","parameters":{"type":"object",)"
    R"("properties":{"order_id":{"type":"string"}}}}}]})";

std::vector<std::string> curl_argv(const std::string& url) {
  return {"curl", "-sS", "--fail-with-body", url + "/v1/chat/completions", "-H", "Content-Type: application/json",
          "-H", "Authorization: Bearer " + kSecretKey, "-d", kCurlBody};
}

void expect_single_call(const Result& r, const std::string& spans_path) {
  SCOPED_TRACE("stderr:\n" + r.err);
  EXPECT_NE(r.out.find("lookup_order"), std::string::npos) << r.out;
  auto c = count(read_spans(spans_path));
  EXPECT_EQ(c.traces.size(), 1u);
  EXPECT_EQ(c.kinds["generation"], 1);
  EXPECT_EQ(c.tools.count("lookup_order"), 1u);  // requested, never answered: closed at shutdown
  EXPECT_NE(r.err.find("LLM: "), std::string::npos);
  EXPECT_NE(r.err.find("cost: $"), std::string::npos);
}

TEST_F(RunIntegration, CurlThroughProxy) {
  auto r = run(llmtap_run({"--mode", "proxy"}, curl_argv("https://api.openai.com")), env_, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expect_single_call(r, spans_path_);
  expect_no_secret(r);
}

TEST_F(RunIntegration, CurlAutoPreload) {
  env_["CURL_CA_BUNDLE"] = sim_ca_;
  env_["LLMTAP_HOSTS"] = "127.0.0.1";
  auto r = run(llmtap_run({}, curl_argv(sim_url())), env_, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("llmtap run: preload: curl"), std::string::npos) << r.err;
  expect_single_call(r, spans_path_);
  expect_no_secret(r);
}

TEST_F(RunIntegration, CurlFailureExitCodePassesThrough) {
  // curl's own failure code (22: HTTP error with --fail) comes back unchanged.
  auto argv = curl_argv("https://api.openai.com");
  argv.back() = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"SIM_ERROR_429"}]})";
  argv[2] = "--fail";
  auto r = run(llmtap_run({"--mode", "proxy"}, argv), env_, dir_);
  EXPECT_EQ(r.exit_code, 22) << r.err;
}

TEST_F(RunIntegration, EnvironmentGivenToTheChild) {
  std::string user_bundle = dir_ + "/corp-roots.pem";
  std::ofstream(user_bundle) << read_file(sim_ca_);
  env_["SSL_CERT_FILE"] = user_bundle;
  env_["NO_PROXY"] = "internal.example";
  env_["ANTHROPIC_BASE_URL"] = sim_url();
  std::string env_dump = dir_ + "/child.env";
  auto r = run(llmtap_run({"--mode", "proxy"}, {"sh", "-c", "env > '" + env_dump + "'"}), env_, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> child;
  std::ifstream in(env_dump);
  for (std::string line; std::getline(in, line);)
    if (auto eq = line.find('='); eq != std::string::npos) child[line.substr(0, eq)] = line.substr(eq + 1);
  // The proxy's credential rides in the proxy URL; loopback stays direct.
  const std::string credential = read_file(dir_ + "/data/proxy-credential");
  ASSERT_FALSE(credential.empty());
  EXPECT_EQ(child["HTTPS_PROXY"].rfind("http://llmtap:" + credential.substr(0, credential.size() - 1) + "@127.0.0.1:", 0), 0u)
      << child["HTTPS_PROXY"];
  EXPECT_EQ(child["https_proxy"], child["HTTPS_PROXY"]);
  EXPECT_EQ(child["HTTP_PROXY"], child["HTTPS_PROXY"]);
  EXPECT_EQ(child["NO_PROXY"], "internal.example,127.0.0.1,localhost,::1");
  EXPECT_EQ(child["NODE_USE_ENV_PROXY"], "1");
  EXPECT_EQ(child.count("NODE_TLS_REJECT_UNAUTHORIZED"), 0u);
  // The user's trust file is extended with llmtap's CA, not replaced.
  std::string bundle = read_file(child["SSL_CERT_FILE"]);
  std::string llmtap_ca = read_file(child["NODE_EXTRA_CA_CERTS"]);
  ASSERT_FALSE(llmtap_ca.empty());
  EXPECT_NE(bundle.find(read_file(sim_ca_)), std::string::npos);
  EXPECT_NE(bundle.find(llmtap_ca), std::string::npos);
  EXPECT_NE(read_file(child["CURL_CA_BUNDLE"]).find(llmtap_ca), std::string::npos);
  EXPECT_EQ(child.count("OPENAI_BASE_URL"), 0u);  // proxy mode leaves base URLs alone
}

TEST_F(RunIntegration, CommandNotFoundAndSignals) {
  auto nf = run({kLlmtap, "run", "--quiet", "--", "no-such-command-llmtap-xyz"}, env_, dir_);
  EXPECT_EQ(nf.exit_code, 127);
  EXPECT_NE(nf.err.find("command not found"), std::string::npos) << nf.err;

  auto killed = run({kLlmtap, "run", "--quiet", "--mode", "proxy", "--", "sh", "-c", "kill -TERM $$"}, env_, dir_);
  EXPECT_EQ(killed.exit_code, 128 + SIGTERM) << killed.err;

  // SIGTERM sent to llmtap reaches the child (which reports it), then llmtap exits with its code.
  std::string ready = dir_ + "/ready";
  auto fwd = run({kLlmtap, "run", "--mode", "proxy", "--", "sh", "-c",
                  "trap 'echo got-term; exit 7' TERM; touch '" + ready + "'; while :; do sleep 0.05; done"},
                 env_, dir_, std::chrono::seconds(60), ready, SIGTERM);
  EXPECT_EQ(fwd.exit_code, 7) << fwd.err;
  EXPECT_NE(fwd.out.find("got-term"), std::string::npos);
}

TEST_F(RunIntegration, NodeAnthropicSdkThroughGateway) {
  std::string node = node_or_fail();
  if (node.empty()) return;
  env_["ANTHROPIC_API_KEY"] = kSecretKey;
  auto r = run(llmtap_run({"--mode", "gateway"}, {"node", kSource + "/tests/node/run_clients/anthropic_tools.mjs"}),
               env_, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Here is what I found"), std::string::npos) << r.out;
  SCOPED_TRACE("stderr:\n" + r.err);
  auto c = count(read_spans(spans_path_));
  EXPECT_EQ(c.traces.size(), 1u);
  EXPECT_EQ(c.kinds["generation"], 2);
  EXPECT_EQ(c.tools.count("lookup_order"), 1u);
  EXPECT_GE(c.cached_generations, 1);  // the second turn reads the cached system prompt
  EXPECT_NE(r.err.find("Tool: lookup_order"), std::string::npos);
  expect_no_secret(r);
}

// ANTHROPIC_BASE_URL as `llmtap run` sets it works for Anthropic's SDK (${base}/v1/messages) and
// for the Vercel AI SDK's shape (${base}/messages): both reach the provider's /v1/messages. The
// client's non-model calls under the same base are forwarded and make no generation.
TEST_F(RunIntegration, AnthropicBaseUrlWithAndWithoutVersionSegment) {
  std::string node = node_or_fail();
  if (node.empty()) return;
  env_["ANTHROPIC_API_KEY"] = kSecretKey;
  const std::string sim_log = scratch_ + "/sim-requests.jsonl";
  const std::size_t seen_before = read_file(sim_log).size();
  auto r = run(llmtap_run({"--mode", "gateway"},
                          {"node", kSource + "/tests/node/run_clients/anthropic_base_url_shapes.mjs"}),
               env_, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("ai-sdk path:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("side calls: 200 200"), std::string::npos) << r.out;  // forwarded: the sim's answer
  SCOPED_TRACE("stderr:\n" + r.err);
  const std::string seen = read_file(sim_log).substr(seen_before);
  std::size_t messages = 0;
  for (std::size_t p = seen.find(R"("path": "/v1/messages")"); p != std::string::npos;
       p = seen.find(R"("path": "/v1/messages")", p + 1))
    ++messages;
  EXPECT_EQ(messages, 2u) << seen;  // both shapes reached the real endpoint
  // The side calls reached the provider as sent (the sim answers its housekeeping paths).
  EXPECT_NE(seen.find(R"("method": "GET", "path": "/api/claude_cli/bootstrap", "status": 200)"), std::string::npos) << seen;
  EXPECT_NE(seen.find(R"("method": "HEAD", "path": "/", "status": 200)"), std::string::npos) << seen;
  auto c = count(read_spans(spans_path_));
  EXPECT_EQ(c.kinds["generation"], 2);  // the bootstrap and HEAD calls are not model calls
  EXPECT_NE(r.err.find("over 2 model calls"), std::string::npos);
  EXPECT_EQ(r.err.find("missing from the price table"), std::string::npos);
  expect_no_secret(r);
}

// The real Vercel AI SDK (@ai-sdk/anthropic posts ${ANTHROPIC_BASE_URL}/messages, @ai-sdk/openai
// ${OPENAI_BASE_URL}/responses) in a tool loop under `llmtap run`'s default mode.
TEST_F(RunIntegration, VercelAiSdkToolLoops) {
  std::string node = node_or_fail();
  if (node.empty()) return;
  env_["ANTHROPIC_API_KEY"] = kSecretKey;
  env_["OPENAI_API_KEY"] = kSecretKey;
  const std::string sim_log = scratch_ + "/sim-requests.jsonl";
  const std::size_t seen_before = read_file(sim_log).size();
  auto r = run(llmtap_run({}, {"node", kSource + "/tests/node/run_clients/ai_sdk_tools.mjs"}), env_, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const std::string seen = read_file(sim_log).substr(seen_before);
  EXPECT_NE(seen.find(R"("path": "/v1/messages")"), std::string::npos) << seen;  // not /messages
  EXPECT_EQ(seen.find(R"("path": "/messages")"), std::string::npos) << seen;
  EXPECT_NE(r.out.find("anthropic: 2 steps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("openai: 2 steps"), std::string::npos) << r.out;
  SCOPED_TRACE("stderr:\n" + r.err);
  auto c = count(read_spans(spans_path_));
  EXPECT_EQ(c.traces.size(), 2u);
  EXPECT_EQ(c.kinds["generation"], 4);
  EXPECT_EQ(c.tools.count("lookup_order"), 2u);  // one per loop
  expect_no_secret(r);
}

TEST_F(RunIntegration, CurlGeminiStreamThroughProxy) {
  std::string body =
      R"({"contents":[{"role":"user","parts":[{"text":"What is the weather in Paris?"}]}],)"
      R"("tools":[{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"object",)"
      R"("properties":{"city":{"type":"string"}}}}]}]})";
  auto r = run(llmtap_run({"--mode", "proxy"},
                          {"curl", "-sS", "--fail-with-body",
                           "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                           "-H", "Content-Type: application/json", "-H", "x-goog-api-key: " + kSecretKey, "-d", body}),
               env_, dir_);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("functionCall"), std::string::npos) << r.out;
  SCOPED_TRACE("stderr:\n" + r.err);
  auto c = count(read_spans(spans_path_));
  EXPECT_EQ(c.kinds["generation"], 1);
  EXPECT_EQ(c.tools.count("get_weather"), 1u);
  expect_no_secret(r);
}

TEST_F(RunIntegration, UsesRunningLlmtapFromEndpoint) {
  // A long-running `llmtap proxy`; `llmtap run` with LLMTAP_ENDPOINT only sets the environment.
  std::string node = node_or_fail();
  if (node.empty()) return;
  auto [proxy_pid, line] = start_server({kLlmtap, "proxy", "--listen", "127.0.0.1:0", "--upstream",
                                         "openai=" + sim_url(), "--upstream-ca", sim_ca_, "--export",
                                         "jsonl=" + spans_path_, "--trace-idle-ms", "60000"},
                                        env_, dir_ + "/proxy.err");
  ASSERT_GT(proxy_pid, 0);
  ASSERT_EQ(line.rfind("listening 127.0.0.1:", 0), 0u) << line << read_file(dir_ + "/proxy.err");
  Env env = env_;
  env["LLMTAP_ENDPOINT"] = line.substr(std::string("listening ").size());
  env["EXIT_CODE"] = "4";
  auto r = run({kLlmtap, "run", "--", "node", kSource + "/tests/node/run_clients/openai_chat_tools.mjs"}, env, dir_);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("using the running llmtap at 127.0.0.1:"), std::string::npos) << r.err;
  ::kill(proxy_pid, SIGTERM);  // closes and exports every open trace
  int status = 0;
  ::waitpid(proxy_pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(dir_ + "/proxy.err");
  auto c = count(read_spans(spans_path_));
  EXPECT_EQ(c.kinds["generation"], 2);
  EXPECT_EQ(c.tools.count("lookup_order"), 1u);
  expect_no_secret(r);
}

TEST_F(RunIntegration, HelpExplainsModes) {
  auto r = run({kLlmtap, "run", "--help"}, env_, dir_);
  EXPECT_EQ(r.exit_code, 0);
  for (const char* word : {"--mode", "auto", "proxy", "gateway", "preload", "NODE_EXTRA_CA_CERTS", "LLMTAP_ENDPOINT",
                           "--upstream"})
    EXPECT_NE(r.out.find(word), std::string::npos) << word;
  // Each option once, with the defaults `llmtap run` applies.
  for (const char* opt : {"\n  --listen ", "\n  --mode ", "\n  --log-level "}) {
    auto first = r.out.find(opt);
    ASSERT_NE(first, std::string::npos) << opt;
    EXPECT_EQ(r.out.find(opt, first + 1), std::string::npos) << opt << " listed twice";
  }
  EXPECT_NE(r.out.find("(default 127.0.0.1:0;"), std::string::npos);
  EXPECT_EQ(r.out.find("127.0.0.1:8080"), std::string::npos);
}

}  // namespace

// Two concurrent Vercel AI SDK runs whose sub-agents (called from a tool) give the same answer
// (ai_sdk_subagents.mjs): each sub-agent nests under its own run's tool call, the one whose `task`
// argument is its prompt; the runs share nothing.
TEST_F(RunIntegration, VercelAiSdkConcurrentSubAgentsNestInTheirOwnRun) {
  std::string node = node_or_fail();
  if (node.empty()) return;
  env_["OPENAI_API_KEY"] = kSecretKey;
  env_["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true";
  auto r = run(llmtap_run({}, {"node", kSource + "/tests/node/run_clients/ai_sdk_subagents.mjs"}), env_, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  SCOPED_TRACE("stderr:\n" + r.err);
  const auto spans = read_spans(spans_path_);
  std::map<std::string, std::vector<const json*>> by_trace;
  std::map<std::string, const json*> by_id;
  for (const auto& s : spans) {
    by_trace[s.value("trace_id", "")].push_back(&s);
    by_id[s.value("span_id", "")] = &s;
  }
  ASSERT_EQ(by_trace.size(), 2u);  // partition: one trace per user's run
  std::set<std::string> topics_seen;
  for (const auto& [tid, ts] : by_trace) {
    // All of a trace's generations speak of one topic.
    std::set<std::string> topics;
    int generations = 0, agents = 0;
    for (const json* s : ts) {
      if (kind_of(*s) == "agent") ++agents;
      if (kind_of(*s) != "generation") continue;
      ++generations;
      const std::string in = attr(*s, "gen_ai.input.messages");
      for (const char* topic : {"Alpha", "Beta"})
        if (in.find(topic) != std::string::npos) topics.insert(topic);
    }
    EXPECT_EQ(generations, 4);  // planner: 2 calls; sub-agent: 2 calls
    EXPECT_EQ(agents, 2);
    ASSERT_EQ(topics.size(), 1u) << "a trace mixes two users' runs";
    topics_seen.insert(*topics.begin());
    // Nesting: the sub-agent's agent span is under the research tool span, whose task argument
    // is the sub-agent's prompt.
    const json* research = nullptr;
    for (const json* s : ts)
      if (kind_of(*s) == "tool" && attr(*s, "gen_ai.tool.name") == "research") research = s;
    ASSERT_NE(research, nullptr);
    const std::string task =
        json::parse(attr(*research, "gen_ai.tool.call.arguments"), nullptr, false).value("task", std::string("?"));
    int nested = 0;
    for (const json* s : ts) {
      if (kind_of(*s) != "generation") continue;
      const json* agent = by_id[s->value("parent_span_id", "")];
      ASSERT_NE(agent, nullptr);
      if (agent->value("parent_span_id", "") != research->value("span_id", "")) continue;
      ++nested;
      EXPECT_NE(attr(*s, "gen_ai.input.messages").find(task), std::string::npos);
    }
    EXPECT_EQ(nested, 2);
    EXPECT_NE(task.find(*topics.begin()), std::string::npos);
  }
  EXPECT_EQ(topics_seen, (std::set<std::string>{"Alpha", "Beta"}));
  expect_no_secret(r);
}
