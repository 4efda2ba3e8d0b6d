// safetensors reader/writer: round trips, byte-exact conformance with the reference writer,
// every kind of bad file, and a randomized mutation fuzz that must never crash.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "lib/expect_error.hpp"
#include "vidcolor/core/error.hpp"
#include "vidcolor/model/safetensors.hpp"

using namespace vidcolor;
namespace fs = std::filesystem;

namespace {

std::string le64(uint64_t n) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return s;
}

// A file from a header string and data bytes, with the header length set to the header size.
std::string make_file(const std::string& header, const std::string& data = {}) {
  return le64(header.size()) + header + data;
}

SafetensorsFile parse(const std::string& bytes, const std::string& name = "mem.safetensors") {
  return read_safetensors(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), name);
}

std::string bytes_of(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

// Expects parsing `bytes` to fail with a vidcolor::Error whose message names the file and
// contains `problem`.
void expect_error(const std::string& bytes, const std::string& problem) {
  const std::string name = "bad-file.safetensors";
  vctest::expect_error([&] { parse(bytes, name); }, {name, problem});
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vidcolor-test-safetensors-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

}  // namespace

TEST(Safetensors, RoundTripEveryDtype) {
  torch::manual_seed(1);
  std::map<std::string, torch::Tensor> in;
  in["f64"] = torch::randn({3, 2}, torch::kFloat64);
  in["f32"] = torch::randn({2, 3, 4});
  in["f16"] = torch::randn({5}).to(torch::kFloat16);
  in["bf16"] = torch::randn({2, 2}).to(torch::kBFloat16);
  in["i64"] = torch::randint(-(int64_t{1} << 40), int64_t{1} << 40, {4}, torch::kInt64);
  in["i32"] = torch::randint(-100000, 100000, {3, 1}, torch::kInt32);
  in["i16"] = torch::randint(-30000, 30000, {7}, torch::kInt16);
  in["i8"] = torch::randint(-128, 127, {2, 5}, torch::kInt8);
  in["u8"] = torch::randint(0, 255, {9}, torch::kUInt8);
  in["bool"] = torch::randint(0, 2, {3, 3}).to(torch::kBool);
  in["scalar"] = torch::tensor(3.5f).reshape({});                             // rank 0
  in["empty"] = torch::zeros({0, 4});                                         // zero elements
  in["transposed"] = torch::arange(12, torch::kFloat32).reshape({3, 4}).t();  // not contiguous
  const std::map<std::string, std::string> meta = {
      {"format", "test"}, {"json", "{\"a\": [1]}"}, {"unicode", "f\xc3\xbcr"}};
  const std::string bytes = serialize_safetensors(in, meta);
  const SafetensorsFile out = parse(bytes);
  EXPECT_EQ(out.metadata, meta);
  ASSERT_EQ(out.tensors.size(), in.size());
  for (const auto& [name, t] : in) {
    SCOPED_TRACE(name);
    const torch::Tensor& r = out.tensors.at(name);
    EXPECT_EQ(r.scalar_type(), t.scalar_type());
    EXPECT_EQ(r.sizes(), t.sizes());
    EXPECT_TRUE(torch::equal(r, t));
  }
  // Every tensor's data is aligned to its element size in the file (reference layout).
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  EXPECT_EQ(n % 8, 0u);
  const auto header = nlohmann::json::parse(bytes.substr(8, n));
  for (const auto& [name, t] : in) {
    const uint64_t begin = header.at(name).at("data_offsets").at(0).get<uint64_t>();
    EXPECT_EQ(begin % t.element_size(), 0u) << name;
  }
}

TEST(Safetensors, DtypeNames) {
  EXPECT_EQ(safetensors_dtype_name(torch::kFloat32), "F32");
  EXPECT_EQ(safetensors_dtype_name(torch::kBFloat16), "BF16");
  EXPECT_EQ(safetensors_dtype_name(torch::kBool), "BOOL");
  EXPECT_THROW(safetensors_dtype_name(torch::kComplexFloat), Error);
}

// Byte vectors the reference (Rust) implementation's own tests assert for its writer: ours
// must write the same bytes and read them back.
TEST(Safetensors, ByteExactWithReferenceWriter) {
  const std::vector<uint8_t> attn0 = {
      64, 0,  0,   0,   0,   0,   0,   0,   123, 34,  97,  116, 116, 110, 46,  48,
      34, 58, 123, 34,  100, 116, 121, 112, 101, 34,  58,  34,  70,  51,  50,  34,
      44, 34, 115, 104, 97,  112, 101, 34,  58,  91,  49,  44,  50,  44,  51,  93,
      44, 34, 100, 97,  116, 97,  95,  111, 102, 102, 115, 101, 116, 115, 34,  58,
      91, 48, 44,  50,  52,  93,  125, 125, 0,   0,   0,   0,   0,   0,   128, 63,
      0,  0,  0,   64,  0,   0,   64,  64,  0,   0,   128, 64,  0,   0,   160, 64};
  const torch::Tensor v = torch::arange(6, torch::kFloat32);
  EXPECT_EQ(serialize_safetensors({{"attn.0", v.reshape({1, 2, 3})}}), bytes_of(attn0));
  const SafetensorsFile f = parse(bytes_of(attn0));
  EXPECT_TRUE(torch::equal(f.tensors.at("attn.0"), v.reshape({1, 2, 3})));

  // Header padded with spaces to a multiple of 8.
  const std::vector<uint8_t> aligned = {
      72,  0,   0,   0,   0,   0,   0,   0,   123, 34, 97, 116, 116, 110, 48,  34,  58,  123,
      34,  100, 116, 121, 112, 101, 34,  58,  34,  70, 51, 50,  34,  44,  34,  115, 104, 97,
      112, 101, 34,  58,  91,  49,  44,  49,  44,  50, 44, 51,  93,  44,  34,  100, 97,  116,
      97,  95,  111, 102, 102, 115, 101, 116, 115, 34, 58, 91,  48,  44,  50,  52,  93,  125,
      125, 32,  32,  32,  32,  32,  32,  32,  0,   0,  0,  0,   0,   0,   128, 63,  0,   0,
      0,   64,  0,   0,   64,  64,  0,   0,   128, 64, 0,  0,   160, 64};
  EXPECT_EQ(serialize_safetensors({{"attn0", v.reshape({1, 1, 2, 3})}}), bytes_of(aligned));
  EXPECT_TRUE(torch::equal(parse(bytes_of(aligned)).tensors.at("attn0"), v.reshape({1, 1, 2, 3})));

  const std::vector<uint8_t> empty = {8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32};
  EXPECT_EQ(serialize_safetensors({}), bytes_of(empty));
  EXPECT_TRUE(parse(bytes_of(empty)).tensors.empty());

  const std::vector<uint8_t> with_meta = {
      40,  0,   0,   0,  0,  0,  0,   0,   123, 34,  95,  95,  109, 101, 116, 97,
      100, 97,  116, 97, 95, 95, 34,  58,  123, 34,  102, 114, 97,  109, 101, 119,
      111, 114, 107, 34, 58, 34, 112, 116, 34,  125, 125, 32,  32,  32,  32,  32};
  EXPECT_EQ(serialize_safetensors({}, {{"framework", "pt"}}), bytes_of(with_meta));
  EXPECT_EQ(parse(bytes_of(with_meta)).metadata.at("framework"), "pt");
}

// Files from other writers list tensors in any order and may use any padding whitespace.
TEST(Safetensors, ReadsAnyTensorOrder) {
  std::string data(4 + 2, '\0');
  const float x = 2.0f;
  std::memcpy(&data[2], &x, 4);
  data[0] = 7;
  data[1] = -3;
  const std::string h =
      R"({"b":{"shape":[],"dtype":"F32","data_offsets":[2,6]},"a":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}}  )";
  const SafetensorsFile f = parse(make_file(h, data));
  EXPECT_EQ(f.tensors.at("a")[1].item<int8_t>(), -3);
  EXPECT_EQ(f.tensors.at("b").item<float>(), 2.0f);
}

TEST(Safetensors, BadFiles) {
  const std::string ok_entry = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string data8(8, '\0');
  expect_error("", "file is empty");
  expect_error("\x05\0\0", "file is truncated");
  expect_error(le64(1000) + "{}", "header length 1000 is larger than the file");
  expect_error(le64(uint64_t{1} << 63) + "{}", "is absurd");
  expect_error(le64(0), "too short");
  expect_error(make_file("[1,2]"), "does not start with '{'");
  expect_error(make_file("{\"t\": "), "not valid JSON");
  expect_error(make_file("{" + ok_entry + "} x", data8), "not valid JSON");
  // Padding must be spaces: NULs after the JSON are not padding.
  expect_error(make_file("{" + ok_entry + "}" + std::string(3, '\0'), data8), "NUL byte");
  expect_error(make_file("{" + ok_entry + std::string(1, '\0') + "junk", data8), "NUL byte");
  expect_error(make_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", data8),
               "lie past the end of the data");
  expect_error(make_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", data8),
               "end before they begin");
  expect_error(make_file(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data8),
               "needs 12");
  expect_error(make_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("u":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                         data8),
               "overlaps");
  expect_error(make_file(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data8),
               "gap of 4 bytes");
  expect_error(make_file("{" + ok_entry + "}", data8 + "xx"), "trailing bytes");
  expect_error(make_file(R"({"t":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}})", data8),
               "unknown dtype \"F7\"");
  expect_error(make_file(R"({"t":{"dtype":"U32","shape":[2],"data_offsets":[0,8]}})", data8),
               "not supported by LibTorch");
  expect_error(make_file(R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8),
               "negative");
  expect_error(make_file(R"({"t":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", data8),
               "not a non-negative integer");
  expect_error(
      make_file(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,8]}})",
                data8),
      "element count overflows");
  expect_error(
      make_file(
          R"({"t":{"dtype":"F32","shape":[18446744073709551615,18446744073709551615],"data_offsets":[0,8]}})",
          data8),
      "absurdly large");
  // A zero dimension makes the tensor empty but must not let a huge one through.
  expect_error(
      make_file(R"({"t":{"dtype":"F32","shape":[0,18446744073709551615],"data_offsets":[0,0]}})"),
      "absurdly large");
  expect_error(make_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", data8),
               "not a pair");
  expect_error(make_file(R"({"t":{"shape":[2],"data_offsets":[0,8]}})", data8), "\"dtype\"");
  expect_error(make_file(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", data8),
               "unknown field \"x\"");
  expect_error(make_file(R"({"t":[1]})", data8), "not an object");
  expect_error(make_file("{" + ok_entry + "," + ok_entry + "}", data8), "key \"t\" twice");
  expect_error(make_file(R"({"__metadata__":{"a":1}})"), "is not a string");
  expect_error(make_file(R"({"__metadata__":"x"})"), "\"__metadata__\" is not an object");
  expect_error(make_file(R"({"t":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})",
                         std::string("\x01\x02", 2)),
               "not 0 or 1");
  expect_error(make_file("{\"a\":" + std::string(1000, '[') + std::string(1000, ']') + "}"),
               "nests deeper");
  expect_error(make_file(R"({"":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data8),
               "empty name");
  expect_error(make_file("{\"t\xff\":{}}"), "not valid JSON");  // not UTF-8
}

TEST(Safetensors, WriterRefusesWhatItCannotStore) {
  EXPECT_THROW(serialize_safetensors({{"c", torch::zeros({2}, torch::kComplexFloat)}}), Error);
  EXPECT_THROW(serialize_safetensors({{"__metadata__", torch::zeros({2})}}), Error);
  EXPECT_THROW(serialize_safetensors({{"", torch::zeros({2})}}), Error);
  EXPECT_THROW(serialize_safetensors({{"bad\xff", torch::zeros({2})}}), Error);
}

TEST_F(TempDir, FileRoundTripIsAtomicAndOverwrites) {
  const std::string path = (dir_ / "m.safetensors").string();
  write_safetensors(path, {{"a", torch::ones({3})}}, {{"k", "1"}});
  write_safetensors(path, {{"b", torch::full({2}, 4.0)}}, {{"k", "2"}});
  const SafetensorsFile f = read_safetensors(path);
  EXPECT_EQ(f.metadata.at("k"), "2");
  ASSERT_EQ(f.tensors.count("b"), 1u);
  EXPECT_EQ(f.tensors.count("a"), 0u);
  EXPECT_TRUE(torch::equal(f.tensors.at("b"), torch::full({2}, 4.0)));
  // No temporary file is left beside it.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(TempDir, FileErrorsNameThePath) {
  const std::string missing = (dir_ / "nope.safetensors").string();
  try {
    read_safetensors(missing);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
  }
  try {
    read_safetensors(dir_.string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
  const std::string truncated = (dir_ / "t.safetensors").string();
  const std::string good = serialize_safetensors({{"a", torch::ones({100})}});
  std::ofstream(truncated, std::ios::binary) << good.substr(0, good.size() - 10);
  try {
    read_safetensors(truncated);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(truncated), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("lie past the end"), std::string::npos) << e.what();
  }
  // The file reader validates the header before reading data: same errors as from memory.
  const std::pair<std::string, std::string> bad[] = {
      {"", "file is empty"},
      {"\x08\0\0", "file is truncated"},
      {le64(1000) + "{}", "header length 1000 is larger than the file"},
      {le64(2) + "{}" + "junk", "trailing bytes"},
  };
  for (const auto& [bytes, problem] : bad) {
    const std::string p = (dir_ / "bad.safetensors").string();
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
    try {
      read_safetensors(p);
      ADD_FAILURE() << "no error for: " << problem;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(problem), std::string::npos) << e.what();
    }
  }
  const std::string in_missing_dir = (dir_ / "no" / "such" / "m.safetensors").string();
  try {
    write_safetensors(in_missing_dir, {{"a", torch::ones({1})}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(in_missing_dir), std::string::npos) << e.what();
  }
}

// Mutations of valid files (byte flips, truncation, header length changes, JSON splices)
// must give a clean result or a vidcolor::Error, never a crash or another exception type.
TEST(Safetensors, FuzzMutationsNeverCrash) {
  torch::manual_seed(3);
  const std::vector<std::string> seeds = {
      serialize_safetensors({{"w", torch::randn({3, 4})},
                             {"b", torch::randint(0, 2, {5}).to(torch::kBool)},
                             {"h", torch::randn({2}).to(torch::kFloat16)},
                             {"i", torch::arange(3, torch::kInt64)}},
                            {{"format", "vidcolor-model"}, {"config", "{\"x\":1}"}}),
      serialize_safetensors({{"a", torch::zeros({0})}, {"s", torch::tensor(1.0f).reshape({})}}),
      serialize_safetensors({}),
  };
  const std::vector<std::string> splices = {
      "{",     "}",       "[",       "]",        ",",
      ":",     "\"",      "-1",      "1e400",    "18446744073709551616",
      "0.5",   "null",    "\"F32\"", "\"BOOL\"", "\"__metadata__\"",
      "[0,0]", "\\u0000", "\xff",
  };
  std::mt19937_64 rng(20240601);
  int parsed_ok = 0, errors = 0;
  constexpr int kIterations = 4000;
  for (int it = 0; it < kIterations; ++it) {
    std::string b = seeds[rng() % seeds.size()];
    const int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations && !b.empty(); ++m) {
      switch (rng() % 6) {
        case 0:  // flip a random byte
          b[rng() % b.size()] ^= static_cast<char>(1 + rng() % 255);
          break;
        case 1:  // truncate
          b.resize(rng() % b.size());
          break;
        case 2: {  // change the header length
          if (b.size() < 8) break;
          const uint64_t n = rng() % 3 == 0 ? rng() : (rng() % (b.size() + 16));
          b.replace(0, 8, le64(n));
          break;
        }
        case 3: {  // splice a JSON token into the header
          if (b.size() <= 8) break;
          const size_t pos = 8 + rng() % (std::min<size_t>(b.size(), 200) - 8);
          b.insert(pos, splices[rng() % splices.size()]);
          break;
        }
        case 4: {  // replace a digit inside the header by another number
          const size_t pos = rng() % b.size();
          const size_t d = b.find_first_of("0123456789", pos);
          if (d != std::string::npos) b.replace(d, 1, std::to_string(rng() % 100000));
          break;
        }
        case 5:  // append junk
          b.append(rng() % 16, static_cast<char>(rng()));
          break;
      }
    }
    try {
      const SafetensorsFile f = parse(b);
      ++parsed_ok;
      // What parses must be consistent enough to write again.
      (void)serialize_safetensors(f.tensors, f.metadata);
    } catch (const Error&) {
      ++errors;
    } catch (const std::exception& e) {
      FAIL() << "iteration " << it << ": exception that is not vidcolor::Error: " << e.what();
    }
  }
  EXPECT_EQ(parsed_ok + errors, kIterations);
  EXPECT_GT(errors, kIterations / 2);  // the mutations do reach the validation
}
