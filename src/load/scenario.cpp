#include "load/scenario.hpp"

#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "load/thresholds.hpp"

namespace sluice::load {
namespace {

class Loader {
 public:
  Loader(std::string path, LoadOptions& opts) : path_(std::move(path)), opts_(opts) {
    base_dir_ = std::filesystem::path(path_).parent_path().string();
  }

  bool load(std::string& error) {
    toml::table root;
    try {
      root = toml::parse_file(path_);
    } catch (const toml::parse_error& e) {
      error = where(e.source()) + std::string(e.description());
      return false;
    }
    if (!settings(root) || !requests(root)) {
      error = error_;
      return false;
    }
    return true;
  }

 private:
  std::string where(const toml::source_region& src) const {
    return path_ + ":" + std::to_string(src.begin.line) + ":" + std::to_string(src.begin.column) +
           ": ";
  }
  bool fail(const toml::node& at, const std::string& what) {
    error_ = where(at.source()) + what;
    return false;
  }
  bool fail(const toml::key& at, const std::string& what) {
    error_ = where(at.source()) + what;
    return false;
  }
  bool string_of(const toml::node& n, std::string& out, const char* key) {
    auto v = n.value<std::string>();
    if (!v) return fail(n, std::string("'") + key + "' must be a string");
    out = *v;
    return true;
  }
  bool duration_of(const toml::node& n, Duration& out, const char* key) {
    std::string s;
    if (!string_of(n, s, key)) return false;
    auto d = parse_duration(s);
    if (!d) return fail(n, std::string("'") + key + "' is not a duration: '" + s + "'");
    out = *d;
    return true;
  }
  template <class T>
  bool number_of(const toml::node& n, T& out, const char* key, double min) {
    auto v = n.value<double>();
    if (!v || *v < min)
      return fail(n, std::string("'") + key +
                         "' must be a number >= " + std::to_string(static_cast<long long>(min)));
    out = static_cast<T>(*v);
    return true;
  }
  bool strings_of(const toml::node& n, std::vector<std::string>& out, const char* key) {
    const toml::array* a = n.as_array();
    if (!a) return fail(n, std::string("'") + key + "' must be an array of strings");
    for (auto& e : *a) {
      std::string s;
      if (!string_of(e, s, key)) return false;
      out.push_back(std::move(s));
    }
    return true;
  }
  bool check_thresholds(const toml::node& n, const std::vector<std::string>& exprs) {
    for (auto& e : exprs) {
      std::vector<Threshold> parsed;
      std::string why;
      if (!parse_threshold_list(e, parsed, why)) return fail(n, why);
    }
    return true;
  }

  bool settings(const toml::table& root) {
    for (auto& [key, node] : root) {
      std::string_view k = key.str();
      bool ok = true;
      if (k == "url")
        ok = string_of(node, opts_.url, "url");
      else if (k == "connections")
        ok = number_of(node, opts_.connections, "connections", 1);
      else if (k == "rate") {
        ok = number_of(node, opts_.rate, "rate", 0);
        opts_.open_model = true;
      } else if (k == "arrival") {
        std::string a;
        ok = string_of(node, a, "arrival");
        if (ok && a != "constant" && a != "poisson")
          return fail(node, "'arrival' must be \"constant\" or \"poisson\"");
        opts_.poisson = a == "poisson";
      } else if (k == "duration")
        ok = duration_of(node, opts_.duration, "duration");
      else if (k == "total_requests")
        ok = number_of(node, opts_.request_count, "total_requests", 1);
      else if (k == "threads")
        ok = number_of(node, opts_.threads, "threads", 1);
      else if (k == "timeout")
        ok = duration_of(node, opts_.timeout, "timeout");
      else if (k == "max_inflight")
        ok = number_of(node, opts_.max_inflight, "max_inflight", 1);
      else if (k == "keepalive") {
        auto b = node.value<bool>();
        if (!b) return fail(node, "'keepalive' must be true or false");
        opts_.keepalive = *b;
      } else if (k == "stages") {
        std::string s, why;
        ok = string_of(node, s, "stages");
        if (ok && !parse_stages(s, opts_.stages, why)) return fail(node, why);
      } else if (k == "thresholds") {
        ok = strings_of(node, opts_.thresholds, "thresholds") &&
             check_thresholds(node, opts_.thresholds);
      } else if (k == "headers") {
        ok = headers_of(node, global_headers_);
      } else if (k == "request") {
        continue;
      } else {
        return fail(key, "unknown setting '" + std::string(k) + "'");
      }
      if (!ok) return false;
    }
    return true;
  }

