#include "clients/domain_ids.h"

#include "net/ids.h"

namespace coffer::client {

bool is_valid_caller_id(std::string_view id) {
  if (id.empty() || id.size() > caller_id_length_max) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_valid_phone(std::string_view phone) {
  if (phone.empty() || phone.size() > phone_length_max) return false;
  for (char c : phone) {
    if (!((c >= '0' && c <= '9') || c == '+' || c == '-')) return false;
  }
  return true;
}

size_t utf8_length(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text)
    n += (c & 0xC0) != 0x80;
  return n;
}

Id128 command_id(std::string_view ns, std::string_view caller_id) {
  return net::id_from_string(ns, caller_id);
}

Id128 recharge_confirm_id(std::string_view recharge_id, std::string_view channel_txn_id) {
  std::string op(recharge_id);
  op += '/';
  op += channel_txn_id;
  return net::id_from_string("recharge_confirm", op);
}

Id128 text_key(std::string_view ns, std::string_view id) {
  std::string full = "text:";
  full += ns;
  return net::id_from_string(full, id);
}

uint64_t text_group(std::string_view ns, std::string_view id) {
  std::string full = "group:";
  full += ns;
  const uint64_t g = net::id_from_string(full, id).lo;
  return g == 0 ? 1 : g;
}

Id128 member_text_key(uint64_t member_id) {
  return text_key("member", std::to_string(member_id));
}

Id128 guide_text_key() {
  return text_key("config", "guide");
}

uint64_t members_text_group() {
  return text_group("members", "all");
}

uint64_t recharges_text_group() {
  return text_group("recharges", "all");
}

Id128 group_text_key(uint32_t group_id) {
  return text_key("group", std::to_string(group_id));
}

Id128 method_text_key(uint32_t method_id) {
  return text_key("method", std::to_string(method_id));
}

uint64_t methods_text_group() {
  return text_group("methods", "all");
}

Id128 store_text_key(uint64_t merchant_account_id, uint64_t store_account_id) {
  return text_key("store",
                  std::to_string(merchant_account_id) + "/" + std::to_string(store_account_id));
}

uint64_t store_text_group(uint64_t merchant_account_id) {
  return text_group("stores", std::to_string(merchant_account_id));
}

uint64_t phone_hash(std::string_view phone) {
  std::string normal;
  for (char ch : phone) {
    if (ch != '-') normal.push_back(ch);  // "138-0000" and "1380000" are one number
  }
  const uint64_t h = net::id_from_string("phone", normal).lo;
  return h == 0 ? 1 : h;
}

uint64_t payout_hash(std::string_view method, std::string_view account) {
  std::string joined = std::to_string(method.size()) + ":";
  joined += method;
  joined += account;
  return net::id_from_string("payout", joined).lo;
}

}  // namespace coffer::client
