#include "server/validation.h"

#include <algorithm>

#include "server/log.h"

namespace sandbox {
namespace {

// The value of an enumerated string option, refused as MongoDB's command parser does.
void check_enum_option(std::string_view command, const bson_t* options, std::string_view field,
                       std::initializer_list<std::string_view> allowed) {
  auto value = find_field(options, field);
  if (!value) return;
  if (!BSON_ITER_HOLDS_UTF8(&*value)) throw_wrong_type(std::string(command), std::string(field), &*value, "string");
  std::string text = bson_iter_utf8(&*value, nullptr);
  if (std::find(allowed.begin(), allowed.end(), text) == allowed.end()) {
    throw_error(2, "BadValue", "Enumeration value '" + text + "' for field '" + std::string(command) + "." +
                                   std::string(field) + "' is not a valid value.");
  }
}

void check_validator(std::string_view command, const Namespace& ns, const bson_iter_t* validator) {
  if (!BSON_ITER_HOLDS_DOCUMENT(validator)) throw_wrong_type(std::string(command), "validator", validator, "object");
  Doc spec = iter_document(validator);
  if (bson_empty(spec.bson())) return;  // an empty validator removes validation
  if (ns.coll.starts_with("system.")) {
    throw_error(72, "InvalidOptions", "Document validators not allowed on system collection " + ns.str());
  }
  if (ns.db == "admin" || ns.db == "local" || ns.db == "config") {
    throw_error(72, "InvalidOptions", "Document validators are not allowed on collections in the " + ns.db + " database");
  }
  Matcher parsed(spec.bson());  // throws the parse error MongoDB would give
}

}  // namespace

void check_validation_options(std::string_view command, const Namespace& ns, const bson_t* options) {
  if (auto validator = find_field(options, "validator")) check_validator(command, ns, &*validator);
  check_enum_option(command, options, "validationLevel", {"strict", "moderate", "off"});
  check_enum_option(command, options, "validationAction", {"error", "warn"});
}

void validate_document(const Collection& coll, const bson_t* cmd, const Doc& doc, const Doc* before) {
  if (get_bool(cmd, "bypassDocumentValidation", false)) return;
  const Matcher* validator = coll.validator();
  if (validator == nullptr) return;
  const bson_t* options = coll.options().bson();
  std::string level = get_string(options, "validationLevel").value_or("strict");
  if (level == "off" || validator->matches(doc.bson())) return;
  if (level == "moderate" && before != nullptr && !validator->matches(before->bson())) return;
  Builder info;
  if (auto id = find_field(doc.bson(), "_id")) append_iter(info.get(), "failingDocumentId", &*id);
  if (get_string(options, "validationAction").value_or("error") == "warn") {
    log_line("Document would fail validation: " + coll.ns() + " " + json(info.get()));
    return;
  }
  throw DocumentValidationError(info.doc());
}

}  // namespace sandbox
