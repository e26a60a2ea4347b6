#!/usr/bin/env python3
"""Check src/ttlv/kmip_spec_tables.inc against the official KMIP XML test cases.

Parses the generated X-macro file back and walks every *.xml file under the
test case directory (KMIP 1.4 and 2.1, mandatory and optional).  Checks:

  * every element name (except the <KMIP> / <TTLV> wrappers) is a tag;
  * every type="Enumeration" value that is not hex ("0x...") or a
    "$PLACEHOLDER" is a value of the enumeration mapped to the element's tag
    (VMCRYPT_TAG_ENUM; the id "Tag" means the tag table itself);
  * every non-numeric type="Integer" value ("Encrypt Decrypt") is a
    space-separated list of bit names of the mask mapped to the tag
    (VMCRYPT_TAG_MASK);
  * for the generic 1.x <AttributeValue>, the tag is the one named by the
    sibling <AttributeName type="TextString" value="..."/> (spec name).

It also checks the .inc itself: no duplicate tag values, no duplicate
(enumeration, value) pairs, no XML name used twice within the tags or within
one enumeration / mask.

Prints counts and every miss; exits 1 if anything is missing or duplicated.
Informational notes (e.g. a 1.4 test case using a tag the generator marks
2.1-only) are printed but do not fail the check.

Usage: scripts/check_dictionary_coverage.py [--inc FILE] [--testcases DIR] [-v]
Standard library only.
"""

import argparse
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter, OrderedDict, defaultdict

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_INC = os.path.join(REPO_ROOT, "src", "ttlv", "kmip_spec_tables.inc")
DEFAULT_TESTCASES = "/work/shared/reference/kmip/testcases"

WRAPPERS = {"KMIP", "TTLV"}

_STR = r'"((?:[^"\\]|\\.)*)"'
_HEX = r"(0x[0-9A-Fa-f]+)"
_PATTERNS = {
    "TAG": re.compile(r"^VMCRYPT_TAG\(%s, %s, %s, (\d+)\)$" % (_HEX, _STR, _STR)),
    "TAG_ALIAS": re.compile(r"^VMCRYPT_TAG_ALIAS\(%s, %s, %s\)$" % (_HEX, _STR, _STR)),
    "ENUM": re.compile(r"^VMCRYPT_ENUM\(%s, %s, %s, %s, (\d+)\)$" % (_STR, _HEX, _STR, _STR)),
    "ENUM_ALIAS": re.compile(r"^VMCRYPT_ENUM_ALIAS\(%s, %s, %s, %s\)$" % (_STR, _HEX, _STR, _STR)),
    "MASK": re.compile(r"^VMCRYPT_MASK\(%s, %s, %s, %s, (\d+)\)$" % (_STR, _HEX, _STR, _STR)),
    "MASK_ALIAS": re.compile(r"^VMCRYPT_MASK_ALIAS\(%s, %s, %s, %s\)$" % (_STR, _HEX, _STR, _STR)),
    "TAG_ENUM": re.compile(r"^VMCRYPT_TAG_ENUM\(%s, %s\)$" % (_HEX, _STR)),
    "TAG_MASK": re.compile(r"^VMCRYPT_TAG_MASK\(%s, %s\)$" % (_HEX, _STR)),
}


def unescape(s):
    return re.sub(r"\\(.)", r"\1", s)


class Dictionary(object):
    def __init__(self):
        self.tags = []                     # (value, xml, spec, versions)
        self.tag_aliases = []              # (value, xml, spec)
        self.groups = {"ENUM": [], "MASK": []}          # (id, value, xml, spec, versions)
        self.group_aliases = {"ENUM": [], "MASK": []}   # (id, value, xml, spec)
        self.tag_enum = {}
        self.tag_mask = {}
        self.problems = []

    # lookups, built by index()
    def index(self):
        self.tag_by_xml = {}
        self.tag_versions = {}   # value -> versions
        self.xml_versions = {}   # xml name -> versions (aliases are 1.4 names)
        self.tag_by_spec = {}
        for value, xml, spec, versions in self.tags:
            self.tag_by_xml[xml] = value
            self.tag_versions[value] = versions
            self.xml_versions[xml] = versions
            self.tag_by_spec[spec.lower()] = value
        for value, xml, spec in self.tag_aliases:
            self.tag_by_xml.setdefault(xml, value)
            self.xml_versions.setdefault(xml, 1)
            self.tag_by_spec.setdefault(spec.lower(), value)
        self.names = {}  # (kind, id) -> {xml: versions or 0 for alias}
        for kind in ("ENUM", "MASK"):
            for gid, value, xml, spec, versions in self.groups[kind]:
                self.names.setdefault((kind, gid), {})[xml] = versions
            # an alias is the KMIP 1.4 name of a value renamed in 2.1
            for gid, value, xml, spec in self.group_aliases[kind]:
                self.names.setdefault((kind, gid), {}).setdefault(xml, 1)
        # the special enumeration "Tag": values are tag names
        self.names[("ENUM", "Tag")] = dict(self.xml_versions)


