// QueryService over the LMDB state store: each query is one or two read
// transactions (the page, then the texts it joins), on the calling I/O thread.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "net/constants.h"
#include "net/query_service.h"
#include "net/sequencer.h"
#include "storage/state_store.h"
#include "storage/state_store_constants.h"

namespace coffer::net {
namespace {

// Keys a row's text may be kept under: its id, then the domain legs' ids.
constexpr size_t join_keys_per_row = 1 + domain_leg_count;

// The store's own limits cover the wire's: a valid query never trips them.
static_assert(query_ids_max <= storage::kTextsKeysMax);
static_assert(query_limit_max <= storage::kHistoryPageLimitMax &&
              query_limit_max <= storage::kTextsPageLimitMax &&
              query_limit_max <= storage::kGiftsPageLimitMax &&
              query_limit_max <= storage::kWithdrawalsPageLimitMax);

class StoreQueryService final : public QueryService {
 public:
  StoreQueryService(const storage::StateStore& store, const Sequencer& sequencer)
      : store_(store), sequencer_(sequencer) {}

  uint64_t acknowledged_seq() const override { return sequencer_.acknowledged_seq(); }
  uint64_t applied_seq() const override { return store_.last_applied_seq(); }

  void answer(const QueryRequest& q, size_t reply_size_max, QueryAnswer* out) override {
    *out = QueryAnswer{};
    std::vector<uint32_t> ordinals;  // history: each row's position in its command
    storage::Status st = run(q, out, &ordinals);
    if (!st.ok()) {
      // The store refuses what it has no answer for (group 0, an unknown
      // withdrawal state): the caller's mistake. Anything else is the store's.
      const bool caller = st.code() == storage::StatusCode::invalid_argument;
      *out = QueryAnswer{caller ? Result::invalid_request : Result::storage_error, {}, {}};
      return;
    }
    fit(q, ordinals, reply_size_max, out);
  }

 private:
  storage::Status run(const QueryRequest& q, QueryAnswer* out,
                      std::vector<uint32_t>* ordinals) const {
    switch (q.kind) {
      case QueryKind::texts: {
        std::vector<std::optional<std::string>> found;
        if (storage::Status st = store_.texts(q.ids, &found); !st.ok()) return st;
        out->rows.resize(q.ids.size());
        for (size_t i = 0; i < q.ids.size(); i++) {
          out->rows[i].id = q.ids[i];
          if (i < found.size()) out->rows[i].text = std::move(found[i]);
        }
        return {};
      }
      case QueryKind::texts_in_group: {
        storage::TextGroupPage page;
        if (storage::Status st = store_.texts_in_group(q.key, q.cursor.key, q.limit, &page);
            !st.ok())
          return st;
        for (auto& [key, text] : page.texts) {
          QueryRowData& r = out->rows.emplace_back();
          r.id = key;
          r.text = std::move(text);
        }
        out->next.key = page.next;
        return {};
      }
      case QueryKind::history: {
        storage::HistoryPage page;
        storage::HistoryCursor from{q.cursor.seq, q.cursor.ordinal};
        if (storage::Status st = store_.member_history(q.key, q.asset, from, q.limit, &page);
            !st.ok())
          return st;
        for (const storage::HistoryEntry& e : page.entries) {
          QueryRowData& r = out->rows.emplace_back();
          r.seq = e.seq;
          r.time_us = e.time_us;
          r.id = e.ref;
          r.effect_kind = uint16_t(e.kind);
          r.code = e.code;
          r.amount = e.amount;
          r.balance_after = e.balance_after;
          r.held_after = e.debits_pending_after;
          r.maturing_after = e.credits_pending_after;
          ordinals->push_back(e.ordinal);
        }
        out->next = QueryPosition{page.next.seq, page.next.ordinal, {}};
        return join_texts(out);
      }
      case QueryKind::gifts_sent:
      case QueryKind::gifts_received: {
        storage::GiftPage page;
        const auto direction = q.kind == QueryKind::gifts_sent ? storage::GiftDirection::sent
                                                               : storage::GiftDirection::received;
        if (storage::Status st = store_.gifts(q.key, direction, q.cursor.seq, q.limit, &page);
            !st.ok())
          return st;
        for (const storage::GiftEntry& e : page.entries) {
          QueryRowData& r = out->rows.emplace_back();
          r.seq = e.seq;
          r.time_us = e.time_us;
          r.id = e.gift_id;
          r.amount = e.amount;
          r.from_member_id = e.from_member_id;
          r.to_member_id = e.to_member_id;
        }
        out->next.seq = page.next_before_seq;
        return join_texts(out);
      }
      case QueryKind::withdrawals: {
        if (q.key > UINT8_MAX) {
          return storage::Status(storage::StatusCode::invalid_argument, "no such state");
        }
        storage::WithdrawalPage page;
        if (storage::Status st = store_.withdrawals(uint8_t(q.key), q.cursor.seq, q.limit, &page);
            !st.ok())
          return st;
        for (const storage::WithdrawalEntry& e : page.entries) {
          QueryRowData& r = out->rows.emplace_back();
          r.seq = e.seq;
          r.time_us = e.time_us;
          r.id = e.withdrawal_id;
          r.amount = e.amount;
          r.from_member_id = e.member_id;
          r.state = e.state;
        }
        out->next.seq = page.next_after_seq;
        return join_texts(out);
      }
    }
    return {};
  }

