#include "flag_parser.hpp"

#include <cerrno>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace vctools {

namespace {

constexpr size_t kWidth = 96;      // usage lines wrap before this column
constexpr size_t kMaxColumn = 26;  // a longer flag column puts its help on the next line

// The whole word as a base-10 integer (strtoll rejects nothing on its own: "12x", "", " 3").
bool parse_integer(const std::string& v, long long* n, bool* overflow) {
  *overflow = false;
  if (v.empty() || std::isspace(static_cast<unsigned char>(v[0]))) return false;
  char* end = nullptr;
  errno = 0;
  *n = std::strtoll(v.c_str(), &end, 10);
  if (end == v.c_str() || *end != '\0') return false;
  if (errno == ERANGE) *overflow = true;
  return !*overflow;
}

bool parse_real(const std::string& v, double* d) {
  if (v.empty() || std::isspace(static_cast<unsigned char>(v[0]))) return false;
  char* end = nullptr;
  errno = 0;
  *d = std::strtod(v.c_str(), &end);
  return end != v.c_str() && *end == '\0' && errno != ERANGE && std::isfinite(*d);
}

std::string real_text(double d) {
  std::ostringstream s;
  s << d;
  return s.str();
}

std::vector<std::string> split_names(const std::string& names) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : names + ",") {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  return out;
}

// `text` word-wrapped into lines of at most `width` columns, each prefixed by `indent` spaces
// (the first by `first_indent`); explicit newlines in `text` are kept.
std::string wrap(const std::string& text, size_t first_indent, size_t indent, size_t width) {
  std::string out, line(first_indent, ' ');
  size_t line_start_len = first_indent;
  const auto flush = [&] {
    out += line + "\n";
    line.assign(indent, ' ');
    line_start_len = indent;
  };
  std::istringstream paragraphs(text);
  std::string para;
  bool first_para = true;
  while (std::getline(paragraphs, para)) {
    if (!first_para) flush();
    first_para = false;
    std::istringstream words(para);
    std::string w;
    while (words >> w) {
      if (line.size() > line_start_len && line.size() + 1 + w.size() > width) flush();
      if (line.size() > line_start_len) line += ' ';
      line += w;
    }
  }
  out += line + "\n";
  return out;
}

}  // namespace

// --- Flag: the checks a declaration adds ---

FlagParser::Flag& FlagParser::Flag::range(double lo, double hi) {
  min(lo);
  if (kind == Kind::Integer) {
    int_hi = std::llround(hi);
    int_hi_set = true;
  } else {
    real_hi = hi;
    real_hi_set = true;
  }
  return *this;
}

FlagParser::Flag& FlagParser::Flag::min(double lo) {
  if (kind == Kind::Integer) {
    int_lo = std::llround(lo);
    int_lo_set = true;
  } else {
    real_lo = lo;
    real_lo_set = true;
    real_lo_open = false;
  }
  return *this;
}

FlagParser::Flag& FlagParser::Flag::above(double lo) {
  min(lo);
  real_lo_open = kind != Kind::Integer;
  if (kind == Kind::Integer) int_lo = std::llround(lo) + 1;
  return *this;
}

FlagParser::Flag& FlagParser::Flag::choices(std::vector<std::string> w) {
  words = std::move(w);
  return *this;
}

FlagParser::Flag& FlagParser::Flag::default_text(std::string text) {
  shown_default = std::move(text);
  return *this;
}

std::string FlagParser::Flag::needs(bool type_limits) const {
  switch (kind) {
    case Kind::Integer: {
      const bool lo = int_lo_set || type_limits, hi = int_hi_set || type_limits;
      if (lo && hi) return "an integer " + std::to_string(int_lo) + ".." + std::to_string(int_hi);
      if (lo) return "an integer >= " + std::to_string(int_lo);
      if (hi) return "an integer <= " + std::to_string(int_hi);
      return "an integer";
    }
    case Kind::Real:
      if (real_lo_set && real_hi_set)
        return "a number " + real_text(real_lo) + ".." + real_text(real_hi);
      if (real_lo_set)
        return std::string("a number ") + (real_lo_open ? "> " : ">= ") + real_text(real_lo);
      if (real_hi_set) return "a number <= " + real_text(real_hi);
      return "a number";
    case Kind::Text:
      if (!words.empty()) {
        std::string s = "one of ";
        for (size_t i = 0; i < words.size(); ++i) s += (i ? ", " : "") + words[i];
        return s;
      }
      return "a value (" + value_name + ")";
    default:
      return "a value (" + value_name + ")";
  }
}