def load_inc(path):
    d = Dictionary()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line.startswith("VMCRYPT_"):
                continue
            for kind, pat in _PATTERNS.items():
                m = pat.match(line)
                if m:
                    break
            else:
                d.problems.append("%s:%d: unparsable line: %s" % (path, lineno, line))
                continue
            g = m.groups()
            if kind == "TAG":
                d.tags.append((int(g[0], 16), unescape(g[1]), unescape(g[2]), int(g[3])))
            elif kind == "TAG_ALIAS":
                d.tag_aliases.append((int(g[0], 16), unescape(g[1]), unescape(g[2])))
            elif kind in ("ENUM", "MASK"):
                d.groups[kind].append((unescape(g[0]), int(g[1], 16), unescape(g[2]), unescape(g[3]), int(g[4])))
            elif kind in ("ENUM_ALIAS", "MASK_ALIAS"):
                d.group_aliases[kind[:4]].append((unescape(g[0]), int(g[1], 16), unescape(g[2]), unescape(g[3])))
            elif kind == "TAG_ENUM":
                d.tag_enum[int(g[0], 16)] = unescape(g[1])
            elif kind == "TAG_MASK":
                d.tag_mask[int(g[0], 16)] = unescape(g[1])
    d.index()
    return d


def check_inc(d):
    """Internal consistency of the generated tables -> (problems, notes)."""
    problems = list(d.problems)
    notes = []
    for value, n in Counter(t[0] for t in d.tags).items():
        if n > 1:
            problems.append("duplicate tag value 0x%06X" % value)
    xml_to_value = defaultdict(set)
    for value, xml, _, _ in d.tags:
        xml_to_value[xml].add(value)
    for value, xml, _ in d.tag_aliases:
        xml_to_value[xml].add(value)
    for xml, values in xml_to_value.items():
        if len(values) > 1:
            problems.append("tag XML name %s used for %s" % (xml, sorted(hex(v) for v in values)))
    for kind in ("ENUM", "MASK"):
        for (gid, value), n in Counter((e[0], e[1]) for e in d.groups[kind]).items():
            if n > 1:
                problems.append("duplicate %s (%s, 0x%08X)" % (kind, gid, value))
        names = defaultdict(set)
        for gid, value, xml, _, _ in d.groups[kind]:
            names[(gid, xml)].add(value)
        for gid, value, xml, _ in d.group_aliases[kind]:
            names[(gid, xml)].add(value)
        for (gid, xml), values in names.items():
            if len(values) > 1:
                problems.append("%s %s: XML name %s used for %s" % (kind, gid, xml, sorted(hex(v) for v in values)))
    tag_values = {t[0] for t in d.tags}
    for value, eid in d.tag_enum.items():
        if value not in tag_values:
            problems.append("TAG_ENUM for unknown tag 0x%06X" % value)
        if ("ENUM", eid) not in d.names:
            # e.g. Opaque Data Type: the spec table holds only "Extensions
            # 8XXXXXXX"; the generator checked the enumeration exists by name.
            notes.append("TAG_ENUM 0x%06X -> %s: enumeration without defined values "
                         "(only hex values possible)" % (value, eid))
    for value, mid in d.tag_mask.items():
        if value not in tag_values:
            problems.append("TAG_MASK for unknown tag 0x%06X" % value)
        if ("MASK", mid) not in d.names:
            problems.append("TAG_MASK 0x%06X -> unknown mask %s" % (value, mid))
    return problems, notes


_INT = re.compile(r"^-?(?:\d+|0x[0-9A-Fa-f]+)$")


class Report(object):
    def __init__(self):
        self.counts = Counter()
        self.misses = OrderedDict()   # message -> [locations]
        self.notes = OrderedDict()

    def miss(self, msg, where):
        self.misses.setdefault(msg, []).append(where)

    def note(self, msg, where):
        self.notes.setdefault(msg, []).append(where)


