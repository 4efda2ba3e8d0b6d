// The one check of the lib tests' error paths: a call throws vidcolor::Error, and its message
// names what a user needs (the problem, and where the error must say it, the file or the
// function).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <string>

#include "vidcolor/core/error.hpp"

namespace vctest {

// Fails the test unless `f` throws vidcolor::Error whose message contains every one of `parts`.
inline void expect_error(const std::function<void()>& f, std::initializer_list<std::string> parts) {
  std::string wanted;
  for (const std::string& p : parts) wanted += (wanted.empty() ? "'" : ", '") + p + "'";
  try {
    f();
    ADD_FAILURE() << "no error; expected one naming " << wanted;
  } catch (const vidcolor::Error& e) {
    const std::string msg = e.what();
    for (const std::string& p : parts)
      EXPECT_NE(msg.find(p), std::string::npos) << "expected '" << p << "' in: " << msg;
  }
}

inline void expect_error(const std::function<void()>& f, const std::string& problem) {
  expect_error(f, {problem});
}

}  // namespace vctest
