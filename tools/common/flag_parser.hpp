// The tools' one command-line parser. Each flag is declared once (names, value name, help,
// typed target) and that declaration both checks the value and writes the usage text, so a
// tool's help cannot drift from what it accepts and a bad value is a usage error that names
// the flag and what it needs ("--frames needs an integer 3..1000000, got 'x'") instead of an
// escaped std::stoi exception. The default shown in the help is the target's value when the
// flag is declared, so it is the default the tool really uses.
//
//   vctools::FlagParser p("vidcolor-pack [options] -o FILE");
//   p.flag("--crop", "S", "crop size in pixels", &o.crop).range(16, 4096);
//   p.flag("--images", "DIR", "folder of still images", &o.image_dirs);  // repeatable
//   p.flag("--knn-at-load", "write no KNN graphs", &no_graphs);           // a switch
//   if (!p.parse(argc, argv)) { std::fputs(p.usage().c_str(), stdout); return 0; }  // --help
//
// Usage errors are UsageError; the tools exit with 2 for them, 1 for errors at run time.
// No dependency: Debian bookworm packages none of cxxopts, CLI11 or argparse here.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace vctools {

// A command line the tool cannot run: exit status 2, the message and the usage on stderr.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class FlagParser {
 public:
  // How a declared flag's value is checked, and shown in the help. Returned by flag() so a
  // declaration reads as one statement: p.flag(...).range(1, 100).default_text("all").
  class Flag {
   public:
    // The closed range lo..hi of an integer or number flag (an integer flag's bounds are
    // whole numbers; without them an integer keeps within its target type's limits).
    Flag& range(double lo, double hi);
    Flag& min(double lo);
    // A number flag's value must be greater than lo ("a positive number": above(0)).
    Flag& above(double lo);
    // The value must be one of these words (a text flag).
    Flag& choices(std::vector<std::string> words);
    // Shown as "(default TEXT)" instead of the target's value; empty: no default shown.
    Flag& default_text(std::string text);

   private:
    friend class FlagParser;
    enum class Kind { Integer, Real, Text, Switch, List, Custom };
    // Checks `v` and stores it; false when it does not fit (`type_limits`: it broke the
    // target type's own limits, so the message shows them).
    bool accept(const std::string& v, bool* type_limits);
    std::string needs(bool type_limits) const;  // "an integer 1..100", for messages

    std::vector<std::string> names;  // "-o", "--output"
    std::string value_name;          // "N"; empty for a switch
    std::string help;
    std::string shown_default;
    Kind kind = Kind::Text;
    long long int_lo = 0, int_hi = 0;
    bool int_lo_set = false, int_hi_set = false;
    double real_lo = 0, real_hi = 0;
    bool real_lo_set = false, real_hi_set = false, real_lo_open = false;
    std::vector<std::string> words;
    std::function<void(long long)> store_integer;
    std::function<void(double)> store_real;
    std::function<void(const std::string&)> store_text;  // text, list, switch, custom
  };

  // `synopsis` follows "usage: " on the first line, e.g. "vidcolor-pack [options] -o FILE";
  // its first word is the program name used in messages.
  explicit FlagParser(std::string synopsis);
  ~FlagParser();
  FlagParser(const FlagParser&) = delete;
  FlagParser& operator=(const FlagParser&) = delete;

  // Paragraphs of the usage text before and after the flags, as written (end with '\n').
  void intro(std::string text) { intro_ = std::move(text); }
  void epilogue(std::string text) { epilogue_ = std::move(text); }
  // A heading that groups the flags declared after it.
  void section(std::string title);

  // `names` is one name or aliases separated by ", " ("-o, --output"). A flag given twice
  // keeps the last value, except a list, which collects every one (a repeatable flag).
  Flag& flag(const std::string& names, const std::string& value_name, const std::string& help,
             int* target);
  Flag& flag(const std::string& names, const std::string& value_name, const std::string& help,
             long* target);
  Flag& flag(const std::string& names, const std::string& value_name, const std::string& help,
             long long* target);
  Flag& flag(const std::string& names, const std::string& value_name, const std::string& help,
             unsigned long* target);
  Flag& flag(const std::string& names, const std::string& value_name, const std::string& help,
             unsigned long long* target);
  Flag& flag(const std::string& names, const std::string& value_name, const std::string& help,
             double* target);
  Flag& flag(const std::string& names, const std::string& value_name, const std::string& help,
             std::string* target);
  Flag& flag(const std::string& names, const std::string& value_name, const std::string& help,
             std::vector<std::string>* target);
  // A value the tool converts itself (e.g. WxH): `set` throws UsageError (or any exception,
  // whose message is then attached to the flag's name) for a value it cannot take.
  Flag& flag(const std::string& names, const std::string& value_name, const std::string& help,
             std::function<void(const std::string&)> set);
  // A switch: present = `*target = value` (true, or false for a --no-thing switch).
  Flag& flag(const std::string& names, const std::string& help, bool* target, bool value = true);

  // Words that are not flags, in order, into `target` (e.g. clip paths); at most `max` of
  // them (0 = any number). Without a positional declaration such a word is a usage error.
  void positional(const std::string& value_name, const std::string& help,
                  std::vector<std::string>* target, size_t max = 0);

  // Parses args[first...] (e.g. after a subcommand). "-h"/"--help" anywhere: returns false
  // and sets nothing more (the caller prints usage() and exits 0). "--name=value" is the same
  // as "--name value"; "--" ends the flags (every later word is positional).
  bool parse(const std::vector<std::string>& args, size_t first = 0);
  bool parse(int argc, char** argv) {
    return parse(std::vector<std::string>(argv + 1, argv + argc));
  }

  // "usage: SYNOPSIS", the intro, the flags (two columns, sections, defaults), the epilogue.
  std::string usage() const;
  // The flags' part of usage() alone (for a tool with subcommands).
  std::string flags_text() const;
  const std::string& program() const { return program_; }

 private:
  Flag& add(const std::string& names, const std::string& value_name, const std::string& help,
            Flag::Kind kind);
  Flag* find(const std::string& name) const;
  template <class Int>
  Flag& add_integer(const std::string& names, const std::string& value_name,
                    const std::string& help, Int* target);

  struct Positional {
    std::string value_name, help;
    std::vector<std::string>* target = nullptr;
    size_t max = 0;
  };
  std::string synopsis_, program_, intro_, epilogue_;
  // A flag is referenced by the Flag& its declaration returned: pointers keep it in place.
  std::vector<std::unique_ptr<Flag>> flags_;
  std::vector<std::pair<size_t, std::string>> sections_;  // heading before flags_[i]
  Positional positional_;
};

}  // namespace vctools
