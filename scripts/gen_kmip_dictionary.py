#!/usr/bin/env python3
"""Generate src/ttlv/kmip_spec_tables.inc from the KMIP 1.4 and 2.1 specifications.

The KMIP specifications are read as plain text (converted from the OASIS
documents, tables drawn with Unicode box characters):

  kmip-spec-v1.4.txt   9.1.3.1 Tags, 9.1.3.2.x <X> Enumeration, 9.1.3.3.x <X> Mask
  kmip-spec-v2.1.txt   11.56 Tag Enumeration, 11.x <X> Enumeration, 12.x <X> Mask

Tables are located by the section heading that precedes them (the title drawn
inside the box and the "Table N: ..." caption are unreliable: e.g. the 2.1
"Endpoint Role" box is titled "Encoding Option"); table-of-contents lines are
ignored.  Only tables whose header row is "Name | Value" (or "Object | Tag
Value" for the 1.4 tag table) are read; "Value | Description" tables are
ignored.  Cells that wrap over several lines are joined ("Application
Specific" / "Information").  A value table split by a page break (box closed
and reopened without the header, possibly cutting a row) is stitched back;
stray lines inside a box are ignored.  Rows that are not one defined value -
"(Unused)", "(Reserved)", "Extensions 8XXXXXXX", ranges such as
"000000 - 420000" - are skipped.

Names are normalized with the "Normalizing Names" rule of the KMIP Profiles
XML/JSON encodings (KMIP Profiles v1.4 5.4.1.1 / 5.5.1.1), see
normalize_name().

The enumeration used by each Enumeration-typed tag is derived by name ("Object
Type" -> "Object Type Enumeration"), from the specs' own references
("Enumeration, see 9.1.3.2.16", "Enumeration (Tag)") and from the commented
TAG_ENUM_EXPLICIT table; SPEC_ERRATA fixes typos of the value tables and
KNOWN_EXTRAS adds the few values defined by reference to PKCS#11.

Output: one X-macro file (see render() for the macro list).  The output is
deterministic and sorted.  The generator fails (exit 1, nothing written) on
duplicate values or XML names, or on an Enumeration tag without a known
enumeration.

Usage:
  scripts/gen_kmip_dictionary.py [--spec-dir DIR] [--output FILE] [--check]

--check exits non-zero if FILE is not up to date (nothing is written).
Standard library only.
"""

import argparse
import os
import re
import sys
from collections import OrderedDict

DEFAULT_SPEC_DIR = "/work/shared/reference/kmip"
SPEC_14 = "kmip-spec-v1.4.txt"
SPEC_21 = "kmip-spec-v2.1.txt"
V14 = 1
V21 = 2

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUTPUT = os.path.join(REPO_ROOT, "src", "ttlv", "kmip_spec_tables.inc")

# --------------------------------------------------------------------------
# Name normalization
# --------------------------------------------------------------------------

_NON_WORD_BEFORE_WORD = re.compile(r"[^A-Za-z0-9_]([A-Za-z][a-z])")
_NON_WORD = re.compile(r"[^A-Za-z0-9_ ]")
_LEADING_DIGITS = re.compile(r"^([0-9]+)(.*)$")


