"""Extracts a ttar archive (prometheus/procfs plain-text tar, format in
tests/fixtures/procfs/SOURCES.md) into a folder. Used to seed fuzz corpora and fake /proc trees.

    python3 tests/fault/ttar.py ARCHIVE DEST
"""
import os
import sys

SEPARATOR = "# ttar - - -"


def extract(archive, dest):
    with open(archive, "rb") as f:
        lines = f.read().split(b"\n")
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i].decode("utf-8", "replace")
        if line.startswith("Directory: "):
            path = os.path.join(dest, line[len("Directory: "):])
            os.makedirs(path, exist_ok=True)
            i += 1
        elif line.startswith("Path: "):
            path = os.path.join(dest, line[len("Path: "):])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            nxt = lines[i + 1].decode("utf-8", "replace") if i + 1 < n else ""
            if nxt.startswith("SymlinkTo: "):
                target = nxt[len("SymlinkTo: "):]
                if os.path.lexists(path):
                    os.remove(path)
                os.symlink(target, path)
                i += 2
                continue
            if nxt.startswith("Lines: "):
                count = int(nxt[len("Lines: "):])
                body = lines[i + 2:i + 2 + count]
                data = b"\n".join(body)
                if data.endswith(b"EOF"):
                    data = data[:-3]
                else:
                    data += b"\n" if count else b""
                data = data.replace(b"NULLBYTE", b"\0")
                with open(path, "wb") as out:
                    out.write(data)
                i += 2 + count
                continue
            # "Path:" then "Mode:" directly: an empty file.
            open(path, "wb").close()
            i += 1
        else:
            i += 1


if __name__ == "__main__":
    extract(sys.argv[1], sys.argv[2])
