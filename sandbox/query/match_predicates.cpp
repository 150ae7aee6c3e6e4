#include "query/match_predicates.h"

#include <algorithm>
#include <cmath>

#include "query/query.h"

namespace sandbox {
namespace {

bool equals_value(const PathValue& pv, const Value& v) {
  bson_iter_t want = v.iter();
  if (pv.missing) return BSON_ITER_HOLDS_NULL(&want);
  if (canonical_type_rank(bson_iter_type(&pv.it)) != canonical_type_rank(bson_iter_type(&want))) {
    return false;
  }
  return compare_values(&pv.it, &want) == 0;
}

bool regex_matches(const Regex& regex, const PathValue& pv) {
  if (pv.missing) return false;
  if (BSON_ITER_HOLDS_UTF8(&pv.it) || BSON_ITER_HOLDS_SYMBOL(&pv.it)) {
    std::uint32_t len = 0;
    const char* s = BSON_ITER_HOLDS_UTF8(&pv.it) ? bson_iter_utf8(&pv.it, &len)
                                                 : bson_iter_symbol(&pv.it, &len);
    return regex.search(std::string_view(s, len));
  }
  if (BSON_ITER_HOLDS_REGEX(&pv.it)) {
    const char* options = nullptr;
    const char* pattern = bson_iter_regex(&pv.it, &options);
    return regex.pattern() == pattern && regex.options() == options;
  }
  return false;
}

class Equal final : public ValuePredicate {
 public:
  explicit Equal(Value v) : v_(std::move(v)) {}
  bool matches(const std::vector<PathValue>& values) const override {
    return std::any_of(values.begin(), values.end(),
                       [&](const PathValue& pv) { return equals_value(pv, v_); });
  }

 private:
  Value v_;
};

class Compare final : public ValuePredicate {
 public:
  Compare(CompareOp op, Value v) : op_(op), v_(std::move(v)) {}
  bool matches(const std::vector<PathValue>& values) const override {
    bson_iter_t want = v_.iter();
    if (BSON_ITER_HOLDS_NULL(&want)) {
      // Only equality-with-null survives type bracketing for null operands.
      if (op_ == CompareOp::kLt || op_ == CompareOp::kGt) return false;
      return Equal(v_).matches(values);
    }
    int want_rank = canonical_type_rank(bson_iter_type(&want));
    // MinKey and MaxKey operands are not type-bracketed: {$gt: MinKey} matches every value.
    bool bracketed = !BSON_ITER_HOLDS_MINKEY(&want) && !BSON_ITER_HOLDS_MAXKEY(&want);
    return std::any_of(values.begin(), values.end(), [&](const PathValue& pv) {
      if (pv.missing) return false;
      if (bracketed && canonical_type_rank(bson_iter_type(&pv.it)) != want_rank) return false;
      int c = compare_values(&pv.it, &want);
      switch (op_) {
        case CompareOp::kLt:
          return c < 0;
        case CompareOp::kLte:
          return c <= 0;
        case CompareOp::kGt:
          return c > 0;
        case CompareOp::kGte:
          return c >= 0;
      }
      return false;
    });
  }

 private:
  CompareOp op_;
  Value v_;
};

class In final : public ValuePredicate {
 public:
  In(std::vector<Value> values, std::vector<std::shared_ptr<Regex>> regexes)
      : values_(std::move(values)), regexes_(std::move(regexes)) {}
  bool matches(const std::vector<PathValue>& values) const override {
    for (const PathValue& pv : values) {
      for (const Value& v : values_) {
        if (equals_value(pv, v)) return true;
      }
      for (const auto& regex : regexes_) {
        if (regex_matches(*regex, pv)) return true;
      }
    }
    return false;
  }

 private:
  std::vector<Value> values_;
  std::vector<std::shared_ptr<Regex>> regexes_;
};

class Exists final : public ValuePredicate {
 public:
  explicit Exists(bool should_exist) : should_exist_(should_exist) {}
  bool matches(const std::vector<PathValue>& values) const override {
    bool exists =
        std::any_of(values.begin(), values.end(), [](const PathValue& pv) { return !pv.missing; });
    return exists == should_exist_;
  }

 private:
  bool should_exist_;
};

class Type final : public ValuePredicate {
 public:
  Type(std::vector<bson_type_t> types, bool any_number)
      : types_(std::move(types)), any_number_(any_number) {}
  bool matches(const std::vector<PathValue>& values) const override {
    return std::any_of(values.begin(), values.end(), [&](const PathValue& pv) {
      if (pv.missing) return false;
      bson_type_t t = bson_iter_type(&pv.it);
      if (any_number_ && is_number(t)) return true;
      return std::find(types_.begin(), types_.end(), t) != types_.end();
    });
  }

 private:
  std::vector<bson_type_t> types_;
  bool any_number_;
};

class Size final : public ValuePredicate {
 public:
  explicit Size(std::int64_t n) : n_(n) {}
  bool matches(const std::vector<PathValue>& values) const override {
    return std::any_of(values.begin(), values.end(), [&](const PathValue& pv) {
      if (pv.missing || pv.array_element || !BSON_ITER_HOLDS_ARRAY(&pv.it)) return false;
      bson_t array;
      init_static_from_iter(&pv.it, &array);
      return static_cast<std::int64_t>(bson_count_keys(&array)) == n_;
    });
  }

 private:
  std::int64_t n_;
};

class All final : public ValuePredicate {
 public:
  explicit All(Predicates predicates) : predicates_(std::move(predicates)) {}
  bool matches(const std::vector<PathValue>& values) const override {
    return !predicates_.empty() && all_match(predicates_, values);
  }

