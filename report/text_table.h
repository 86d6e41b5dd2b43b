#pragma once
// Aligned terminal tables for the query layer's text output. Every cell passes through
// terminal_safe(): names come from the wire and must not move the cursor or recolour the terminal.
#include <string>
#include <string_view>
#include <vector>

namespace llmtap::report {

// Control characters (C0, DEL, C1) as \n, \t, \xNN; invalid UTF-8 bytes as \xNN.
std::string terminal_safe(std::string_view text);
// Terminal columns of (safe) UTF-8 text: one per code point.
std::size_t display_width(std::string_view text);

class TextTable {
 public:
  // RIGHT[i]: column i is right-aligned (numbers).
  TextTable(std::vector<std::string> header, std::vector<bool> right);
  void add(std::vector<std::string> row);
  std::size_t rows() const { return rows_.size(); }
  // Each line indented by INDENT, columns two spaces apart, cells longer than MAX_WIDTH cut with "…".
  std::string render(std::string_view indent = "", std::size_t max_width = 40) const;

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace llmtap::report
