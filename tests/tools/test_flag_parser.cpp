// The tools' flag parser (tools/common/flag_parser.hpp) and duration format: typed values
// and their checks, the messages of usage errors, repeatable flags, positionals, and the
// usage text generated from the declarations.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/duration.hpp"
#include "common/flag_parser.hpp"

using vctools::FlagParser;
using vctools::UsageError;

namespace {

// Options of a made-up tool, declared as the real ones are.
struct Tool {
  int frames = 200;
  long long steps = 1000;
  unsigned long seed = 1;
  double lr = 2e-4, scale = 0.25;
  std::string model, method = "kdtree";
  bool json = false, candidates = true;
  std::vector<std::string> images, clips;
  std::string size_seen;
  FlagParser p{"tool [options] CLIP..."};

  Tool() {
    p.intro("Does a thing to clips.\n");
    p.positional("CLIP", "clips to read", &clips);
    p.section("data");
    p.flag("--frames", "N", "frames to run", &frames).range(1, 100000);
    p.flag("--steps", "N", "steps", &steps).min(1);
    p.flag("--seed", "N", "random seed", &seed);
    p.flag("--images", "DIR", "folder of still images", &images);
    p.section("model");
    p.flag("--model", "FILE", "model file", &model).default_text("the shipped model");
    p.flag("--lr", "X", "learning rate", &lr).above(0);
    p.flag("--scale", "X", "flow scale", &scale).range(0, 1);
    p.flag("--knn-method", "M", "kdtree (exact) or brute", &method).choices({"kdtree", "brute"});
    p.flag("--size", "WxH", "frame size", [this](const std::string& v) {
      if (v.find('x') == std::string::npos)
        throw std::runtime_error("a size is WxH, got '" + v + "'");
      size_seen = v;
    });
    p.flag("--json", "print JSON", &json);
    p.flag("--no-candidates", "leave out the candidates", &candidates, false);
    p.epilogue("Progress goes to stderr.\n");
  }

