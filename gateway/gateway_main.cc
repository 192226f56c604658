// coffer-gateway: the HTTP/JSON front of a cofferd (API.md, "Running the
// servers"). Stateless: keys, config and every balance live in the ledger.
#include <boost/program_options.hpp>
#include <csignal>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "gateway/api_keys.h"
#include "gateway/codes.h"
#include "gateway/handlers.h"
#include "gateway/http_server.h"
#include "gateway/ledger_keys.h"
#include "gateway/ledger_link.h"
#include "gateway/router.h"
#include "gateway/routes.h"
#include "gateway/wechat_confirm.h"
#include "gateway/wechat_notify.h"
#include "gateway/wechatpay.h"

namespace po = boost::program_options;
using namespace coffer::gateway;

namespace {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

std::optional<HostPort> parse_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  HostPort hp{text.substr(0, colon), 0};
  try {
    size_t used = 0;
    unsigned long port = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || port == 0 || port > 65535) return std::nullopt;
    hp.port = static_cast<uint16_t>(port);
  } catch (...) {
    return std::nullopt;
  }
  return hp;
}

// The first line of a file, without trailing whitespace; nullopt if unreadable or empty.
std::optional<std::string> read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.pop_back();
  }
  if (line.empty()) return std::nullopt;
  return line;
}

int fail(const std::string& message) {
  std::cerr << "coffer-gateway: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description flags("coffer-gateway options");
  // clang-format off
  flags.add_options()
    ("help,h", "print this help and exit")
    ("ledger", po::value<std::string>()->default_value("127.0.0.1:7700"), "cofferd address HOST:PORT")
    ("token-file", po::value<std::string>()->default_value("data/token"),
     "file whose first line is cofferd's access token")
    ("listen", po::value<std::string>()->default_value("127.0.0.1:8080"), "HTTP address HOST:PORT")
    ("admin-key-file", po::value<std::string>()->default_value("data/admin.key"),
     "file whose first line is the bootstrap platform API key")
    ("wechatpay-public-key", po::value<std::string>(), "WeChat Pay platform public key (PEM)")
    ("wechatpay-apiv3-key-file", po::value<std::string>(), "file holding the 32-byte APIv3 key")
    ("voucher-secret-file", po::value<std::string>(),
     "file whose first line is the voucher codes' hash key (64 hex digits); without it the key "
     "is derived from the access token, the same on every gateway of one ledger")
    ("threads", po::value<uint32_t>()->default_value(1), "HTTP I/O threads");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, flags), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "coffer-gateway: " << e.what() << "\n\n" << flags;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "Usage: coffer-gateway [options]\n\n" << flags;
    return 0;
  }

  auto ledger = parse_host_port(vm["ledger"].as<std::string>());
  if (!ledger) return fail("--ledger must be HOST:PORT");
  auto listen = parse_host_port(vm["listen"].as<std::string>());
  if (!listen) return fail("--listen must be HOST:PORT");
  auto token = read_first_line(vm["token-file"].as<std::string>());
  if (!token) {
    return fail("cannot read the access token from " + vm["token-file"].as<std::string>() +
                " (start cofferd first: it creates one in its data directory)");
  }
  auto admin_key = read_first_line(vm["admin-key-file"].as<std::string>());
  if (!admin_key) {
    return fail("cannot read the admin key from " + vm["admin-key-file"].as<std::string>());
  }
  uint32_t threads = vm["threads"].as<uint32_t>();
  if (threads == 0 || threads > 64) return fail("--threads must be 1..64");

  std::unique_ptr<wechatpay::Verifier> wechat;
  bool has_pem = vm.count("wechatpay-public-key") > 0;
  bool has_v3 = vm.count("wechatpay-apiv3-key-file") > 0;
  if (has_pem != has_v3) {
    return fail("--wechatpay-public-key and --wechatpay-apiv3-key-file go together");
  }
  if (has_pem) {
    auto st = wechatpay::Verifier::load(vm["wechatpay-public-key"].as<std::string>(),
                                        vm["wechatpay-apiv3-key-file"].as<std::string>(), &wechat);
    if (!st.ok()) return fail("WeChat Pay configuration: " + st.message());
  }

  HandlerOptions handler_options;
  if (vm.count("voucher-secret-file")) {
    const std::string path = vm["voucher-secret-file"].as<std::string>();
    if (auto st = load_code_secret_file(path, &handler_options.voucher_code_secret);
        st != CodeStatus::ok) {
      return fail("cannot read the voucher secret from " + path + ": " +
                  std::string(code_status_name(st)));
    }
  } else {
    // The same on every gateway of one ledger, and what the CLI derives.
    handler_options.voucher_code_secret = coffer::client::voucher_secret_from_token(*token);
  }

  Metrics metrics;
  LedgerLinkOptions link_options;
  link_options.host = ledger->host;
  link_options.port = ledger->port;
  link_options.token = *token;
  LedgerLink link(link_options, &metrics);
  // Keys live in the ledger; the bootstrap key of --admin-key-file is platform.
  LedgerKeyResolver keys(&link, *admin_key);
  Router router(&keys);
  bind_builtin_routes(&router, &metrics,
                      [&link](std::function<void(bool)> done) { link.probe(std::move(done)); });
  bind_ledger_handlers(&router, &link, handler_options);
  // Without the WeChat Pay flags the notify URL answers 503 (API.md).
  router.bind(RouteId::wechatpay_notify,
              make_wechatpay_notify_handler(wechat.get(), make_ledger_confirmer(&link)));

  // Blocked before any thread starts, so that every thread inherits the mask
  // and the signal reaches sigwait() below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  HttpServerOptions options;
  options.address = listen->host;
  options.port = listen->port;
  options.threads = threads;
  HttpServer server(options, &router, &metrics);
  if (auto st = server.start(); !st.ok)
    return fail("cannot listen on " + listen->host + ":" + std::to_string(listen->port) + ": " +
                st.message);

  std::cerr << "coffer-gateway: ready on http://" << listen->host << ":" << server.port()
            << " (ledger " << ledger->host << ":" << ledger->port << ")\n";
  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::cerr << "coffer-gateway: stopping\n";
  server.stop();
  return 0;
}
