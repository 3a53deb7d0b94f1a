"""Names can never become code: the install scripts encode every value for their language.

The inputs are built directly (bypassing the API's name rule), as an item stored before that rule
would be. The shell script is RUN by `sh` with PATH holding only stub commands that log their
calls, so the log shows every command the script ran; each payload would create a marker file if
any of it ran. The systemd unit is written by the same run (the systemd branch forced, the unit
file in the sandbox) and parsed as systemd would. The PowerShell text is checked lexically (no
`pwsh` here): every value sits inside single-quoted literals, and the script's shape is the same
as for a plain name.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest

from chalicelib.domain.install_scripts import InstallParams, render, windows_argument

URL = "http://platform.example:8000"


def payloads(marker: Path) -> dict[str, str]:
    """Names that, if any part of them ran as code, would create `marker` (by a shell builtin, an
    absolute path, or a systemd / PowerShell directive)."""
    m = str(marker)
    return {
        "newline-comment-escape": f"web\n/usr/bin/touch {m}\n#",
        "newline-builtin": f"web\necho x > {m}\n#",
        "crlf": f"web\r\necho x > {m}\r\n#",
        "command-substitution": f"$(echo x > {m})",
        "backticks": f"`echo x > {m}`",
        "single-quote-break": f"'; echo x > {m}; '",
        "double-quote-break": f'"; echo x > {m}; "',
        "ansi-escape": f"web\x1b[2J\x1b[31m; echo x > {m}",
        "unicode-line-separators": f"web\u2028echo x > {m}\u2029\u0085#",
        "bidi-override": f"web\u202e; echo x > {m} \u2066#\u2069",
        "systemd-directive": f"web\nExecStartPre=/usr/bin/touch {m}\n[Service]\nUser=root",
        "systemd-specifiers-and-variables": "web %n %h ${HOME} $HOME \\",
        "systemd-trailing-backslash": "web\\",
        "powershell-curly-quotes": f"web\u2019; New-Item {m}; \u2018",
        "powershell-newline": f"win\nStart-Process notepad\n# '$(New-Item {m})'",
        "powershell-subexpression": f'"$(New-Item {m})" `n @(1)',
        "tab-and-percent": "web\t%s%%n",
        "argument-injection": 'x --url http://attacker.example "--type" k8s \\" --name y',
    }


def params(name: str, root: str | None = None) -> InstallParams:
    return InstallParams(
        platform_url=URL,
        node_name=name,
        node_type="docker",
        install_token="install-token",
        agent_url="http://s3.example/agent.pyz?X-Amz=1&b=2",
        root_path=root,
    )


# ---- shell, run in a sandbox ------------------------------------------------------------------------

# Commands the installer itself runs (as of install_scripts.py). The stubs of the file tools call the
# real program (by absolute path); the others only log.
REAL = ("mkdir", "chmod", "cat", "mv", "rm", "tr", "sed")
FAKE = {
    "python3": "exit 0",
    "docker": "exit 0",
    "curl": 'while [ $# -gt 0 ]; do [ "$1" = -o ] && : > "$2"; shift; done',
    "id": "echo 1000",
    "kill": "exit 1",
    "sleep": "exit 0",
    "systemctl": "exit 0",
    # nohup runs in the background: its arguments appear at once, complete, by a rename
    "nohup": 'printf "%s\\0" "$@" > "$SANDBOX/nohup.part" && '
    f'exec {shutil.which("mv")} "$SANDBOX/nohup.part" "$SANDBOX/nohup.args"',
}
# Traps: the installer never runs these; a payload might.
TRAPS = ("touch", "New-Item", "Start-Process", "calc", "notepad")


@pytest.fixture()
def sandbox(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in (*REAL, *FAKE, *TRAPS):
        if name in REAL:
            real = shutil.which(name)
            assert real, name
            body = f'exec {real} "$@"'
        else:
            body = FAKE.get(name, "exit 0")
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\nprintf "%s\\n" {name} >> "$SANDBOX/calls.log"\n{body}\n')
        stub.chmod(0o755)
    return tmp_path


def run_shell(sandbox: Path, name: str, service: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    script = sandbox / "install.sh"
    script.write_text(render("shell", params(name)))
    env = {
        "PATH": str(sandbox / "bin"),
        "HOME": str(sandbox / "home"),
        "SANDBOX": str(sandbox),
        "DYRECTOR_AGENT_DATA": str(sandbox / "data"),
        "DYRECTOR_AGENT_SERVICE": service,
        "DYRECTOR_AGENT_UNIT_FILE": str(sandbox / "dyrector-agent.service"),
    }
    ran = subprocess.run(["/bin/sh", str(script)], env=env, cwd=sandbox, capture_output=True, text=True, timeout=60)
    if service == "process" and ran.returncode == 0:
        deadline = time.monotonic() + 20
        while not (sandbox / "nohup.args").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    calls_log = sandbox / "calls.log"
    return ran, calls_log.read_text().split() if calls_log.exists() else []


def expected_argv(sandbox: Path, name: str) -> list[str]:
    data = str(sandbox / "data")
    return ["python3", f"{data}/agent.pyz", "run", "--url", URL, "--data-dir", data, "--type", "docker", "--name", name]


@pytest.mark.parametrize("case", sorted(payloads(Path("/m"))))
def test_shell_script_runs_only_its_own_commands_whatever_the_node_name(sandbox, case):
    # GIVEN a node whose stored name holds a payload that would create a marker file
    marker = sandbox / "pwned"
    name = payloads(marker)[case]
    # WHEN its shell install script runs (background-process branch)
    ran, calls = run_shell(sandbox, name, "process")
    # THEN it succeeds, runs nothing but its own commands, and the agent gets the name as one argument
    assert not marker.exists(), "the payload ran"
    assert ran.returncode == 0, ran.stderr
    assert set(calls) <= set(REAL) | set(FAKE) and "nohup" in calls, calls
    argv = (sandbox / "nohup.args").read_bytes().decode().split("\0")[:-1]
    assert argv == expected_argv(sandbox, name)


def test_shell_script_comment_lines_hold_no_raw_name(sandbox):
    name = payloads(sandbox / "pwned")["newline-comment-escape"]
    script = render("shell", params(name))
    lines = script.split("\n")
    # THEN the name's line break is shown as text and the comment ends on its own line
    assert lines[1].startswith("# dyrector agent installer for node 'web\\u000a/usr/bin/touch ")
    assert lines[1].endswith("(docker). Generated by the platform; single use.") and lines[2] == "set -eu"


# ---- systemd unit, written by the same script -----------------------------------------------------

UNIT_LINES = [
    "[Unit]",
    "Description",
    "After",
    "[Service]",
    "ExecStart",
    "Restart",
    "RestartSec",
    "[Install]",
    "WantedBy",
]


def systemd_split(line: str) -> list[str]:
    """ExecStart words as systemd reads them (systemd.syntax quoting and C escapes, `%%` and `$$`)."""
    words, i = [], 0
    while i < len(line):
        if line[i] == " ":
            i += 1
            continue
        if line[i] != '"':  # a bare word: only the installer's own (`run`, `--url`...)
            bare = line[i:].split(" ", 1)[0]
            assert re.fullmatch(r"[a-z-]+", bare), f"unexpected bare word {bare!r}"
            words.append(bare)
            i += len(bare)
            continue
        i += 1
        word = ""
        while line[i] != '"':
            if line[i] == "\\":
                kind = line[i + 1]
                if kind in "\\\"'":
                    word, i = word + kind, i + 2
                elif kind in "uU":
                    width = 4 if kind == "u" else 8
                    word, i = word + chr(int(line[i + 2 : i + 2 + width], 16)), i + 2 + width
                else:
                    raise AssertionError(f"unexpected escape {line[i : i + 2]!r}")
            elif line[i] in "%$":
                assert line[i + 1] == line[i], f"unescaped {line[i]} in {line!r}"
                word, i = word + line[i], i + 2
            else:
                word, i = word + line[i], i + 1
        words.append(word)
        i += 1
    return words


@pytest.mark.parametrize("case", sorted(payloads(Path("/m"))))
def test_systemd_unit_has_one_directive_per_line_and_intact_arguments(sandbox, case):
    # GIVEN a node whose stored name holds a payload
    marker = sandbox / "pwned"
    name = payloads(marker)[case]
    # WHEN its shell install script runs as it would on a systemd host as root
    ran, calls = run_shell(sandbox, name, "systemd")
    assert not marker.exists(), "the payload ran"
    assert ran.returncode == 0, ran.stderr
    assert set(calls) <= set(REAL) | set(FAKE) and "nohup" not in calls, calls
    # THEN the unit holds exactly the installer's directives, one per line, no control characters
    unit = (sandbox / "dyrector-agent.service").read_bytes().decode()
    assert unit.endswith("\n") and "\r" not in unit
    lines = unit[:-1].split("\n")
    assert [line if line.startswith("[") else line.split("=", 1)[0] for line in lines] == UNIT_LINES
    assert all(c.isprintable() for line in lines for c in line), lines
    assert not any(line.rstrip().endswith("\\") for line in lines)
    description = lines[1].removeprefix("Description=")
    assert description.startswith("dyrector agent (") and description.endswith(")")
    assert re.fullmatch(r"(?:[^%]|%%)*", description), "a lone % would be a specifier"
    # AND ExecStart gives the agent the node's name as one argument, exactly
    assert systemd_split(lines[4].removeprefix("ExecStart=")) == expected_argv(sandbox, name)


def test_systemd_unit_refuses_a_runtime_path_with_a_control_character(sandbox):
    # GIVEN a data directory (the installing user's own environment) holding a newline
    script = sandbox / "install.sh"
    script.write_text(render("shell", params("web")))
    env = {
        "PATH": str(sandbox / "bin"),
        "SANDBOX": str(sandbox),
        "DYRECTOR_AGENT_DATA": str(sandbox / "data\nExecStartPre=x"),
        "DYRECTOR_AGENT_SERVICE": "systemd",
        "DYRECTOR_AGENT_UNIT_FILE": str(sandbox / "dyrector-agent.service"),
    }
    ran = subprocess.run(["/bin/sh", str(script)], env=env, cwd=sandbox, capture_output=True, text=True, timeout=60)
    # THEN the script stops before writing a unit
    assert ran.returncode != 0 and "control character" in ran.stderr
    assert not (sandbox / "dyrector-agent.service").exists()


# ---- PowerShell, checked lexically -----------------------------------------------------------------

QUOTES = "'\u2018\u2019\u201a\u201b"  # PowerShell reads all of these as single quotes
LITERAL = re.compile(f"[{QUOTES}](?:[^{QUOTES}]|[{QUOTES}]{{2}})*[{QUOTES}](?![{QUOTES}])")
CHAR = re.compile(r"\[char\]0x([0-9A-F]{4})")
GROUP = re.compile(r"\((?:L|\[char\]0x[0-9A-F]{4})(?: \+ (?:L|\[char\]0x[0-9A-F]{4}))+\)")


def skeleton(script: str) -> list[str]:
    """The script's lines with every single-quoted literal (and literal + [char] join) as `L`."""
    return [GROUP.sub("L", LITERAL.sub("L", line)) for line in script.split("\n")]


