#!/usr/bin/env python3
"""Counts a CTest run the way ./dev.sh counts `bazel test`: GoogleTest cases
from each test's XML report (BUILD_DIR/test-xml/, written by
cmake/run_test.sh); a test without a report (a shell test) is one case; a
test that failed without a failed case in its report (crash, timeout) counts
one failed case. Reads CTest's JUnit file. Prints "passed failed skipped".

    ctest_counts.py BUILD_DIR JUNIT_XML
"""
import os
import sys
import xml.etree.ElementTree as ET


def gtest_counts(path):
    n = f = s = 0
    for case in ET.parse(path).getroot().iter("testcase"):
        n += 1
        if case.find("failure") is not None or case.find("error") is not None:
            f += 1
        elif case.find("skipped") is not None or case.get("result") == "skipped":
            s += 1
    return n, f, s


def main():
    build, junit = sys.argv[1], sys.argv[2]
    passed = failed = skipped = 0
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name")
        ok = case.get("status") == "run" and case.find("failure") is None
        if case.get("status") == "disabled":
            continue
        safe = name.replace("/", "_").replace(":", "_")
        xml = os.path.join(build, "test-xml", safe + ".xml")
        n = f = s = 0
        if os.path.exists(xml):
            try:
                n, f, s = gtest_counts(xml)
            except ET.ParseError:
                n = f = s = 0
        if n == 0:
            n, f = 1, (0 if ok else 1)
        elif not ok and f == 0:
            n, f = n + 1, 1
        if not ok:
            print("ctest: %s FAILED" % name, file=sys.stderr)
        passed += n - f - s
        failed += f
        skipped += s
    print(passed, failed, skipped)


if __name__ == "__main__":
    main()
