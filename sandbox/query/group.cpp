#include "query/group.h"

#include <algorithm>
#include <map>
#include <string>

#include "query/expression.h"
#include "query/query.h"
#include "query/value.h"

namespace sandbox {
namespace {

[[noreturn]] void throw_location(int code, const std::string& message) {
  throw CommandError(code, "Location" + std::to_string(code), message);
}

enum class AccKind { kSum, kAvg, kMin, kMax, kFirst, kLast, kPush, kAddToSet, kCount };

AccKind accumulator_kind(const std::string& op) {
  static const std::map<std::string, AccKind> kKinds = {
      {"$sum", AccKind::kSum},   {"$avg", AccKind::kAvg},           {"$min", AccKind::kMin},
      {"$max", AccKind::kMax},   {"$first", AccKind::kFirst},       {"$last", AccKind::kLast},
      {"$push", AccKind::kPush}, {"$addToSet", AccKind::kAddToSet}, {"$count", AccKind::kCount}};
  auto it = kKinds.find(op);
  if (it == kKinds.end()) throw_location(15952, "unknown group operator '" + op + "'");
  return it->second;
}

struct AccumulatorSpec {
  std::string name;
  AccKind kind;
  Value expression;  // evaluated per document
};

// Running state of one accumulator in one group.
struct AccState {
  // $sum/$avg: integers are summed exactly while they fit; any double or overflow switches to
  // long double. The result is int32 when every input was int32 and the sum fits, as MongoDB.
  std::int64_t int_sum = 0;
  long double float_sum = 0;
  bool saw_double = false, saw_long = false, saw_decimal = false, overflowed = false;
  std::int64_t count = 0;
  std::optional<Value> value;  // $min/$max/$first/$last
  bool has_first = false;
  std::vector<Value> values;  // $push/$addToSet

  void add_number(const bson_iter_t* it) {
    ++count;
    if (BSON_ITER_HOLDS_INT32(it) || BSON_ITER_HOLDS_INT64(it)) {
      saw_long = saw_long || BSON_ITER_HOLDS_INT64(it);
      if (!overflowed && __builtin_add_overflow(int_sum, bson_iter_as_int64(it), &int_sum))
        overflowed = true;
      float_sum += number_value(it);
      return;
    }
    saw_double = true;
    saw_decimal = saw_decimal || BSON_ITER_HOLDS_DECIMAL128(it);
    float_sum += number_value(it);
  }

