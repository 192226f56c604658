// Stores with location and nearby search (A1, A4), API keys stored hashed with
// role and tenant (A2), per-day per-store settlement counters (A3).
#include "core/assert.h"
#include "core/domain.h"

namespace coffer::detail {

namespace {

// cos(degree) in Q16 for 0..90 degrees: distance ranking in integers.
constexpr int64_t cos_q16[91] = {
    65536, 65526, 65496, 65446, 65376, 65287, 65177, 65048, 64898, 64729, 64540, 64332, 64104,
    63856, 63589, 63303, 62997, 62672, 62328, 61966, 61584, 61183, 60764, 60326, 59870, 59396,
    58903, 58393, 57865, 57319, 56756, 56175, 55578, 54963, 54332, 53684, 53020, 52339, 51643,
    50931, 50203, 49461, 48703, 47930, 47143, 46341, 45525, 44695, 43852, 42995, 42126, 41243,
    40348, 39441, 38521, 37590, 36647, 35693, 34729, 33754, 32768, 31772, 30767, 29753, 28729,
    27697, 26656, 25607, 24550, 23486, 22415, 21336, 20252, 19161, 18064, 16962, 15855, 14742,
    13626, 12505, 11380, 10252, 9121,  7987,  6850,  5712,  4572,  3430,  2287,  1144,  0};
constexpr int64_t mm_per_degree = 111'194'927;  // sphere of radius 6 371 km

uint64_t isqrt(uint64_t x) {
  uint64_t r = 0;
  for (uint64_t bit = uint64_t{1} << 62; bit != 0; bit >>= 2) {
    if (x >= r + bit) {
      x -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
  }
  return r;
}

// Equirectangular approximation, metres (good to well under 1 % within a city).
uint64_t distance_m(int32_t lat1, int32_t lon1, int32_t lat2, int32_t lon2) {
  int64_t dlon = int64_t{lon2} - lon1;
  if (dlon > 180'000'000) dlon -= 360'000'000;
  if (dlon < -180'000'000) dlon += 360'000'000;
  const int64_t mid = (int64_t{lat1} + lat2) / 2;
  const int64_t deg = (mid < 0 ? -mid : mid) / 1'000'000;
  const int64_t dy_mm = (int64_t{lat2} - lat1) * mm_per_degree / 1'000'000;
  const int64_t dx_mm = dlon * mm_per_degree / 1'000'000 * cos_q16[deg] / 65536;
  const uint64_t d2 = static_cast<uint64_t>(dx_mm / 1000 * (dx_mm / 1000)) +
                      static_cast<uint64_t>(dy_mm / 1000 * (dy_mm / 1000));
  return isqrt(d2);
}

bool coordinates_ok(int32_t lat, int32_t lon) {
  return lat >= -90'000'000 && lat <= 90'000'000 && lon >= -180'000'000 && lon <= 180'000'000;
}

Id128 store_key(uint64_t merchant_id, uint64_t store_id) {
  return Id128{store_id, merchant_id};
}

}  // namespace

Result Domain::store_set(const Command& c) {
  const StoreBody& b = c.body.store;
  if (b.store_id == 0 || !coordinates_ok(b.lat_udeg, b.lon_udeg)) return Result::invalid_request;
  if (find_merchant(b.merchant_id) == none) return Result::not_found;
  const Id128 key = store_key(b.merchant_id, b.store_id);
  const uint32_t i = stores_.find(key);
  if (i != none) {
    stores_[i].lat_udeg = b.lat_udeg;
    stores_[i].lon_udeg = b.lon_udeg;
    return Result::ok;
  }
  if (stores_.full()) return Result::capacity_exhausted;
  stores_.insert(Store{key, b.merchant_id, b.store_id, b.lat_udeg, b.lon_udeg});
  return Result::ok;
}

Result Domain::api_key_set(const Command& c) {
  const ApiKeyBody& b = c.body.api_key;
  if (b.key_hash.is_zero() || b.role < role_platform || b.role > role_store || b.enabled > 1) {
    return Result::invalid_request;
  }
  const bool tenant = b.role == role_merchant || b.role == role_store;
  if (tenant ? b.merchant_id == 0 : (b.merchant_id != 0 || b.store_id != 0)) {
    return Result::invalid_request;
  }
  if ((b.role == role_store) != (b.store_id != 0)) return Result::invalid_request;
  if (tenant && find_merchant(b.merchant_id) == none) return Result::not_found;
  if (b.role == role_store && stores_.find(store_key(b.merchant_id, b.store_id)) == none) {
    return Result::not_found;
  }
  const uint32_t i = api_keys_.find(b.key_hash);
  const ApiKey k{b.key_hash, b.merchant_id, b.store_id, b.role, b.enabled, {}};
  if (i != none) {
    // A key keeps its role and tenant for life; only enabling changes.
    const ApiKey& old = api_keys_[i];
    if (old.role != b.role || old.merchant_id != b.merchant_id || old.store_id != b.store_id) {
      return Result::invalid_state;
    }
    api_keys_[i].enabled = b.enabled;
    return Result::ok;
  }
  if (api_keys_.full()) return Result::capacity_exhausted;
  api_keys_.insert(k);
  return Result::ok;
}

// The nearest store after the cursor, in (distance, merchant, store) order. A
// linear scan per answer: stores are few (stores_capacity) and reads are rare.
Result Domain::nearby(const Command& c, Reply& reply) const {
  const NearbyBody& b = c.body.nearby;
  if (!coordinates_ok(b.lat_udeg, b.lon_udeg) || b.first > 1) return Result::invalid_request;
  const Store* best = nullptr;
  uint64_t best_d = 0;
  auto before = [](uint64_t d1, const Store& s1, uint64_t d2, uint64_t m2, uint64_t s2) {
    if (d1 != d2) return d1 < d2;
    if (s1.merchant_id != m2) return s1.merchant_id < m2;
    return s1.store_id < s2;
  };
  for (uint32_t i = 0; i < stores_.count(); i++) {
    const Store& s = stores_[i];
    const uint64_t d = distance_m(b.lat_udeg, b.lon_udeg, s.lat_udeg, s.lon_udeg);
    if (!b.first &&
        !before(b.after_distance_m, Store{{}, b.after_merchant_id, b.after_store_id, 0, 0}, d,
                s.merchant_id, s.store_id)) {
      continue;  // at or before the cursor
    }
    if (best == nullptr || before(d, s, best_d, best->merchant_id, best->store_id)) {
      best = &s;
      best_d = d;
    }
  }
  if (best == nullptr) return Result::not_found;
  ReplyData d{};
  d.v[0] = static_cast<int64_t>(best->merchant_id);
  d.v[1] = static_cast<int64_t>(best->store_id);
  d.v[2] = static_cast<int64_t>(best_d);
  d.v[3] = best->lat_udeg;
  d.v[4] = best->lon_udeg;
  set_reply_data(reply, d);
  return Result::ok;
}

// Three 64-bit fields do not fit a 128-bit key: the key is a hash with a
// salt, and a row whose fields differ under the same key moves to the next salt.
Id128 Domain::settlement_key(uint64_t merchant_id, uint64_t store_id, uint64_t day) {
  return Id128{hash_u64(store_id ^ hash_u64(day)), merchant_id ^ hash_u64(day + 0x51)};
}

namespace {
constexpr uint64_t settlement_salts = 8;
}  // namespace

uint32_t Domain::settlement_recent_slot(uint64_t merchant_id, uint64_t store_id) {
  // Store ids are usually small and dense within a merchant: their low bits spread best.
  return static_cast<uint32_t>(store_id + merchant_id * 5) % settlement_recent_size;
}

uint32_t Domain::find_settlement(uint64_t merchant_id, uint64_t store_id, uint64_t day,
                                 Id128* free_key) const {
  const uint32_t recent = settlement_recent_[settlement_recent_slot(merchant_id, store_id)];
  if (recent < settlement_.count()) {
    const SettlementRow& r = settlement_[recent];
    if (r.merchant_id == merchant_id && r.store_id == store_id && r.day == day) return recent;
  }
  return find_settlement_by_key(merchant_id, store_id, day, free_key);
}
// Out of line: its loop's registers made every call of the memo's fast path
// save and restore them.
uint32_t Domain::find_settlement_by_key(uint64_t merchant_id, uint64_t store_id, uint64_t day,
                                        Id128* free_key) const {
  uint32_t& recent = settlement_recent_[settlement_recent_slot(merchant_id, store_id)];
  for (uint64_t salt = 0; salt < settlement_salts; salt++) {
    const Id128 key = settlement_key(merchant_id, store_id + salt * 0x9e3779b97f4a7c15ull, day);
    const uint32_t i = settlement_.find(key);
    if (i == none) {
      if (free_key) *free_key = key;
      return none;
    }
    const SettlementRow& r = settlement_[i];
    if (r.merchant_id == merchant_id && r.store_id == store_id && r.day == day) {
      recent = i;
      return i;
    }
  }
  COFFER_ASSERT(false);  // 8 colliding 128-bit keys
  return none;
}

bool Domain::settlement_room(uint64_t merchant_id, uint64_t store_id, uint64_t time_us) const {
  return find_settlement(merchant_id, store_id, time_us / us_per_day, nullptr) != none ||
         !settlement_.full();
}

void Domain::settle(Settle what, uint64_t merchant_id, uint64_t store_id, uint64_t time_us,
                    int64_t amount) {
  const uint64_t day = time_us / us_per_day;
  Id128 key{};
  uint32_t i = find_settlement(merchant_id, store_id, day, &key);
  if (i == none) {
    SettlementRow row{};
    row.id = key;
    row.merchant_id = merchant_id;
    row.store_id = store_id;
    row.day = day;
    i = settlement_.insert(row);  // room checked by the caller (settlement_room)
    settlement_recent_[settlement_recent_slot(merchant_id, store_id)] = i;
  }
  SettlementRow& row = settlement_[i];
  COFFER_ASSERT(row.merchant_id == merchant_id && row.store_id == store_id && row.day == day);
  switch (what) {
    case Settle::payment:
      row.payments_count++;
      row.payments_amount += amount;
      break;
    case Settle::refund:
      row.refunds_count++;
      row.refunds_amount += amount;
      break;
    case Settle::voucher:
      row.voucher_count++;
      row.voucher_amount += amount;
      break;
  }
}

}  // namespace coffer::detail
