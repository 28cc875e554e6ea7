#!/usr/bin/env python3
"""Doxygen INPUT_FILTER for docs/*.md and README.md (make docs).

GitHub gives every Markdown heading an anchor made from its text
("## Time to optimal: the check" -> #time-to-optimal-the-check), and the
pages link to them; Doxygen 1.9 does not. This filter writes that anchor
as an explicit Doxygen heading id ("{#...}") on every heading but the
page title (level 1, which Doxygen makes the page itself), prefixed by the page's name
so that two pages may have a heading of one name, and rewrites in-page
links "(#anchor)" to match. Lines inside code fences are left alone.
"""
import re
import sys

path = sys.argv[1]
page = re.sub(r"[^a-z0-9]+", "_", path.rsplit("/", 1)[-1].lower())
text = open(path, encoding="utf-8").read().split("\n")


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


seen = {}
out = []
fence = False
for line in text:
    if line.startswith("```"):
        fence = not fence
    m = None if fence else re.match(r"^(#{2,6}) (.*?)\s*$", line)
    if m and "{#" not in m.group(2):
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        anchor = base if n == 0 else "%s-%d" % (base, n)
        line = "%s %s {#%s__%s}" % (m.group(1), m.group(2), page, anchor)
    elif not fence:
        line = re.sub(r"\]\(#([\w\-]+)\)", lambda k: "](#%s__%s)" % (page, k.group(1)), line)
    out.append(line)
sys.stdout.write("\n".join(out))
