"""How students reach this server: the address to give out, its QR code, and what to say when there is none.

No Streamlit here, and no packet leaves the computer: its addresses are the ones the system would send from, asked
with a UDP socket's `connect` (which only picks a route; it sends nothing). Looking up the computer's own name
would be shorter, but may ask the network's DNS. The QR code is made here too, so no service sees the address.
Nothing here knows the teacher link: the panel shows scheme, host, port and base path, for students.
"""

import contextlib
import html
import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import segno

DEFAULT_PORT = 8501  # Streamlit's
START_ON_NETWORK = "streamlit run app.py --server.address 0.0.0.0"
_EVERY_INTERFACE = ("0.0.0.0", "::")  # and unset: Streamlit then listens on every interface
# Where a packet would go, never sent: first beyond any local network (TEST-NET-3, RFC 5737), so along the default
# route; then the subnets home and school routers use most, so a classroom's own router shows up beside the Wi-Fi.
_ROUTE_PROBES = ("203.0.113.1", "192.168.0.1", "192.168.1.1", "10.0.0.1", "172.16.0.1")


@dataclass(frozen=True)
class Join:
    """What the Join panel shows: the address to give out (None when there is none), the other ones, or why not."""

    url: str | None
    others: tuple[str, ...] = ()
    local_only: bool = False  # the server listens on this computer only: nobody else can reach it


def listens_on_network(address: str | None) -> bool:
    """Whether other computers can reach a server listening on `address` (Streamlit's `server.address`)."""
    if not address:
        return True  # unset: Streamlit listens on every interface
    if address.lower().rstrip(".") == "localhost" or address.startswith("unix://"):
        return False
    try:
        return not ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return True  # a host name the teacher chose: theirs to give out


def network_addresses(candidates: Iterable[str]) -> list[str]:
    """The IPv4 addresses among `candidates` that another computer may reach, private ones (a school's) first.

    Loopback, link-local (169.254.x.x: what a computer gives itself when no network answered), unspecified and
    multicast addresses are dropped, and IPv6 ones: nobody types one from the back row.
    """
    found: list[ipaddress.IPv4Address] = []
    for candidate in candidates:
        try:
            ip = ipaddress.IPv4Address(candidate)
        except ValueError:
            continue
        if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast or ip in found):
            found.append(ip)
    return [str(ip) for ip in sorted(found, key=lambda ip: not ip.is_private)]


def machine_addresses() -> list[str]:
    """The addresses this computer would send from, the default route's first, for `network_addresses`."""
    found = []
    for destination in _ROUTE_PROBES:
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((destination, 9))  # a UDP connect picks the route and sends nothing
            found.append(probe.getsockname()[0])
    return found


def server_url(host: str, port: int, *, secure: bool = False, base_path: str = "") -> str:
    """The address a student types: scheme, host, port and the server's base path (`server.baseUrlPath`)."""
    host = f"[{host}]" if ":" in host else host
    path = base_path.strip("/")
    return f"{'https' if secure else 'http'}://{host}:{port}" + (f"/{path}" if path else "")


def join(
    address: str | None,
    port: int,
    *,
    secure: bool = False,
    base_path: str = "",
    candidates: Callable[[], Iterable[str]] = machine_addresses,
) -> Join:
    """What students open for a server listening on `address` (Streamlit's `server.address`) and `port`."""
    if not listens_on_network(address):
        return Join(None, local_only=True)
    hosts = network_addresses(candidates()) if not address or address in _EVERY_INTERFACE else [address]
    urls = [server_url(host, port, secure=secure, base_path=base_path) for host in hosts]
    return Join(urls[0] if urls else None, tuple(urls[1:]))


def start_on_network(port: int) -> str:
    """The command that serves the dashboard to the whole network, on the port students were given."""
    return START_ON_NETWORK + ("" if port == DEFAULT_PORT else f" --server.port {port}")


def firewall_note(port: int) -> str:
    """What to try when a student's device finds no page at the right address."""
    return (
        f"A school firewall may block port {port}. If a device on the same network cannot open the page, ask the "
        f"network's administrator to allow incoming connections to port {port} on this computer."
    )


def no_address_note(port: int) -> str:
    """What to do when this computer has no address on a network (Markdown)."""
    return (
        "This computer has no address on a network: connect it to the school's network (Wi-Fi or cable) and open "
        "this panel again. Its address is also in its network settings (on Windows `ipconfig`, on macOS "
        f"`ipconfig getifaddr en0`, on Linux `hostname -I`); students then open `http://ADDRESS:{port}`."
    )


def qr_code(url: str) -> str:
    """The QR code of `url` as an SVG data URI, without a size: sharp at whatever size the page gives it."""
    return segno.make_qr(url).svg_data_uri(omitsize=True, border=4, dark="#000", light="#fff")


def qr_image(url: str) -> str:
    """An HTML `<img>` of the QR code of `url`; its alt text holds the address."""
    return f'<img class="join-qr" alt="QR code of {html.escape(url)}" src="{html.escape(qr_code(url))}">'
