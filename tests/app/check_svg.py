#!/usr/bin/env python3
"""check_svg.py FILE [--max-bytes N]: passes when FILE is what `twind plot` promises.

Well-formed XML whose root is an SVG element with viewBox "0 0 1200 800"; self-contained (no
script, no element or attribute that refers outside the document: no href, no url() but to
its own ids, no @import); the three panels; every number of its geometry finite and within
the view; and, with --max-bytes, no larger than N bytes. Prints what is wrong and exits 1.
"""
import math
import os
import re
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
GEOMETRY = {"d", "x", "y", "width", "height", "transform"}
NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def problems(path, max_bytes):
    size = os.path.getsize(path)
    if max_bytes is not None and size > max_bytes:
        yield f"{size} bytes, more than {max_bytes}"
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        yield f"not well-formed XML: {e}"
        return
    if root.tag != SVG + "svg":
        yield f"the root element is {root.tag}, not an SVG element"
    if root.get("viewBox") != "0 0 1200 800":
        yield f"viewBox is {root.get('viewBox')!r}"
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    for panel in ("panel-output", "panel-divergence", "panel-inputs"):
        if panel not in ids:
            yield f"no {panel}"
    numbers = 0
    for e in root.iter():
        tag = e.tag.replace(SVG, "")
        if tag in ("script", "foreignObject", "image", "use", "a", "iframe"):
            yield f"a <{tag}> element"
        if tag == "style" and "@import" in (e.text or ""):
            yield "an @import in the style"
        if tag == "style" and re.search(r"url\((?!#)", e.text or ""):
            yield "an external url() in the style"
        for name, value in e.attrib.items():
            if name.endswith("href"):
                yield f"<{tag} {name}={value!r}>"
            if re.search(r"url\((?!#)", value):
                yield f"<{tag} {name}={value!r}>: refers outside the document"
            if name.startswith("on"):
                yield f"<{tag} {name}>: an event handler"
            if name in GEOMETRY:
                low = value.lower()
                if "nan" in low or "inf" in low:
                    yield f"<{tag} {name}={value!r}>: not a finite number"
                for m in NUMBER.finditer(value):
                    v = float(m.group())
                    numbers += 1
                    if not math.isfinite(v) or abs(v) > 1300:
                        yield f"<{tag} {name}={value!r}>: {v} is outside the view"
    if numbers < 100:
        yield f"only {numbers} numbers in its geometry"


def main():
    args = sys.argv[1:]
    max_bytes = None
    if len(args) == 3 and args[1] == "--max-bytes":
        max_bytes = int(args[2])
        args = args[:1]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    found = list(problems(args[0], max_bytes))
    for p in found:
        print(f"{args[0]}: {p}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
