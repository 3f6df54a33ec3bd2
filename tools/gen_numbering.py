#!/usr/bin/env python3
"""Derive callbar's numbering data files from libphonenumber's metadata.

    tools/gen_numbering.py [LIBPHONENUMBER_DIR] [OUT_DIR]

defaults: ../shared/data/libphonenumber and data/.  The output is committed,
so a clone builds without the source; run this again when the metadata is
updated.  Formats are described in docs/numbering.md ("Data files").

The source is Apache-2.0 (see data/NOTICE); every file written here says so
in its header.
"""

import os
import re
import sys
import xml.etree.ElementTree as ET

try:
    import re._parser as sre_parse  # Python >= 3.11
    from re._constants import (LITERAL, IN, RANGE, CATEGORY, CATEGORY_DIGIT,
                               SUBPATTERN, BRANCH, MAX_REPEAT, MIN_REPEAT,
                               NEGATE)
except ImportError:  # pragma: no cover
    import sre_parse
    from sre_constants import (LITERAL, IN, RANGE, CATEGORY, CATEGORY_DIGIT,
                               SUBPATTERN, BRANCH, MAX_REPEAT, MIN_REPEAT,
                               NEGATE)

HEADER = """# Derived from libphonenumber's metadata by tools/gen_numbering.py.
# Copyright (C) The Libphonenumber Authors. Licensed under the Apache License,
# Version 2.0; see data/NOTICE. Do not edit by hand: run the tool again.
"""

# ISO 3166-2:CN codes with Chinese and English names and the aliases a rule
# file may use.  The English province names are the ones libphonenumber's
# geocoding file writes after the last comma.
CN_REGIONS = [
    # code, zh, en, geocoder's English name, aliases
    ("CN-BJ", "北京市", "Beijing", "Beijing", "beijing,北京"),
    ("CN-TJ", "天津市", "Tianjin", "Tianjin", "tianjin,天津"),
    ("CN-HE", "河北省", "Hebei", "Hebei", "hebei,河北"),
    ("CN-SX", "山西省", "Shanxi", "Shanxi", "shanxi,山西"),
    ("CN-NM", "内蒙古自治区", "Inner Mongolia", "Inner Mongolia",
     "inner-mongolia,nei-mongol,内蒙古"),
    ("CN-LN", "辽宁省", "Liaoning", "Liaoning", "liaoning,辽宁"),
    ("CN-JL", "吉林省", "Jilin", "Jilin", "jilin,吉林"),
    ("CN-HL", "黑龙江省", "Heilongjiang", "Heilongjiang",
     "heilongjiang,黑龙江"),
    ("CN-SH", "上海市", "Shanghai", "Shanghai", "shanghai,上海"),
    ("CN-JS", "江苏省", "Jiangsu", "Jiangsu", "jiangsu,江苏"),
    ("CN-ZJ", "浙江省", "Zhejiang", "Zhejiang", "zhejiang,浙江"),
    ("CN-AH", "安徽省", "Anhui", "Anhui", "anhui,安徽"),
    ("CN-FJ", "福建省", "Fujian", "Fujian", "fujian,福建"),
    ("CN-JX", "江西省", "Jiangxi", "Jiangxi", "jiangxi,江西"),
    ("CN-SD", "山东省", "Shandong", "Shandong", "shandong,山东"),
    ("CN-HA", "河南省", "Henan", "Henan", "henan,河南"),
    ("CN-HB", "湖北省", "Hubei", "Hubei", "hubei,湖北"),
    ("CN-HN", "湖南省", "Hunan", "Hunan", "hunan,湖南"),
    ("CN-GD", "广东省", "Guangdong", "Guangdong", "guangdong,广东"),
    ("CN-GX", "广西壮族自治区", "Guangxi", "Guangxi", "guangxi,广西"),
    ("CN-HI", "海南省", "Hainan", "Hainan", "hainan,海南"),
    ("CN-CQ", "重庆市", "Chongqing", "Chongqing", "chongqing,重庆"),
    ("CN-SC", "四川省", "Sichuan", "Sichuan", "sichuan,四川"),
    ("CN-GZ", "贵州省", "Guizhou", "Guizhou", "guizhou,贵州"),
    ("CN-YN", "云南省", "Yunnan", "Yunnan", "yunnan,云南"),
    ("CN-XZ", "西藏自治区", "Tibet", "Tibet", "tibet,xizang,西藏"),
    ("CN-SN", "陕西省", "Shaanxi", "Shaanxi", "shaanxi,陕西"),
    ("CN-GS", "甘肃省", "Gansu", "Gansu", "gansu,甘肃"),
    ("CN-QH", "青海省", "Qinghai", "Qinghai", "qinghai,青海"),
    ("CN-NX", "宁夏回族自治区", "Ningxia", "Ningxia", "ningxia,宁夏"),
    ("CN-XJ", "新疆维吾尔自治区", "Xinjiang", "Xinjiang", "xinjiang,新疆"),
]

