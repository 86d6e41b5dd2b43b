#pragma once
// Walks a command's arguments as options: "--name value" and "--name=value" alike.
#include <cstddef>
#include <string>
#include <vector>

namespace llmtap::cli {

class OptionCursor {
 public:
  explicit OptionCursor(const std::vector<std::string>& args) : args_(args) {}
  // Moves to the next argument; false after the last.
  bool next() {
    if (i_ >= args_.size()) return false;
    raw_ = args_[i_++];
    name_ = raw_;
    has_inline_ = false;
    if (auto eq = raw_.find('='); raw_.rfind("--", 0) == 0 && eq != std::string::npos) {
      name_ = raw_.substr(0, eq);
      inline_ = raw_.substr(eq + 1);
      has_inline_ = true;
    }
    return true;
  }
  const std::string& name() const { return name_; }  // "--since" for "--since=24h"; a bare word as is
  const std::string& raw() const { return raw_; }
  // The option's value: after '=', else the next argument (consumed). False when there is none.
  bool value(std::string* out) {
    if (has_inline_) return *out = inline_, true;
    if (i_ >= args_.size()) return false;
    *out = args_[i_++];
    return true;
  }

 private:
  const std::vector<std::string>& args_;
  std::size_t i_ = 0;
  std::string raw_, name_, inline_;
  bool has_inline_ = false;
};

}  // namespace llmtap::cli
