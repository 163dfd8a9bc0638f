#!/usr/bin/env python3
"""A strict parser of the OpenMetrics 1.0 text exposition format, for
tests/tools/slate_metrics_test (the grammar: OpenMetrics/specification/
OpenMetrics.md, "Text format", ABNF).

    openmetrics_check.py FILE

Exit 0 and, on stdout, one tab-separated line per family and per sample:
    family<TAB>NAME<TAB>TYPE<TAB>UNIT<TAB>HELP     (HELP unescaped)
    sample<TAB>FAMILY<TAB>SERIES<TAB>VALUE         (SERIES as written:
                                                    name{labels})
Exit 1 with "openmetrics_check: line N: what is wrong" on stderr for text
that breaks the format. Exit 2 on bad usage.

It refuses everything the specification forbids that this checks: a missing
or misplaced "# EOF", blank lines, CR, unknown "#" lines, metadata after a
family's samples or twice, interleaved families, a UNIT the family name does
not end with, bad metric or label names, reserved label names ("__*", "le"
outside histograms, "quantile" outside summaries), duplicate labels, bad
escapes, a trailing comma, stray or missing spaces, values that are not
OpenMetrics numbers, a sample whose name does not fit its family's type
(e.g. a counter sample without _total), negative or NaN counters, info
values other than 1, duplicate series, interleaved metric points, and
histograms without a +Inf bucket, with unsorted le, non-cumulative or
non-integer bucket counts, or a _count other than the +Inf bucket. It is
stricter than the specification in two ways: every family must have a
"# TYPE" line (no implicit "unknown" families), and exemplars are refused.
"""
import math
import re
import sys

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
REAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
TYPES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "stateset": ("",),
    "info": ("_info",),
    "summary": ("", "_count", "_sum", "_created"),
    "unknown": ("",),
}


class Invalid(Exception):
    pass


def parse_number(text, what):
    if REAL.match(text):
        return float(text)
    low = text.lower()
    if low in ("+inf", "inf", "+infinity", "infinity"):
        return math.inf
    if low in ("-inf", "-infinity"):
        return -math.inf
    if low == "nan":
        return math.nan
    raise Invalid("%s %r is not an OpenMetrics number" % (what, text))