  // Each row gets the first text found under its id or its legs' ids, all
  // looked up in one read transaction.
  storage::Status join_texts(QueryAnswer* out) const {
    if (out->rows.empty()) return {};
    std::vector<Id128> keys;
    keys.reserve(out->rows.size() * join_keys_per_row);
    for (const QueryRowData& r : out->rows) {
      keys.push_back(r.id);
      for (uint32_t k = 0; k < domain_leg_count; k++)
        keys.push_back(domain_leg_id(r.id, k));
    }
    // In pieces of the store's texts() limit (the texts of a page are
    // immutable once kept, except for being replaced by a later one).
    std::vector<std::optional<std::string>> found, piece;
    found.reserve(keys.size());
    for (size_t at = 0; at < keys.size(); at += storage::kTextsKeysMax) {
      const size_t n = std::min<size_t>(storage::kTextsKeysMax, keys.size() - at);
      if (storage::Status st = store_.texts(std::span(keys).subspan(at, n), &piece); !st.ok())
        return st;
      for (auto& t : piece)
        found.push_back(std::move(t));
    }
    for (size_t i = 0; i < out->rows.size(); i++) {
      for (size_t k = 0; k < join_keys_per_row; k++) {
        const size_t at = i * join_keys_per_row + k;
        if (at < found.size() && found[at]) {
          out->rows[i].text = std::move(found[at]);
          break;
        }
      }
    }
    return {};
  }

  // Cuts the page where the reply would outgrow the frame; `next` then points
  // at the first row left out (cursors differ by kind: inclusive for history,
  // exclusive seq or key bounds for the others).
  static void fit(const QueryRequest& q, const std::vector<uint32_t>& ordinals,
                  size_t reply_size_max, QueryAnswer* out) {
    size_t size = query_reply_overhead_size_max;
    size_t n = 0;
    while (n < out->rows.size() && size + query_row_size_bound(out->rows[n]) <= reply_size_max) {
      size += query_row_size_bound(out->rows[n]);
      n++;
    }
    if (n == out->rows.size()) return;
    if (n == 0 || q.kind == QueryKind::texts) {
      *out = QueryAnswer{Result::invalid_request, {}, {}};  // cannot be cut: ask for less
      return;
    }
    const QueryRowData& last_in = out->rows[n - 1];
    switch (q.kind) {
      case QueryKind::history:
        out->next = QueryPosition{out->rows[n].seq, ordinals[n], {}};
        break;
      case QueryKind::texts_in_group:
        out->next = QueryPosition{0, 0, last_in.id};
        break;
      default:  // gifts (seq < before), withdrawals (seq > after)
        out->next = QueryPosition{last_in.seq, 0, {}};
        break;
    }
    out->rows.resize(n);
  }

  const storage::StateStore& store_;
  const Sequencer& sequencer_;
};

}  // namespace

std::unique_ptr<QueryService> make_store_query_service(const storage::StateStore& store,
                                                       const Sequencer& sequencer) {
  return std::make_unique<StoreQueryService>(store, sequencer);
}

}  // namespace coffer::net
