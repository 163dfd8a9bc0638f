#!/usr/bin/env python3
"""Writes cmake/sources.cmake, the CMake build's list of targets and sources,
from the Bazel BUILD files (`bazel query --output=xml`), so that the two builds
cannot drift apart:

    cmake/gen_sources.py           regenerate cmake/sources.cmake (commit it)
    cmake/gen_sources.py --check   exit 1 if the committed file differs from
                                   the BUILD files; names every .cc that is in
                                   one build and not the other

Every cc_library under //lib and //proto (and every proto_library there)
becomes part of the one installed library `slate`; every other cc_library,
cc_binary, cc_test and sh_test becomes one CMake target or CTest test of the
same shape. Deps on @system//:X and @com_google_protobuf//:X are written as
EXT:repo:X and mapped to the system packages' CMake targets in
CMakeLists.txt. A rule kind this script does not know fails the run, so a
new kind of rule cannot go missing from CMake silently.
"""
import argparse
import difflib
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "cmake", "sources.cmake")
# Top-level folders that are not Slate's own packages: the stand-ins for
# external repositories, and CMake build folders (their runfiles trees link
# to the sources, BUILD files included).
SKIP_TOP = ("third_party", "build-cmake", "bazel-")
LIB_PACKAGES = ("lib/", "proto")
IGNORED_KINDS = {"filegroup", "cc_proto_library"}  # protos: via proto_library
SIZE_TIMEOUT = {"small": 60, "medium": 300, "large": 900, "enormous": 3600}


def packages_roots():
    roots = []
    for d in sorted(os.listdir(ROOT)):
        p = os.path.join(ROOT, d)
        if (d.startswith(SKIP_TOP) or d.startswith(".")
                or not os.path.isdir(p) or os.path.islink(p)):
            continue
        for _, _, files in os.walk(p):
            if "BUILD" in files or "BUILD.bazel" in files:
                roots.append("//%s/..." % d)
                break
    return roots


def query_xml(bazel):
    expr = "kind(rule, %s)" % " + ".join(packages_roots())
    cmd = bazel + ["query", "--noshow_progress", "--output=xml", expr]
    return subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL).stdout


def attr(rule, name):
    for c in rule:
        if c.get("name") != name:
            continue
        if c.tag == "list":
            return [x.get("value") for x in c]
        return c.get("value")
    return None


def label_path(label):
    """//pkg:name -> pkg/name (the workspace-relative path)."""
    pkg, _, name = label[2:].partition(":")
    return (pkg + "/" + name) if pkg else name


def target_name(label):
    return re.sub(r"[^A-Za-z0-9_]", "_", label_path(label))


def is_lib(label):
    pkg = label[2:].partition(":")[0]
    return pkg in ("lib", "proto") or pkg.startswith(("lib/", "proto/"))


def dep_name(label):
    if label.startswith("@"):
        repo, _, rest = label[1:].partition("//")
        return "EXT:%s:%s" % (repo, rest.partition(":")[2])
    if is_lib(label):
        return "slate"
    return target_name(label)


def files(rule, name, exts):
    return sorted(label_path(x) for x in (attr(rule, name) or [])
                  if x.endswith(exts))


def location(arg, kinds):
    """$(location //x:y) in test args -> the runfiles-relative path x/y."""
    return re.sub(r"\$\(location ([^)]+)\)", lambda m: label_path(m.group(1)),
                  arg)


