#pragma once
// Text from the wire (model and tool names, provider error messages, header values) is printed on
// the operator's terminal by `traces list|show`, the end-of-run tree and the log. Control
// characters there would let a provider or an app rewrite the screen, set the window title or
// hide text (ESC [2J, ESC ]0;...BEL, bidi overrides), so every such field passes through
// terminal_safe() first.
#include <string>
#include <string_view>

#include <spdlog/logger.h>

namespace llmtap {

// Escapes, JSON-style so the result is also valid inside a JSON string:
//   C0 controls U+0000-U+001F (tab and newline too: a field is one line), DEL U+007F,
//   C1 controls U+0080-U+009F, the bidi controls U+061C, U+200E, U+200F, U+202A-U+202E and
//   U+2066-U+2069                                  -> \u001b, \u007f, \u009b, \u202e ...
//   bytes that are not well-formed UTF-8           -> \xNN
// Everything else, including printable non-ASCII text, is kept.
std::string terminal_safe(std::string_view text);

// For JSON text printed to a terminal (`traces --json`): the serializer already escapes C0 inside
// strings, so only C1 and bidi controls are escaped (as \u009b, valid JSON); layout newlines stay.
std::string terminal_safe_json(std::string_view json_text);

// True when terminal_safe(text) would change nothing (the common case: no copy needed).
bool is_terminal_safe(std::string_view text);

// Makes LOGGER's payload terminal_safe (the rest of the line is llmtap's own text): the pattern is
// spdlog's default with %v replaced by the escaped message.
void use_terminal_safe_log_format(spdlog::logger& logger);

}  // namespace llmtap
