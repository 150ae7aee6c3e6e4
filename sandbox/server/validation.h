// Document validation: a collection's `validator` (a query filter, $jsonSchema included),
// `validationLevel` (strict | moderate | off) and `validationAction` (error | warn).
// Only the write commands validate. Applying oplog entries (apply.cpp: secondaries, applyOps,
// journal replay) never does, as MongoDB's secondaries do not: they take what the primary
// accepted, and restores replay documents that may predate the validator.
#pragma once

#include <string_view>

#include "server/catalog.h"
#include "server/collection.h"

namespace sandbox {

// 121 DocumentValidationFailure, with errInfo {failingDocumentId} in the reply or writeError.
class DocumentValidationError : public CommandError {
 public:
  explicit DocumentValidationError(const Doc& err_info)
      : CommandError(121, "DocumentValidationFailure", "Document failed validation"), err_info_(err_info) {}
  void append_details(bson_t* out) const override { append_doc(out, "errInfo", err_info_.doc().bson()); }

 private:
  ErrorDocument err_info_;
};

// Checks the validation fields of a create or collMod command (`command` names it in
// messages): a validator is a document that parses and is not set on a system collection or in
// admin, local or config; the level and action are among MongoDB's values.
void check_validation_options(std::string_view command, const Namespace& ns, const bson_t* options);

// Validates `doc`, which the write command `cmd` is about to store in `coll`. `before` is the
// document an update changes (nullptr for inserts and upserts): with validationLevel moderate,
// a document that already failed validation may be updated into another failing one.
// Throws DocumentValidationError unless the validator passes, the level is off, the action is
// warn (the failure is logged instead) or `cmd` says bypassDocumentValidation.
void validate_document(const Collection& coll, const bson_t* cmd, const Doc& doc, const Doc* before);

}  // namespace sandbox