  bool headers_of(const toml::node& n, std::vector<std::pair<std::string, Template>>& out) {
    const toml::table* t = n.as_table();
    if (!t) return fail(n, "'headers' must be a table of \"Name\" = \"value\"");
    for (auto& [name, value] : *t) {
      std::string v, why;
      if (!string_of(value, v, "header value")) return false;
      auto tpl = Template::compile(v, base_dir_, why);
      if (!tpl) return fail(value, why);
      out.emplace_back(std::string(name.str()), std::move(*tpl));
    }
    return true;
  }

  bool target_of(const toml::node& n, std::string text, RequestSpec& spec) {
    if (text.starts_with("http://")) {
      size_t slash = text.find('/', 7);
      std::string authority = text.substr(7, slash == std::string::npos ? text.npos : slash - 7);
      if (opts_.url.empty()) opts_.url = "http://" + authority;
      Target base;
      std::string why;
      if (!parse_url(opts_.url, base, why)) return fail(n, why);
      if (authority != base.authority)
        return fail(n, "every request must go to the run's host (" + base.authority + ")");
      text = slash == std::string::npos ? "/" : text.substr(slash);
    }
    if (text.empty() || text[0] != '/') return fail(n, "'path' must start with '/'");
    std::string why;
    auto tpl = Template::compile(text, base_dir_, why);
    if (!tpl) return fail(n, why);
    spec.target = std::move(*tpl);
    return true;
  }

  bool request(const toml::table& t, int index) {
    RequestSpec spec;
    spec.name = "request" + std::to_string(index + 1);
    bool has_target = false;
    std::vector<std::string> thresholds;
    const toml::node* threshold_node = nullptr;
    for (auto& [key, node] : t) {
      std::string_view k = key.str();
      bool ok = true;
      if (k == "name")
        ok = string_of(node, spec.name, "name");
      else if (k == "weight")
        ok = number_of(node, spec.weight, "weight", 0);
      else if (k == "method")
        ok = string_of(node, spec.method, "method");
      else if (k == "path" || k == "url") {
        std::string s;
        ok = string_of(node, s, "path") && target_of(node, s, spec);
        has_target = true;
      } else if (k == "headers")
        ok = headers_of(node, spec.headers);
      else if (k == "body" || k == "body_file") {
        std::string s, why;
        if (!string_of(node, s, k == "body" ? "body" : "body_file")) return false;
        if (k == "body_file") {
          std::string file = s[0] == '/' || base_dir_.empty() ? s : base_dir_ + "/" + s;
          std::ifstream in(file, std::ios::binary);
          if (!in) return fail(node, "cannot read body file " + file);
          std::stringstream buf;
          buf << in.rdbuf();
          s = buf.str();
        }
        auto tpl = Template::compile(s, base_dir_, why);
        if (!tpl) return fail(node, why);
        spec.body = std::move(*tpl);
        spec.has_body = true;
      } else if (k == "expect") {
        if (auto one = node.value<int64_t>())
          spec.expect.push_back(static_cast<int>(*one));
        else if (auto* a = node.as_array()) {
          for (auto& e : *a) {
            auto v = e.value<int64_t>();
            if (!v || *v < 100 || *v > 599) return fail(e, "'expect' holds status codes (200)");
            spec.expect.push_back(static_cast<int>(*v));
          }
        } else {
          return fail(node, "'expect' must be a status code or an array of them");
        }
      } else if (k == "thresholds") {
        ok = strings_of(node, thresholds, "thresholds");
        threshold_node = &node;
      } else {
        return fail(key, "unknown request setting '" + std::string(k) + "'");
      }
      if (!ok) return false;
    }
    if (!has_target) return fail(t, "request needs a 'path' (or 'url')");
    for (auto& m : spec.method)
      if (m < 'A' || m > 'Z') return fail(t, "bad method '" + spec.method + "'");
    spec.headers.insert(spec.headers.begin(), global_headers_.begin(), global_headers_.end());
    for (auto& e : thresholds) {
      std::string full = spec.name + ":" + e;
      if (!check_thresholds(*threshold_node, {full})) return false;
      opts_.scenario_thresholds.push_back(full);
    }
    opts_.requests.push_back(std::move(spec));
    return true;
  }

  bool requests(const toml::table& root) {
    const toml::node* node = root.get("request");
    if (!node) return fail(root, "a scenario needs at least one [[request]]");
    const toml::array* a = node->as_array();
    if (!a || !a->is_array_of_tables()) return fail(*node, "'request' must be [[request]] tables");
    int i = 0;
    for (auto& e : *a)
      if (!request(*e.as_table(), i++)) return false;
    return true;
  }

  std::string path_;
  std::string base_dir_;
  LoadOptions& opts_;
  std::string error_;
  std::vector<std::pair<std::string, Template>> global_headers_;
};

}  // namespace

bool load_scenario(const std::string& path, LoadOptions& opts, std::string& error) {
  if (!std::filesystem::exists(path)) {
    error = path + ": no such file";
    return false;
  }
  Loader loader(path, opts);
  return loader.load(error);
}

}  // namespace sluice::load
