#include "trace/attribution_attrs.h"

#include "common/user_id_hash.h"

namespace llmtap::trace {

namespace {
constexpr std::string_view kMetadataPrefix = "llmtap.metadata.";

std::string pseudonymous(const std::string& value, const TraceOptions& o) {
  return o.raw_user_ids ? value : hash_user_id(o.user_id_salt, value);
}
}  // namespace

void set_call_attribution(OpenSpan& s, const Attribution& a, const TraceOptions& o) {
  if (!a.user_id.empty()) s.set("user.id", pseudonymous(a.user_id, o));
  if (!a.session_id.empty()) s.set("session.id", a.session_id);
  if (!a.prompt_cache_key.empty()) s.set("llmtap.prompt_cache_key", pseudonymous(a.prompt_cache_key, o));
  for (const auto& [k, v] : a.metadata) s.set(std::string(kMetadataPrefix) + k, v);
}

void set_root_attribution(Span& root, const std::vector<const Span*>& generations, const std::string& group_id,
                          const std::map<std::string, std::string>* metadata, const std::string& release) {
  if (metadata)
    for (const auto& [k, v] : *metadata) root.set(std::string(kMetadataPrefix) + k, v);
  std::string user, session;
  for (const Span* g : generations) {
    for (const auto& a : g->attributes) {
      const auto* v = std::get_if<std::string>(&a.value);
      if (v == nullptr) continue;
      if (a.key == "user.id" && user.empty()) user = *v;
      else if (a.key == "session.id" && session.empty()) session = *v;
      else if (a.key.rfind(kMetadataPrefix, 0) == 0 && root.find(a.key) == nullptr) root.set(a.key, *v);
    }
  }
  if (!user.empty()) root.set("user.id", user);
  if (!session.empty()) root.set("session.id", session);
  const std::string& conversation = group_id.empty() ? session : group_id;
  if (!conversation.empty()) root.set("gen_ai.conversation.id", conversation);
  if (!release.empty()) root.set("llmtap.release", release);
}

}  // namespace llmtap::trace