def unescape(text, what):
    """The escaped-string of the ABNF: \\\\, \\" and \\n only."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] not in '\\"n':
                raise Invalid("bad escape in %s" % what)
            out.append({"\\": "\\", '"': '"', "n": "\n"}[text[i + 1]])
            i += 2
            continue
        if c == "\n":
            raise Invalid("raw newline in %s" % what)
        out.append(c)
        i += 1
    return "".join(out)


def parse_labels(text, i):
    """Parses "{...}" at text[i]; returns (labels as (name, value) list,
    index after "}")."""
    assert text[i] == "{"
    i += 1
    labels = []
    if i < len(text) and text[i] == "}":
        return labels, i + 1
    while True:
        m = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*").match(text, i)
        if not m:
            raise Invalid("bad label name at column %d" % (i + 1))
        name = m.group(0)
        i = m.end()
        if not text.startswith('="', i):
            raise Invalid('label %s: expected =" at column %d' % (name, i + 1))
        i += 2
        start = i
        while i < len(text) and text[i] != '"':
            i += 2 if text[i] == "\\" else 1
        if i >= len(text):
            raise Invalid("label %s: unterminated value" % name)
        value = unescape(text[start:i], "label %s" % name)
        i += 1
        if name.startswith("__"):
            raise Invalid("label name %s is reserved" % name)
        if any(n == name for n, _ in labels):
            raise Invalid("label %s twice" % name)
        labels.append((name, value))
        if i < len(text) and text[i] == ",":
            i += 1
            if i < len(text) and text[i] == "}":
                raise Invalid("trailing comma in labels")
            continue
        if i < len(text) and text[i] == "}":
            return labels, i + 1
        raise Invalid("expected , or } at column %d" % (i + 1))


class Family:
    def __init__(self, name):
        self.name = name
        self.type = None
        self.unit = None
        self.help = None
        self.samples = []  # (sample name, labels, value, raw series, raw value)


def check_family(f):
    if f.type is None:
        raise Invalid("family %s has no # TYPE" % f.name)
    if f.unit and not f.name.endswith("_" + f.unit):
        raise Invalid("family %s: name does not end with its unit _%s"
                      % (f.name, f.unit))
    points = []  # Label sets (without le/quantile) in order of appearance.
    by_point = {}
    seen = set()
    for name, labels, value, series, _ in f.samples:
        key = (name, tuple(sorted(labels)))
        if key in seen:
            raise Invalid("series %s twice" % series)
        seen.add(key)
        point = tuple(sorted((n, v) for n, v in labels
                             if n not in ("le", "quantile")))
        if not points or points[-1] != point:
            if point in by_point:
                raise Invalid("family %s: samples of %s are not together"
                              % (f.name, series))
            points.append(point)
            by_point[point] = []
        by_point[point].append((name[len(f.name):], dict(labels), value,
                                series))
    for point, samples in by_point.items():
        check_point(f, samples)


def check_point(f, samples):
    suffixes = [s for s, _, _, _ in samples]
    if f.type == "counter" and "_total" not in suffixes:
        raise Invalid("counter %s: no _total sample" % f.name)
    if f.type == "info" and "_info" not in suffixes:
        raise Invalid("info %s: no _info sample" % f.name)
    for suffix, labels, value, series in samples:
        if "le" in labels and not (f.type in ("histogram", "gaugehistogram")
                                   and suffix == "_bucket"):
            raise Invalid("%s: label le outside a histogram bucket" % series)
        if "quantile" in labels and f.type != "summary":
            raise Invalid("%s: label quantile outside a summary" % series)
        if f.type == "counter" and suffix == "_total" and (
                math.isnan(value) or value < 0):
            raise Invalid("%s: a counter must be >= 0" % series)
        if f.type == "info" and value != 1:
            raise Invalid("%s: an info sample's value must be 1" % series)
    if f.type not in ("histogram", "gaugehistogram"):
        return
    count_suffix = "_count" if f.type == "histogram" else "_gcount"
    buckets = [(labels, value, series) for suffix, labels, value, series
               in samples if suffix == "_bucket"]
    if not buckets:
        raise Invalid("histogram %s: no buckets" % f.name)
    last_le, last_count = -math.inf, 0
    for labels, value, series in buckets:
        if "le" not in labels:
            raise Invalid("%s: a bucket without le" % series)
        le = parse_number(labels["le"], "le")
        if math.isnan(le) or le <= last_le:
            raise Invalid("%s: le not in increasing order" % series)
        if value != int(value) or value < last_count:
            raise Invalid("%s: bucket counts must be cumulative integers"
                          % series)
        last_le, last_count = le, value
    if last_le != math.inf or buckets[-1][0]["le"] != "+Inf":
        raise Invalid('histogram %s: the last bucket is not le="+Inf"'
                      % f.name)
    counts = [v for s, _, v, _ in samples if s == count_suffix]
    if len(counts) != 1 or counts[0] != last_count:
        raise Invalid("histogram %s: %s must equal the +Inf bucket (%g)"
                      % (f.name, count_suffix, last_count))
    # The bucket lines come first, then the others.
    order = [s for s in suffixes if s != "_created"]
    first_other = next((k for k, s in enumerate(order) if s != "_bucket"),
                       len(order))
    if "_bucket" in order[first_other:]:
        raise Invalid("histogram %s: buckets after _count or _sum" % f.name)


def parse(text):
    if "\r" in text:
        raise Invalid("line 1: CR in the text (lines end with LF only)")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or lines[-1] != "# EOF":
        raise Invalid("line %d: the text does not end with # EOF"
                      % max(1, len(lines)))
    families, done = [], set()
    current = None
    for n, line in enumerate(lines, start=1):
        try:
            if line == "# EOF":
                if n != len(lines):
                    raise Invalid("# EOF before the end")
                break
            if line == "":
                raise Invalid("blank line")
            if line.startswith("#"):
                m = re.match(r"# (TYPE|UNIT|HELP) (\S+)(?: (.*))?\Z", line,
                             re.S)
                if not m:
                    raise Invalid("not a # TYPE, # UNIT or # HELP line")
                kind, name, rest = m.group(1), m.group(2), m.group(3)
                if not METRIC_NAME.match(name):
                    raise Invalid("bad metric name %r" % name)
                if rest is None:
                    raise Invalid("# %s %s without a value" % (kind, name))
                if current is None or current.name != name:
                    if name in done:
                        raise Invalid("family %s again after another family"
                                      % name)
                    if current is not None:
                        check_family(current)
                        done.add(current.name)
                    current = Family(name)
                    families.append(current)
                elif current.samples:
                    raise Invalid("# %s of %s after its samples" % (kind, name))
                if kind == "TYPE":
                    if current.type is not None:
                        raise Invalid("# TYPE of %s twice" % name)
                    if rest not in TYPES:
                        raise Invalid("unknown type %r" % rest)
                    current.type = rest
                elif kind == "UNIT":
                    if current.unit is not None:
                        raise Invalid("# UNIT of %s twice" % name)
                    if rest and not re.match(r"[a-zA-Z0-9_:]+\Z", rest):
                        raise Invalid("bad unit %r" % rest)
                    current.unit = rest
                else:
                    if current.help is not None:
                        raise Invalid("# HELP of %s twice" % name)
                    current.help = unescape(rest, "help")
                continue
            m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
            if not m:
                raise Invalid("a sample must start with a metric name")
            name, i = m.group(0), m.end()
            labels = []
            if i < len(line) and line[i] == "{":
                labels, i = parse_labels(line, i)
            series = line[:i]
            if not line.startswith(" ", i):
                raise Invalid("expected one space after %s" % series)
            fields = line[i + 1:].split(" ")
            if "#" in fields:
                raise Invalid("exemplars are not supported")
            if len(fields) not in (1, 2) or "" in fields:
                raise Invalid("expected VALUE [TIMESTAMP] after %s, one "
                              "space apart" % series)
            value = parse_number(fields[0], "value")
            if len(fields) == 2:
                ts = parse_number(fields[1], "timestamp")
                if math.isnan(ts) or math.isinf(ts):
                    raise Invalid("bad timestamp")
            if current is None or current.type is None or not any(
                    name == current.name + s for s in TYPES[current.type]):
                raise Invalid("sample %s belongs to no family declared by "
                              "# TYPE right before it" % name)
            current.samples.append((name, labels, value, series, fields[0]))
        except Invalid as e:
            raise Invalid("line %d: %s" % (n, e))
    if current is not None:
        try:
            check_family(current)
        except Invalid as e:
            raise Invalid("line %d: %s" % (len(lines), e))
    return families


def main(argv):
    if len(argv) != 2:
        print("usage: openmetrics_check.py FILE", file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        data = f.read()
    try:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Invalid("line 1: not UTF-8")
        families = parse(text)
    except Invalid as e:
        print("openmetrics_check: %s" % e, file=sys.stderr)
        return 1
    out = []
    for f in families:
        out.append("\t".join(["family", f.name, f.type, f.unit or "",
                              (f.help or "").replace("\n", "\\n")]))
        for _, _, _, series, raw in f.samples:
            out.append("\t".join(["sample", f.name, series, raw]))
    sys.stdout.write("".join(line + "\n" for line in out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
