#include "pricing/model_name.h"

#include <array>

#include "common/ascii.h"

namespace llmtap {
namespace {

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int two_digits(std::string_view s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

bool plausible_month_day(std::string_view mm, std::string_view dd) {
  int m = two_digits(mm), d = two_digits(dd);
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

bool plausible_yyyymmdd(std::string_view s) {
  return s.size() == 8 && is_digits(s) && s.substr(0, 2) == "20" && plausible_month_day(s.substr(4, 2), s.substr(6, 2));
}

void add_form(std::vector<ModelNameForm>& forms, std::string name, std::string derived) {
  if (name.empty()) return;
  for (const auto& f : forms) {
    if (f.name == name) return;
  }
  forms.push_back({std::move(name), std::move(derived)});
}

// "us.anthropic.claude-x-20250514-v1:0" -> "claude-x-20250514". Bedrock prefixes a vendor namespace,
// optionally a cross-region inference-profile prefix, and suffixes a model version.
std::optional<std::string> bedrock_inner_id(std::string_view name) {
  static constexpr std::array<std::string_view, 8> kRegions = {"us.", "eu.", "apac.", "global.",
                                                               "jp.", "au.", "ca.", "us-gov."};
  for (auto r : kRegions) {
    if (name.substr(0, r.size()) == r) {
      name.remove_prefix(r.size());
      break;
    }
  }
  constexpr std::string_view kVendor = "anthropic.";
  if (name.substr(0, kVendor.size()) != kVendor) return std::nullopt;
  name.remove_prefix(kVendor.size());
  // Version suffix "-v1:0", "-v2:0", "-v1".
  std::size_t v = name.rfind("-v");
  if (v != std::string_view::npos) {
    std::string_view ver = name.substr(v + 2);
    std::size_t colon = ver.find(':');
    std::string_view major = ver.substr(0, colon);
    std::string_view minor = colon == std::string_view::npos ? std::string_view("0") : ver.substr(colon + 1);
    if (is_digits(major) && is_digits(minor)) name = name.substr(0, v);
  }
  if (name.empty()) return std::nullopt;
  return std::string(name);
}

}  // namespace

std::vector<ModelNameForm> model_name_forms(std::string_view model) {
  while (!model.empty() && (model.front() == ' ' || model.front() == '\t')) model.remove_prefix(1);
  while (!model.empty() && (model.back() == ' ' || model.back() == '\t')) model.remove_suffix(1);
  std::vector<ModelNameForm> forms;
  std::string name = ascii_lower(model);
  add_form(forms, name, "");
  std::string segment = name;
  std::size_t slash = name.rfind('/');
  if (slash != std::string::npos) {
    segment = name.substr(slash + 1);
    add_form(forms, segment, "path prefix '" + name.substr(0, slash + 1) + "'");
  }
  // Gemini REST method suffix, when a caller passes the URL's "model:method" segment.
  for (std::string_view method : {":generatecontent", ":streamgeneratecontent"}) {
    if (segment.size() > method.size() && segment.ends_with(method)) {
      segment.resize(segment.size() - method.size());
      add_form(forms, segment, "method suffix '" + std::string(method) + "'");
    }
  }
  if (auto inner = bedrock_inner_id(segment)) add_form(forms, *inner, "Bedrock form '" + segment + "'");
  // Gateways such as OpenRouter write Claude versions with dots ("claude-sonnet-4.5"); Anthropic's
  // ids use dashes.
  if (segment.rfind("claude-", 0) == 0 && segment.find('.') != std::string::npos) {
    std::string dashed = segment;
    for (char& c : dashed) {
      if (c == '.') c = '-';
    }
    add_form(forms, dashed, "dotted version '" + segment + "'");
  }
  return forms;
}

std::optional<std::string> strip_date_suffix(std::string_view name) {
  const std::size_t n = name.size();
  // -YYYY-MM-DD
  if (n > 11 && name[n - 11] == '-' && name[n - 6] == '-' && name[n - 3] == '-' && is_digits(name.substr(n - 10, 4)) &&
      is_digits(name.substr(n - 5, 2)) && is_digits(name.substr(n - 2, 2)) && name.substr(n - 10, 2) == "20" &&
      plausible_month_day(name.substr(n - 5, 2), name.substr(n - 2, 2))) {
    return std::string(name.substr(0, n - 11));
  }
  // -YYYYMMDD or @YYYYMMDD
  if (n > 9 && (name[n - 9] == '-' || name[n - 9] == '@') && plausible_yyyymmdd(name.substr(n - 8))) {
    return std::string(name.substr(0, n - 9));
  }
  // -MMDD (OpenAI's older snapshots: gpt-4-0613, gpt-3.5-turbo-0125)
  if (n > 5 && name[n - 5] == '-' && is_digits(name.substr(n - 4)) &&
      plausible_month_day(name.substr(n - 4, 2), name.substr(n - 2, 2))) {
    return std::string(name.substr(0, n - 5));
  }
  return std::nullopt;
}

}  // namespace llmtap