def normalize_name(name):
    """KMIP Profiles "Normalizing Names" (XML/JSON encodings).

    Source: KMIP Profiles v1.4 5.4.1.1 (JSON) / 5.5.1.1 (XML) "Normalizing
    Names" (http://docs.oasis-open.org/kmip/profiles/v1.4/kmip-profiles-v1.4.html;
    earlier in KMIP Additional Message Encodings v1.0 4.1.3 / 6.1.3); the
    rule text below is as quoted by the gemalto/kmip-go NormalizeName
    implementation.

    1. Replace round brackets '(' and ')' with spaces.
    2. If a non-word char (not alpha, digit or underscore) is followed by a
       letter (upper or lower case) and then a lower case letter, replace the
       non-word char with a space.
    3. Replace the remaining non-word chars (except whitespace) with '_'.
    4. If the first word begins with a digit, move all the digits at the start
       of the first word to the end of the first word.
    5. Capitalize the first letter of each word.
    6. Concatenate all words with the spaces removed.

    e.g. "Symmetric Key" -> "SymmetricKey", "SHA-256" -> "SHA_256",
    "PKCS#1" -> "PKCS_1", "X.509" -> "X_509", "HMAC-SHA256" -> "HMAC_SHA256",
    "MAC/sign" -> "MACSign", "On-line storage" -> "OnLineStorage",
    "3DES" -> "DES3", "C_Initialize" -> "C_Initialize".
    """
    s = name.replace("(", " ").replace(")", " ")
    s = _NON_WORD_BEFORE_WORD.sub(r" \1", s)
    s = re.sub(r"\s", " ", s)
    s = _NON_WORD.sub("_", s)
    words = [w for w in s.split(" ") if w]
    if words:
        words[0] = _LEADING_DIGITS.sub(r"\2\1", words[0])
    return "".join(w[:1].upper() + w[1:] for w in words)


def clean_spec_name(name):
    """Spec name as printed, with whitespace (incl. wrapped lines) collapsed."""
    return re.sub(r"\s+", " ", name).strip()


# --------------------------------------------------------------------------
# Text table parsing
# --------------------------------------------------------------------------

# A section heading: "9.1.3.2.18 State Enumeration", "11.56 Tag Enumeration",
# "12 Bit Masks".  Table-of-contents lines ("9.1.3.1 Tags. 154") end with a
# page number and are ignored.
_HEADING = re.compile(r"^(\d+(?:\.\d+)*)\s+([A-Z].*?)\s*$")
_TOC_LINE = re.compile(r"\.\s*\d+\s*$")

BOX_TOP = "┌"
BOX_BOTTOM = "└"
BOX_ROWSEP = "├"
BOX_VERT = "│"


def _join_fragments(frags):
    out = ""
    for frag in frags:
        frag = frag.strip()
        if not frag:
            continue
        if not out:
            out = frag
        elif out.endswith("-") and not out.endswith(" -"):
            out += frag  # word hyphenated across a line wrap: "Template-"/"Attribute"
        else:
            out += " " + frag
    return clean_spec_name(out)


class Table(object):
    def __init__(self, line, sections, rows):
        self.line = line          # 1-based line number of the top border
        self.sections = sections  # {number: title} of the headings in force
        self.section = sections.get("current")
        self.rows = rows          # list of rows, each a list of cell strings


def parse_tables(lines):
    """Yield Table objects for every box-drawn table of a spec text."""
    headings = {}   # section number -> title
    current = None  # (number, title)
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        stripped = line.strip()
        m = _HEADING.match(line)
        if m and not _TOC_LINE.search(line):
            number, title = m.group(1), clean_spec_name(m.group(2))
            # forget deeper headings of the previous section
            for k in list(headings):
                if k == number or k.startswith(number + "."):
                    del headings[k]
            headings[number] = title
            current = (number, title)
        if stripped.startswith(BOX_TOP):
            top = i + 1
            rows = []
            cur = None
            i += 1
            while i < n and not lines[i].strip().startswith(BOX_BOTTOM):
                t = lines[i].strip()
                if t.startswith(BOX_ROWSEP):
                    if cur:
                        rows.append(cur)
                    cur = None
                elif t.startswith(BOX_VERT):
                    cells = t.split(BOX_VERT)[1:-1]
                    if cur is None or len(cur) != len(cells):
                        if cur:
                            rows.append(cur)
                        cur = [[c] for c in cells]
                    else:
                        for k, c in enumerate(cells):
                            cur[k].append(c)
                # anything else (page headers, blank lines) inside a box is ignored
                i += 1
            if cur:
                rows.append(cur)
            secs = dict(headings)
            secs["current"] = current
            yield Table(top, secs, [[_join_fragments(c) for c in r] for r in rows])
        i += 1


def _parent_title(table):
    number = table.section[0]
    parent = number.rsplit(".", 1)[0] if "." in number else None
    return table.sections.get(parent) if parent else None