def generate(xml_text):
    rules = ET.fromstring(xml_text).findall("rule")
    kinds = {r.get("name"): r.get("class") for r in rules}
    lib_srcs, lib_hdrs, lib_deps, protos, lines = [], [], set(), [], []
    errors = []
    for r in sorted(rules, key=lambda r: r.get("name")):
        label, kind = r.get("name"), r.get("class")
        tags = attr(r, "tags") or []
        deps = sorted({dep_name(d) for d in (attr(r, "deps") or [])})
        srcs = files(r, "srcs", (".cc",))
        hdrs = files(r, "srcs", (".h", ".inc")) + files(r, "hdrs", (".h", ".inc"))
        if kind in IGNORED_KINDS:
            continue
        if kind == "proto_library":
            if not is_lib(label):
                errors.append("%s: proto_library outside //lib, //proto" % label)
            protos += files(r, "srcs", (".proto",))
            continue
        if kind == "cc_library" and is_lib(label):
            lib_srcs.append("  # %s" % label)
            lib_srcs += ["  " + s for s in srcs]
            lib_hdrs += hdrs
            lib_deps.update(d for d in deps if d.startswith("EXT:"))
            continue
        if is_lib(label):
            errors.append("%s: %s in //lib or //proto" % (label, kind))
            continue
        args = [location(a, kinds) for a in (attr(r, "args") or [])]
        common = ["  SRCS"] + ["    " + s for s in srcs]
        if hdrs:
            common += ["  HDRS"] + ["    " + h for h in hdrs]
        if deps:
            common += ["  DEPS"] + ["    " + d for d in deps]
        if kind == "cc_library":
            lines.append("\n# %s" % label)
            opts = " ALWAYSLINK" if attr(r, "alwayslink") == "true" else ""
            lines.append("slate_cc_library(%s%s" % (target_name(label), opts))
        elif kind in ("cc_binary", "cc_test"):
            lines.append("\n# %s" % label)
            call = "slate_cc_test" if kind == "cc_test" else "slate_cc_binary"
            head = "%s(%s PATH %s" % (call, target_name(label), label_path(label))
            if "fuzz" in tags:
                # libFuzzer binaries need clang's -fsanitize=fuzzer (main()).
                head += " SKIP \"libFuzzer binary: ./dev.sh fuzz builds it with clang\""
            elif "manual" in tags or "benchmark" in tags:
                head += " OPTIONAL"
            if kind == "cc_test":
                head += " SIZE %s" % (attr(r, "size") or "medium")
                shards = attr(r, "shard_count")
                if shards and int(shards) > 0:
                    head += " SHARDS %s" % shards
            lines.append(head)
            if args:
                common += ["  ARGS"] + ["    " + cmake_quote(a) for a in args]
        elif kind == "genrule":
            # Run by sh from the source root, outputs in the runfiles tree.
            lines.append("\n# %s" % label)
            pkg = label[2:].partition(":")[0]
            lines.append("slate_genrule(%s PKG %s" % (target_name(label), pkg))
            srcs_all = [label_path(x) for x in (attr(r, "srcs") or [])]
            outs = [label_path(x)[len(pkg) + 1:] for x in (attr(r, "outs") or [])]
            common = ["  SRCS"] + ["    " + x for x in srcs_all]
            common += ["  OUTS"] + ["    " + x for x in outs]
            common += ["  CMD " + cmake_quote(genrule_cmd(attr(r, "cmd"), srcs_all))]
        elif kind == "sh_test" and "manual" in tags:
            # As Bazel: built, not run by the suite (bazel test runs it
            # when named).
            lines.append("\n# %s: tagged manual, not a CTest test" % label)
            continue
        elif kind == "sh_test":
            lines.append("\n# %s" % label)
            lines.append("slate_sh_test(%s PATH %s SIZE %s" % (
                target_name(label), label_path(label), attr(r, "size") or "medium"))
            common = ["  SCRIPT " + files(r, "srcs", (".sh",))[0]]
            if args:
                common += ["  ARGS"] + ["    " + cmake_quote(a) for a in args]
        else:
            errors.append("%s: rule kind %s has no CMake translation "
                          "(cmake/gen_sources.py)" % (label, kind))
            continue
        lines += common
        lines.append(")")
    if errors:
        sys.exit("gen_sources.py:\n  " + "\n  ".join(errors))
    head = [
        "# GENERATED by cmake/gen_sources.py from the Bazel BUILD files; do not",
        "# edit. After changing a BUILD file run cmake/gen_sources.py and commit",
        "# this file; `./dev.sh test` fails while the two differ.",
        "",
        "# The library (every cc_library and proto_library under //lib, //proto).",
        "set(SLATE_PROTOS",
    ] + ["  " + p for p in sorted(protos)] + [")", "set(SLATE_LIB_SRCS"] + lib_srcs + [
        ")", "set(SLATE_LIB_HDRS"] + ["  " + h for h in sorted(set(lib_hdrs))] + [
        ")", "set(SLATE_LIB_DEPS"] + ["  " + d for d in sorted(lib_deps)] + [")",
        "", "# Everything else: tools, examples, benchmarks, tests."]
    return "\n".join(head + lines) + "\n"


def genrule_cmd(cmd, srcs):
    """A genrule's cmd for cmake/slate_rules.cmake: sources by their
    workspace paths, @RULEDIR@ and @OUTDIR@ (the package's folder in the
    runfiles tree), external tools as @EXT:repo:name@."""
    def loc(m):
        label = m.group(2)
        if label.startswith("@"):
            return "@%s@" % dep_name(label)
        return label_path(label)
    cmd = re.sub(r"\$\((location|execpath|rootpath) ([^)]+)\)", loc, cmd)
    cmd = cmd.replace("$(SRCS)", " ".join(srcs)).replace("$<", " ".join(srcs))
    cmd = cmd.replace("$(RULEDIR)", "@RULEDIR@")
    for var in ("$(OUTS)", "$@", "$(@D)", "$(GENDIR)", "$(BINDIR)"):
        if var in cmd:
            sys.exit("gen_sources.py: genrule cmd uses %s; teach genrule_cmd() it" % var)
    return cmd.replace("$$", "$")


def cmake_quote(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def cc_files(text):
    return set(re.findall(r"^\s+(\S+\.cc)$", text, re.M))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed file instead of writing it")
    ap.add_argument("--xml", help="read `bazel query --output=xml` from this file")
    ap.add_argument("--bazel", default=os.environ.get("BAZEL", "bazel"),
                    help="the Bazel command (default $BAZEL or bazel)")
    a = ap.parse_args()
    xml_text = open(a.xml, "rb").read() if a.xml else query_xml(a.bazel.split())
    text = generate(xml_text)
    if not a.check:
        with open(OUT, "w") as f:
            f.write(text)
        print("wrote %s" % os.path.relpath(OUT, ROOT))
        return 0
    old = open(OUT).read() if os.path.exists(OUT) else ""
    if old == text:
        print("cmake/sources.cmake matches the BUILD files (%d .cc files)"
              % len(cc_files(text)))
        return 0
    bazel_only, cmake_only = cc_files(text) - cc_files(old), cc_files(old) - cc_files(text)
    for f in sorted(bazel_only):
        print("DRIFT: %s is in the Bazel build, not in the CMake build" % f)
    for f in sorted(cmake_only):
        print("DRIFT: %s is in the CMake build, not in the Bazel build" % f)
    sys.stdout.writelines(difflib.unified_diff(
        old.splitlines(True), text.splitlines(True),
        "cmake/sources.cmake (committed)", "cmake/sources.cmake (from BUILD files)"))
    print("DRIFT: cmake/sources.cmake differs from the BUILD files; "
          "run cmake/gen_sources.py and commit it")
    return 1


if __name__ == "__main__":
    sys.exit(main())