bool FlagParser::Flag::accept(const std::string& v, bool* type_limits) {
  *type_limits = false;
  switch (kind) {
    case Kind::Integer: {
      long long n = 0;
      bool overflow = false;
      if (!parse_integer(v, &n, &overflow)) {
        *type_limits = overflow;
        return false;
      }
      if (n < int_lo || n > int_hi) {
        *type_limits = !int_lo_set && !int_hi_set;
        return false;
      }
      store_integer(n);
      return true;
    }
    case Kind::Real: {
      double d = 0;
      if (!parse_real(v, &d)) return false;
      if (real_lo_set && (real_lo_open ? !(d > real_lo) : !(d >= real_lo))) return false;
      if (real_hi_set && !(d <= real_hi)) return false;
      store_real(d);
      return true;
    }
    case Kind::Text:
      if (!words.empty()) {
        bool found = false;
        for (const auto& w : words) found = found || w == v;
        if (!found) return false;
      }
      store_text(v);
      return true;
    default:
      store_text(v);
      return true;
  }
}

// --- FlagParser ---

FlagParser::FlagParser(std::string synopsis) : synopsis_(std::move(synopsis)) {
  program_ = synopsis_.substr(0, synopsis_.find(' '));
}

FlagParser::~FlagParser() = default;

void FlagParser::section(std::string title) {
  sections_.emplace_back(flags_.size(), std::move(title));
}

FlagParser::Flag& FlagParser::add(const std::string& names, const std::string& value_name,
                                  const std::string& help, Flag::Kind kind) {
  auto f = std::make_unique<Flag>();
  f->names = split_names(names);
  if (f->names.empty()) throw std::logic_error("a flag without a name");
  for (const auto& n : f->names)
    if (n.size() < 2 || n[0] != '-' || find(n) != nullptr || n == "-h" || n == "--help")
      throw std::logic_error(program_ + ": flag '" + n + "' declared twice or malformed");
  f->value_name = value_name;
  f->help = help;
  f->kind = kind;
  flags_.push_back(std::move(f));
  return *flags_.back();
}

template <class Int>
FlagParser::Flag& FlagParser::add_integer(const std::string& names, const std::string& value_name,
                                          const std::string& help, Int* target) {
  Flag& f = add(names, value_name, help, Flag::Kind::Integer);
  // The type's own limits (an unsigned 64-bit target stops at 2^63 - 1: plenty for a seed).
  f.int_lo = static_cast<long long>(std::numeric_limits<Int>::min());
  f.int_hi = std::numeric_limits<Int>::max() >
                     static_cast<unsigned long long>(std::numeric_limits<long long>::max())
                 ? std::numeric_limits<long long>::max()
                 : static_cast<long long>(std::numeric_limits<Int>::max());
  if (std::numeric_limits<Int>::min() == 0) f.int_lo_set = true;  // an unsigned target: say ">= 0"
  f.shown_default = std::to_string(*target);
  f.store_integer = [target](long long n) { *target = static_cast<Int>(n); };
  return f;
}

FlagParser::Flag& FlagParser::flag(const std::string& names, const std::string& value_name,
                                   const std::string& help, int* target) {
  return add_integer(names, value_name, help, target);
}
FlagParser::Flag& FlagParser::flag(const std::string& names, const std::string& value_name,
                                   const std::string& help, long* target) {
  return add_integer(names, value_name, help, target);
}
FlagParser::Flag& FlagParser::flag(const std::string& names, const std::string& value_name,
                                   const std::string& help, long long* target) {
  return add_integer(names, value_name, help, target);
}
FlagParser::Flag& FlagParser::flag(const std::string& names, const std::string& value_name,
                                   const std::string& help, unsigned long* target) {
  return add_integer(names, value_name, help, target);
}
FlagParser::Flag& FlagParser::flag(const std::string& names, const std::string& value_name,
                                   const std::string& help, unsigned long long* target) {
  return add_integer(names, value_name, help, target);
}

FlagParser::Flag& FlagParser::flag(const std::string& names, const std::string& value_name,
                                   const std::string& help, double* target) {
  Flag& f = add(names, value_name, help, Flag::Kind::Real);
  f.shown_default = real_text(*target);
  f.store_real = [target](double d) { *target = d; };
  return f;
}

FlagParser::Flag& FlagParser::flag(const std::string& names, const std::string& value_name,
                                   const std::string& help, std::string* target) {
  Flag& f = add(names, value_name, help, Flag::Kind::Text);
  f.shown_default = *target;
  f.store_text = [target](const std::string& v) { *target = v; };
  return f;
}

FlagParser::Flag& FlagParser::flag(const std::string& names, const std::string& value_name,
                                   const std::string& help, std::vector<std::string>* target) {
  Flag& f = add(names, value_name, help, Flag::Kind::List);
  f.store_text = [target](const std::string& v) { target->push_back(v); };
  return f;
}