 private:
  Predicates predicates_;
};

// Calls `test` on each element of each reached array (not on elements of elements).
template <typename Test>
bool any_array_element(const std::vector<PathValue>& values, const Test& test) {
  for (const PathValue& pv : values) {
    if (pv.missing || pv.array_element || !BSON_ITER_HOLDS_ARRAY(&pv.it)) continue;
    bson_iter_t child;
    bson_iter_recurse(&pv.it, &child);
    while (bson_iter_next(&child)) {
      if (test(&child)) return true;
    }
  }
  return false;
}

class ElemMatchValue final : public ValuePredicate {
 public:
  explicit ElemMatchValue(Predicates predicates) : predicates_(std::move(predicates)) {}
  bool matches(const std::vector<PathValue>& values) const override {
    // Each element is tested as one value: an element that is itself an array is not
    // searched ({$elemMatch: {$gt: 2}} does not match [[3]]).
    return any_array_element(values, [&](const bson_iter_t* element) {
      return all_match(predicates_, {PathValue{.it = *element}});
    });
  }

 private:
  Predicates predicates_;
};

class ElemMatchObject final : public ValuePredicate {
 public:
  explicit ElemMatchObject(std::unique_ptr<MatchExpr> expr) : expr_(std::move(expr)) {}
  bool matches(const std::vector<PathValue>& values) const override {
    return any_array_element(values, [&](const bson_iter_t* element) {
      if (!BSON_ITER_HOLDS_DOCUMENT(element)) return false;
      bson_t doc;
      init_static_from_iter(element, &doc);
      return expr_->matches(&doc);
    });
  }

 private:
  std::unique_ptr<MatchExpr> expr_;
};

class RegexMatch final : public ValuePredicate {
 public:
  explicit RegexMatch(std::shared_ptr<Regex> regex) : regex_(std::move(regex)) {}
  bool matches(const std::vector<PathValue>& values) const override {
    return std::any_of(values.begin(), values.end(),
                       [&](const PathValue& pv) { return regex_matches(*regex_, pv); });
  }

 private:
  std::shared_ptr<Regex> regex_;
};

class Mod final : public ValuePredicate {
 public:
  Mod(std::int64_t d, std::int64_t r) : d_(d), r_(r) {}
  bool matches(const std::vector<PathValue>& values) const override {
    return std::any_of(values.begin(), values.end(), [&](const PathValue& pv) {
      if (pv.missing || !is_number(bson_iter_type(&pv.it))) return false;
      long double v = number_value(&pv.it);
      if (!std::isfinite(v) || v < -9.2e18L || v > 9.2e18L) return false;
      return static_cast<std::int64_t>(std::trunc(v)) % d_ == r_;
    });
  }

 private:
  std::int64_t d_;
  std::int64_t r_;
};

class Not final : public ValuePredicate {
 public:
  explicit Not(Predicates predicates) : predicates_(std::move(predicates)) {}
  bool matches(const std::vector<PathValue>& values) const override {
    return !all_match(predicates_, values);
  }

 private:
  Predicates predicates_;
};

}  // namespace

std::unique_ptr<ValuePredicate> make_equal(Value v) {
  return std::make_unique<Equal>(std::move(v));
}
std::unique_ptr<ValuePredicate> make_compare(CompareOp op, Value v) {
  return std::make_unique<Compare>(op, std::move(v));
}
std::unique_ptr<ValuePredicate> make_in(std::vector<Value> values,
                                        std::vector<std::shared_ptr<Regex>> regexes) {
  return std::make_unique<In>(std::move(values), std::move(regexes));
}
std::unique_ptr<ValuePredicate> make_exists(bool should_exist) {
  return std::make_unique<Exists>(should_exist);
}
std::unique_ptr<ValuePredicate> make_type(std::vector<bson_type_t> types, bool any_number) {
  return std::make_unique<Type>(std::move(types), any_number);
}
std::unique_ptr<ValuePredicate> make_size(std::int64_t n) { return std::make_unique<Size>(n); }
std::unique_ptr<ValuePredicate> make_all(Predicates predicates) {
  return std::make_unique<All>(std::move(predicates));
}
std::unique_ptr<ValuePredicate> make_elem_match_value(Predicates predicates) {
  return std::make_unique<ElemMatchValue>(std::move(predicates));
}
std::unique_ptr<ValuePredicate> make_elem_match_object(std::unique_ptr<MatchExpr> expr) {
  return std::make_unique<ElemMatchObject>(std::move(expr));
}
std::unique_ptr<ValuePredicate> make_regex(std::shared_ptr<Regex> regex) {
  return std::make_unique<RegexMatch>(std::move(regex));
}
std::unique_ptr<ValuePredicate> make_mod(std::int64_t d, std::int64_t r) {
  return std::make_unique<Mod>(d, r);
}
std::unique_ptr<ValuePredicate> make_not(Predicates predicates) {
  return std::make_unique<Not>(std::move(predicates));
}

bool all_match(const Predicates& predicates, const std::vector<PathValue>& values) {
  return std::all_of(predicates.begin(), predicates.end(),
                     [&](const auto& p) { return p->matches(values); });
}

std::vector<PathValue> values_of(const bson_iter_t* it) {
  std::vector<PathValue> out{PathValue{.it = *it}};
  if (BSON_ITER_HOLDS_ARRAY(it)) {
    bson_iter_t child;
    bson_iter_recurse(it, &child);
    while (bson_iter_next(&child)) out.push_back(PathValue{.array_element = true, .it = child});
  }
  return out;
}

}  // namespace sandbox
