// Filter parsing (MongoDB's query language) into MatchExpr / ValuePredicate trees, and the
// public Matcher.
#include <cstring>
#include <string>

#include "query/expression.h"
#include "query/json_schema.h"
#include "query/match_predicates.h"
#include "query/query.h"

namespace sandbox {
namespace {

std::string key_of(const bson_iter_t* it) { return {bson_iter_key(it), bson_iter_key_len(it)}; }

class AndExpr final : public MatchExpr {
 public:
  explicit AndExpr(std::vector<std::unique_ptr<MatchExpr>> children)
      : children_(std::move(children)) {}
  bool matches(const bson_t* doc) const override {
    for (const auto& child : children_) {
      if (!child->matches(doc)) return false;
    }
    return true;
  }

 private:
  std::vector<std::unique_ptr<MatchExpr>> children_;
};

class OrExpr final : public MatchExpr {
 public:
  OrExpr(std::vector<std::unique_ptr<MatchExpr>> children, bool negate)
      : children_(std::move(children)), negate_(negate) {}
  bool matches(const bson_t* doc) const override {
    bool any = false;
    for (const auto& child : children_) {
      if (child->matches(doc)) {
        any = true;
        break;
      }
    }
    return any != negate_;  // $nor is a negated $or
  }

 private:
  std::vector<std::unique_ptr<MatchExpr>> children_;
  bool negate_;
};

class PathExpr final : public MatchExpr {
 public:
  PathExpr(const std::string& path, Predicates predicates)
      : parts_(split_path(path)), predicates_(std::move(predicates)) {}
  bool matches(const bson_t* doc) const override {
    return all_match(predicates_, values_at_path(doc, parts_));
  }

 private:
  std::vector<std::string> parts_;
  Predicates predicates_;
};

// {$expr: <aggregation expression>}: matches when the expression is truthy.
class ExprMatch final : public MatchExpr {
 public:
  explicit ExprMatch(Value expression) : expression_(std::move(expression)) {}
  bool matches(const bson_t* doc) const override {
    bson_iter_t it = expression_.iter();
    return is_truthy(evaluate(&it, doc));
  }