  // The usage error's message, or "" when it parsed.
  std::string error(const std::vector<std::string>& args) {
    try {
      p.parse(args);
    } catch (const UsageError& e) {
      return e.what();
    }
    return "";
  }
};

TEST(FlagParser, TypedValuesAndSwitches) {
  Tool t;
  ASSERT_TRUE(t.p.parse({"--frames", "7", "a", "--steps=12", "--seed", "99", "--lr", "1e-3",
                         "--scale", "1", "--knn-method", "brute", "--json", "--no-candidates", "b",
                         "--model", "m.st", "--size", "3x4"}));
  EXPECT_EQ(t.frames, 7);
  EXPECT_EQ(t.steps, 12);
  EXPECT_EQ(t.seed, 99u);
  EXPECT_DOUBLE_EQ(t.lr, 1e-3);
  EXPECT_DOUBLE_EQ(t.scale, 1.0);
  EXPECT_EQ(t.method, "brute");
  EXPECT_TRUE(t.json);
  EXPECT_FALSE(t.candidates);
  EXPECT_EQ(t.model, "m.st");
  EXPECT_EQ(t.size_seen, "3x4");
  EXPECT_EQ(t.clips, (std::vector<std::string>{"a", "b"}));
}

TEST(FlagParser, DefaultsStayWithoutFlags) {
  Tool t;
  ASSERT_TRUE(t.p.parse({}));
  EXPECT_EQ(t.frames, 200);
  EXPECT_EQ(t.method, "kdtree");
  EXPECT_TRUE(t.candidates);
  EXPECT_TRUE(t.clips.empty());
}

TEST(FlagParser, BadIntegers) {
  for (const char* v : {"x", "", "12x", "1.5", " 3", "0x10"}) {
    Tool t;
    EXPECT_EQ(t.error({"--frames", v}),
              std::string("--frames needs an integer 1..100000, got '") + v + "'");
    EXPECT_EQ(t.frames, 200) << v;
  }
  Tool t;
  EXPECT_EQ(t.error({"--steps", "many"}), "--steps needs an integer >= 1, got 'many'");
  EXPECT_EQ(t.error({"--seed", "-1"}), "--seed needs an integer >= 0, got '-1'");
  EXPECT_EQ(t.error({"--seed", "99999999999999999999"}),
            "--seed needs an integer 0..9223372036854775807, got '99999999999999999999'");
}

TEST(FlagParser, OutOfRange) {
  Tool t;
  EXPECT_EQ(t.error({"--frames", "0"}), "--frames needs an integer 1..100000, got '0'");
  EXPECT_EQ(t.error({"--frames", "100001"}), "--frames needs an integer 1..100000, got '100001'");
  EXPECT_EQ(t.error({"--steps", "0"}), "--steps needs an integer >= 1, got '0'");
  EXPECT_EQ(t.error({"--lr", "0"}), "--lr needs a number > 0, got '0'");
  EXPECT_EQ(t.error({"--lr", "nan"}), "--lr needs a number > 0, got 'nan'");
  EXPECT_EQ(t.error({"--scale", "1.5"}), "--scale needs a number 0..1, got '1.5'");
  EXPECT_EQ(t.error({"--scale", "inf"}), "--scale needs a number 0..1, got 'inf'");
  EXPECT_EQ(t.error({"--knn-method", "flann"}),
            "--knn-method needs one of kdtree, brute, got 'flann'");
  EXPECT_EQ(t.error({"--size", "big"}), "--size: a size is WxH, got 'big'");
  // An int target keeps within int even without a declared range.
  int n = 0;
  FlagParser p("tool");
  p.flag("--n", "N", "a number", &n);
  EXPECT_THROW(p.parse({"--n", "3000000000"}), UsageError);
  try {
    p.parse({"--n", "3000000000"});
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--n needs an integer -2147483648..2147483647, got '3000000000'");
  }
}

TEST(FlagParser, UnknownFlagMissingValueAndStrayWords) {
  Tool t;
  EXPECT_EQ(t.error({"--frame", "3"}), "unknown option '--frame'");
  EXPECT_EQ(t.error({"-x"}), "unknown option '-x'");
  EXPECT_EQ(t.error({"--frames"}), "--frames needs a value (N)");
  EXPECT_EQ(t.error({"--json=yes"}), "--json takes no value, got 'yes'");
  FlagParser none("tool");
  EXPECT_THROW(none.parse({"stray"}), UsageError);
  std::vector<std::string> one;
  FlagParser single("tool FILE");
  single.positional("FILE", "the file", &one, 1);
  EXPECT_TRUE(single.parse({"a"}));
  EXPECT_THROW(single.parse({"b"}), UsageError);
}

TEST(FlagParser, RepeatablesCollectEveryValueAndScalarsKeepTheLast) {
  Tool t;
  ASSERT_TRUE(t.p.parse(
      {"--images", "a", "--frames", "3", "--images", "b", "--images=c", "--frames", "4"}));
  EXPECT_EQ(t.images, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(t.frames, 4);
}

TEST(FlagParser, HelpAndDoubleDash) {
  Tool t;
  EXPECT_FALSE(t.p.parse({"--frames", "3", "--help"}));
  Tool u;
  EXPECT_FALSE(u.p.parse({"-h"}));
  Tool v;
  ASSERT_TRUE(v.p.parse({"--", "--frames", "-x"}));
  EXPECT_EQ(v.clips, (std::vector<std::string>{"--frames", "-x"}));
  EXPECT_EQ(v.frames, 200);
  // A value may start with '-' (a negative number, "-1 = auto").
  int candidate = 0;
  FlagParser p("tool");
  p.flag("--candidate", "N", "candidate", &candidate).range(-1, 15);
  ASSERT_TRUE(p.parse({"--candidate", "-1"}));
  EXPECT_EQ(candidate, -1);
}

TEST(FlagParser, UsageTextFromTheDeclarations) {
  Tool t;
  const std::string u = t.p.usage();
  EXPECT_EQ(u.rfind("usage: tool [options] CLIP...\n\nDoes a thing to clips.\n\n", 0), 0u) << u;
  const auto has = [&u](const std::string& s) { return u.find(s) != std::string::npos; };
  EXPECT_TRUE(has("  CLIP...")) << u;
  EXPECT_TRUE(has("clips to read\n\ndata\n  --frames N")) << u;
  EXPECT_TRUE(has("frames to run (default 200)")) << u;
  EXPECT_TRUE(has("random seed (default 1)")) << u;
  EXPECT_TRUE(has("folder of still images (repeatable)")) << u;
  EXPECT_TRUE(has("(repeatable)\n\nmodel\n  --model FILE")) << u;
  EXPECT_TRUE(has("model file (default the shipped model)")) << u;
  EXPECT_TRUE(has("learning rate (default 0.0002)")) << u;
  EXPECT_TRUE(has("--knn-method M")) << u;
  EXPECT_TRUE(has("(default kdtree)")) << u;
  EXPECT_TRUE(has("  --json ")) << u;
  EXPECT_FALSE(has("print JSON (default")) << u;
  EXPECT_TRUE(has("  -h, --help")) << u;
  EXPECT_EQ(u.substr(u.size() - 27), "\n\nProgress goes to stderr.\n") << u;
  // Help texts start in one column, and lines wrap before column 96.
  size_t frames_column = 0, lr_column = 0, start = 0;
  while (start < u.size()) {
    const size_t end = u.find('\n', start);
    const std::string line = u.substr(start, end - start);
    EXPECT_LE(line.size(), 96u) << line;
    if (line.rfind("  --frames N", 0) == 0) frames_column = line.find("frames to run");
    if (line.rfind("  --lr X", 0) == 0) lr_column = line.find("learning rate");
    start = end + 1;
  }
  EXPECT_GT(frames_column, 12u) << u;
  EXPECT_EQ(frames_column, lr_column) << u;
}

TEST(FlagParser, DeclaringANameTwiceIsAProgrammingError) {
  int a = 0, b = 0;
  FlagParser p("tool");
  p.flag("-o, --output", "N", "a", &a);
  EXPECT_THROW(p.flag("--output", "N", "b", &b), std::logic_error);
  EXPECT_THROW(p.flag("--help", "N", "b", &b), std::logic_error);
}

TEST(Duration, Format) {
  EXPECT_EQ(vctools::format_duration(0), "0s");
  EXPECT_EQ(vctools::format_duration(7.4), "7s");
  EXPECT_EQ(vctools::format_duration(65), "1m05s");
  EXPECT_EQ(vctools::format_duration(3599.4), "59m59s");
  EXPECT_EQ(vctools::format_duration(4740), "1h19m");
  EXPECT_EQ(vctools::format_duration(-1), "?");
  EXPECT_EQ(vctools::format_duration(1.0 / 0.0), "?");
  EXPECT_EQ(vctools::eta_seconds(0, 10, 5), -1);
  EXPECT_DOUBLE_EQ(vctools::eta_seconds(2, 10, 4), 16.0);
  EXPECT_EQ(vctools::eta_seconds(10, 10, 4), 0);
}

}  // namespace