# "00000001", "420014 (deprecated as of version 1.1)" (the note may be cut by
# a page break); not ranges ("000000 - 420000") or patterns ("8XXXXXXX").
_VALUE_CELL = re.compile(r"^(?:0x)?([0-9A-Fa-f]+)(?:\s*\(.*)?$")
_VALUE_START = re.compile(r"^(?:0x)?[0-9A-Fa-fX]{6,8}\b")
_SKIP_NAMES = re.compile(r"^\(?(unused|reserved)\)?$|^extensions?$", re.I)


def _value_rows(table, headers, continuation=False):
    """(header_seen, [(spec_name, int value)], leading) for a value table.

    Rows are read after a header row equal to one of `headers`; with
    continuation=True (the rest of a table split by a page break, whose
    header is not repeated) every row is read, and `leading` is the name text
    of a first row without a value: the end of a cell cut by the page break.
    """
    out = []
    leading = ""
    in_body = continuation
    for index, row in enumerate(table.rows):
        cells = [c.strip() for c in row]
        if continuation and index == 0 and len(cells) == 2 and not _VALUE_START.match(cells[1]):
            leading = cells[0]
            continue
        if tuple(cells) in headers:
            in_body = True
            continue
        if not in_body:
            continue
        if len(cells) != 2:
            continue
        name, value = cells
        if not name or _SKIP_NAMES.match(name):
            continue
        m = _VALUE_CELL.match(value)
        if not m:
            # ranges ("000000 - 420000"), extension patterns ("8XXXXXXX"), ...
            continue
        out.append((name, int(m.group(1), 16)))
    return in_body, out, leading


class SpecTables(object):
    def __init__(self):
        self.tags = []                  # [(value, spec_name)]
        self.enums = OrderedDict()      # enum spec name -> [(value, spec_name)]
        self.masks = OrderedDict()      # mask spec name -> [(value, spec_name)]
        self.enum_sections = {}         # section number -> enum spec name
        self.encodings = []             # [(row cells, line)] of all other tables


def strip_enum_word(title):
    return re.sub(r"\s+Enumeration$", "", title).strip()