def ps_value(expression: str) -> str:
    """The string a literal or a `('a' + [char]0x000A + 'b')` join evaluates to."""
    parts = re.findall(LITERAL.pattern + r"|\[char\]0x[0-9A-F]{4}", expression)
    assert "".join(parts) == re.sub(r"^\(|\)$| \+ ", "", expression), expression
    return "".join(
        chr(int(CHAR.fullmatch(p).group(1), 16))
        if p.startswith("[char]")
        else re.sub(f"([{QUOTES}])\\1", r"\1", p[1:-1])
        for p in parts
    )


@pytest.mark.parametrize("case", sorted(payloads(Path("/m"))))
def test_powershell_script_keeps_every_value_inside_single_quoted_literals(case):
    name = payloads(Path("C:/pwned"))[case]
    script = render("powershell", params(name, root="C:/agent"))
    plain = render("powershell", params("web", root="C:/agent"))
    lines = script.split("\n")
    # THEN the comment line stays one line of visible text
    assert len(lines) == len(plain.split("\n"))
    assert lines[0].startswith("# dyrector agent installer for node ") and lines[0].isprintable()
    assert all(c.isprintable() for line in lines for c in line), "a control character outside a [char] join"
    # AND apart from the literals, the script is the plain one, line for line (nothing added to the code)
    assert skeleton(script)[1:] == skeleton(plain)[1:]
    # AND the name the agent gets evaluates back to the stored name, as one Windows command-line argument
    expression = re.search(r"'--name', (.*)\) -join ' '$", script, re.MULTILINE).group(1)
    assert windows_split(ps_value(expression)) == [name]


