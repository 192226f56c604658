#include "storage/status.h"

namespace coffer::storage {

std::string_view status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::ok:
      return "ok";
    case StatusCode::io_error:
      return "io_error";
    case StatusCode::no_space:
      return "no_space";
    case StatusCode::corruption:
      return "corruption";
    case StatusCode::invalid_argument:
      return "invalid_argument";
    case StatusCode::not_found:
      return "not_found";
    case StatusCode::poisoned:
      return "poisoned";
    case StatusCode::queue_full:
      return "queue_full";
    case StatusCode::closed:
      return "closed";
  }
  return "unknown";
}

std::string Status::to_string() const {
  std::string s(status_code_name(code_));
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

}  // namespace coffer::storage
