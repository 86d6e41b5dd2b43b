#include "common/safe_regex.h"

namespace llmtap {

re2::RE2::Options re2_options(const RegexOptions& options) {
  re2::RE2::Options o;
  o.set_encoding(re2::RE2::Options::EncodingUTF8);
  o.set_case_sensitive(!options.case_insensitive);
  o.set_max_mem(options.max_mem);
  o.set_log_errors(false);  // the caller reports the error with its context (file, entry)
  return o;
}

std::shared_ptr<const re2::RE2> compile_regex(std::string_view pattern, const RegexOptions& options,
                                              std::string* error) {
  auto re = std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()),
                                             re2_options(options));
  if (re->ok()) return re;
  if (error) *error = "invalid regular expression '" + std::string(pattern) + "': " + re->error();
  return nullptr;
}

}  // namespace llmtap