def read_spec(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    spec = SpecTables()
    headers = (("Name", "Value"), ("Object", "Tag Value"))
    sections_with_values = set()
    for table in parse_tables(lines):
        if not table.section:
            continue
        number, title = table.section
        parent = _parent_title(table) or ""
        if title in ("Tags", "Tag Enumeration") or parent in ("Enumerations", "Bit Masks"):
            if title in ("Tags", "Tag Enumeration"):
                target = spec.tags
            elif parent == "Enumerations":
                target = spec.enums.setdefault(strip_enum_word(title), [])
            else:
                target = spec.masks.setdefault(title, [])
            header_seen, rows, leading = _value_rows(table, headers)
            if header_seen:
                sections_with_values.add(number)
            elif number in sections_with_values:
                # second part of a value table split by a page break
                _, rows, leading = _value_rows(table, headers, continuation=True)
                if leading and target:
                    target[-1] = (clean_spec_name(target[-1][0] + " " + leading), target[-1][1])
            if rows:
                target.extend(rows)
                if parent == "Enumerations":
                    spec.enum_sections[number] = strip_enum_word(title)
            continue
        # any other table: remember "item | encoding" style rows for the
        # enumeration/mask type of each tag
        for row in table.rows:
            if len(row) >= 2:
                spec.encodings.append((row, table.line))
    for groups in (spec.enums, spec.masks):
        for name in [k for k, v in groups.items() if not v]:
            del groups[name]
    # enumerations declared in the text without a value table
    # (e.g. 2.1 "11.38 PKCS#11 Function Enumeration") still name a section
    for m in re.finditer(r"(?m)^(\d+(?:\.\d+)+)\s+(.+ Enumeration)\s*$", "\n".join(lines)):
        number, title = m.group(1), clean_spec_name(m.group(2))
        if _TOC_LINE.search(m.group(0)):
            continue
        spec.enum_sections.setdefault(number, strip_enum_word(title))
    return spec


# --------------------------------------------------------------------------
# Explicit knowledge that the value tables do not carry
# --------------------------------------------------------------------------

# Tags whose Enumeration values come from an enumeration that is not named
# after the tag.  Each entry is backed by the object/attribute/operation
# definitions of the specs (section numbers given per version).
TAG_ENUM_EXPLICIT = {
    # 1.4 3.6 / 2.1 4.16 Cryptographic Parameters: "Mask Generator Hashing
    # Algorithm | Enumeration, see 9.1.3.2.16" (1.4; = Hashing Algorithm).
    "Mask Generator Hashing Algorithm": "Hashing Algorithm",
    # 2.1 5.5 Attribute Reference: "Attribute Reference | Enumeration (Tag)"
    # (the alternative to the Vendor Identification/Attribute Name structure);
    # its values are tag names, i.e. the 11.56 Tag Enumeration.
    "Attribute Reference": "Tag",
    # 2.1 7.13 Extension Information: "Extension Type | Enumeration (Item Type)".
    # (1.4 2.1.9 has "Extension Type | Integer" holding the same type codes.)
    "Extension Type": "Item Type",
    # 2.1 4.31 Link: "Linked Object Identifier | Text String/Enumeration/
    # Integer", Table 90 "Linked Object Identifier encoding descriptions":
    # "Enumeration | Unique Identifier Enumeration".  (1.4: Text String.)
    "Linked Object Identifier": "Unique Identifier",

    # The following match by name, but the specs only describe them in
    # operation field tables ("Yes | The adjustment to be made."), without an
    # item type; listed here to record that they were checked by hand.
    # 2.1 6.1.3 Adjust Attribute request field; 11.1 Adjustment Type.
    "Adjustment Type": "Adjustment Type",
    # 1.4 4.25 / 5.3 Query: "Client Registration Method, see 9.1.3.2.47";
    # 2.1 6.1.40 Query: "Contains Client Registration Method enumerated
    # values"; 2.1 11.10.
    "Client Registration Method": "Client Registration Method",
    # 2.1 6.1.54 / 6.2.5 Set Endpoint Role; 11.19 Endpoint Role.
    "Endpoint Role": "Endpoint Role",
    # 1.4 4.11 Get, 4.40 Export / 2.1 6.1.18 Export, 6.1.19 Get, 6.1.25
    # Import.  1.4 writes "Key Wrap Type, see 9.1.3.2.3" (Key Format Type) - a
    # typo: the values "Not Wrapped" / "As Registered" are the 9.1.3.2.48 Key
    # Wrap Type Enumeration.
    "Key Wrap Type": "Key Wrap Type",
}

# Corrections of obvious typos in the value tables: (version, enumeration or
# mask spec name, value) -> (name as printed, corrected name).
SPEC_ERRATA = {
    # 2.1 11.30 Mask Generator Enumeration prints "MFG1"; the 1.4 table, the
    # 2.1 Cryptographic Parameters text ("... MGF1)") and all 1.4 and 2.1 test
    # cases use "MGF1" (RFC 8017 Mask Generation Function 1).
    (V21, "Mask Generator", 0x00000001): ("MFG1", "MGF1"),
}

# Tags that are named like an enumeration but must not be mapped to it by name.
NOT_BY_NAME = {
    # 2.1 tag 0x420138 "Tag": no item type is given for it anywhere in 2.1;
    # "Tag" as an enumeration id means the tag table itself, which is used by
    # Attribute Reference (see TAG_ENUM_EXPLICIT).
    "Tag",
}

# Tags whose Integer value is a bit mask of a 'mask' table not named after
# the tag.  (Tags named exactly like a mask table are found by name.)
TAG_MASK_EXPLICIT = {
}

# Enumeration values used by the official test cases that are defined by
# reference to another standard rather than by a value table in either spec.
# Each is (enumeration, value, spec name, versions).
KNOWN_EXTRAS = [
    # 2.1 11.38 "The PKCS#11 Function enumerations are the 1-based offset
    # count of the function in the CK_FUNCTION_LIST_3_0 structure as specified
    # in [PKCS#11]".  CK_FUNCTION_LIST_3_0 = { version, C_Initialize,
    # C_Finalize, C_GetInfo, C_GetFunctionList, ... } - only the functions used
    # by the 2.1 test case PKCS11-M-1-21 are listed.
    ("PKCS#11 Function", 0x00000001, "C_Initialize", V21),
    ("PKCS#11 Function", 0x00000002, "C_Finalize", V21),
    ("PKCS#11 Function", 0x00000003, "C_GetInfo", V21),
    # 2.1 11.39 "The PKCS#11 Return Codes enumerations representing PKCS#11
    # return codes as specified in the CK_RV values in [PKCS#11]": CKR_OK = 0,
    # named "OK" in PKCS11-M-1-21.
    ("PKCS#11 Return Code", 0x00000000, "OK", V21),
]


# --------------------------------------------------------------------------
# Merging the two versions
# --------------------------------------------------------------------------

class Entry(object):
    def __init__(self, value, names):
        self.value = value
        self.names = names  # {version: spec_name}

    @property
    def versions(self):
        return sum(self.names)

    @property
    def spec_name(self):
        return self.names.get(V21) or self.names[V14]

    @property
    def xml_name(self):
        return normalize_name(self.spec_name)

    def alias(self):
        """(xml, spec) of the 1.4 name if it differs from the 2.1 one."""
        if V14 in self.names and V21 in self.names:
            old = self.names[V14]
            if normalize_name(old) != normalize_name(self.names[V21]):
                return normalize_name(old), old
        return None


def merge_values(per_version, where, errors):
    """per_version: {version: [(spec_name, value)]} -> [Entry] sorted by value."""
    merged = OrderedDict()
    for version in (V14, V21):
        for name, value in per_version.get(version, []):
            name = clean_spec_name(name)
            e = merged.setdefault(value, Entry(value, {}))
            if version in e.names and e.names[version] != name:
                errors.append("%s: value 0x%X defined twice in %s: %r / %r"
                              % (where, value, "v1.4" if version == V14 else "v2.1",
                                 e.names[version], name))
                continue
            e.names[version] = name
    return [merged[v] for v in sorted(merged)]


def build(spec_dir):
    s14 = read_spec(os.path.join(spec_dir, SPEC_14))
    s21 = read_spec(os.path.join(spec_dir, SPEC_21))
    errors = []
    warnings = []
    for (version, group, value), (printed, corrected) in sorted(SPEC_ERRATA.items()):
        spec = s14 if version == V14 else s21
        found = False
        for groups in (spec.enums, spec.masks):
            rows = groups.get(group, [])
            for k, (name, v) in enumerate(rows):
                if v == value and name == printed:
                    rows[k] = (corrected, v)
                    found = True
        if not found:
            errors.append("erratum %s 0x%X %r not found in the spec (fixed upstream?)" % (group, value, printed))

    tags = merge_values({V14: [(n, v) for n, v in s14.tags],
                         V21: [(n, v) for n, v in s21.tags]}, "Tag", errors)

    def merge_group(g14, g21, kind):
        ids = OrderedDict()
        for version, group in ((V14, g14), (V21, g21)):
            for spec_name, rows in group.items():
                gid = normalize_name(spec_name)
                d = ids.setdefault(gid, {"spec": spec_name, "rows": {}})
                d["spec"] = spec_name if version == V21 else d["spec"]
                d["rows"].setdefault(version, []).extend(rows)
        out = OrderedDict()
        for gid in sorted(ids):
            out[gid] = (ids[gid]["spec"], merge_values(ids[gid]["rows"], "%s %s" % (kind, gid), errors))
        return out

    enums = merge_group(s14.enums, s21.enums, "Enumeration")
    masks = merge_group(s14.masks, s21.masks, "Mask")

    # known extras (enumerations defined by reference, without a value table)
    for enum_spec, value, name, versions in KNOWN_EXTRAS:
        gid = normalize_name(enum_spec)
        spec_name, entries = enums.get(gid, (enum_spec, []))
        if any(e.value == value for e in entries):
            errors.append("known extra %s 0x%X already defined by the spec" % (gid, value))
            continue
        names = {}
        if versions & V14:
            names[V14] = name
        if versions & V21:
            names[V21] = name
        entries = sorted(entries + [Entry(value, names)], key=lambda e: e.value)
        enums[gid] = (spec_name, entries)
    enums = OrderedDict((k, enums[k]) for k in sorted(enums))

    # ---- which enumeration / mask each tag uses
    tag_by_xml = {}
    for t in tags:
        tag_by_xml.setdefault(t.xml_name, t)
        a = t.alias()
        if a:
            tag_by_xml.setdefault(a[0], t)

    enum_ids = set(enums) | {"Tag"}
    # enumerations known by section (incl. those without values) - for the
    # 1.4 "Enumeration, see 9.1.3.2.N" references
    sec14 = dict(s14.enum_sections)
    all_enum_names = {normalize_name(n) for n in list(s14.enum_sections.values()) + list(s21.enum_sections.values())}
    enum_ids |= all_enum_names

    # Evidence from the object/attribute/operation definition tables: rows
    # whose first cell is a tag name and one of whose other cells is an
    # Enumeration item type, e.g. (1.4) "Credential Type | Enumeration, see
    # 9.1.3.2.1 | Yes", (1.4 App. C) "Put Function | 5.2, 9.1.3.2.26 |
    # Enumeration", (2.1) "Attribute Reference | Enumeration (Tag)",
    # "Unique Identifier | Text String, Enumeration or Integer".
    enum_typed = OrderedDict()   # tag xml -> where
    references = OrderedDict()   # tag xml -> {enum id: where}
    section_re = re.compile(r"\b(\d+(?:\.\d+)+)\b")
    paren_re = re.compile(r"Enumeration\s*\(([^)]+)\)")
    for version, spec in ((V14, s14), (V21, s21)):
        vname = "v1.4" if version == V14 else "v2.1"
        for row, line in spec.encodings:
            item_name = re.sub(r",?\s*see\s+[\d.]+.*$", "", row[0]).strip()
            xml = normalize_name(item_name)
            if xml not in tag_by_xml:
                continue
            typed = [c for c in row[1:]
                     if re.match(r"^(An? )?Enumeration\b", c) or re.search(r"(/|, | or )Enumeration\b", c)]
            if not typed:
                continue
            where = "%s line %d" % (vname, line)
            enum_typed.setdefault(xml, where)
            for c in typed:
                m = paren_re.search(c)
                if m:
                    references.setdefault(xml, OrderedDict()).setdefault(normalize_name(m.group(1)), where)
            if version == V14:
                for c in row:
                    for ref in section_re.findall(c):
                        if ref in sec14:
                            references.setdefault(xml, OrderedDict()).setdefault(normalize_name(sec14[ref]), where)

    tag_enum = {}
    for t in tags:
        names = [t.xml_name] + ([t.alias()[0]] if t.alias() else [])
        explicit = TAG_ENUM_EXPLICIT.get(t.names.get(V21)) or TAG_ENUM_EXPLICIT.get(t.names.get(V14))
        refs = OrderedDict()
        for n in names:
            refs.update(references.get(n, {}))
        typed = [enum_typed[n] for n in names if n in enum_typed]
        by_name = [n for n in names if n in all_enum_names and n not in NOT_BY_NAME]
        if explicit:
            eid = normalize_name(explicit)
            for r, where in refs.items():
                if r != eid:
                    warnings.append("tag %s: explicit enumeration %s, but the spec refers to %s (%s)"
                                    % (t.xml_name, eid, r, where))
        elif by_name:
            eid = by_name[0]
            for r, where in refs.items():
                if r != eid:
                    warnings.append("tag %s: mapped by name to %s, ignoring the spec reference to %s (%s)"
                                    % (t.xml_name, eid, r, where))
            if not typed:
                warnings.append("tag %s mapped to enumeration %s by name only "
                                "(no Enumeration item type found in the definitions)" % (t.xml_name, eid))
        elif len(refs) == 1:
            eid = list(refs)[0]
        elif refs:
            errors.append("tag %s: conflicting enumeration references %s" % (t.xml_name, dict(refs)))
            continue
        elif typed:
            errors.append("tag %s is an Enumeration (%s) but no enumeration is known for it; "
                          "add it to TAG_ENUM_EXPLICIT" % (t.xml_name, typed[0]))
            continue
        else:
            continue
        tag_enum[t.value] = eid
    for eid in set(tag_enum.values()):
        if eid not in enum_ids:
            errors.append("TAG_ENUM refers to unknown enumeration %s" % eid)

    tag_mask = {}
    for t in tags:
        explicit = TAG_MASK_EXPLICIT.get(t.names.get(V21)) or TAG_MASK_EXPLICIT.get(t.names.get(V14))
        mid = normalize_name(explicit) if explicit else t.xml_name
        if mid in masks:
            tag_mask[t.value] = mid
    for mid in masks:
        if mid not in tag_mask.values():
            warnings.append("mask %s is not used by any tag" % mid)

    # ---- consistency checks
    seen = {}
    for t in tags:
        for xml in [t.xml_name] + ([t.alias()[0]] if t.alias() else []):
            if xml in seen and seen[xml] != t.value:
                errors.append("tag XML name %s used for 0x%06X and 0x%06X" % (xml, seen[xml], t.value))
            seen[xml] = t.value
    for kind, group in (("enumeration", enums), ("mask", masks)):
        for gid, (_, entries) in group.items():
            seen = {}
            for e in entries:
                for xml in [e.xml_name] + ([e.alias()[0]] if e.alias() else []):
                    if xml in seen and seen[xml] != e.value:
                        errors.append("%s %s: XML name %s used for 0x%X and 0x%X"
                                      % (kind, gid, xml, seen[xml], e.value))
                    seen[xml] = e.value

    return {
        "tags": tags, "enums": enums, "masks": masks,
        "tag_enum": tag_enum, "tag_mask": tag_mask,
        "errors": errors, "warnings": warnings,
    }


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

MACROS = [
    ("VMCRYPT_TAG", "value, xml_name, spec_name, versions"),
    ("VMCRYPT_TAG_ALIAS", "value, xml_name, spec_name"),
    ("VMCRYPT_ENUM", "enum_id, value, xml_name, spec_name, versions"),
    ("VMCRYPT_ENUM_ALIAS", "enum_id, value, xml_name, spec_name"),
    ("VMCRYPT_MASK", "mask_id, value, xml_name, spec_name, versions"),
    ("VMCRYPT_MASK_ALIAS", "mask_id, value, xml_name, spec_name"),
    ("VMCRYPT_TAG_ENUM", "tag, enum_id"),
    ("VMCRYPT_TAG_MASK", "tag, mask_id"),
]


def c_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(data):
    out = []
    w = out.append
    w("/* Generated by scripts/gen_kmip_dictionary.py from kmip-spec-v1.4.txt and kmip-spec-v2.1.txt. Do not edit. */")
    w("/*")
    w(" * X-macro tables of the KMIP tags, enumerations and bit masks.  Define the")
    w(" * macros you need, then #include this file; undefined macros expand to")
    w(" * nothing and all of them are #undef'd at the end.  No include guard: this")
    w(" * file is meant to be included several times.")
    w(" *")
    w(" *   VMCRYPT_TAG(value, xml_name, spec_name, versions)")
    w(" *   VMCRYPT_TAG_ALIAS(value, xml_name, spec_name)            1.4 name of a renamed tag")
    w(" *   VMCRYPT_ENUM(enum_id, value, xml_name, spec_name, versions)")
    w(" *   VMCRYPT_ENUM_ALIAS(enum_id, value, xml_name, spec_name)  1.4 name of a renamed value")
    w(" *   VMCRYPT_MASK(mask_id, value, xml_name, spec_name, versions)")
    w(" *   VMCRYPT_MASK_ALIAS(mask_id, value, xml_name, spec_name)  1.4 name of a renamed bit")
    w(" *   VMCRYPT_TAG_ENUM(tag, enum_id)   tag of type Enumeration -> its enumeration")
    w(" *                                    (enum_id \"Tag\" = the tag table itself)")
    w(" *   VMCRYPT_TAG_MASK(tag, mask_id)   Integer tag holding a bit mask -> its mask")
    w(" *")
    w(" * versions: 1 = in the KMIP 1.4 table, 2 = in the KMIP 2.1 table, 3 = both.")
    w(" * xml_name: the spec name normalized as in the KMIP Profiles XML/JSON encodings.")
    w(" */")
    w("")
    for name, args in MACROS:
        w("#ifndef %s" % name)
        w("#define %s(%s)" % (name, args))
        w("#endif")
    w("")

    w("/* ---- Tags (1.4 9.1.3.1, 2.1 11.56) ---- */")
    for t in data["tags"]:
        w("VMCRYPT_TAG(0x%06X, %s, %s, %d)" % (t.value, c_str(t.xml_name), c_str(t.spec_name), t.versions))
    aliases = [(t.value, t.alias()) for t in data["tags"] if t.alias()]
    if aliases:
        w("")
        for value, (xml, spec) in aliases:
            w("VMCRYPT_TAG_ALIAS(0x%06X, %s, %s)" % (value, c_str(xml), c_str(spec)))
    w("")

    for kind, macro, title in (("enums", "VMCRYPT_ENUM", "Enumerations (1.4 9.1.3.2, 2.1 11)"),
                               ("masks", "VMCRYPT_MASK", "Bit masks (1.4 9.1.3.3, 2.1 12)")):
        w("/* ---- %s ---- */" % title)
        for gid, (spec_name, entries) in data[kind].items():
            for e in entries:
                w("%s(%s, 0x%08X, %s, %s, %d)" % (macro, c_str(gid), e.value, c_str(e.xml_name),
                                                 c_str(e.spec_name), e.versions))
        aliases = [(gid, e.value, e.alias()) for gid, (_, entries) in data[kind].items()
                   for e in entries if e.alias()]
        if aliases:
            w("")
            for gid, value, (xml, spec) in aliases:
                w("%s_ALIAS(%s, 0x%08X, %s, %s)" % (macro, c_str(gid), value, c_str(xml), c_str(spec)))
        w("")

    w("/* ---- Tag -> enumeration / bit mask ---- */")
    for value in sorted(data["tag_enum"]):
        w("VMCRYPT_TAG_ENUM(0x%06X, %s)" % (value, c_str(data["tag_enum"][value])))
    for value in sorted(data["tag_mask"]):
        w("VMCRYPT_TAG_MASK(0x%06X, %s)" % (value, c_str(data["tag_mask"][value])))
    w("")
    for name, _ in MACROS:
        w("#undef %s" % name)
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec-dir", default=DEFAULT_SPEC_DIR)
    ap.add_argument("--output", default=DEFAULT_OUTPUT)
    ap.add_argument("--check", action="store_true", help="only verify that --output is up to date")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)

    data = build(args.spec_dir)
    for msg in data["warnings"]:
        if not args.quiet:
            print("warning: " + msg, file=sys.stderr)
    if data["errors"]:
        for msg in data["errors"]:
            print("error: " + msg, file=sys.stderr)
        return 1
    text = render(data)
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                current = f.read()
        except IOError:
            current = None
        if current != text:
            print("%s is out of date; run %s" % (args.output, sys.argv[0]), file=sys.stderr)
            return 1
        return 0
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, args.output)
    if not args.quiet:
        n_values = sum(len(e) for _, e in data["enums"].values())
        n_bits = sum(len(e) for _, e in data["masks"].values())
        print("wrote %s: %d tags (%d in 1.4, %d in 2.1), %d enumerations / %d values, "
              "%d masks / %d bits, %d tag->enum, %d tag->mask"
              % (args.output, len(data["tags"]),
                 sum(1 for t in data["tags"] if t.versions & V14),
                 sum(1 for t in data["tags"] if t.versions & V21),
                 len(data["enums"]), n_values, len(data["masks"]), n_bits,
                 len(data["tag_enum"]), len(data["tag_mask"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
