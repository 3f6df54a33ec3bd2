#!/usr/bin/env python3
"""The commands the documentation shows, run and compared with the page.

    python3 tests/docs/run_docs.py CALLBAR SRCDIR [PAGE...]

Every fenced block of README.md and docs/*.md whose info string is
`console` is checked (other blocks, `sh` for instance, are examples only):

    ```console
    $ callbar number --json 13805710000
    {"input":"13805710000",...}
    ```

- A line starting with `$ ` is a command (it goes on on the next line
  after a backslash or a pipe at the end, or inside single quotes); the
  lines up to the next command or the end of the block are what it prints,
  standard output and error together.
- `...` in an expected line stands for any text; a line that is `...` alone
  stands for any number of lines (none too).  Trailing blanks do not count.
- Commands of a page run one after another with `sh -c` in one scratch
  folder, so a page may unlock a number and then show its status.  The
  folder looks like the source tree to them: etc/, data/, docs/ and tests/
  are links to it, build/callbar and `callbar` on PATH are the binary under
  test, var/ is empty (the default registry sqlite:var/callbar.db lands
  there), and id.txt holds a synthetic identity number for `--doc -`.
- A block whose info string is `console daemon` needs the daemon: the
  first one of a page starts `callbar serve` (the page's var/callbar.db,
  the pilots rules, tokens in var/tokens) on a port of the kernel's choice,
  exports TOKEN (an admin token), and has every `127.0.0.1:8080` of the
  block's commands mean that port.  The daemon follows the registry within
  a second, so a daemon block's command is tried again, for at most three
  seconds, while its output differs.

Exit 0 when every command printed what its page shows; otherwise each
difference is printed with the page and line.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ID1 = "11010519491231002X"  # synthetic, with a valid check character


def blocks(path):
    """(info, first line number, lines) of each fenced block."""
    out, cur, info, start = [], None, "", 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if cur is None and line.startswith("```"):
                cur, info, start = [], line[3:].strip(), n + 1
            elif cur is not None and line.startswith("```"):
                out.append((info, start, cur))
                cur = None
            elif cur is not None:
                cur.append(line)
    return out


def commands(start, lines):
    """(line number, command, expected lines) of a console block."""
    out, i = [], 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            i += 1
            continue
        n, cmd = start + i, lines[i][2:]
        while (cmd.endswith("\\") or cmd.endswith("|") or cmd.count("'") % 2) \
                and i + 1 < len(lines):
            i += 1
            cmd = cmd + "\n" + lines[i]
        i += 1
        want = []
        while i < len(lines) and not lines[i].startswith("$ "):
            want.append(lines[i])
            i += 1
        while want and not want[-1].strip():
            want.pop()
        out.append((n, cmd, want))
    return out


def line_re(s):
    return re.compile("^" + ".*".join(re.escape(p) for p in s.rstrip().split("...")) + "$")


def matches(want, got):
    """Whether the lines got match the pattern lines want."""
    got = [g.rstrip() for g in got]
    memo = {}

    def m(i, j):
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(want):
            r = j == len(got)
        elif want[i].strip() == "...":
            r = any(m(i + 1, k) for k in range(j, len(got) + 1))
        else:
            r = j < len(got) and line_re(want[i]).match(got[j]) is not None and m(i + 1, j + 1)
        memo[(i, j)] = r
        return r

    return m(0, 0)


class Page:
    def __init__(self, cb, src, page):
        self.cb, self.src, self.page = cb, src, page
        self.dir = tempfile.mkdtemp(prefix="cbar_docs_")
        for d in ("etc", "data", "docs", "tests"):
            os.symlink(os.path.join(src, d), os.path.join(self.dir, d))
        os.makedirs(os.path.join(self.dir, "build"))
        os.makedirs(os.path.join(self.dir, "var"))
        os.makedirs(os.path.join(self.dir, "bin"))
        os.symlink(cb, os.path.join(self.dir, "build", "callbar"))
        os.symlink(cb, os.path.join(self.dir, "bin", "callbar"))
        with open(os.path.join(self.dir, "id.txt"), "w") as f:
            f.write(ID1 + "\n")
        self.env = dict(os.environ)
        for k in ("CALLBAR_REGISTRY", "CALLBAR_RULES", "CALLBAR_KEY"):
            self.env.pop(k, None)
        self.env["PATH"] = os.path.join(self.dir, "bin") + ":" + self.env["PATH"]
        self.env["LC_ALL"] = "C.UTF-8"
        self.daemon, self.addr = None, None

    def start_daemon(self):
        tok = subprocess.run([self.cb, "token", "create", "--role", "admin", "--name", "docs",
                              "--tokens", "var/tokens"], cwd=self.dir, env=self.env,
                             capture_output=True, text=True)
        self.env["TOKEN"] = tok.stdout.strip()
        self.log = open(os.path.join(self.dir, "serve.out"), "w+")
        self.daemon = subprocess.Popen(
            [self.cb, "serve", "--http", "127.0.0.1:0", "--rules", "etc/callbar/pilots.rules",
             "--registry", "sqlite:var/callbar.db", "--tokens", "var/tokens"],
            cwd=self.dir, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(600):
            self.log.seek(0)
            m = re.search(r"listening on http://(\S+)", self.log.read())
            if m:
                self.addr = m.group(1)
                return
            if self.daemon.poll() is not None:
                break
            time.sleep(0.05)
        self.log.seek(0)
        raise RuntimeError("the daemon did not start: " + self.log.read())

    def run(self, cmd, daemon):
        if daemon:
            cmd = cmd.replace("127.0.0.1:8080", self.addr)
        p = subprocess.run(["sh", "-c", cmd], cwd=self.dir, env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        return p.stdout.decode("utf-8", "replace").splitlines()

    def close(self):
        if self.daemon:
            self.daemon.terminate()
            self.daemon.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    cb, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    pages = sys.argv[3:] or (["README.md"] + sorted(
        os.path.join("docs", p) for p in os.listdir(os.path.join(src, "docs"))
        if p.endswith(".md")))
    fail = checked = 0
    for page in pages:
        todo = [(info.split()[1:], start, lines) for info, start, lines
                in blocks(os.path.join(src, page)) if info.split()[:1] == ["console"]]
        if not todo:
            continue
        pg = Page(cb, src, page)
        try:
            for opts, start, lines in todo:
                daemon = "daemon" in opts
                if daemon and not pg.daemon:
                    pg.start_daemon()
                for n, cmd, want in commands(start, lines):
                    checked += 1
                    got = pg.run(cmd, daemon)
                    end = time.monotonic() + 3
                    while daemon and not matches(want, got) and time.monotonic() < end:
                        time.sleep(0.1)
                        got = pg.run(cmd, daemon)
                    if not matches(want, got):
                        fail += 1
                        print(f"FAIL {page}:{n}: $ {cmd}\n--- the page shows:")
                        print("\n".join(want))
                        print("--- the command printed:")
                        print("\n".join(got))
                        print("---")
        finally:
            pg.close()
    print(f"{'FAIL' if fail else 'PASS'} docs: {checked} commands checked, {fail} differ")
    return 1 if fail or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