CN_CARRIERS = {
    "China Mobile": "cmcc",
    "China Unicom": "cucc",
    "China Telecom": "ctcc",
    "China Broadnet": "cbn",
}

# Emergency numbers every GSM/UMTS/LTE handset treats as such (3GPP TS
# 22.101 section 10.1.1), added to each region's own list.
UNIVERSAL_EMERGENCY = ["112", "911"]

# Emergency numbers a country has that libphonenumber's short-number data
# does not list as emergency: China's 12110 is the police's SMS alarm
# number (a text to it is an emergency message, never barred).
NATIONAL_EMERGENCY = {"CN": ["12110"]}

PH = "{urn:ignored}"


def strip_ws(s):
    return re.sub(r"\s+", "", s or "")


# ---------------------------------------------------------------------------
# Finite regular expressions -> callbar's digit pattern notation.
#
# A pattern is alternatives joined by '|'; each alternative is a sequence of
# positions, a position is a digit or a class "[...]" of digits.  Repeats and
# optional parts are expanded; '\d' becomes [0-9].  This covers every
# internationalPrefix and emergency pattern in the metadata.

ALL = frozenset("0123456789")


def _expand(tree):
    """Return a list of alternatives, each a tuple of frozensets of digits."""
    alts = [()]
    for op, av in tree:
        if op == LITERAL:
            pos = [(frozenset(chr(av)),)]
        elif op == IN:
            s = set()
            neg = False
            for iop, iav in av:
                if iop == LITERAL:
                    s.add(chr(iav))
                elif iop == RANGE:
                    s.update(chr(c) for c in range(iav[0], iav[1] + 1))
                elif iop == CATEGORY and iav == CATEGORY_DIGIT:
                    s.update(ALL)
                elif iop == NEGATE:
                    neg = True
                else:
                    raise ValueError("class item %r" % (iop,))
            if neg:
                s = set(ALL) - s
            pos = [(frozenset(s),)]
        elif op == CATEGORY and av == CATEGORY_DIGIT:
            pos = [(ALL,)]
        elif op == SUBPATTERN:
            pos = _expand(av[-1])
        elif op == BRANCH:
            pos = []
            for sub in av[1]:
                pos.extend(_expand(sub))
        elif op in (MAX_REPEAT, MIN_REPEAT):
            lo, hi, sub = av
            if hi > 8:
                raise ValueError("unbounded repeat")
            inner = _expand(sub)
            pos = []
            for n in range(lo, hi + 1):
                seqs = [()]
                for _ in range(n):
                    seqs = [a + b for a in seqs for b in inner]
                pos.extend(seqs)
        else:
            raise ValueError("regex op %r" % (op,))
        alts = [a + b for a in alts for b in pos]
        if len(alts) > 4096:
            raise ValueError("too many alternatives")
    return alts


def _pos_text(s):
    if len(s) == 1:
        return next(iter(s))
    if s == ALL:
        return "[0-9]"
    ds = sorted(s)
    out, i = [], 0
    while i < len(ds):
        j = i
        while j + 1 < len(ds) and ord(ds[j + 1]) == ord(ds[j]) + 1:
            j += 1
        out.append(ds[i] if i == j else ds[i] + ("-" if j > i + 1 else "") + ds[j])
        i = j + 1
    return "[" + "".join(out) + "]"


def start_strings(tree, k):
    """The strings of k digits some match of a parsed regex starts with,
    together with any whole match shorter than k."""
    def item(op, av):
        if op == LITERAL:
            return {chr(av)}
        if op == IN:
            return set(_expand([(op, av)])[0][0])
        if op == CATEGORY and av == CATEGORY_DIGIT:
            return set(ALL)
        if op == SUBPATTERN:
            return seq(av[-1])
        if op == BRANCH:
            out = set()
            for sub in av[1]:
                out |= seq(sub)
            return out
        raise ValueError("unexpected regex element %r" % (op,))

    def cat(a, b):
        return {x if len(x) >= k else (x + y)[:k] for x in a for y in b}

    def seq(items):
        cur = {""}
        for op, av in items:
            if op in (MAX_REPEAT, MIN_REPEAT):
                lo, hi, sub = av
                one = seq(sub)
                for _ in range(lo):
                    cur = cat(cur, one)
                more, r = cur, lo
                while r < hi:
                    more = cat(more, one)
                    if more <= cur:
                        break
                    cur = cur | more
                    r += 1
            else:
                cur = cat(cur, item(op, av))
        return cur

    return seq(tree)


