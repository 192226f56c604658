#include "gateway/csv.h"

namespace coffer::gateway {

void csv_append_field(std::string* out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void CsvWriter::separator() {
  if (row_started_) out_.push_back(',');
  row_started_ = true;
}

CsvWriter& CsvWriter::field(std::string_view text) {
  separator();
  csv_append_field(&out_, text);
  return *this;
}

CsvWriter& CsvWriter::field(int64_t value) {
  separator();
  out_ += std::to_string(value);
  return *this;
}

CsvWriter& CsvWriter::field(uint64_t value) {
  separator();
  out_ += std::to_string(value);
  return *this;
}

CsvWriter& CsvWriter::end_row() {
  out_ += "\r\n";
  row_started_ = false;
  return *this;
}

CsvWriter& CsvWriter::row(std::initializer_list<std::string_view> fields) {
  for (std::string_view f : fields)
    field(f);
  return end_row();
}

}  // namespace coffer::gateway
