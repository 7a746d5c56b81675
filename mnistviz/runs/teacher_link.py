"""The teacher link: a long random token kept in the runs folder, like Jupyter's, that unlocks a browser as
the teacher.

Nobody guesses it (256 random bits) and nobody locks it out: it is compared, never rate-limited, so a
class that types wrong passcodes all lesson long cannot delay it. It stays the same across restarts of a
server on the same runs folder; deleting the file makes a new one (and retires every old link).
"""

import hmac
import os
import re
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

from mnistviz.errors import MnistvizError

TOKEN_FILE = "teacher-token"
QUERY = "teacher"  # the address's parameter: http://server:8501/?teacher=TOKEN
COOKIE = "mnistviz_teacher"  # what keeps a browser that opened the link the teacher's across reloads
COOKIE_SECONDS = 12 * 3600  # a school day; Lock ends it at once
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


def token(root: Path) -> str:
    """The runs folder's teacher token, made (readable by the server's user only) when it has none or a bad one."""
    return _secret(Path(root) / TOKEN_FILE)


def _secret(path: Path) -> str:
    """The 256-bit secret kept in `path`, made (readable by the server's user only) when it has none or a bad one."""
    return _read(path) or _new_secret(path)


def _new_secret(path: Path) -> str:
    """A new secret in `path`, replacing any before it in one rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        new = secrets.token_urlsafe(32)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(new + "\n")
        os.replace(temporary, path)
    except OSError as error:
        raise MnistvizError(f"cannot save the teacher link's secrets in the runs folder ({error.strerror})") from error
    return _read(path) or new


def _read(path: Path) -> str | None:
    try:
        with path.open("rb") as file:
            content = file.read(200).decode("ascii", "replace").strip()
    except OSError:
        return None
    return content if _TOKEN.fullmatch(content) else None


def matches(entered, root: Path) -> bool:
    """Whether `entered` (anything an address held) is this runs folder's token; constant time."""
    if not isinstance(entered, str) or not _TOKEN.fullmatch(entered):
        return False
    expected = _read(Path(root) / TOKEN_FILE)
    return expected is not None and hmac.compare_digest(entered.encode(), expected.encode())


def link(base_url: str, root: Path) -> str:
    """The link that unlocks the teacher on the server at `base_url` (scheme, host and port; any path is dropped)."""
    parts = urlsplit(base_url if "://" in base_url else f"http://{base_url}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MnistvizError(f"{base_url!r} is not a server's address like http://192.168.1.20:8501")
    return f"{parts.scheme}://{parts.netloc}/?{QUERY}={token(root)}"


def server_url(address: str | None, port: int) -> str:
    """The address to print for a server listening on `address` (Streamlit's server.address) and `port`."""
    host = address if address and address not in ("0.0.0.0", "::") else "localhost"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


COOKIE_KEY_FILE = "teacher-cookie-key"  # Lock replaces it: every teacher cookie given before stops working


def cookie_value(root: Path, now: float | None = None) -> str:
    """What the teacher's browser keeps after opening the link: when it was given, and a MAC of that time by the
    token and the cookie key. Never the token itself (a cookie travels with every request); checked on the server
    for its age, and retired with the token or by Lock (a new key)."""
    issued = int(time.time() if now is None else now)
    return f"{issued}.{_cookie_mac(token(root), _cookie_key(root), issued)}"


def cookie_matches(value, root: Path, now: float | None = None) -> bool:
    """Whether a browser's cookie (anything it sent) is a teacher cookie of this runs folder under COOKIE_SECONDS old."""
    match = re.fullmatch(r"([0-9]{10})\.([0-9a-f]{64})", value) if isinstance(value, str) else None
    expected, key = _read(Path(root) / TOKEN_FILE), _read(Path(root) / COOKIE_KEY_FILE)
    if match is None or expected is None or key is None:
        return False
    issued = int(match.group(1))
    age = (time.time() if now is None else now) - issued
    if not 0 <= age <= COOKIE_SECONDS:
        return False
    return hmac.compare_digest(match.group(2).encode(), _cookie_mac(expected, key, issued).encode())


def retire_cookies(root: Path) -> None:
    """Lock: a new cookie key, so that no browser stays the teacher's without the link (the link itself still works)."""
    _new_secret(Path(root) / COOKIE_KEY_FILE)


def _cookie_key(root: Path) -> str:
    return _secret(Path(root) / COOKIE_KEY_FILE)


def _cookie_mac(secret: str, key: str, issued: int) -> str:
    return hmac.new(f"{secret}.{key}".encode(), f"mnistviz teacher browser {issued}".encode(), "sha256").hexdigest()