def start_pattern(regex):
    """How a national number can start, as a callbar pattern of one- and
    two-digit alternatives: "00|[2-9]" for Bulgaria, whose numbers start
    with 0 only in 00800.  Two digits tell a trunk prefix from a number
    that starts with the same digit, which the first digit alone cannot."""
    starts = start_strings(sre_parse.parse(strip_ws(regex)), 2)
    seconds = {}
    for st in starts:
        seconds.setdefault(st[0], set()).update(st[1:2] or ALL)
    groups = {}
    for d, sec in seconds.items():
        groups.setdefault(frozenset(sec), set()).add(d)
    alts = []
    for sec, firsts in groups.items():
        alt = _pos_text(firsts) if len(firsts) > 1 else next(iter(firsts))
        if sec != ALL:
            alt += _pos_text(sec) if len(sec) > 1 else next(iter(sec))
        elif len(firsts) == 1:
            alt = "[" + alt + "]"  # a lone digit would read as a digit list
        alts.append(alt)
    out = "|".join(sorted(alts))
    if out.isdigit():  # "01" alone would read as the digits 0 and 1
        out = "[" + out[0] + "]" + out[1:]
    return out


def to_pattern(regex):
    """Finite regex -> 'alt|alt|...' in callbar notation (deduplicated)."""
    alts = _expand(sre_parse.parse(strip_ws(regex)))
    seen, out = set(), []
    for a in alts:
        t = "".join(_pos_text(p) for p in a)
        if t and t not in seen:
            seen.add(t)
            out.append(t)
    return "|".join(out)


def pattern_len(alt):
    return len(re.sub(r"\[[^]]*\]", "d", alt))


# ---------------------------------------------------------------------------

def parse_lengths(el):
    """possibleLengths national="[7-11]" -> set of ints.

    Lengths only dialled locally (localOnly: a fixed line without its area
    code) are left out: callbar's numbers are full national numbers.
    """
    out = set()
    for attr in ("national",):
        v = el.get(attr)
        if not v or v == "-1":
            continue
        for part in v.split(","):
            m = re.fullmatch(r"\[(\d+)-(\d+)\]", part)
            if m:
                out.update(range(int(m.group(1)), int(m.group(2)) + 1))
            else:
                out.add(int(part))
    return out


def countries(src):
    tree = ET.parse(os.path.join(src, "PhoneNumberMetadata.xml"))
    short = ET.parse(os.path.join(src, "ShortNumberMetadata.xml"))
    emerg = {}
    for t in short.getroot().iter("territory"):
        nums = []
        for tag in ("emergency", "expandedEmergency"):
            el = t.find(tag)
            if el is None:
                continue
            for alt in to_pattern(el.findtext("nationalNumberPattern")).split("|"):
                # 5-digit service lines among the expanded ones are not
                # emergency calls; the three-digit ones (CN 122) are.
                if tag == "expandedEmergency" and pattern_len(alt) > 3:
                    continue
                nums.append(alt)
        emerg[t.get("id")] = nums

    rows = []
    for t in tree.getroot().iter("territory"):
        rid = t.get("id")
        cc = int(t.get("countryCode"))
        lens = set()
        for el in t:
            if el.tag in ("generalDesc", "availableFormats", "noInternationalDialling"):
                continue
            pl = el.find("possibleLengths")
            if pl is not None:
                lens |= parse_lengths(pl)
        intl = t.get("internationalPrefix")
        intl_pat = to_pattern(intl) if intl else "-"
        npfx = t.get("nationalPrefix") or "-"
        gd = t.find("generalDesc")
        first = start_pattern(
            gd.findtext("nationalNumberPattern") if gd is not None else "")
        em = emerg.get(rid, [])
        if rid != "001":  # non-geographic entities have no emergency service
            em = list(dict.fromkeys(em + UNIVERSAL_EMERGENCY +
                                    NATIONAL_EMERGENCY.get(rid, [])))
        em.sort(key=lambda s: (pattern_len(s), s))
        rows.append((rid, cc, t.get("mainCountryForCode") == "true", intl_pat,
                     npfx, sorted(lens), first or "-", em))
    return rows


def write_countries(rows, out):
    # A calling code shared by several regions names its main one; a code
    # used by one region is main by definition.
    by_cc = {}
    for r in rows:
        by_cc.setdefault(r[1], []).append(r)
    with open(os.path.join(out, "countries.tsv"), "w", encoding="utf-8") as f:
        f.write(HEADER)
        f.write("# region\tcc\tmain\tintl_prefix\tnational_prefix\tnsn_lengths"
                "\tnsn_first\temergency\n")
        for r in rows:
            rid, cc, main, intl, npfx, lens, first, em = r
            if len(by_cc[cc]) == 1:
                main = True
            f.write("%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n" % (
                rid, cc, 1 if main else 0, intl, npfx,
                ",".join(str(x) for x in lens) or "-", first,
                "|".join(em) or "-"))