def check_file(d, path, rel, version_bit, rep):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        rep.miss("XML parse error: %s" % e, rel)
        return
    rep.counts["files"] += 1
    parents = {}
    for parent in root.iter():
        for child in parent:
            parents[child] = parent

    for el in root.iter():
        name = el.tag
        if name in WRAPPERS:
            continue
        rep.counts["elements"] += 1
        tag = d.tag_by_xml.get(name)
        if tag is None:
            rep.miss("unknown tag <%s>" % name, rel)
            continue
        if version_bit and not d.xml_versions.get(name, 0) & version_bit:
            rep.note("tag <%s> used by a v%s test case but versions=%d"
                     % (name, "1.4" if version_bit == 1 else "2.1", d.xml_versions[name]), rel)
        etype = el.get("type")
        value = el.get("value")
        if etype not in ("Enumeration", "Integer") or value is None:
            continue

        # AttributeValue (1.x): the real tag is named by the sibling AttributeName
        ctx = name
        if name == "AttributeValue":
            parent = parents.get(el)
            an = parent.find("AttributeName") if parent is not None else None
            aname = an.get("value") if an is not None else None
            if aname is None:
                rep.miss("<AttributeValue> without sibling <AttributeName>", rel)
                continue
            if aname.startswith("$"):
                continue
            tag = d.tag_by_spec.get(re.sub(r"\s+", " ", aname.strip()).lower())
            if tag is None:
                tag = d.tag_by_xml.get(re.sub(r"[^A-Za-z0-9_]", "", aname))
            if tag is None:
                if etype == "Enumeration" or not _INT.match(value):
                    rep.miss("AttributeName %r is not a tag" % aname, rel)
                continue
            ctx = "AttributeValue[%s]" % aname

        if etype == "Enumeration":
            if value.startswith("0x") or value.startswith("$"):
                rep.counts["enum values skipped (hex/placeholder)"] += 1
                continue
            rep.counts["enum values checked"] += 1
            eid = d.tag_enum.get(tag)
            if eid is None:
                rep.miss("%s: tag has no enumeration (value %r)" % (ctx, value), rel)
                continue
            names = d.names.get(("ENUM", eid), {})
            if value not in names:
                rep.miss("%s: %r is not in enumeration %s" % (ctx, value, eid), rel)
            elif version_bit and not names[value] & version_bit:
                rep.note("%s: %r of %s used by a v%s test case but versions=%d"
                         % (ctx, value, eid, "1.4" if version_bit == 1 else "2.1", names[value]), rel)
        else:  # Integer
            if _INT.match(value) or value.startswith("$"):
                continue
            rep.counts["mask values checked"] += 1
            mid = d.tag_mask.get(tag)
            if mid is None:
                rep.miss("%s: tag has no bit mask (value %r)" % (ctx, value), rel)
                continue
            names = d.names.get(("MASK", mid), {})
            for bit in value.split():
                rep.counts["mask bits checked"] += 1
                if bit not in names:
                    rep.miss("%s: %r is not a bit of mask %s" % (ctx, bit, mid), rel)
                elif version_bit and not names[bit] & version_bit:
                    rep.note("%s: %r of %s used by a v%s test case but versions=%d"
                             % (ctx, bit, mid, "1.4" if version_bit == 1 else "2.1", names[bit]), rel)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inc", default=DEFAULT_INC)
    ap.add_argument("--testcases", default=DEFAULT_TESTCASES)
    ap.add_argument("-v", "--verbose", action="store_true", help="list every file of every miss")
    args = ap.parse_args(argv)

    d = load_inc(args.inc)
    print("dictionary %s:" % os.path.relpath(args.inc))
    n_enum_ids = len({e[0] for e in d.groups["ENUM"]})
    n_mask_ids = len({e[0] for e in d.groups["MASK"]})
    print("  tags: %d (1.4: %d, 2.1: %d), tag aliases: %d"
          % (len(d.tags), sum(1 for t in d.tags if t[3] & 1), sum(1 for t in d.tags if t[3] & 2),
             len(d.tag_aliases)))
    print("  enumerations: %d with %d values (+%d aliases); masks: %d with %d bits (+%d aliases)"
          % (n_enum_ids, len(d.groups["ENUM"]), len(d.group_aliases["ENUM"]),
             n_mask_ids, len(d.groups["MASK"]), len(d.group_aliases["MASK"])))
    print("  tag->enumeration: %d, tag->mask: %d" % (len(d.tag_enum), len(d.tag_mask)))

    problems, inc_notes = check_inc(d)
    print("dictionary consistency: %s" % ("OK" if not problems else "%d problem(s)" % len(problems)))
    for p in problems:
        print("  PROBLEM: " + p)
    for p in inc_notes:
        print("  NOTE " + p)

    rep = Report()
    files = []
    for dirpath, _, filenames in os.walk(args.testcases):
        for fn in filenames:
            if fn.lower().endswith(".xml"):
                files.append(os.path.join(dirpath, fn))
    files.sort()
    for path in files:
        rel = os.path.relpath(path, args.testcases)
        m = re.search(r"(?:^|/)v(\d+)\.(\d+)(?:/|$)", rel)
        version_bit = 0
        if m:
            version_bit = 1 if m.group(1) == "1" else 2
        rep.counts["files (v1.x)" if version_bit == 1 else "files (v2.x)" if version_bit == 2 else "files (?)"] += 1
        check_file(d, path, rel, version_bit, rep)

    print("test cases %s:" % args.testcases)
    for k in sorted(rep.counts):
        print("  %-40s %d" % (k, rep.counts[k]))
    n_miss = sum(len(v) for v in rep.misses.values())
    print("misses: %d occurrence(s), %d distinct" % (n_miss, len(rep.misses)))
    for msg, where in rep.misses.items():
        files_ = sorted(set(where))
        shown = files_ if args.verbose else files_[:3]
        print("  MISS %s  [%d x; %s%s]" % (msg, len(where), ", ".join(shown),
                                         "" if len(shown) == len(files_) else ", ..."))
    if rep.notes:
        print("notes (informational): %d distinct" % len(rep.notes))
        for msg, where in rep.notes.items():
            files_ = sorted(set(where))
            print("  NOTE %s  [%d x; %s%s]" % (msg, len(where), ", ".join(files_[:3]),
                                             "" if len(files_) <= 3 else ", ..."))
    ok = not problems and not rep.misses
    print("RESULT: %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
