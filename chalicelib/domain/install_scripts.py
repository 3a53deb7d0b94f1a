"""Install scripts for node agents: a POSIX shell script and a PowerShell equivalent.

The script carries a single-use install token and a short-lived URL of the agent program
(a Python zipapp). It stops a previous agent from the same data directory, stores the token
with owner-only permissions and starts the agent as a service (systemd where available, a
background process otherwise); the agent swaps the install token for its connection token
on first contact. Nothing here runs anything.

Every value is encoded for the language it lands in, whatever rule its source obeyed when it was
stored: shell words are `shlex.quote`d, PowerShell values are single-quoted literals (control
characters joined in as `[char]`) and the agent's arguments quoted for the Windows command line,
systemd unit words are quoted and escaped (`%`, `$`, `\\`, `"`,
control characters), and comments carry only `visible()` text, never a raw line break.
"""

from __future__ import annotations

import shlex
import unicodedata
from dataclasses import dataclass

DEFAULT_ROOT = {"shell": "/srv/dyrector-agent", "powershell": "C:/dyrector-agent"}


@dataclass(frozen=True)
class InstallParams:
    platform_url: str
    node_name: str
    node_type: str  # docker | k8s
    install_token: str
    agent_url: str
    root_path: str | None = None
    traefik_acme_email: str | None = None


# PowerShell reads these as single quotes too: each is escaped by doubling it inside a '...' literal.
_PS_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")


