// RFC 4180 CSV for report exports: fields holding a comma, a double quote,
// CR or LF are quoted with inner quotes doubled; every record ends in CRLF.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace coffer::gateway {

// One field, quoted when needed.
void csv_append_field(std::string* out, std::string_view field);

class CsvWriter {
 public:
  CsvWriter& field(std::string_view text);
  CsvWriter& field(int64_t value);
  CsvWriter& field(uint64_t value);
  CsvWriter& field(const char* text) { return field(std::string_view(text)); }
  // Ends the current record with CRLF.
  CsvWriter& end_row();
  CsvWriter& row(std::initializer_list<std::string_view> fields);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separator();
  std::string out_;
  bool row_started_ = false;
};

}  // namespace coffer::gateway
