// compare_values: MongoDB's BSON comparison order (see "Comparison/Sort Order" in the manual).
#include <cmath>
#include <cstring>
#include <string_view>

#include "query/query.h"
#include "query/value.h"

namespace sandbox {
namespace {

// MongoDB's canonical type ranks: types of one rank compare by value.
int canonical_rank(bson_type_t t) {
  switch (t) {
    case BSON_TYPE_MINKEY:
      return -1;
    case BSON_TYPE_EOD:
    case BSON_TYPE_UNDEFINED:
      return 0;
    case BSON_TYPE_NULL:
      return 5;
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_DECIMAL128:
      return 10;
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL:
      return 15;
    case BSON_TYPE_DOCUMENT:
      return 20;
    case BSON_TYPE_ARRAY:
      return 25;
    case BSON_TYPE_BINARY:
      return 30;
    case BSON_TYPE_OID:
      return 35;
    case BSON_TYPE_BOOL:
      return 40;
    case BSON_TYPE_DATE_TIME:
      return 45;
    case BSON_TYPE_TIMESTAMP:
      return 47;
    case BSON_TYPE_REGEX:
      return 50;
    case BSON_TYPE_DBPOINTER:
      return 55;
    case BSON_TYPE_CODE:
      return 60;
    case BSON_TYPE_CODEWSCOPE:
      return 65;
    case BSON_TYPE_MAXKEY:
      return 127;
  }
  return 0;
}

template <typename T>
int three_way(T a, T b) {
  return a < b ? -1 : (a > b ? 1 : 0);
}

int compare_bytes(const void* a, std::size_t alen, const void* b, std::size_t blen) {
  int c = std::memcmp(a, b, std::min(alen, blen));
  if (c != 0) return c < 0 ? -1 : 1;
  return three_way(alen, blen);
}

// Integers compare exactly; anything involving a double or decimal goes through long double,
// whose 64-bit mantissa holds every int64. NaN is equal to NaN and below every other number.
int compare_numbers(const bson_iter_t* a, const bson_iter_t* b) {
  bool a_int = BSON_ITER_HOLDS_INT32(a) || BSON_ITER_HOLDS_INT64(a);
  bool b_int = BSON_ITER_HOLDS_INT32(b) || BSON_ITER_HOLDS_INT64(b);
  if (a_int && b_int) return three_way(bson_iter_as_int64(a), bson_iter_as_int64(b));
  long double x = number_value(a);
  long double y = number_value(b);
  bool x_nan = std::isnan(x);
  bool y_nan = std::isnan(y);
  if (x_nan || y_nan) return three_way(!x_nan, !y_nan);
  return three_way(x, y);  // -0.0 == 0.0 here
}

std::string_view string_of(const bson_iter_t* it) {
  std::uint32_t len = 0;
  const char* s =
      BSON_ITER_HOLDS_SYMBOL(it) ? bson_iter_symbol(it, &len) : bson_iter_utf8(it, &len);
  return {s, len};
}

// Objects and arrays: element by element (canonical type, then field name, then value);
// a prefix sorts first.
int compare_containers(const bson_iter_t* a, const bson_iter_t* b) {
  bson_iter_t ca, cb;
  bson_iter_recurse(a, &ca);
  bson_iter_recurse(b, &cb);
  while (true) {
    bool more_a = bson_iter_next(&ca);
    bool more_b = bson_iter_next(&cb);
    if (!more_a || !more_b) return three_way(more_a, more_b);
    int c = three_way(canonical_rank(bson_iter_type(&ca)), canonical_rank(bson_iter_type(&cb)));
    if (c != 0) return c;
    c = compare_bytes(bson_iter_key(&ca), bson_iter_key_len(&ca), bson_iter_key(&cb),
                      bson_iter_key_len(&cb));
    if (c != 0) return c;
    c = compare_values(&ca, &cb);
    if (c != 0) return c;
  }
}

int compare_binary(const bson_iter_t* a, const bson_iter_t* b) {
  bson_subtype_t sa, sb;
  std::uint32_t la = 0, lb = 0;
  const std::uint8_t *da = nullptr, *db = nullptr;
  bson_iter_binary(a, &sa, &la, &da);
  bson_iter_binary(b, &sb, &lb, &db);
  if (la != lb) return three_way(la, lb);
  if (sa != sb) return three_way(static_cast<int>(sa), static_cast<int>(sb));
  return compare_bytes(da, la, db, lb);
}

int compare_regex(const bson_iter_t* a, const bson_iter_t* b) {
  const char *fa = nullptr, *fb = nullptr;
  const char* pa = bson_iter_regex(a, &fa);
  const char* pb = bson_iter_regex(b, &fb);
  int c = std::strcmp(pa, pb);
  if (c != 0) return c < 0 ? -1 : 1;
  c = std::strcmp(fa, fb);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int compare_code(const bson_iter_t* a, const bson_iter_t* b) {
  std::uint32_t la = 0, lb = 0;
  const char* ca = bson_iter_code(a, &la);
  const char* cb = bson_iter_code(b, &lb);
  return compare_bytes(ca, la, cb, lb);
}

int compare_code_with_scope(const bson_iter_t* a, const bson_iter_t* b) {
  std::uint32_t la = 0, lb = 0, sla = 0, slb = 0;
  const std::uint8_t *sa = nullptr, *sb = nullptr;
  const char* ca = bson_iter_codewscope(a, &la, &sla, &sa);
  const char* cb = bson_iter_codewscope(b, &lb, &slb, &sb);
  int c = compare_bytes(ca, la, cb, lb);
  if (c != 0) return c;
  return compare_bytes(sa, sla, sb, slb);
}

int compare_dbpointer(const bson_iter_t* a, const bson_iter_t* b) {
  std::uint32_t la = 0, lb = 0;
  const char *na = nullptr, *nb = nullptr;
  const bson_oid_t *oa = nullptr, *ob = nullptr;
  bson_iter_dbpointer(a, &la, &na, &oa);
  bson_iter_dbpointer(b, &lb, &nb, &ob);
  if (la != lb) return three_way(la, lb);
  int c = compare_bytes(na, la, nb, lb);
  if (c != 0) return c;
  return bson_oid_compare(oa, ob) < 0 ? -1 : (bson_oid_compare(oa, ob) > 0 ? 1 : 0);
}

int compare_same_rank(const bson_iter_t* a, const bson_iter_t* b) {
  switch (bson_iter_type(a)) {
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64:
    case BSON_TYPE_DOUBLE:
    case BSON_TYPE_DECIMAL128:
      return compare_numbers(a, b);
    case BSON_TYPE_UTF8:
    case BSON_TYPE_SYMBOL: {
      auto x = string_of(a), y = string_of(b);
      return compare_bytes(x.data(), x.size(), y.data(), y.size());
    }
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY:
      return compare_containers(a, b);
    case BSON_TYPE_BINARY:
      return compare_binary(a, b);
    case BSON_TYPE_OID: {
      int c = bson_oid_compare(bson_iter_oid(a), bson_iter_oid(b));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case BSON_TYPE_BOOL:
      return three_way(bson_iter_bool(a), bson_iter_bool(b));
    case BSON_TYPE_DATE_TIME:
      return three_way(bson_iter_date_time(a), bson_iter_date_time(b));
    case BSON_TYPE_TIMESTAMP: {
      std::uint32_t ta = 0, ia = 0, tb = 0, ib = 0;
      bson_iter_timestamp(a, &ta, &ia);
      bson_iter_timestamp(b, &tb, &ib);
      if (ta != tb) return three_way(ta, tb);
      return three_way(ia, ib);
    }
    case BSON_TYPE_REGEX:
      return compare_regex(a, b);
    case BSON_TYPE_DBPOINTER:
      return compare_dbpointer(a, b);
    case BSON_TYPE_CODE:
      return compare_code(a, b);
    case BSON_TYPE_CODEWSCOPE:
      return compare_code_with_scope(a, b);
    default:
      return 0;  // MinKey, MaxKey, null, undefined: one value each
  }
}

}  // namespace

int compare_values(const bson_iter_t* a, const bson_iter_t* b) {
  int ra = canonical_rank(bson_iter_type(a));
  int rb = canonical_rank(bson_iter_type(b));
  if (ra != rb) return three_way(ra, rb);
  return compare_same_rank(a, b);
}

int canonical_type_rank(bson_type_t t) { return canonical_rank(t); }

}  // namespace sandbox