def windows_split(command_line: str) -> list[str]:
    """Arguments as the Windows C runtime (and so Python) splits a command line."""
    args, current, quoted, started, i = [], "", False, False, 0
    while i < len(command_line):
        char = command_line[i]
        if char == "\\":
            n = len(command_line[i:]) - len(command_line[i:].lstrip("\\"))
            i += n
            if i < len(command_line) and command_line[i] == '"':
                current += "\\" * (n // 2)
                if n % 2:
                    current, i = current + '"', i + 1
            else:
                current += "\\" * n
            started = True
            continue
        if char == '"':
            quoted, started = not quoted, True
        elif char in " \t" and not quoted:
            if started:
                args.append(current)
            current, started = "", False
        else:
            current, started = current + char, True
        i += 1
    return [*args, current] if started else args


def convert_to_argument(value: str) -> str:
    """The script's PowerShell `ConvertTo-Argument`, run with Python's `re` (its two patterns mean the
    same in .NET; a .NET replacement's only special token here is `$1`)."""
    found = re.search(r"-replace '(.*?)', '(.*?)' -replace '(.*?)', '(.*?)'", render("powershell", params("web")))
    first, first_to, second, second_to = found.groups()

    def replacement(dotnet: str) -> str:
        return dotnet.replace("\\", "\\\\").replace("$1", r"\1")

    return '"' + re.sub(second, replacement(second_to), re.sub(first, replacement(first_to), value)) + '"'


@pytest.mark.parametrize(
    "path", ["C:/dyrector-agent", "C:\\Program Files\\agent\\", 'D:\\odd "dir"\\', "E:\\a\\\\b", "x --url http://evil"]
)
def test_powershell_runtime_paths_are_quoted_as_one_windows_argument(path):
    assert convert_to_argument(path) == windows_argument(path)
    assert windows_split(convert_to_argument(path) + " next") == [path, "next"]


@pytest.mark.parametrize("service", ["process", "systemd"])
def test_dagent_traefik_makes_the_agent_run_its_own_traefik_with_tls(sandbox, service):
    # GIVEN a script generated with dagentTraefik {acmeEmail} (the address with a specifier character)
    script = sandbox / "install.sh"
    script.write_text(render("shell", replace(params("web"), traefik_acme_email="ops%edge@example.com")))
    env = {
        "PATH": str(sandbox / "bin"),
        "SANDBOX": str(sandbox),
        "DYRECTOR_AGENT_DATA": str(sandbox / "data"),
        "DYRECTOR_AGENT_SERVICE": service,
        "DYRECTOR_AGENT_UNIT_FILE": str(sandbox / "dyrector-agent.service"),
    }
    # WHEN it runs THEN the agent is started with dyrector's three settings (agent/settings.py)
    wrapped = sandbox / "env.sh"
    wrapped.write_text(
        f'. {script}\nprintf "%s\\n" "$TRAEFIK_ENABLED $TRAEFIK_TLS $TRAEFIK_ACME_MAIL" > {sandbox}/env\n'
    )
    ran = subprocess.run(["/bin/sh", str(wrapped)], env=env, cwd=sandbox, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert (sandbox / "env").read_text() == "true true ops%edge@example.com\n"  # exported for the nohup'd agent
    if service == "systemd":  # and written into the unit, which does not inherit the installer's environment
        unit = (sandbox / "dyrector-agent.service").read_text().splitlines()
        assert [line for line in unit if line.startswith("Environment=")] == [
            'Environment="TRAEFIK_ENABLED=true"',
            'Environment="TRAEFIK_TLS=true"',
            'Environment="TRAEFIK_ACME_MAIL=ops%%edge@example.com"',
        ]