def read_prefix_file(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            k, v = line.split("|", 1)
            assert k.startswith("86"), k
            out.append((k[2:], v))
    return out


def write_cn(src, out):
    en = dict(read_prefix_file(os.path.join(src, "geocoding", "en-86.txt")))
    zh = dict(read_prefix_file(os.path.join(src, "geocoding", "zh-86.txt")))
    prov = {r[3]: r for r in CN_REGIONS}

    with open(os.path.join(out, "cn-regions.tsv"), "w", encoding="utf-8") as f:
        f.write(HEADER)
        f.write("# code\tname_zh\tname_en\taliases\n")
        for code, nzh, nen, _, aliases in CN_REGIONS:
            f.write("%s\t%s\t%s\t%s\n" % (code, nzh, nen, aliases))

    # Cities: one id per distinct (zh, en) pair, in order of first appearance
    # by prefix, so regenerating gives the same ids.
    cities = {}
    seg = []
    for k in sorted(en):
        name_en = en[k]
        name_zh = zh.get(k, "")
        province = name_en.rsplit(", ", 1)[-1]
        if province not in prov:
            raise SystemExit("unknown province %r for prefix %s" % (province, k))
        code = prov[province][0]
        key = (code, name_zh, name_en)
        if key not in cities:
            cities[key] = len(cities) + 1
        seg.append((k, cities[key]))

    with open(os.path.join(out, "cn-cities.tsv"), "w", encoding="utf-8") as f:
        f.write(HEADER)
        f.write("# id\tregion\tname_zh\tname_en\n")
        for (code, nzh, nen), cid in sorted(cities.items(), key=lambda kv: kv[1]):
            f.write("%d\t%s\t%s\t%s\n" % (cid, code, nzh, nen))

    seg = collapse_exact(seg)
    with open(os.path.join(out, "cn-segments.tsv"), "w", encoding="utf-8") as f:
        f.write(HEADER)
        f.write("# national number prefix -> city id (cn-cities.tsv); the longest\n"
                "# listed prefix wins.  Partial coverage: an unlisted prefix has no region.\n")
        for k, v in seg:
            f.write("%s\t%d\n" % (k, v))

    car = read_prefix_file(os.path.join(src, "carrier", "en-86.txt"))
    with open(os.path.join(out, "cn-carriers.tsv"), "w", encoding="utf-8") as f:
        f.write(HEADER)
        f.write("# national number prefix -> original carrier (before porting);"
                " the longest listed prefix wins\n")
        for k, v in sorted(car):
            if v not in CN_CARRIERS:
                raise SystemExit("unknown carrier %r" % v)
            f.write("%s\t%s\n" % (k, CN_CARRIERS[v]))


def collapse_exact(entries):
    """Collapse ten leaf siblings with one value into their parent.

    Exact for longest-prefix lookup when the siblings have no longer
    prefixes below them and the parent is either absent or overridden
    everywhere by the children (which it is: they cover all ten digits).
    """
    m = dict(entries)
    while True:
        has_child = set()
        for k in m:
            for i in range(1, len(k)):
                has_child.add(k[:i])
        groups = {}
        for k in m:
            if len(k) > 1 and k not in has_child:
                groups.setdefault(k[:-1], []).append(k)
        merged = False
        for p, kids in groups.items():
            if len(kids) == 10 and len({m[k] for k in kids}) == 1:
                v = m[kids[0]]
                for k in kids:
                    del m[k]
                m[p] = v
                merged = True
        if not merged:
            break
    return sorted(m.items())


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "..", "shared", "data", "libphonenumber")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "data")
    os.makedirs(out, exist_ok=True)
    write_countries(countries(src), out)
    write_cn(src, out)
    with open(os.path.join(src, "LICENSE"), encoding="utf-8") as f:
        lic = f.read()
    with open(os.path.join(out, "NOTICE"), "w", encoding="utf-8") as f:
        f.write("callbar numbering data\n\n"
                "countries.tsv, cn-regions.tsv, cn-cities.tsv, cn-segments.tsv and\n"
                "cn-carriers.tsv are derived by tools/gen_numbering.py from\n"
                "libphonenumber's metadata (PhoneNumberMetadata.xml,\n"
                "ShortNumberMetadata.xml, geocoding/*-86.txt, carrier/*-86.txt),\n"
                "Copyright (C) The Libphonenumber Authors, licensed under the\n"
                "Apache License, Version 2.0, reproduced below.  The ISO 3166-2:CN\n"
                "codes, Chinese region names and aliases in cn-regions.tsv are\n"
                "callbar's own.\n\n" + lic)


if __name__ == "__main__":
    main()
