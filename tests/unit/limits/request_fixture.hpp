// Builds RequestViews over owned storage for the limits tests.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "limits/keys.hpp"

namespace sluice::limits::testing {

class FakeRequest {
 public:
  FakeRequest(std::string client, std::string target,
              std::vector<std::pair<std::string, std::string>> headers = {})
      : target_(std::move(target)) {
    client_ = *IpAddress::parse(client);
    for (const auto& [name, value] : headers) {
      http::HeaderField f;
      f.name = {static_cast<uint32_t>(buffer_.size()), static_cast<uint32_t>(name.size())};
      buffer_ += name;
      f.value = {static_cast<uint32_t>(buffer_.size()), static_cast<uint32_t>(value.size())};
      buffer_ += value;
      fields_.push_back(f);
    }
  }
  RequestView view() const {
    RequestView v;
    v.client = client_;
    v.target = target_;
    v.base = buffer_.data();
    v.headers = fields_;
    return v;
  }
  const char* base() const { return buffer_.data(); }
  const std::vector<http::HeaderField>& fields() const { return fields_; }

 private:
  IpAddress client_;
  std::string target_;
  std::string buffer_;
  std::vector<http::HeaderField> fields_;
};

}  // namespace sluice::limits::testing
