"""The Join panel the teacher puts on the projector: this server's address, large, and its QR code.

It opens from the sidebar's button or with `?join=1` in any page's address, and stays in the address while it is
open, so the page's own reruns (a run finishing on Train) show it again; closing it takes `join` off the address.
"""

import html

import streamlit as st

from mnistviz.show import join

JOIN_PARAM = "join"
HOW_TO_JOIN = (
    "Scan the code with a phone's camera, or type the address into a browser, on the same network (Wi-Fi) as "
    "this computer."
)

PANEL_CSS = """
<style>
.join { container-type: inline-size; }
.join-url { font: 700 min(3.5rem, 100cqi / (0.62 * var(--chars))) / 1.2 ui-monospace, "DejaVu Sans Mono", monospace;
  margin: 0 0 1rem; overflow-wrap: anywhere; user-select: all; }
.join-row { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem 2.5rem; }
.join-qr { width: min(24rem, 50vh, 100%); aspect-ratio: 1; }
.join-text { flex: 1 1 14rem; min-width: 0; font-size: 1.2rem; }
.join-text p { margin: 0 0 1rem; }
.join-others { overflow-wrap: anywhere; }
.join-note { font-size: 0.9rem; opacity: 0.7; }
</style>
"""


def _open() -> None:
    st.query_params[JOIN_PARAM] = "1"


def _close() -> None:
    st.query_params.pop(JOIN_PARAM, None)


def join_button() -> None:
    """The sidebar's button that opens the Join panel."""
    st.button(
        "Show how to join",
        icon=":material/qr_code_2:",
        on_click=_open,
        key="join_open",
        help=f"For the projector: this server's address and a QR code students scan. Add ?{JOIN_PARAM}=1 to a "
        "page's address to open it directly.",
    )


def join_panel_if_asked() -> None:
    """Open the Join panel when the address asks for it (call it outside the sidebar)."""
    if st.query_params.get(JOIN_PARAM) == "1":
        _join_dialog()


@st.dialog("Join from your phone or laptop", width="large", icon=":material/qr_code_2:", on_dismiss=_close)
def _join_dialog() -> None:
    """This server's address and its QR code; or why students cannot reach it, and the command that fixes it."""
    port = int(st.get_option("server.port"))
    address = st.get_option("server.address")
    found = join.join(
        address,
        port,
        secure=bool(st.get_option("server.sslCertFile")),
        base_path=st.get_option("server.baseUrlPath") or "",
    )
    if found.local_only:
        st.warning(
            f"Students cannot reach this server: it listens on this computer only (`{address}`).",
            icon=":material/wifi_off:",
        )
        st.markdown("Stop it (Ctrl+C in its terminal) and start it on the network:")
        st.code(join.start_on_network(port), language="bash")
        st.caption(join.firewall_note(port))
        return
    if found.url is None:
        st.warning(join.no_address_note(port), icon=":material/wifi_off:")
        return
    st.html(_address_panel(found.url, found.others, port))


def _address_panel(url: str, others: tuple[str, ...], port: int) -> str:
    """The address on one line, as large as fits (`--chars` sizes its font), then the QR code beside what to do."""
    more = f'<p class="join-others">Or: {" · ".join(html.escape(other) for other in others)}</p>' if others else ""
    return (
        f'{PANEL_CSS}<div class="join"><p class="join-url" style="--chars: {len(url)}">{html.escape(url)}</p>'
        f'<div class="join-row">{join.qr_image(url)}<div class="join-text"><p>{HOW_TO_JOIN}</p>{more}'
        f'<p class="join-note">{html.escape(join.firewall_note(port))}</p></div></div></div>'
    )
