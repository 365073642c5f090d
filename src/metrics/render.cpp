#include <charconv>
#include <cmath>
#include <cstdio>

#include "common/json_text.hpp"
#include "metrics/snapshot.hpp"

namespace sluice::metrics {
namespace {

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_json_number(std::string& out, double v) {
  if (std::isfinite(v))
    out += format_number(v);
  else
    out += "null";  // JSON has no infinities
}

// {a="x",b="y"} with an optional extra label last (le of a bucket); nothing when empty.
void append_labels(std::string& out, const FamilySnapshot& f, const SampleSnapshot& s,
                   const char* extra_name = nullptr, std::string_view extra_value = {}) {
  if (f.label_names.empty() && !extra_name) return;
  out += '{';
  for (size_t i = 0; i < f.label_names.size(); ++i) {
    if (i) out += ',';
    out += f.label_names[i];
    out += "=\"";
    out += escape_label_value(s.labels[i]);
    out += '"';
  }
  if (extra_name) {
    if (!f.label_names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out.append(extra_value);
    out += '"';
  }
  out += '}';
}

void append_labels_json(std::string& out, const FamilySnapshot& f, const SampleSnapshot& s) {
  out += "\"labels\":{";
  for (size_t i = 0; i < f.label_names.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, f.label_names[i]);
    out += ':';
    append_json_string(out, s.labels[i]);
  }
  out += '}';
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, r.ptr);
}

std::string render_text(const Snapshot& snapshot) {
  std::string out;
  out.reserve(4096);
  for (const auto& f : snapshot.families) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    out += escape_help(f.help);
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += type_name(f.type);
    out += '\n';
    for (const auto& s : f.samples) {
      if (f.type != MetricType::histogram) {
        out += f.name;
        append_labels(out, f, s);
        out += ' ';
        out += format_number(s.value);
        out += '\n';
        continue;
      }
      for (size_t b = 0; b < s.buckets.size(); ++b) {
        out += f.name;
        out += "_bucket";
        append_labels(out, f, s, "le", b < f.bounds.size() ? format_number(f.bounds[b]) : "+Inf");
        out += ' ';
        append_uint(out, s.buckets[b]);
        out += '\n';
      }
      out += f.name;
      out += "_sum";
      append_labels(out, f, s);
      out += ' ';
      out += format_number(s.sum);
      out += '\n';
      out += f.name;
      out += "_count";
      append_labels(out, f, s);
      out += ' ';
      append_uint(out, s.count);
      out += '\n';
    }
  }
  return out;
}

std::string render_json(const Snapshot& snapshot) {
  std::string out;
  out.reserve(4096);
  out += '{';
  bool first_family = true;
  for (const auto& f : snapshot.families) {
    if (!first_family) out += ',';
    first_family = false;
    append_json_string(out, f.name);
    out += ":{\"type\":";
    append_json_string(out, type_name(f.type));
    out += ",\"help\":";
    append_json_string(out, f.help);
    out += ",\"series\":[";
    for (size_t i = 0; i < f.samples.size(); ++i) {
      const auto& s = f.samples[i];
      if (i) out += ',';
      out += '{';
      append_labels_json(out, f, s);
      if (f.type != MetricType::histogram) {
        out += ",\"value\":";
        append_json_number(out, s.value);
      } else {
        out += ",\"count\":";
        append_uint(out, s.count);
        out += ",\"sum\":";
        append_json_number(out, s.sum);
        out += ",\"buckets\":[";
        for (size_t b = 0; b < s.buckets.size(); ++b) {
          if (b) out += ',';
          out += "{\"le\":";
          if (b < f.bounds.size())
            append_json_number(out, f.bounds[b]);
          else
            out += "\"+Inf\"";
          out += ",\"count\":";
          append_uint(out, s.buckets[b]);
          out += '}';
        }
        out += ']';
      }
      out += '}';
    }
    out += "]}";
  }
  out += '}';
  return out;
}

}  // namespace sluice::metrics
