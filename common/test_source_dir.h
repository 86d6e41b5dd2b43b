#pragma once

namespace llmtap::test_support {

// The source tree's absolute path, for tests that read fixtures or run scripts from it. It lives in
// one generated file (cmake/test_source_dir.cc.in) rather than a compile definition on every test,
// so that test objects do not embed the checkout's path and compile caches are shared across
// checkouts.
const char* source_dir();

}  // namespace llmtap::test_support
