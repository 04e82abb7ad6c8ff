#!/usr/bin/env python3
"""check-html.py CHECK REPORT [ARG]: one structural check of a report.html,
without a browser.  Exit 0 when it holds; otherwise 1, with the reason as
'# ' lines on stdout (TAP diagnostics).

check-html.py --batch REPORT: the checks from stdin, one a line, as
DESCRIPTION|CHECK|ARG...; prints 'ok DESCRIPTION' or 'not ok
DESCRIPTION' for each (after its diagnostics), so the page is parsed once.

CHECK:
  selfcontained     nothing would be fetched: no <link>, <script>, <img>,
                    <iframe>, <object>, no src/href/xlink:href leaving the
                    page, no url() or @import in CSS, and no http(s)://
                    outside the configuration dump (which shows target URLs
                    as text)
  charts IDS        exactly these charts (comma-separated section ids), each
                    an <svg class="chart"> whose data-series equals its
                    number of class="series" paths, all with data
  drawn IDS         these charts (among others) draw series with data
  nodata IDS        these charts say "no data" and draw no series
  points MAX        no series has more than MAX points, no shaded band more
                    than 2 * MAX, all inside the viewBox
  size MAX          the file is at most MAX bytes
  escaped           the timer named <script>alert(1)</script> appears escaped,
                    and no such element exists
  max ID NAME V     series NAME of chart ID reaches V (data-max), within 0.1%
  axis ID TEXT      chart ID has an axis title containing TEXT
  text TEXT         the page's text contains TEXT (entities decoded)
"""
import html.parser
import re
import sys


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []          # (tag, attrs) of every start tag
        self.charts = {}        # section id -> dict
        self.order = []
        self.section = None
        self.chart = None
        self.stack = []
        self.texts = []         # (text, inside <pre>, chart id, class)
        self.in_pre = 0
        self.cls = None
        self.in_style = False
        self.style = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        self.cls = a.get("class")
        if tag == "section" and "id" in a:
            self.section = a["id"]
        if tag == "pre":
            self.in_pre += 1
        if tag == "style":
            self.in_style = True
        if tag == "svg" and "chart" in (a.get("class") or "").split():
            self.chart = {"series": [], "bands": [], "declared": a.get("data-series"),
                          "viewbox": a.get("viewbox"), "texts": []}
            self.charts[self.section] = self.chart
            self.order.append(self.section)
        if tag == "path" and self.chart is not None and \
                "series" in (a.get("class") or "").split():
            self.chart["series"].append(a)
        if tag == "path" and self.chart is not None and \
                "band" in (a.get("class") or "").split():
            self.chart["bands"].append(a)

    def handle_endtag(self, tag):
        if tag == "svg":
            self.chart = None
        if tag == "pre":
            self.in_pre -= 1
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self.style += data
            return
        self.texts.append((data, self.in_pre > 0))
        if self.chart is not None:
            self.chart["texts"].append((self.cls, data))


class Fail(Exception):
    pass


def fail(msg):
    raise Fail(msg)


def points(d):
    nums = re.findall(r"-?[0-9.]+(?:e-?[0-9]+)?", d)
    if len(nums) % 2:
        fail("odd number of coordinates in a path")
    return [(float(nums[i]), float(nums[i + 1])) for i in range(0, len(nums), 2)]


def load(path):
    raw = open(path, "rb").read()
    text = raw.decode("utf-8")
    page = Page()
    page.feed(text)
    page.close()
    return raw, text, page