  Value sum_result() const {
    if (saw_decimal) return Value::decimal(float_sum);
    if (!saw_double && !overflowed) {
      if (!saw_long && int_sum >= INT32_MIN && int_sum <= INT32_MAX)
        return Value::int32(static_cast<std::int32_t>(int_sum));
      return Value::int64(int_sum);
    }
    return Value::dbl(static_cast<double>(float_sum));
  }
};

bool nullish(const std::optional<Value>& v) {
  return !v || v->type() == BSON_TYPE_NULL || v->type() == BSON_TYPE_UNDEFINED;
}

int compare(const Value& a, const Value& b) {
  bson_iter_t ia = a.iter(), ib = b.iter();
  return compare_values(&ia, &ib);
}

void accumulate(AccState& s, const AccumulatorSpec& spec, const std::optional<Value>& v) {
  switch (spec.kind) {
    case AccKind::kSum:
    case AccKind::kAvg:
      if (v && is_number(v->type())) {
        bson_iter_t it = v->iter();
        s.add_number(&it);
      }
      break;
    case AccKind::kCount: {
      Value one = Value::int32(1);
      bson_iter_t it = one.iter();
      s.add_number(&it);
      break;
    }
    case AccKind::kMin:
    case AccKind::kMax:
      if (nullish(v)) break;
      if (!s.value ||
          (spec.kind == AccKind::kMin ? compare(*v, *s.value) < 0 : compare(*v, *s.value) > 0))
        s.value = v;
      break;
    case AccKind::kFirst:
      if (!s.has_first) s.value = v.value_or(Value::null());
      s.has_first = true;
      break;
    case AccKind::kLast:
      s.value = v.value_or(Value::null());
      break;
    case AccKind::kPush:
      if (v) s.values.push_back(*v);
      break;
    case AccKind::kAddToSet:
      if (v && std::none_of(s.values.begin(), s.values.end(),
                            [&](const Value& x) { return compare(x, *v) == 0; })) {
        s.values.push_back(*v);
      }
      break;
  }
}

void append_result(bson_t* out, const AccumulatorSpec& spec, const AccState& s) {
  const std::string& key = spec.name;
  int len = static_cast<int>(key.size());
  auto append_value = [&](const Value& v) {
    bson_iter_t it = v.iter();
    bson_append_iter(out, key.data(), len, &it);
  };
  switch (spec.kind) {
    case AccKind::kSum:
    case AccKind::kCount:
      append_value(s.sum_result());
      break;
    case AccKind::kAvg: {
      if (s.count == 0) {
        append_value(Value::null());
        break;
      }
      long double total =
          s.saw_double || s.overflowed ? s.float_sum : static_cast<long double>(s.int_sum);
      long double mean = total / static_cast<long double>(s.count);
      append_value(s.saw_decimal ? Value::decimal(mean) : Value::dbl(static_cast<double>(mean)));
      break;
    }
    case AccKind::kMin:
    case AccKind::kMax:
    case AccKind::kFirst:
    case AccKind::kLast:
      append_value(s.value.value_or(Value::null()));
      break;
    case AccKind::kPush:
    case AccKind::kAddToSet: {
      bson_t array;
      bson_append_array_begin(out, key.data(), len, &array);
      for (std::size_t i = 0; i < s.values.size(); ++i) {
        bson_iter_t it = s.values[i].iter();
        std::string index = std::to_string(i);
        bson_append_iter(&array, index.data(), static_cast<int>(index.size()), &it);
      }
      bson_append_array_end(out, &array);
      break;
    }
  }
}

std::vector<AccumulatorSpec> parse_accumulators(const bson_t* spec, Value& id_expression) {
  std::vector<AccumulatorSpec> accumulators;
  bool has_id = false;
  bson_iter_t it;
  bson_iter_init(&it, spec);
  while (bson_iter_next(&it)) {
    std::string name = bson_iter_key(&it);
    if (name == "_id") {
      id_expression = Value::of(&it);
      has_id = true;
      continue;
    }
    if (name.find('.') != std::string::npos) {
      throw_location(40235, "The field name '" + name + "' cannot contain '.'");
    }
    if (!BSON_ITER_HOLDS_DOCUMENT(&it)) {
      throw_location(40234, "The field '" + name + "' must be an accumulator object");
    }
    bson_t acc;
    init_static_from_iter(&it, &acc);
    if (bson_count_keys(&acc) != 1) {
      throw_location(40238, "The field '" + name + "' must specify one accumulator");
    }
    bson_iter_t op;
    bson_iter_init(&op, &acc);
    bson_iter_next(&op);
    accumulators.push_back(
        AccumulatorSpec{name, accumulator_kind(bson_iter_key(&op)), Value::of(&op)});
  }
  if (!has_id) throw_location(15955, "a group specification must include an _id");
  return accumulators;
}

struct Group {
  Value key;
  std::vector<AccState> states;
};

struct KeyLess {
  bool operator()(const Value& a, const Value& b) const { return compare(a, b) < 0; }
};

}  // namespace

std::vector<Doc> run_group(const std::vector<Doc>& input, const bson_iter_t* spec_iter) {
  if (!BSON_ITER_HOLDS_DOCUMENT(spec_iter))
    throw_location(15947, "a group's fields must be specified in an object");
  bson_t spec;
  init_static_from_iter(spec_iter, &spec);
  Value id_expression;
  std::vector<AccumulatorSpec> accumulators = parse_accumulators(&spec, id_expression);

  std::vector<Group> groups;
  std::map<Value, std::size_t, KeyLess> index;
  for (const Doc& doc : input) {
    bson_iter_t id_it = id_expression.iter();
    Value key = evaluate(&id_it, doc.bson()).value_or(Value::null());
    auto [pos, inserted] = index.try_emplace(key, groups.size());
    if (inserted) groups.push_back(Group{key, std::vector<AccState>(accumulators.size())});
    Group& group = groups[pos->second];
    for (std::size_t i = 0; i < accumulators.size(); ++i) {
      bson_iter_t expr = accumulators[i].expression.iter();
      std::optional<Value> v;
      if (accumulators[i].kind != AccKind::kCount) v = evaluate(&expr, doc.bson());
      accumulate(group.states[i], accumulators[i], v);
    }
  }

  std::vector<Doc> out;
  for (const Group& group : groups) {
    ScopedBson result;
    bson_iter_t key = group.key.iter();
    bson_append_iter(result.get(), "_id", 3, &key);
    for (std::size_t i = 0; i < accumulators.size(); ++i)
      append_result(result.get(), accumulators[i], group.states[i]);
    out.push_back(result.to_doc());
  }
  return out;
}

}  // namespace sandbox