 private:
  Value expression_;
};

std::vector<std::unique_ptr<MatchExpr>> parse_logical_list(const bson_iter_t* it,
                                                           const std::string& op) {
  std::vector<std::unique_ptr<MatchExpr>> children;
  bool ok = BSON_ITER_HOLDS_ARRAY(it);
  bson_iter_t child;
  if (ok) bson_iter_recurse(it, &child);
  while (ok && bson_iter_next(&child)) {
    if (!BSON_ITER_HOLDS_DOCUMENT(&child))
      throw_bad_value(op + " argument's entries must be objects");
    bson_t sub;
    init_static_from_iter(&child, &sub);
    children.push_back(parse_filter(&sub));
  }
  if (children.empty()) throw_bad_value(op + " must be a nonempty array");
  return children;
}

std::shared_ptr<Regex> regex_from_iter(const bson_iter_t* it) {
  const char* options = nullptr;
  const char* pattern = bson_iter_regex(it, &options);
  return std::make_shared<Regex>(pattern, options);
}

std::vector<Value> array_values(const bson_iter_t* it, const std::string& op) {
  if (!BSON_ITER_HOLDS_ARRAY(it)) throw_bad_value(op + " needs an array");
  std::vector<Value> values;
  bson_iter_t child;
  bson_iter_recurse(it, &child);
  while (bson_iter_next(&child)) values.push_back(Value::of(&child));
  return values;
}

std::unique_ptr<ValuePredicate> parse_in(const bson_iter_t* it, const std::string& op) {
  std::vector<Value> values;
  std::vector<std::shared_ptr<Regex>> regexes;
  for (Value& v : array_values(it, op)) {
    bson_iter_t vi = v.iter();
    if (BSON_ITER_HOLDS_REGEX(&vi)) {
      regexes.push_back(regex_from_iter(&vi));
    } else if (is_operator_object(&vi)) {
      throw_bad_value("cannot nest $ under " + op);
    } else {
      values.push_back(std::move(v));
    }
  }
  return make_in(std::move(values), std::move(regexes));
}

std::unique_ptr<ValuePredicate> parse_type(const bson_iter_t* it) {
  std::vector<bson_type_t> types;
  bool any_number = false;
  auto add_one = [&](const bson_iter_t* t) {
    if (BSON_ITER_HOLDS_UTF8(t)) {
      std::string name = bson_iter_utf8(t, nullptr);
      if (name == "number") {
        any_number = true;
        return;
      }
      auto type = type_from_name(name);
      if (!type) throw_bad_value("Unknown type name alias: " + name);
      types.push_back(*type);
      return;
    }
    auto code = integral_value(t);
    if (!code) throw_bad_value("type must be represented as a number or a string");
    if (*code == -1)
      types.push_back(BSON_TYPE_MINKEY);
    else if (*code == 127)
      types.push_back(BSON_TYPE_MAXKEY);
    else if (*code >= 1 && *code <= 19)
      types.push_back(static_cast<bson_type_t>(*code));
    else
      throw_bad_value("Invalid numerical type code: " + std::to_string(*code));
  };
  if (BSON_ITER_HOLDS_ARRAY(it)) {
    bson_iter_t child;
    bson_iter_recurse(it, &child);
    while (bson_iter_next(&child)) add_one(&child);
  } else {
    add_one(it);
  }
  return make_type(std::move(types), any_number);
}

std::unique_ptr<ValuePredicate> parse_size(const bson_iter_t* it) {
  if (!is_number(bson_iter_type(it))) throw_bad_value("$size needs a number");
  auto n = integral_value(it);
  if (!n) throw_bad_value("$size must be a whole number");
  if (*n < 0) throw_bad_value("$size may not be negative");
  return make_size(*n);
}

std::unique_ptr<ValuePredicate> parse_mod(const bson_iter_t* it) {
  if (!BSON_ITER_HOLDS_ARRAY(it)) throw_bad_value("malformed mod, needs to be an array");
  std::vector<std::int64_t> args;
  bson_iter_t child;
  bson_iter_recurse(it, &child);
  while (bson_iter_next(&child)) {
    if (!is_number(bson_iter_type(&child)))
      throw_bad_value("malformed mod, divisor and remainder must be numbers");
    args.push_back(static_cast<std::int64_t>(number_value(&child)));
  }
  if (args.size() < 2) throw_bad_value("malformed mod, not enough elements");
  if (args.size() > 2) throw_bad_value("malformed mod, too many elements");
  if (args[0] == 0) throw_bad_value("divisor cannot be 0");
  return make_mod(args[0], args[1]);
}

std::unique_ptr<ValuePredicate> parse_all(const bson_iter_t* it) {
  Predicates each;
  for (const Value& v : array_values(it, "$all")) {
    bson_iter_t vi = v.iter();
    if (BSON_ITER_HOLDS_REGEX(&vi)) {
      each.push_back(make_regex(regex_from_iter(&vi)));
    } else if (BSON_ITER_HOLDS_DOCUMENT(&vi) && is_operator_object(&vi)) {
      bson_iter_t op;
      bson_iter_recurse(&vi, &op);
      bson_iter_next(&op);
      if (std::strcmp(bson_iter_key(&op), "$elemMatch") != 0)
        throw_bad_value("no $ expressions in $all");
      Predicates one = parse_field_spec(&vi);
      for (auto& p : one) each.push_back(std::move(p));
    } else {
      each.push_back(make_equal(v));
    }
  }
  return make_all(std::move(each));
}

bool is_logical_operator(const char* key) {
  return std::strcmp(key, "$and") == 0 || std::strcmp(key, "$or") == 0 ||
         std::strcmp(key, "$nor") == 0 || std::strcmp(key, "$where") == 0 ||
         std::strcmp(key, "$expr") == 0;
}

std::unique_ptr<ValuePredicate> parse_elem_match(const bson_iter_t* it) {
  if (!BSON_ITER_HOLDS_DOCUMENT(it)) throw_bad_value("$elemMatch needs an Object");
  bson_t sub;
  init_static_from_iter(it, &sub);
  bson_iter_t first;
  bson_iter_init(&first, &sub);
  // {$elemMatch: {$gt: 1}} tests elements as values; {$elemMatch: {b: 1}} as documents.
  if (bson_iter_next(&first) && bson_iter_key(&first)[0] == '$' &&
      !is_logical_operator(bson_iter_key(&first))) {
    return make_elem_match_value(parse_field_spec(it));
  }
  return make_elem_match_object(parse_filter(&sub));
}

std::unique_ptr<ValuePredicate> parse_not(const bson_iter_t* it) {
  Predicates inner;
  if (BSON_ITER_HOLDS_REGEX(it)) {
    inner.push_back(make_regex(regex_from_iter(it)));
  } else if (BSON_ITER_HOLDS_DOCUMENT(it)) {
    if (!is_operator_object(it)) {
      bson_t sub;
      init_static_from_iter(it, &sub);
      if (bson_empty(&sub)) throw_bad_value("$not cannot be empty");
      throw_bad_value("unknown operator: " + std::string(bson_iter_key(it)));
    }
    inner = parse_field_spec(it);
  } else {
    throw_bad_value("$not needs a regex or a document");
  }
  return make_not(std::move(inner));
}

std::shared_ptr<Regex> parse_regex_operator(const bson_iter_t* regex, const bson_iter_t* options) {
  std::string opts = options ? bson_iter_utf8(options, nullptr) : "";
  if (BSON_ITER_HOLDS_REGEX(regex)) {
    const char* own = nullptr;
    const char* pattern = bson_iter_regex(regex, &own);
    if (options && own[0] != '\0') throw_bad_value("options set in both $regex and $options");
    return std::make_shared<Regex>(pattern, options ? opts : std::string(own));
  }
  if (!BSON_ITER_HOLDS_UTF8(regex)) throw_bad_value("$regex has to be a string");
  return std::make_shared<Regex>(bson_iter_utf8(regex, nullptr), opts);
}

std::unique_ptr<ValuePredicate> parse_operator(const std::string& op, const bson_iter_t* it) {
  if (op == "$eq") return make_equal(Value::of(it));
  if (op == "$ne") {
    Predicates eq;
    eq.push_back(make_equal(Value::of(it)));
    return make_not(std::move(eq));
  }
  if (op == "$gt") return make_compare(CompareOp::kGt, Value::of(it));
  if (op == "$gte") return make_compare(CompareOp::kGte, Value::of(it));
  if (op == "$lt") return make_compare(CompareOp::kLt, Value::of(it));
  if (op == "$lte") return make_compare(CompareOp::kLte, Value::of(it));
  if (op == "$in") return parse_in(it, op);
  if (op == "$nin") {
    Predicates in;
    in.push_back(parse_in(it, op));
    return make_not(std::move(in));
  }
  if (op == "$exists") return make_exists(is_truthy_flag(it));
  if (op == "$type") return parse_type(it);
  if (op == "$size") return parse_size(it);
  if (op == "$all") return parse_all(it);
  if (op == "$elemMatch") return parse_elem_match(it);
  if (op == "$mod") return parse_mod(it);
  if (op == "$not") return parse_not(it);
  throw_bad_value("unknown operator: " + op);
}

Predicates parse_operator_object(const bson_iter_t* spec) {
  Predicates predicates;
  bson_iter_t child;
  bson_iter_recurse(spec, &child);
  std::optional<bson_iter_t> regex, options;
  while (bson_iter_next(&child)) {
    std::string op = key_of(&child);
    if (op == "$regex") {
      regex = child;
    } else if (op == "$options") {
      if (!BSON_ITER_HOLDS_UTF8(&child)) throw_bad_value("$options has to be a string");
      options = child;
    } else {
      predicates.push_back(parse_operator(op, &child));
    }
  }
  if (options && !regex) throw_bad_value("$options needs a $regex");
  if (regex)
    predicates.push_back(make_regex(parse_regex_operator(&*regex, options ? &*options : nullptr)));
  return predicates;
}

}  // namespace

bool is_operator_object(const bson_iter_t* it) {
  if (!BSON_ITER_HOLDS_DOCUMENT(it)) return false;
  bson_iter_t child;
  bson_iter_recurse(it, &child);
  return bson_iter_next(&child) && bson_iter_key(&child)[0] == '$';
}

Predicates parse_field_spec(const bson_iter_t* spec) {
  if (is_operator_object(spec)) return parse_operator_object(spec);
  Predicates predicates;
  if (BSON_ITER_HOLDS_REGEX(spec)) {
    predicates.push_back(make_regex(regex_from_iter(spec)));
  } else {
    predicates.push_back(make_equal(Value::of(spec)));
  }
  return predicates;
}

std::unique_ptr<MatchExpr> parse_filter(const bson_t* filter) {
  std::vector<std::unique_ptr<MatchExpr>> children;
  bson_iter_t it;
  if (!bson_iter_init(&it, filter)) throw_bad_value("invalid BSON filter");
  while (bson_iter_next(&it)) {
    std::string key = key_of(&it);
    if (key == "$and") {
      children.push_back(std::make_unique<AndExpr>(parse_logical_list(&it, key)));
    } else if (key == "$or" || key == "$nor") {
      children.push_back(std::make_unique<OrExpr>(parse_logical_list(&it, key), key == "$nor"));
    } else if (key == "$expr") {
      children.push_back(std::make_unique<ExprMatch>(Value::of(&it)));
    } else if (key == "$jsonSchema") {
      children.push_back(parse_json_schema(&it));
    } else if (key == "$comment") {
      continue;  // annotations only
    } else if (!key.empty() && key[0] == '$') {
      throw_bad_value("unknown top level operator: " + key);
    } else {
      children.push_back(std::make_unique<PathExpr>(key, parse_field_spec(&it)));
    }
  }
  return std::make_unique<AndExpr>(std::move(children));
}

// ---- Matcher ----

struct Matcher::Impl {
  std::unique_ptr<MatchExpr> root;
  std::optional<Doc> id;
};

namespace {

// The _id value pinned by plain equality at the top level or inside a top-level $and.
// Arrays also match by element, so they do not pin one document.
std::optional<Doc> find_id_equality(const bson_t* filter) {
  std::vector<Equality> equalities;
  collect_equalities(filter, equalities);
  for (const Equality& equality : equalities) {
    if (equality.path != "_id" || BSON_ITER_HOLDS_ARRAY(&equality.value)) continue;
    ScopedBson out;
    bson_append_iter(out.get(), "_id", 3, &equality.value);
    return out.to_doc();
  }
  return std::nullopt;
}

}  // namespace

Matcher::Matcher(const bson_t* filter) : impl_(std::make_unique<Impl>()) {
  impl_->root = parse_filter(filter);
  impl_->id = find_id_equality(filter);
}
Matcher::~Matcher() = default;
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;

bool Matcher::matches(const bson_t* doc) const { return impl_->root->matches(doc); }

std::optional<Doc> Matcher::id_equality() const { return impl_->id; }

void collect_equalities(const bson_t* filter, std::vector<Equality>& out) {
  bson_iter_t it;
  bson_iter_init(&it, filter);
  while (bson_iter_next(&it)) {
    std::string key = bson_iter_key(&it);
    if (key == "$and" && BSON_ITER_HOLDS_ARRAY(&it)) {
      bson_iter_t child;
      bson_iter_recurse(&it, &child);
      while (bson_iter_next(&child)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&child)) continue;
        bson_t sub;
        init_static_from_iter(&child, &sub);
        collect_equalities(&sub, out);
      }
      continue;
    }
    if (key.empty() || key[0] == '$' || BSON_ITER_HOLDS_REGEX(&it)) continue;
    bson_iter_t value = it;
    if (is_operator_object(&it)) {
      bson_t ops;
      init_static_from_iter(&it, &ops);
      if (bson_count_keys(&ops) != 1 || !find_field(&ops, "$eq", &value)) continue;
    }
    out.push_back(Equality{key, value});
  }
}

}  // namespace sandbox