def run(check, raw, text, page, args):
    if check == "size":
        if len(raw) > int(args[0]):
            fail("%d bytes, more than %s" % (len(raw), args[0]))
    elif check == "selfcontained":
        for tag, a in page.tags:
            if tag in ("link", "script", "img", "iframe", "object", "embed",
                       "image", "use", "audio", "video", "source", "base"):
                fail("<%s> element present" % tag)
            for k in ("src", "href", "xlink:href", "srcset", "action", "data"):
                if k in a:
                    fail("<%s %s=%r>" % (tag, k, a[k]))
            for k, v in a.items():
                if v and re.search(r"https?://|url\(", v):
                    fail("<%s %s=%r> points outside" % (tag, k, v))
        if re.search(r"url\(|@import|https?://", page.style):
            fail("the style sheet refers to something outside")
        for t, pre in page.texts:
            if not pre and re.search(r"https?://", t):
                fail("an address outside the configuration: %r" % t[:80])
        if not page.style:
            fail("no inline style sheet")
    elif check == "charts":
        want = args[0].split(",")
        if page.order != want:
            fail("charts %s, expected %s" % (page.order, want))
        for cid in want:
            c = page.charts[cid]
            n = len(c["series"])
            if n == 0:
                fail("chart %s draws no series" % cid)
            if c["declared"] != str(n):
                fail("chart %s: data-series=%s but %d series" %
                     (cid, c["declared"], n))
            for s in c["series"]:
                if len(points(s.get("d") or "")) < 2:
                    fail("chart %s: series %s has no data" %
                         (cid, s.get("data-name")))
                if not s.get("data-name"):
                    fail("chart %s: a series without a name" % cid)
            if not any(cls == "at" for cls, _ in c["texts"]):
                fail("chart %s has no axis titles" % cid)
    elif check == "drawn":
        for cid in args[0].split(","):
            c = page.charts.get(cid)
            if c is None:
                fail("no chart %s" % cid)
            if not c["series"] or c["declared"] != str(len(c["series"])):
                fail("chart %s draws %d series, declares %s" %
                     (cid, len(c["series"]), c["declared"]))
            for s in c["series"]:
                if len(points(s.get("d") or "")) < 2:
                    fail("chart %s: series %s has no data" %
                         (cid, s.get("data-name")))
    elif check == "nodata":
        for cid in args[0].split(","):
            c = page.charts.get(cid)
            if c is None:
                fail("no chart %s" % cid)
            if c["series"] or c["declared"] != "0":
                fail("chart %s draws %d series" % (cid, len(c["series"])))
            if not any(t == "no data" for _, t in c["texts"]):
                fail("chart %s does not say no data" % cid)
    elif check == "points":
        most = 0
        for cid, c in page.charts.items():
            w, h = [float(x) for x in c["viewbox"].split()[2:]]
            for s in c["series"]:
                pts = points(s["d"])
                most = max(most, len(pts))
                if len(pts) > int(args[0]):
                    fail("chart %s series %s: %d points" %
                         (cid, s.get("data-name"), len(pts)))
                for x, y in pts:
                    if not (0 <= x <= w and 0 <= y <= h):
                        fail("chart %s series %s: point %g,%g outside the "
                             "viewBox" % (cid, s.get("data-name"), x, y))
            for s in c["bands"]:
                pts = points(s["d"].replace("Z", " "))
                if len(pts) > 2 * int(args[0]):
                    fail("chart %s: a band of %d points" % (cid, len(pts)))
                for x, y in pts:
                    if not (0 <= x <= w and 0 <= y <= h):
                        fail("chart %s: band point %g,%g outside the viewBox"
                             % (cid, x, y))
        print("# largest series: %d points" % most)
    elif check == "escaped":
        if "<script" in text.lower():
            fail("a raw <script in the page")
        if "&lt;script&gt;alert(1)&lt;/script&gt;" not in text:
            fail("the escaped timer name is missing")
        if not any(t == "<script>alert(1)</script>" for t, _ in page.texts):
            fail("the timer name does not read back as text")
    elif check == "max":
        cid, name, want = args[0], args[1], float(args[2])
        for s in page.charts[cid]["series"]:
            if s.get("data-name") == name:
                got = float(s["data-max"])
                if abs(got - want) > 1e-3 * abs(want):
                    fail("%s %s reaches %g, expected %g" % (cid, name, got, want))
                break
        else:
            fail("no series %s in chart %s" % (name, cid))
    elif check == "axis":
        cid, want = args[0], args[1]
        titles = [t for cls, t in page.charts[cid]["texts"] if cls == "at"]
        if not any(want in t for t in titles):
            fail("chart %s axis titles %s lack %r" % (cid, titles, want))
    elif check == "text":
        if not any(args[0] in t for t, _ in page.texts) and \
                args[0] not in "".join(t for t, _ in page.texts):
            fail("page text lacks %r" % args[0])
    else:
        fail("unknown check " + check)


def main():
    try:
        raw, text, page = load(sys.argv[2])
    except (OSError, UnicodeDecodeError) as e:
        print("# %s" % e)
        if sys.argv[1] == "--batch":
            for line in sys.stdin:
                print("not ok " + line.split("|")[0])
        return 1
    if sys.argv[1] != "--batch":
        try:
            run(sys.argv[1], raw, text, page, sys.argv[3:])
        except Fail as e:
            print("# " + str(e))
            return 1
        return 0
    bad = 0
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        desc, check, *args = line.split("|")
        try:
            run(check, raw, text, page, args)
            print("ok " + desc)
        except (Fail, KeyError, ValueError, IndexError) as e:
            print("# " + (str(e) or type(e).__name__))
            print("not ok " + desc)
            bad = 1
        sys.stdout.flush()
    return bad


if __name__ == "__main__":
    sys.exit(main())