def _unprintable(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")


def visible(value: str) -> str:
    """`value` for a comment or a description line: unprintable characters (line breaks, ESC, bidi
    controls...) written as `\\uXXXX`, so the text stays on its line and reads as it is."""
    return "".join(f"\\u{ord(char):04x}" if _unprintable(char) else char for char in value)


def powershell_literal(value: str) -> str:
    """A PowerShell expression for `value`: a single-quoted literal (every kind of single quote
    doubled); unprintable characters are joined in as `[char]0xNNNN`, so no literal spans lines."""
    parts: list[str] = []
    literal = ""
    for char in value:
        if _unprintable(char):
            parts += ["'" + literal + "'"] if literal else []
            parts.append(f"[char]0x{ord(char):04X}")
            literal = ""
        else:
            literal += char * 2 if char in _PS_QUOTES else char
    if literal or not parts:
        parts.append("'" + literal + "'")
    return parts[0] if len(parts) == 1 else "(" + " + ".join(parts) + ")"


def systemd_word(value: str) -> str:
    """One argument of a systemd `ExecStart=` line (systemd.syntax, systemd.service): double-quoted,
    `\\` and `"` escaped, control characters C-escaped, `%` (specifiers) and `$` (variables) doubled."""
    out = []
    for char in value:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in ("%", "$"):
            out.append(char * 2)
        elif char == "\0":
            out.append("\\ufffd")  # systemd refuses an escaped NUL; the name stays one readable word
        elif _unprintable(char):
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def windows_argument(value: str) -> str:
    """One argument of a Windows command line, as the C runtime (and Python) splits it: quoted, a `"`
    escaped with its preceding backslashes doubled, trailing backslashes doubled; NUL cannot be passed."""
    out, backslashes = '"', 0
    for char in value.replace("\\0", "\\ufffd"):
        if char == "\\":
            backslashes += 1
            continue
        out += "\\" * (2 * backslashes + 1) + '"' if char == '"' else "\\" * backslashes + char
        backslashes = 0
    return out + "\\" * (2 * backslashes) + '"'


def systemd_text(value: str) -> str:
    """Text inside a free-text unit setting (`Description=`, not unescaped by systemd): visible, `%`
    doubled. The caller ends the line with its own character, so a trailing `\\` never continues it."""
    return visible(value).replace("%", "%%")


def systemd_assignment(name: str, value: str) -> str:
    """One `Environment=` assignment of a systemd unit, double-quoted: `\\` and `"` escaped, `%`
    (specifiers) doubled; systemd does not expand `$` there."""
    escaped = visible(value).replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'"{name}={escaped}"'


def _traefik_environment(p: InstallParams) -> dict[str, str]:
    if not p.traefik_acme_email:
        return {}
    return {"TRAEFIK_ENABLED": "true", "TRAEFIK_TLS": "true", "TRAEFIK_ACME_MAIL": p.traefik_acme_email}


def command(script_type: str, script_url: str) -> str:
    """The one-liner a user pastes on the node."""
    if script_type == "powershell":
        return (
            f"Invoke-WebRequest -UseBasicParsing -Uri {powershell_literal(script_url)} | Select-Object -Expand Content "
            "| Invoke-Expression"
        )
    return f"curl -fsSL {shlex.quote(script_url)} | sh -"


def render(script_type: str, params: InstallParams) -> str:
    return _powershell(params) if script_type == "powershell" else _shell(params)


def _header(name: str, node_type: str) -> str:
    return f"dyrector agent installer for node {name} ({visible(node_type)}). Generated by the platform; single use."


def _shell(p: InstallParams) -> str:
    q = shlex.quote
    requirement = "docker" if p.node_type == "docker" else "kubernetes"
    check = (
        'command -v docker >/dev/null 2>&1 || fail "Docker is not installed on this machine."'
        if p.node_type == "docker"
        else '[ -n "${KUBECONFIG:-}" ] || [ -f "$HOME/.kube/config" ] || [ -n "${KUBERNETES_SERVICE_HOST:-}" ] '
        '|| fail "No Kubernetes configuration found (KUBECONFIG, ~/.kube/config or in-cluster)."'
    )
    # dagentTraefik: the agent runs its own Traefik with TLS (dyrector's installer sets the same three).
    traefik_env = _traefik_environment(p)
    traefik = f"export {' '.join(f'{k}={q(v)}' for k, v in traefik_env.items())}\n" if traefik_env else ""
    unit_env = "".join(f" {q('Environment=' + systemd_assignment(k, v))}" for k, v in traefik_env.items())
    description = q(f"Description=dyrector agent ({systemd_text(p.node_name)})")
    return f"""#!/bin/sh
# {_header(q(visible(p.node_name)), p.node_type)}
set -eu
fail() {{ echo "dyrector-agent: $*" >&2; exit 1; }}
# One ExecStart word for a value known only here: quoted, escaped for systemd, never a control character.
unit_word() {{
  [ "$(printf '%s' "$1" | tr -d '\\001-\\037\\177')" = "$1" ] || fail "a control character in $1 (systemd unit)"
  printf '"%s"' "$(printf '%s' "$1" | sed -e 's/[\\"]/\\\\&/g' -e 's/[%$]/&&/g')"
}}
PLATFORM_URL={q(p.platform_url)}
NODE_NAME={q(p.node_name)}
NODE_TYPE={q(p.node_type)}
AGENT_URL={q(p.agent_url)}
DATA_DIR="${{DYRECTOR_AGENT_DATA:-}}"
[ -n "$DATA_DIR" ] || DATA_DIR={q(p.root_path or DEFAULT_ROOT["shell"])}
PYTHON="${{DYRECTOR_AGENT_PYTHON:-python3}}"
SERVICE="${{DYRECTOR_AGENT_SERVICE:-auto}}"
UNIT_FILE="${{DYRECTOR_AGENT_UNIT_FILE:-/etc/systemd/system/dyrector-agent.service}}"
{traefik}
command -v "$PYTHON" >/dev/null 2>&1 || fail "Python 3 ($PYTHON) is required."
command -v curl >/dev/null 2>&1 || fail "curl is required."
{check}
mkdir -p "$DATA_DIR"
chmod 700 "$DATA_DIR"
if [ -f "$DATA_DIR/agent.pid" ] && kill -0 "$(cat "$DATA_DIR/agent.pid")" 2>/dev/null; then
  kill "$(cat "$DATA_DIR/agent.pid")" || true
  sleep 1
fi
curl -fsSL "$AGENT_URL" -o "$DATA_DIR/agent.pyz.new" || fail "could not download the agent"
mv "$DATA_DIR/agent.pyz.new" "$DATA_DIR/agent.pyz"
"$PYTHON" -c 'import {requirement}, requests, pydantic, nacl' 2>/dev/null \\
  || "$PYTHON" -m pip install --quiet {requirement} requests pydantic pynacl \\
  || fail "could not install the agent's Python packages ({requirement}, requests, pydantic, pynacl)"
umask 077
rm -f "$DATA_DIR/connection.token"
printf '%s' {q(p.install_token)} > "$DATA_DIR/install.token"
if [ "$SERVICE" = auto ] && [ "$(id -u)" = 0 ] && command -v systemctl >/dev/null 2>&1 \\
  && [ -d /run/systemd/system ]; then
  SERVICE=systemd
fi
if [ "$SERVICE" = systemd ]; then
  EXEC_PYTHON=$(unit_word "$PYTHON")
  EXEC_AGENT=$(unit_word "$DATA_DIR/agent.pyz")
  EXEC_DATA_DIR=$(unit_word "$DATA_DIR")
  {{
    printf '%s\\n' '[Unit]' {description} 'After=network-online.target docker.service' '[Service]'
    printf 'ExecStart=%s %s run --url %s --data-dir %s --type %s --name %s\\n' "$EXEC_PYTHON" "$EXEC_AGENT" \\
      {q(systemd_word(p.platform_url))} "$EXEC_DATA_DIR" {q(systemd_word(p.node_type))} {q(systemd_word(p.node_name))}
    printf '%s\\n' 'Restart=on-failure' 'RestartSec=5'{unit_env} '[Install]' 'WantedBy=multi-user.target'
  }} > "$UNIT_FILE"
  systemctl daemon-reload
  systemctl enable --now dyrector-agent.service
  echo "dyrector-agent: installed as the systemd service dyrector-agent"
else
  nohup "$PYTHON" "$DATA_DIR/agent.pyz" run --url "$PLATFORM_URL" --data-dir "$DATA_DIR" --type "$NODE_TYPE" \\
    --name "$NODE_NAME" >> "$DATA_DIR/agent.log" 2>&1 &
  echo $! > "$DATA_DIR/agent.pid"
  echo "dyrector-agent: started (pid $(cat "$DATA_DIR/agent.pid"), log $DATA_DIR/agent.log)"
fi
"""


def _powershell(p: InstallParams) -> str:
    root = p.root_path or DEFAULT_ROOT["powershell"]
    requirement = "docker" if p.node_type == "docker" else "kubernetes"
    return f"""# {_header(visible(p.node_name), p.node_type)}
$ErrorActionPreference = 'Stop'
$DataDir = if ($env:DYRECTOR_AGENT_DATA) {{ $env:DYRECTOR_AGENT_DATA }} else {{ {powershell_literal(root)} }}
$Python = if ($env:DYRECTOR_AGENT_PYTHON) {{ $env:DYRECTOR_AGENT_PYTHON }} else {{ 'python' }}
New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
$PidFile = Join-Path $DataDir 'agent.pid'
if (Test-Path $PidFile) {{ Stop-Process -Id (Get-Content $PidFile) -ErrorAction SilentlyContinue }}
Invoke-WebRequest -UseBasicParsing -Uri {powershell_literal(p.agent_url)} -OutFile (Join-Path $DataDir 'agent.pyz')
& $Python -m pip install --quiet {requirement} requests pydantic pynacl
Remove-Item -ErrorAction SilentlyContinue (Join-Path $DataDir 'connection.token')
Set-Content -NoNewline -Path (Join-Path $DataDir 'install.token') -Value {powershell_literal(p.install_token)}
# Start-Process joins its arguments with spaces, unquoted: each one is quoted for the Windows command line.
function ConvertTo-Argument([string]$Value) {{
  '"' + ($Value -replace '(\\\\*)"', '$1$1\\"' -replace '(\\\\+)$', '$1$1') + '"'
}}
$Arguments = @((ConvertTo-Argument (Join-Path $DataDir 'agent.pyz')), 'run',
  '--url', {powershell_literal(windows_argument(p.platform_url))}, '--data-dir', (ConvertTo-Argument $DataDir),
  '--type', {powershell_literal(windows_argument(p.node_type))},
  '--name', {powershell_literal(windows_argument(p.node_name))}) -join ' '
$Agent = Start-Process -PassThru -WindowStyle Hidden -FilePath $Python -ArgumentList $Arguments `
  -RedirectStandardOutput (Join-Path $DataDir 'agent.log') -RedirectStandardError (Join-Path $DataDir 'agent.err')
Set-Content -Path $PidFile -Value $Agent.Id
Write-Output "dyrector-agent: started (pid $($Agent.Id))"
"""
