"""Syntax check for udev rules where `udevadm verify` is not available (systemd < 253).

Each rule line is a comma-separated list of KEY[{attr}]OP"value" items; operators are
== != = += -= := ; match keys may not be assigned and assign-only keys may not be matched.
"""
import re
import sys

ITEM = re.compile(r'\s*([A-Z_]+)(\{[^}]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*')
MATCH_ONLY = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER", "DRIVERS", "ATTRS", "TAGS", "TEST", "PROGRAM", "RESULT"}
ASSIGN_ONLY = {"SYMLINK", "OWNER", "GROUP", "MODE", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS", "SECLABEL"}
KNOWN = MATCH_ONLY | ASSIGN_ONLY | {"ENV", "ATTR", "SYSCTL", "TAG", "NAME", "CONST"}


def check(path):
    errors = 0
    labels, gotos = set(), []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pos = 0
        while pos < len(line):
            m = ITEM.match(line, pos)
            if not m:
                print(f"{path}:{n}: cannot parse at column {pos + 1}: {line[pos:]!r}")
                errors += 1
                break
            key, _, op, value = m.groups()
            if key not in KNOWN:
                print(f"{path}:{n}: unknown key {key}")
                errors += 1
            if key in MATCH_ONLY and op not in ("==", "!="):
                print(f"{path}:{n}: {key} can only be matched")
                errors += 1
            if key in ASSIGN_ONLY and op in ("==", "!="):
                print(f"{path}:{n}: {key} can only be assigned")
                errors += 1
            if key == "LABEL":
                labels.add(value)
            if key == "GOTO":
                gotos.append((n, value))
            pos = m.end()
            if pos < len(line):
                if line[pos] != ",":
                    print(f"{path}:{n}: expected ',' at column {pos + 1}")
                    errors += 1
                    break
                pos += 1
    for n, target in gotos:
        if target not in labels:
            print(f"{path}:{n}: GOTO to missing LABEL {target}")
            errors += 1
    return errors


total = sum(check(p) for p in sys.argv[1:])
print(f"udev rules: {'ok' if total == 0 else str(total) + ' error(s)'}")
sys.exit(1 if total else 0)