FlagParser::Flag& FlagParser::flag(const std::string& names, const std::string& value_name,
                                   const std::string& help,
                                   std::function<void(const std::string&)> set) {
  Flag& f = add(names, value_name, help, Flag::Kind::Custom);
  f.store_text = std::move(set);
  return f;
}

FlagParser::Flag& FlagParser::flag(const std::string& names, const std::string& help, bool* target,
                                   bool value) {
  Flag& f = add(names, "", help, Flag::Kind::Switch);
  f.store_text = [target, value](const std::string&) { *target = value; };
  return f;
}

void FlagParser::positional(const std::string& value_name, const std::string& help,
                            std::vector<std::string>* target, size_t max) {
  positional_ = {value_name, help, target, max};
}

FlagParser::Flag* FlagParser::find(const std::string& name) const {
  for (const auto& f : flags_)
    for (const auto& n : f->names)
      if (n == name) return f.get();
  return nullptr;
}

bool FlagParser::parse(const std::vector<std::string>& args, size_t first) {
  bool only_positional = false;
  for (size_t i = first; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!only_positional && a == "--") {
      only_positional = true;
      continue;
    }
    if (only_positional || a.size() < 2 || a[0] != '-') {
      if (positional_.target == nullptr) throw UsageError("unexpected argument '" + a + "'");
      if (positional_.max > 0 && positional_.target->size() >= positional_.max)
        throw UsageError("unexpected argument '" + a + "' (" + std::to_string(positional_.max) +
                         " " + positional_.value_name + " at most)");
      positional_.target->push_back(a);
      continue;
    }
    if (a == "-h" || a == "--help") return false;
    std::string name = a, value;
    bool inline_value = false;
    const size_t eq = a.find('=');
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    Flag* f = find(name);
    if (f == nullptr) throw UsageError("unknown option '" + name + "'");
    if (f->kind == Flag::Kind::Switch) {
      if (inline_value) throw UsageError(name + " takes no value, got '" + value + "'");
      f->store_text("");
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) throw UsageError(name + " needs a value (" + f->value_name + ")");
      value = args[++i];
    }
    if (f->kind == Flag::Kind::Custom) {
      // The tool's own conversion: its message says what the value needs.
      try {
        f->store_text(value);
      } catch (const std::exception& e) {
        throw UsageError(name + ": " + e.what());
      }
      continue;
    }
    bool type_limits = false;
    if (!f->accept(value, &type_limits))
      throw UsageError(name + " needs " + f->needs(type_limits) + ", got '" + value + "'");
  }
  return true;
}

std::string FlagParser::flags_text() const {
  struct Row {
    std::string left, help;
  };
  std::vector<Row> rows;
  std::vector<std::string> headings;  // heading before rows[i] (empty: none)
  const auto heading_at = [this](size_t flag_index) {
    std::string h;
    for (const auto& [i, t] : sections_)
      if (i == flag_index) h += (h.empty() ? "" : "\n") + t;
    return h;
  };
  if (positional_.target != nullptr) {
    rows.push_back(
        {positional_.value_name + (positional_.max == 1 ? "" : "..."), positional_.help});
    headings.emplace_back();
  }
  for (size_t i = 0; i < flags_.size(); ++i) {
    const Flag& f = *flags_[i];
    std::string left;
    for (size_t k = 0; k < f.names.size(); ++k) left += (k ? ", " : "") + f.names[k];
    if (!f.value_name.empty()) left += " " + f.value_name;
    std::string help = f.help;
    if (f.kind == Flag::Kind::List) help += " (repeatable)";
    if (!f.shown_default.empty()) help += " (default " + f.shown_default + ")";
    rows.push_back({left, help});
    headings.push_back(heading_at(i));
  }
  rows.push_back({"-h, --help", "this text"});
  headings.push_back(heading_at(flags_.size()));

  size_t column = 0;
  for (const auto& r : rows)
    if (r.left.size() <= kMaxColumn) column = std::max(column, r.left.size());
  const size_t help_at = 2 + column + 2;
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!headings[i].empty()) out += (i > 0 ? "\n" : "") + headings[i] + "\n";
    const std::string left = "  " + rows[i].left;
    if (rows[i].left.size() <= column) {
      std::string text = wrap(rows[i].help, help_at, help_at, kWidth);
      out += left + text.substr(left.size());
    } else {
      out += left + "\n" + wrap(rows[i].help, help_at, help_at, kWidth);
    }
  }
  return out;
}

std::string FlagParser::usage() const {
  std::string out = "usage: " + synopsis_ + "\n";
  if (!intro_.empty()) out += "\n" + intro_;
  out += "\n" + flags_text();
  if (!epilogue_.empty()) out += "\n" + epilogue_;
  return out;
}

}  // namespace vctools
