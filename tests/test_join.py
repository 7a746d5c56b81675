"""The Join panel's logic without Streamlit: which address students get, its QR code, and the advice when none."""

import html.parser
import ipaddress
import socket
from urllib.parse import unquote

import pytest

from mnistviz.show import join

ADDRESSES = ["127.0.0.1", "169.254.3.4", "fe80::1", "fd00::2", "0.0.0.0", "224.0.0.1", "not an address"]
ADDRESSES += ["131.174.1.20", "192.168.1.20", "10.0.0.5", "192.168.1.20"]


def no_lookup():
    raise AssertionError("looked up this computer's addresses")


@pytest.mark.parametrize("address", [None, "", "0.0.0.0", "::", "192.168.1.20", "dashboard.school.example"])
def test_a_server_on_every_interface_or_on_a_network_address_can_be_reached(address):
    assert join.listens_on_network(address)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.1.1", "localhost", "LOCALHOST.", "::1", "[::1]", "unix://s"])
def test_a_server_on_loopback_or_a_socket_file_cannot_be_reached(address):
    assert not join.listens_on_network(address)


def test_only_reachable_ipv4_addresses_are_given_out_private_ones_first_each_once():
    assert join.network_addresses(ADDRESSES) == ["192.168.1.20", "10.0.0.5", "131.174.1.20"]


def test_on_every_interface_the_first_network_address_is_the_one_to_give_out_and_the_others_follow():
    for address in (None, "0.0.0.0", "::"):
        found = join.join(address, 8501, candidates=lambda: ADDRESSES)
        assert found.url == "http://192.168.1.20:8501" and not found.local_only
        assert found.others == ("http://10.0.0.5:8501", "http://131.174.1.20:8501")


def test_on_loopback_students_are_told_so_and_no_address_is_looked_up():
    found = join.join("127.0.0.1", 8501, candidates=no_lookup)
    assert found.local_only and found.url is None and not found.others


def test_a_server_on_a_chosen_address_gives_out_that_address():
    assert join.join("192.168.1.20", 8600, candidates=no_lookup) == join.Join("http://192.168.1.20:8600")


def test_a_computer_with_no_network_address_gives_none_out():
    found = join.join(None, 8501, candidates=lambda: ["127.0.0.1", "169.254.3.4", "fe80::1"])
    assert found.url is None and not found.others and not found.local_only
    assert "8501" in join.no_address_note(8501)


def test_the_address_holds_the_scheme_host_port_and_base_path_and_nothing_else():
    assert join.server_url("192.168.1.20", 8501) == "http://192.168.1.20:8501"
    assert join.server_url("fd00::2", 8501) == "http://[fd00::2]:8501"
    assert join.server_url("10.0.0.5", 443, secure=True, base_path="/class/") == "https://10.0.0.5:443/class"
    assert (
        join.join(None, 8501, base_path="mnist", candidates=lambda: ADDRESSES).url == "http://192.168.1.20:8501/mnist"
    )


def test_the_fix_listens_on_every_interface_and_keeps_the_port_students_were_given():
    assert join.start_on_network(8501) == "streamlit run app.py --server.address 0.0.0.0"
    assert join.start_on_network(8600) == "streamlit run app.py --server.address 0.0.0.0 --server.port 8600"
    assert "port 8600" in join.firewall_note(8600)


def image(tag: str) -> dict[str, str]:
    """The attributes of the one `<img>` in `tag`."""
    found = []
    parser = html.parser.HTMLParser()
    parser.handle_starttag = lambda name, attrs: found.append((name, dict(attrs)))
    parser.feed(tag)
    ((name, attributes),) = found
    assert name == "img"
    return attributes


def test_the_qr_code_is_an_svg_image_whose_alt_text_holds_the_address_escaped():
    address = 'http://10.0.0.5:8501/a"b<c>&d'
    code = image(join.qr_image(address))
    assert code["alt"] == f"QR code of {address}"
    assert code["src"] == join.qr_code(address) and code["src"] != join.qr_code("http://10.0.0.6:8501")
    assert code["src"].startswith("data:image/svg+xml") and "viewBox" in unquote(code["src"])
    assert "width=" not in unquote(code["src"])  # it takes the size the page gives it, sharp on a projector


class Routes:
    """Sockets that only connect and name themselves, routing as `table` says (None: no route); sending anything
    would be an AttributeError."""

    def __init__(self, table: dict[str, str | None]):
        self.table, self.asked = table, []

    def __call__(self, family, kind):
        assert (family, kind) == (socket.AF_INET, socket.SOCK_DGRAM)  # UDP: connecting sends no packet
        routes = self

        class Probe:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def connect(self, address):
                routes.asked.append(address[0])
                self.source = routes.table.get(address[0], routes.table["default"])
                if self.source is None:
                    raise OSError(101, "Network is unreachable")

            def getsockname(self):
                return (self.source, 40000)

        return Probe()


def test_this_computers_addresses_are_where_it_would_send_from_the_default_route_first(monkeypatch):
    routes = Routes({"default": "192.168.1.20", "10.0.0.1": "10.0.0.5"})
    monkeypatch.setattr(socket, "socket", routes)
    found = join.machine_addresses()
    assert found[0] == "192.168.1.20" and "10.0.0.5" in found
    assert join.network_addresses(found) == ["192.168.1.20", "10.0.0.5"]
    assert not any(ipaddress.ip_address(to).is_global for to in routes.asked)  # were one sent, no one would get it


def test_an_offline_computer_has_no_address_to_give_out(monkeypatch):
    monkeypatch.setattr(socket, "socket", Routes({"default": None}))
    assert join.machine_addresses() == []
    assert join.join(None, 8501, candidates=join.machine_addresses).url is None
