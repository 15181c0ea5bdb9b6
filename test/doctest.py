#!/usr/bin/env python3
"""test/doctest.py -- run the SQL blocks of the docs and compare their output.

    test/doctest.py [--update] FILE.md...

Every ```sql block of a page is run, unless the line before it (blank lines
aside) is the marker <!-- illustrative -->: then it is only shown, never run
(a sketch with tables the reader has and the docs do not, a file that is not
part of the repository).  A runnable block followed directly (blank lines
aside) by a fence without an info string (```) has that block as its
expected output: what psql prints for it, as psql prints it with the footer
off (no "(N rows)").  A runnable block without one must run without an
ERROR.

Each page runs in a fresh database, doctest_<page>, its blocks in order, one
psql session each (psql -X, stdin, so messages read "ERROR:  ..." as in
pg_regress; NOTICEs and errors in order with the results).  Before the
first block a page may hold hidden setup SQL, run the same way with its
output ignored:

    <!-- doctest setup
    CREATE EXTENSION cf;
    -->

Outputs are compared cell by cell, so column widths do not matter; what
varies from run to run is masked on both sides: the cells of columns named
seconds, trained_at or time, and "N.NNN s" in messages.  A line "..." in
an expected output stands for any number of lines (a table's middle, say).

Connection: the PG* environment (PGHOST, PGPORT, PGUSER); the psql of
CF_PSQL (default: psql on the PATH).  Prints one line
per page and ends with "N passed, N failed" (a test is a block); exits
non-zero on any failure.  --update rewrites the expected outputs in place
with what the blocks printed (for a deliberate change; review the diff).
"""

import difflib
import os
import re
import subprocess
import sys

PSQL = os.environ.get("CF_PSQL", "psql")
MASKED_COLUMNS = {"seconds", "trained_at", "time"}
TIMING = re.compile(r"\b\d+\.\d+ s\b")
SEPARATOR = re.compile(r"^-+(\+-+)*$")
FENCE = re.compile(r"^```(.*)$")


class Block:
    """A ```sql block of a page, and what the page expects of it."""

    def __init__(self, line, sql, illustrative):
        self.line = line                # 1-based line of its opening fence
        self.sql = sql
        self.illustrative = illustrative
        self.expected = None            # lines of its output block, if any
        self.expected_span = None       # (first, last) line index of that block's body


def parse(path):
    """The page's setup SQL (or None) and its sql blocks."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks = []
    setup = None
    i = 0
    last_nonblank = ""
    while i < len(lines):
        line = lines[i]
        if line.startswith("<!-- doctest setup") and setup is None and not blocks:
            body = []
            i += 1
            while i < len(lines) and not lines[i].startswith("-->"):
                body.append(lines[i])
                i += 1
            setup = "\n".join(body)
            i += 1
            continue
        m = FENCE.match(line)
        if m:
            info = m.group(1).strip()
            start = i
            body = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            end = i                         # the closing fence
            i += 1
            if info == "sql":
                block = Block(start + 1, "\n".join(body),
                              last_nonblank.strip() == "<!-- illustrative -->")
                blocks.append(block)
                # an output block right after it
                j = i
                while j < len(lines) and lines[j].strip() == "":
                    j += 1
                if j < len(lines) and lines[j] == "```" and not block.illustrative:
                    out = []
                    k = j + 1
                    while k < len(lines) and not lines[k].startswith("```"):
                        out.append(lines[k])
                        k += 1
                    block.expected = out
                    block.expected_span = (j + 1, k)
                    i = k + 1
            last_nonblank = lines[end] if end < len(lines) else ""
            continue
        if line.strip():
            last_nonblank = line
        i += 1
    return setup, blocks, lines


def psql(db, sql):
    """What psql prints for sql, stdout and stderr in order."""
    script = "\\pset footer off\n" + sql + "\n"
    r = subprocess.run([PSQL, "-X", "-q", "-d", db], input=script, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return r.stdout.rstrip("\n").split("\n") if r.stdout.strip() else []


def admin(sql):
    subprocess.run([PSQL, "-X", "-q", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def normalize(lines):
    """Lines to compare: tables as their cells (timings masked), messages masked."""
    out = []
    i = 0
    lines = [l.rstrip() for l in lines]
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and SEPARATOR.match(lines[i + 1].strip()) and line.strip():
            multi = "|" in line
            header = [c.strip() for c in line.split("|")] if multi else [line.strip()]
            masked = {n for n, h in enumerate(header) if h in MASKED_COLUMNS}
            out.append("columns: " + " | ".join(header))
            i += 2
            while i < len(lines) and lines[i].strip() != "" and not re.match(
                    r"^(NOTICE|ERROR|WARNING|DETAIL|HINT|CONTEXT|INFO|LINE \d+):", lines[i]):
                if lines[i].strip() == "...":
                    out.append("...")
                else:
                    cells = [c.strip() for c in lines[i].split("|")] if multi else [lines[i].strip()]
                    cells = ["#" if n in masked else c for n, c in enumerate(cells)]
                    out.append("row: " + " | ".join(cells))
                i += 1
            continue
        if line.strip():
            out.append(TIMING.sub("# s", line.strip()) if line.strip() != "..." else "...")
        i += 1
    return out


def matches(expected, actual):
    """Whether actual fits expected, where "..." in expected is any run of lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


def run_page(path, update):
    setup, blocks, lines = parse(path)
    name = re.sub(r"[^a-z0-9]+", "_", os.path.splitext(os.path.relpath(path))[0].lower())
    db = "doctest_" + name[-40:]
    admin(f"DROP DATABASE IF EXISTS {db}")
    admin(f"CREATE DATABASE {db}")
    passed = failed = skipped = 0
    report = []
    if setup:
        got = psql(db, setup)
        if any(l.startswith("ERROR:") for l in got):
            report.append(f"{path}: the hidden setup failed:\n  " + "\n  ".join(got))
            failed += 1
    rewrites = []
    for b in blocks:
        if b.illustrative:
            skipped += 1
            continue
        got = psql(db, b.sql)
        if b.expected is None:
            ok = not any(l.startswith("ERROR:") for l in got)
            why = "it raised an error"
        else:
            ok = matches(normalize(b.expected), normalize(got))
            why = "its output differs from the page"
            if not ok and update:
                rewrites.append((b.expected_span, got))
                ok = True
        if ok:
            passed += 1
        else:
            failed += 1
            diff = difflib.unified_diff(b.expected or [], got, "page", "psql", lineterm="", n=2)
            report.append(f"{path}:{b.line}: {why}:\n" + "\n".join(b.sql.split("\n")[:6]) +
                          ("\n..." if b.sql.count("\n") > 5 else "") + "\n" + "\n".join(diff))
    if rewrites:
        for (first, last), got in sorted(rewrites, reverse=True):
            lines[first:last] = [l.rstrip() for l in got]
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    admin(f"DROP DATABASE IF EXISTS {db}")
    print(f"{path}: {passed} passed, {failed} failed, {skipped} illustrative"
          + (f" ({len(rewrites)} rewritten)" if rewrites else ""))
    for r in report:
        print(r)
    return passed, failed


def main(argv):
    update = "--update" in argv
    files = [a for a in argv if a != "--update"]
    if not files:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    total_p = total_f = 0
    for path in files:
        p, f = run_page(path, update)
        total_p += p
        total_f += f
    print(f"{total_p} passed, {total_f} failed")
    return 0 if total_f == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
