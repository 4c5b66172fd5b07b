#pragma once
// A strict RFC 4180 reader for tests: rows of fields, quotes honoured, malformed input fails.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nodeproc::testing {

using CsvRows = std::vector<std::vector<std::string>>;

// Lines end with "\n" or "\r\n". Returns nullopt on a stray quote or an unterminated field.
inline std::optional<CsvRows> ParseCsvStrict(std::string_view text) {
  CsvRows rows;
  std::vector<std::string> row;
  std::string field;
  size_t i = 0;
  bool at_field_start = true;
  auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
  };
  while (i < text.size()) {
    char c = text[i];
    if (at_field_start && c == '"') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        field.push_back(text[i++]);
      }
      if (!closed) return std::nullopt;
      if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') return std::nullopt;
      at_field_start = false;
      continue;
    }
    if (c == ',') {
      end_field();
      at_field_start = true;
      ++i;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r') {
        if (i + 1 >= text.size() || text[i + 1] != '\n') return std::nullopt;
        ++i;
      }
      ++i;
      end_field();
      rows.push_back(std::move(row));
      row.clear();
      at_field_start = true;
    } else if (c == '"') {
      return std::nullopt;  // a quote inside an unquoted field
    } else {
      field.push_back(c);
      at_field_start = false;
      ++i;
    }
  }
  if (!field.empty() || !row.empty()) return std::nullopt;  // no final line break
  return rows;
}

}  // namespace nodeproc::testing
