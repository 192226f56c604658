// coffer-bench: a load generator for Coffer over the binary protocol (cofferd)
// or over HTTP (coffer-gateway's JSON API). It sets up a merchant and --members
// funded members, then runs the domain mix (payments captured at once,
// recharges, partial refunds of earlier payments, balance reads, paper voucher
// redemptions) on --connections connections for --duration seconds or --count
// operations; prints a progress line each second and, at the end, throughput,
// latency percentiles, errors by code and a JSON result file. Last, it reads
// every member's balance back (and, over the binary protocol, the merchant's
// and the system accounts') and checks that the ledger holds exactly what the
// acknowledged operations imply: no lost and no duplicated money.
//
// load_binary.cc and load_http.cc are the two transports; load.h what they share.
#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>

#include "bench/load.h"
#include "core/constants.h"

namespace po = boost::program_options;
using namespace coffer::bench;

namespace {

bool parse_http_target(std::string s, Options* o) {
  if (s.rfind("http://", 0) == 0) s = s.substr(7);
  while (!s.empty() && s.back() == '/')
    s.pop_back();
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  try {
    size_t used = 0;
    unsigned long p = std::stoul(s.substr(colon + 1), &used);
    if (used != s.size() - colon - 1 || p == 0 || p > 65535) return false;
    o->http_port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  o->http_host = s.substr(0, colon);
  o->http = true;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string mix = mix_text(o.mix);
  std::string http_target, api_key_file;
  po::options_description flags("coffer-bench options");
  // clang-format off
  flags.add_options()
    ("help,h", "print this help and exit")
    ("server", po::value(&o.server)->default_value(o.server), "cofferd address HOST:PORT (binary protocol)")
    ("token-file", po::value(&o.token_file)->default_value(o.token_file), "cofferd's access token file")
    ("http", po::value(&http_target), "coffer-gateway address HOST:PORT: run over HTTP instead")
    ("target", po::value(&http_target), "the same as --http, as a URL http://HOST:PORT")
    ("api-key", po::value(&o.api_key), "HTTP: a platform API key")
    ("api-key-file", po::value(&api_key_file), "HTTP: file whose first line is the API key")
    ("http-threads", po::value(&o.http_threads)->default_value(o.http_threads), "HTTP: I/O threads")
    ("members", po::value(&o.members)->default_value(o.members), "members (ids 1..N)")
    ("merchant", po::value(&o.merchant)->default_value(o.merchant), "merchant id of the payments")
    ("connections", po::value(&o.connections)->default_value(o.connections), "connections (HTTP: one request in flight on each)")
    ("batch", po::value(&o.batch)->default_value(o.batch), "binary: commands per call (1..8192)")
    ("in-flight", po::value(&o.in_flight)->default_value(o.in_flight), "binary: calls outstanding per connection")
    ("duration", po::value(&o.duration_s)->default_value(o.duration_s), "seconds to run")
    ("count", po::value(&o.count)->default_value(0), "operations to send instead of --duration")
    ("mix", po::value(&mix), "percentages of payments=,recharges=,refunds=,reads=,vouchers= summing to 100 "
                             "(default 70/10/5/10/5; HTTP: 70/10/5/15/0)")
    ("zipf", po::value(&o.zipf)->default_value(0), "Zipf exponent of member choice (0 = uniform)")
    ("seed", po::value(&o.seed)->default_value(1), "random seed")
    ("json", po::value(&o.json_path)->default_value(o.json_path), "result file")
    ("no-setup", "do not register and fund the members (they exist)")
    ("no-verify", "skip the final money check")
    ("no-progress", "no progress line")
    ("cpu-pids", po::value<std::vector<int>>(&o.cpu_pids)->multitoken(), "report these processes' CPU time over the run (Linux)");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, flags), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "coffer-bench: " << e.what() << "\n\n" << flags;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "Usage: coffer-bench [options]\n\n" << flags;
    return 0;
  }
  auto bad = [](const std::string& m) {
    std::cerr << "coffer-bench: " << m << "\n";
    return 2;
  };
  o.setup = !vm.count("no-setup");
  o.verify = !vm.count("no-verify");
  o.progress = !vm.count("no-progress");
  if (vm.count("http") && vm.count("target")) return bad("give --http or --target, not both");
  if (!http_target.empty() && !parse_http_target(http_target, &o))
    return bad("--http takes HOST:PORT, --target http://HOST:PORT");
  if (!vm.count("mix") && o.http) o.mix = Mix{70, 10, 5, 15, 0};
  if (vm.count("mix") && !parse_mix(mix, &o.mix)) {
    return bad(
        "--mix takes payments=,recharges=,refunds=,reads=,vouchers= percentages summing "
        "to 100");
  }
  if (o.http && o.mix[static_cast<size_t>(OpKind::voucher)] != 0) {
    return bad(
        "voucher redemptions over HTTP need the gateway's voucher batch routes; use "
        "vouchers=0 with --http");
  }
  if (!api_key_file.empty()) {
    std::ifstream in(api_key_file);
    if (!in || !std::getline(in, o.api_key) || o.api_key.empty())
      return bad("cannot read the API key from " + api_key_file);
    while (!o.api_key.empty() && (o.api_key.back() == '\r' || o.api_key.back() == ' '))
      o.api_key.pop_back();
  }
  if (o.members == 0 || o.members > members_max) return bad("--members must be 1..50000000");
  if (o.connections == 0 || o.connections > connections_max)
    return bad("--connections must be 1..1024");
  if (o.batch == 0 || o.batch > coffer::batch_size_max) return bad("--batch must be 1..8192");
  if (o.in_flight == 0 || o.in_flight > in_flight_max) return bad("--in-flight must be 1..1024");
  if (o.http_threads == 0 || o.http_threads > 64) return bad("--http-threads must be 1..64");
  if (o.zipf < 0 || o.zipf > 5) return bad("--zipf must be 0..5");
  if (o.duration_s <= 0 && o.count == 0) return bad("--duration must be positive");
  return o.http ? run_http(o) : run_binary(o);
}
