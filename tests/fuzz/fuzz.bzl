"""slate_fuzz_target: one fuzz target, built two ways.

    slate_fuzz_target(
        name = "envelope",
        srcs = ["envelope_fuzz.cc"],  # defines LLVMFuzzerTestOneInput
        deps = ["//proto:events_cc_proto"],
        replay_runs = 3000,
    )

makes
  :envelope_fuzz_lib          the target itself (alwayslink),
  :envelope_fuzzer            a libFuzzer binary; tagged manual, build it with
                              `bazel build --config=fuzz` (clang-14, see
                              .bazelrc and `./dev.sh fuzz`),
  :envelope_replay_test       a plain cc_test for the default gcc build: it
                              replays corpus/envelope/ (seeds and regressions)
                              and `replay_runs` deterministic mutations of
                              them through the same LLVMFuzzerTestOneInput.
"""

def slate_fuzz_target(name, srcs, deps, replay_runs = 2000, max_len = 4096, size = "small"):
    corpus = "corpus/" + name
    native.cc_library(
        name = name + "_fuzz_lib",
        testonly = True,
        srcs = srcs,
        deps = deps + [":fuzz_check"],
        alwayslink = True,
    )
    native.cc_binary(
        name = name + "_fuzzer",
        testonly = True,
        deps = [":" + name + "_fuzz_lib"],
        tags = ["manual", "fuzz"],
    )
    native.cc_test(
        name = name + "_replay_test",
        size = size,
        data = native.glob([corpus + "/**"]),
        args = [
            "--corpus=tests/fuzz/" + corpus,
            "--runs=%d" % replay_runs,
            "--max_len=%d" % max_len,
        ],
        deps = [
            ":" + name + "_fuzz_lib",
            ":replay_main",
        ],
    )
